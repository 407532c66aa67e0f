"""TextTest configuration module for suites that use capturemock (``config_module:texttest_plugin``).

It is TextTest's own default configuration plus two things:

* when a test's mock file differs from the stored one (``pythonmocks``, ``externalmocks``, ``traffic``
  and the client/server stem, ``capturemock_clientserver_mock_name``), the test's details start with a
  per-interaction summary of what changed (``capturemock diff``), which reads more easily than a line
  diff after a nightly re-record. It compares what TextTest compared: the files after the suite's
  ``run_dependent_text`` filters, so it lists only the changes that fail the test;
* the session token capturemock gives the program (``CAPTUREMOCK_TOKEN``, a new random value every
  run) is masked in every result file, so a program that logs its environment stays comparable;
* under ``capturemock rerecord``, those details end with where its HTML report is (``reportlink.py``);
* a SLURM queue system: ``queue_system_module:SLURM`` submits each test as a batch job (``slurm.py``).
"""
from __future__ import annotations

from texttestlib import plugins
from texttestlib.queuesystem import QueueSystemConfig

from . import slurm
from .reportlink import report_line
from .runresults import FIXED_MOCK_STEMS, mock_change_summary

slurm.register()  # TextTest finds queue systems only as texttestlib.queuesystem.<name>

# the README shows the same line for suites that do not use this module
TOKEN_FILTER = r"CAPTUREMOCK_TOKEN(\W+)[0-9a-f]+{REPLACE CAPTUREMOCK_TOKEN\1<session token>}"


def getConfig(optionMap):  # noqa: N802 - the name TextTest looks for
    return CaptureMockConfig(optionMap)


def mock_stems(test) -> tuple[str, ...]:
    return (*FIXED_MOCK_STEMS, test.getConfigValue("capturemock_clientserver_mock_name"))


class ReportMockChanges(plugins.Action):
    """Runs after the comparisons of each test: summarise changed mock files in its free text."""

    def __call__(self, test) -> None:
        state = test.state
        stems = mock_stems(test)
        reports = []
        for comparison in getattr(state, "changedResults", []):
            if comparison.stem in stems and comparison.stdCmpFile and comparison.tmpCmpFile:
                summary = mock_change_summary(comparison.stdCmpFile, comparison.tmpCmpFile)
                reports.append(f"{comparison.stem}: {summary}")
        if reports:
            state.freeText = "".join(reports) + (report_line(test) or "") + state.freeText


class CaptureMockConfig(QueueSystemConfig):
    def setApplicationDefaults(self, app) -> None:  # noqa: N802 - TextTest's method name
        QueueSystemConfig.setApplicationDefaults(self, app)
        app.addConfigEntry("default", TOKEN_FILTER, "run_dependent_text")

    def getTestEvaluator(self):  # noqa: N802 - TextTest's method name
        return QueueSystemConfig.getTestEvaluator(self) + [ReportMockChanges()]
