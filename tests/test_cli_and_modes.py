"""Issue 13: float precision, one mode parser everywhere, ``capturemock check`` and the small fixes
(fresh setUpServer record file, no stale ``.tmp``, the late-import hint, mocks shared by two tests).

Every scenario runs the real command, script or pytest in a subprocess and checks the text it prints.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from capturemock import values

CLOCK = '''\
def now():
    return 1718000000.123456


def wait(seconds):
    return seconds
'''
CLOCK_TEST = '''
from capturemock import capturemock


@capturemock(rcFiles=["clock.rc"])
def test_clock():
    import clock
    print("now:", clock.now(), "waited:", clock.wait(0.000123))


test_clock()
'''
ALL_MODES = "0 (REPLAY, replay), 1 (RECORD, record), 2 (REPLAY_OLD_RECORD_NEW, mixed)"


def run(args: list[str], cwd: Path, mode: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    """Run ``args`` in ``cwd`` with no CAPTUREMOCK_* variable but ``mode``; it must succeed if ``check``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("CAPTUREMOCK")}
    env.pop("PYTEST_ADDOPTS", None)
    if mode is not None:
        env["CAPTUREMOCK_MODE"] = mode
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert not check or proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def script(cwd: Path, source: str, mode: str | None = None, name: str = "sut.py",
           check: bool = True) -> subprocess.CompletedProcess:
    (cwd / name).write_text(textwrap.dedent(source))
    return run([sys.executable, name], cwd, mode, check)


# -- item 7: float precision -------------------------------------------------------------------------
@pytest.mark.parametrize("precision, now, waited", [
    ("", "1718000000.12", "0.0"),
    ("float_precision = full\n", "1718000000.123456", "0.000123"),
])
def test_float_precision_records_and_replays(tmp_path: Path, precision: str, now: str, waited: str) -> None:
    (tmp_path / "clock.py").write_text(CLOCK)
    (tmp_path / "clock.rc").write_text(f"[python]\nintercepts = clock\n{precision}")
    assert script(tmp_path, CLOCK_TEST, mode="1").stdout == "now: 1718000000.123456 waited: 0.000123\n"
    mock = (tmp_path / "mocks" / "clock.mock").read_text()
    assert f"<-PYT:clock.now()\n->RET:{now}\n<-PYT:clock.wait({waited})\n->RET:{waited}\n" in mock
    (tmp_path / "clock.py").unlink()  # replay must not need the real module
    assert script(tmp_path, CLOCK_TEST, mode="0").stdout == f"now: {now} waited: {waited}\n"
    assert (tmp_path / "mocks" / "clock.mock").read_text() == mock


def test_bad_float_precision_names_the_rc_line(tmp_path: Path) -> None:
    (tmp_path / "clock.py").write_text(CLOCK)
    (tmp_path / "clock.rc").write_text("[python]\nintercepts = clock\nfloat_precision = 3\n")
    proc = script(tmp_path, CLOCK_TEST, mode="1", check=False)
    assert proc.stderr.splitlines()[-1] == (
        "capturemock.errors.ConfigError: clock.rc:3: float_precision = '3' is not '2' or 'full'")


def test_full_floats_render_as_repr_everywhere() -> None:
    value = [1 / 3, (2 / 3,), {"a": 0.1 + 0.2}]
    assert values.render(value, full_floats=True) == \
        "[0.3333333333333333, (0.6666666666666666,), {'a': 0.30000000000000004}]"
    assert values.render(value) == "[0.33, (0.67,), {'a': 0.3}]"


# -- one mode parser ---------------------------------------------------------------------------------
def test_command_takes_mode_names_and_lists_them_when_refusing(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "capturemock"]
    (tmp_path / "rc").write_text("[command line]\nintercepts = tool\n")
    proc = run([*command, "-m", "REPLAY_OLD_RECORD_NEW", "-R", "rc", "-r", "new.mock", "echo", "mixed"], tmp_path)
    assert proc.stdout == "mixed\n"
    proc = run([*command, "-m", "fast", "echo"], tmp_path, check=False)
    assert (proc.returncode, proc.stderr) == (
        2, f"capturemock: unknown capturemock mode 'fast' in --mode: use {ALL_MODES}, 3 (disabled)\n")


@pytest.mark.parametrize("mode", ["RECORD", "record", "1"])
def test_decorator_and_environment_take_every_spelling(tmp_path: Path, mode: str) -> None:
    (tmp_path / "clock.py").write_text(CLOCK)
    (tmp_path / "clock.rc").write_text("[python]\nintercepts = clock\n")
    script(tmp_path, CLOCK_TEST, mode=mode)
    assert (tmp_path / "mocks" / "clock.mock").is_file()
    (tmp_path / "mocks" / "clock.mock").unlink()
    script(tmp_path, CLOCK_TEST.replace('rcFiles=["clock.rc"]', f'rcFiles=["clock.rc"], mode={mode!r}'))
    assert (tmp_path / "mocks" / "clock.mock").is_file()


def test_pytest_option_takes_every_spelling_and_refuses_the_rest(tmp_path: Path) -> None:
    (tmp_path / "clock.py").write_text(CLOCK)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "clock.rc").write_text("[python]\nintercepts = clock\n")
    (tmp_path / "test_clock.py").write_text(
        "def test_now(capturemock):\n    capturemock.intercept(rcFiles='clock.rc')\n    import clock\n"
        "    assert clock.now() > 0\n")
    pytest_command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q"]
    run([*pytest_command, "--capturemock-mode=REPLAY_OLD_RECORD_NEW"], tmp_path)
    assert (tmp_path / "mocks" / "test_clock" / "test_now.mock").is_file()
    proc = run([*pytest_command, "--capturemock-mode=3"], tmp_path, check=False)
    assert proc.returncode == 4
    assert f"ERROR: unknown capturemock mode '3' in --capturemock-mode: use {ALL_MODES}" in proc.stderr


# -- capturemock check -------------------------------------------------------------------------------
BROKEN_MOCK = '''\
stray text
<-PYT:import clock
<-PYT:clock.start()
->RET:Instance('Timer', 'timer1')
<-PYT:clock.again()
->RET:timer1
<-PYT:clock.run()
->RET:os.system('rm -rf /')
<-PYT:clock.fail()
->RET:raise clock.Stopped('late')
->XYZ:what
->OUT:first
|capturemock|<-CMD:second
<-PYT:clock.stop()
->RET:Timer()
'''


def test_check_reports_each_problem_with_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "broken.mock").write_text(BROKEN_MOCK)
    (tmp_path / "torn.mock").write_text("<-CMD:tool\n->OUT:out\n|capturemock|<-CMD:x\n")
    (tmp_path / "clock.rc").write_text("[python]\nintercepts = clock\nfloat_precison = full\n[general]\n"
                                       "use_exact_matching = sometimes\n")
    proc = run([sys.executable, "-m", "capturemock", "check", "broken.mock", "torn.mock", "clock.rc"], tmp_path,
               check=False)
    assert (proc.returncode, proc.stderr) == (1, "")
    assert proc.stdout.splitlines() == [
        "clock.rc:3: unknown key 'float_precison' in [python] (did you mean 'float_precision'?)",
        "clock.rc:5: use_exact_matching = 'sometimes' is not a boolean (use true/false)",
        "broken.mock:1: text before the first item: replay ignores it",
        "broken.mock:8: refused expression \"os.system('rm -rf /')\": only classes of intercepted or value "
        "modules may be called",
        "broken.mock:11: unknown item type 'XYZ' in ->XYZ",
        "broken.mock:12: escaped lines but no closing '|capturemock|' line: replay reads the marks as text",
        "torn.mock:2: dropped an item: its recording was cut off",
    ]


def test_check_accepts_every_end_line_an_escaped_output_may_have(tmp_path: Path) -> None:
    """Output without a final newline or with bytes that are not text ends in its own end line."""
    (tmp_path / "exact.mock").write_text("<-CMD:tool\n->OUT:abc\n|capturemock|no newline at end\n"
                                         "<-CMD:zip\n->OUT:\\x00x\n|capturemock|bytes, no newline at end\n"
                                         "<-CMD:cat\n->OUT:a\n|capturemock|<-CMD:looks like an item\n|capturemock|\n")
    proc = run([sys.executable, "-m", "capturemock", "check", "exact.mock"], tmp_path)
    assert proc.stdout == "capturemock check: 1 file, no problems\n"


def test_check_passes_good_files_and_checks_rc_files_given_by_flag(tmp_path: Path) -> None:
    (tmp_path / "good.mock").write_text(BROKEN_MOCK.split("<-PYT:clock.run()")[0].replace("stray text\n", ""))
    (tmp_path / "settings").write_text("[python]\nintercepts = clock\n")
    proc = run([sys.executable, "-m", "capturemock", "check", "--rcfiles", "settings", "good.mock"], tmp_path)
    assert proc.stdout == "capturemock check: 2 files, no problems\n"
    (tmp_path / "settings").write_text("[pyhton]\nintercepts = clock\n")
    proc = run([sys.executable, "-m", "capturemock", "check", "-R", "settings", "good.mock"], tmp_path, check=False)
    assert (proc.returncode, proc.stdout) == (1, "settings:1: unknown section [pyhton] (did you mean 'python'?)\n")


# -- item 9: the small points ------------------------------------------------------------------------
def test_set_up_server_starts_a_fresh_record_file(tmp_path: Path) -> None:
    (tmp_path / "rc").write_text("[command line]\nintercepts = echo\n")
    (tmp_path / "rec.mock").write_text("<-CMD:echo stale\n->OUT:stale\n")
    script(tmp_path, '''
        import os, subprocess, capturemock
        env = dict(os.environ)
        capturemock.setUpServer(1, "rec.mock", rcFiles=["rc"], interceptDir=os.path.abspath("bin"), environment=env)
        subprocess.run(["echo", "hi"], env=env)
        capturemock.terminate()
        ''')
    assert (tmp_path / "rec.mock").read_text() == "<-CMD:echo hi\n->OUT:hi\n"


def test_a_successful_re_record_removes_the_stale_tmp(tmp_path: Path) -> None:
    (tmp_path / "clock.py").write_text(CLOCK)
    (tmp_path / "clock.rc").write_text("[python]\nintercepts = clock\n")
    script(tmp_path, CLOCK_TEST, mode="1")
    mock = tmp_path / "mocks" / "clock.mock"
    mock.write_text(mock.read_text().replace("clock.wait(0.0)", "clock.wait(5)"))
    proc = script(tmp_path, CLOCK_TEST, mode="0", check=False)
    assert "CaptureMockReplayError: Replayed calls do not match those recorded." in proc.stderr
    assert (tmp_path / "mocks" / "clock.mock.tmp").is_file()
    script(tmp_path, CLOCK_TEST, mode="1")
    assert sorted(os.listdir(tmp_path / "mocks")) == ["clock.mock"]


def test_late_import_warning_keeps_its_stdout_and_hints_on_stderr(tmp_path: Path) -> None:
    (tmp_path / "clock.py").write_text(CLOCK)
    proc = script(tmp_path, '''
        import clock as timer
        from capturemock import RECORD, capturemock


        @capturemock("clock", mode=RECORD)
        def test_late():
            print("now:", timer.now())


        test_late()
        ''')
    assert proc.stdout == ("WARNING: having to reset the variable '__main__.timer'.\n"
                           "This implies you are intercepting the module 'clock' after importing it.\n"
                           "While this might work, it may well be very slow and is not recommended.\n\n"
                           "now: 1718000000.123456\n")
    assert proc.stderr == ("capturemock: hint: import 'clock' inside the test (or after interceptPython/"
                           "setUpPython), not at the top of '__main__', so that no variable needs resetting\n")


def test_two_tests_sharing_one_mock_name_are_refused(tmp_path: Path) -> None:
    for name in ("test_a.py", "test_b.py"):
        (tmp_path / name).write_text("from capturemock import capturemock\n\n\n@capturemock('clock')\n"
                                     "def test_now():\n    pass\n")
    proc = script(tmp_path, "import test_a\nimport test_b\n", check=False)
    mock = tmp_path / "mocks" / "now.mock"
    assert proc.stderr.splitlines()[-1] == (
        f"capturemock.errors.ConfigError: {tmp_path / 'test_b.py'}::test_now and {tmp_path / 'test_a.py'}::test_now "
        f"would share the mock file {mock}: rename one of the tests (the mock is named after the function, "
        "without 'test_')")
