"""TextTest configuration module for suites that use capturemock (``config_module:texttest_plugin``).

It is TextTest's own default configuration plus one thing: when a test's mock file differs from the
stored one (``pythonmocks``, ``externalmocks``, ``traffic``, ``httpmocks``), the test's details start
with a per-interaction summary of what changed (``capturemock diff``), which reads more easily than a
line diff after a nightly re-record.
"""
from __future__ import annotations

from texttestlib import plugins
from texttestlib.queuesystem import QueueSystemConfig

MOCK_STEMS = ("pythonmocks", "externalmocks", "traffic", "httpmocks")


def getConfig(optionMap):  # noqa: N802 - the name TextTest looks for
    return CaptureMockConfig(optionMap)


class ReportMockChanges(plugins.Action):
    """Runs after the comparisons of each test: summarise changed mock files in its free text."""

    def __call__(self, test) -> None:
        from capturemock.diff import report

        state = test.state
        reports = []
        for comparison in getattr(state, "changedResults", []):
            if comparison.stem in MOCK_STEMS and comparison.stdFile and comparison.tmpFile:
                text, _ = report(comparison.stdFile, comparison.tmpFile)
                reports.append(f"{comparison.stem}: " + text.split("\n", 1)[1])
        if reports:
            state.freeText = "".join(reports) + state.freeText


class CaptureMockConfig(QueueSystemConfig):
    def getTestEvaluator(self):  # noqa: N802 - TextTest's method name
        return QueueSystemConfig.getTestEvaluator(self) + [ReportMockChanges()]
