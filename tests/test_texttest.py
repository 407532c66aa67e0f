"""TextTest integration: TextTest 4.4.7 drives capturemock through its own capturemock_config.

Two suites run headless in batch mode: the example suite of ../shared/texttest (mocks recorded by
CaptureMock 2.10: old mocks must still replay) and our own acceptance suite in testsuite/.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_EXAMPLE = ROOT.parent / "shared" / "texttest" / "example" / "suite"
TEXTTEST = Path(sys.executable).with_name("texttest")


def run_texttest(suite: Path, app: str, tmp_path: Path, *options: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, TEXTTEST_TMP=str(tmp_path / "tt-tmp"), TEXTTEST_PERSONAL_CONFIG=str(tmp_path / "tt-home"),
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    for name in list(env):
        if name.startswith(("CAPTUREMOCK_", "TEXTTEST_CAPTUREMOCK")):
            del env[name]
    return subprocess.run([str(TEXTTEST), "-d", str(suite), "-a", app, *options], env=env, cwd=tmp_path,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600)


def run_console(suite: Path, app: str, tmp_path: Path, *options: str) -> subprocess.CompletedProcess:
    """A console run that views the first failure's details (``v``) and quits."""
    env = dict(os.environ, TEXTTEST_TMP=str(tmp_path / "tt-tmp"), TEXTTEST_PERSONAL_CONFIG=str(tmp_path / "tt-home"),
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    return subprocess.run([str(TEXTTEST), "-d", str(suite), "-a", app, "-con", *options], env=env, cwd=tmp_path,
                          input="v\nq\n", capture_output=True, text=True, timeout=300)


def copy_suite(source: Path, tmp_path: Path) -> Path:
    target = tmp_path / "suite"
    shutil.copytree(source, target, symlinks=True)
    return target


@pytest.mark.skipif(not SHARED_EXAMPLE.exists(), reason="../shared/texttest example not present")
def test_mocks_recorded_by_the_original_replay_under_texttest(tmp_path):
    suite = copy_suite(SHARED_EXAMPLE, tmp_path)
    proc = run_texttest(suite, "hello", tmp_path, "-b", "ci")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Tests Run: 5" in proc.stdout + proc.stderr


@pytest.mark.skipif(not SHARED_EXAMPLE.exists(), reason="../shared/texttest example not present")
def test_rerecord_then_replay_under_texttest(tmp_path):
    suite = copy_suite(SHARED_EXAMPLE, tmp_path)
    for stale in [*suite.glob("*/pythonmocks.hello"), *suite.glob("*/externalmocks.hello"),
                  *suite.glob("*/output.hello"), *suite.glob("*/errors.hello")]:
        stale.unlink()
    for edits in suite.glob("*/file_edits"):
        shutil.rmtree(edits)
    run_texttest(suite, "hello", tmp_path, "-con", "-rectraffic", "-o")
    assert (suite / "PyMock" / "pythonmocks.hello").read_text().startswith("<-PYT:import weather\n")
    assert (suite / "CmdEdits" / "file_edits" / "out" / "report.txt").exists()
    legacy = (suite / "Legacy" / "traffic.hello").read_text()
    assert "<-CMD:fortune --short" in legacy
    for _ in range(2):
        proc = run_texttest(suite, "hello", tmp_path, "-b", "ci")
        assert proc.returncode == 0, proc.stdout + proc.stderr


ACCEPTANCE_TESTS = 120


def run_acceptance_suite(*options: str) -> subprocess.CompletedProcess:
    """testsuite/run: TextTest in batch mode, ending with the summary line `N passed, M failed`."""
    env = dict(os.environ, PYTHON=sys.executable)
    return subprocess.run(["bash", str(ROOT / "testsuite" / "run"), *options], env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=900)


def test_acceptance_suite_replays():
    proc = run_acceptance_suite()
    assert proc.stdout.splitlines()[-1] == f"{ACCEPTANCE_TESTS} passed, 0 failed", proc.stdout + proc.stderr
    assert proc.returncode == 0


def test_acceptance_suite_passes_in_mixed_mode():
    """TextTest's "Mixed Mode" (-rectraffic 2): replayed exceptions and instances are of the classes the
    real module behind the proxy gives the program, so the scenarios run to the end as in replay."""
    proc = run_acceptance_suite("-rectraffic", "2")
    assert proc.stdout.splitlines()[-1] == f"{ACCEPTANCE_TESTS} passed, 0 failed", proc.stdout + proc.stderr
    assert proc.returncode == 0


def test_plugin_summarises_changed_mocks_per_interaction(tmp_path):
    suite = copy_suite(ROOT / "testsuite", tmp_path)
    with open(suite / "config.cm", "a") as config:
        config.write("config_module:texttest_plugin\n")
    stored = suite / "Quotes" / "pythonmocks.cm"
    stored.write_text(stored.read_text().replace("price('ACME')", "price('ACMX')"))
    proc = run_console(suite, "cm", tmp_path, "-t", "Quotes")
    assert "FAILED" in proc.stdout and "differences in pythonmocks" in proc.stdout
    assert ("pythonmocks:   changed  <-PYT:session_alice.price('ACME')\n"
            "           (was <-PYT:session_alice.price('ACMX'))\n"
            "8 interactions now: 1 changed, 0 added, 0 removed, 7 unchanged\n") in proc.stdout


def test_plugin_summarises_what_the_run_dependent_text_filters_left(tmp_path):
    """The summary lists what failed the test: a change the suite's filters hide is not listed."""
    suite = copy_suite(ROOT / "testsuite", tmp_path)
    with open(suite / "config.cm", "a") as config:
        config.write("config_module:texttest_plugin\n[run_dependent_text]\npythonmocks:history\\({LINES 2}\n")
    stored = suite / "Quotes" / "pythonmocks.cm"
    stored.write_text(stored.read_text().replace("price('ACME')", "price('ACMX')")
                      .replace("[345.42, 292.34]", "[1.0, 2.0]"))
    proc = run_console(suite, "cm", tmp_path, "-t", "Quotes")
    assert "differences in pythonmocks" in proc.stdout
    assert ("pythonmocks:   changed  <-PYT:session_alice.price('ACME')\n"
            "           (was <-PYT:session_alice.price('ACMX'))\n"
            "7 interactions now: 1 changed, 0 added, 0 removed, 6 unchanged\n") in proc.stdout


NET_SUT = """\
#!/bin/sh
printf '<-CLI:hello\\n->SRV:world, again\\n' > netmocks.nm
"""


def test_plugin_summarises_the_client_server_mocks_under_their_configured_stem(tmp_path):
    suite = tmp_path / "suite"
    (suite / "Net").mkdir(parents=True)
    (suite / "sut.sh").write_text(NET_SUT)
    (suite / "sut.sh").chmod(0o755)
    (suite / "config.nm").write_text("executable:${TEXTTEST_ROOT}/sut.sh\nconfig_module:texttest_plugin\n"
                                     "capturemock_clientserver_mock_name:netmocks\n")
    (suite / "testsuite.nm").write_text("Net\n")
    (suite / "Net" / "netmocks.nm").write_text("<-CLI:hello\n->SRV:world\n")
    for stem in ("output", "errors"):
        (suite / "Net" / f"{stem}.nm").write_text("")
    proc = run_console(suite, "nm", tmp_path)
    assert "differences in netmocks" in proc.stdout
    assert ("netmocks:   changed  <-CLI:hello\n"
            "           - ->SRV:world\n"
            "           + ->SRV:world, again\n"
            "1 interactions now: 1 changed, 0 added, 0 removed, 0 unchanged\n") in proc.stdout


ENV_SUT = """\
#!/bin/sh
env | grep '^CAPTUREMOCK_TOKEN=' | sed 's/^/env: /'
tool
"""


@pytest.mark.parametrize("how", ["plugin", "readme line"])
def test_the_session_token_in_a_programs_output_is_masked(tmp_path, how):
    """The program logs its environment: the token differs every run, the test must still pass."""
    suite = tmp_path / "suite"
    (suite / "Env").mkdir(parents=True)
    (suite / "sut.sh").write_text(ENV_SUT)
    (suite / "sut.sh").chmod(0o755)
    readme_lines = [line for line in (ROOT / "README.md").read_text().splitlines()
                    if line.startswith("default:CAPTUREMOCK_TOKEN")]
    assert len(readme_lines) == 1
    masking = "config_module:texttest_plugin\n" if how == "plugin" else f"[run_dependent_text]\n{readme_lines[0]}\n"
    (suite / "config.en").write_text("executable:${TEXTTEST_ROOT}/sut.sh\nimport_config_file:capturemock_config\n"
                                     + masking)
    (suite / "testsuite.en").write_text("Env\n")
    (suite / "Env" / "capturemockrc.en").write_text("[command line]\nintercepts = tool\n")
    (suite / "Env" / "externalmocks.en").write_text("<-CMD:tool\n->OUT:tool says hi\n")
    (suite / "Env" / "output.en").write_text("env: CAPTUREMOCK_TOKEN=<session token>\ntool says hi\n")
    (suite / "Env" / "errors.en").write_text("")
    proc = run_texttest(suite, "en", tmp_path, "-b", "ci")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_recipe_suite_replays(tmp_path):
    """testsuite/Recipes (application rcp): each ready-made recipe in rc/ used by a test of its own."""
    proc = run_texttest(ROOT / "testsuite", "rcp", tmp_path, "-b", "ci")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Tests Run: 13" in proc.stdout + proc.stderr
