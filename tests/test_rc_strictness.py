"""Issue 13 items 2 and 3: misspelt rc settings are reported, and ``on_missing_mock = error`` refuses a
replay with no mock. The ``capturemock`` command refuses both (exit 2); the TextTest API warns about
unknown settings in one line and runs on; the defaults run a replay without a mock live, as 2.10 did."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Optional

import pytest

import capturemock
from capturemock.config import KEYS, PER_NAME, RcConfig
from capturemock.errors import MissingMockError
from capturemock.python import api

STRICT = "[general]\non_missing_mock = error\n"


def run_command(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith("CAPTUREMOCK")}
    return subprocess.run([sys.executable, "-m", "capturemock", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60)


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("name, text, message", [
    ("py.rc", "[python]\nintercept = json\n",
     "py.rc:2: unknown key 'intercept' in [python] (did you mean 'intercepts'?)"),
    ("sect.rc", "[pyhton]\nintercepts = json\n", "sect.rc:1: unknown section [pyhton] (did you mean 'python'?)"),
    ("alt.rc", "[general]\nalterations = stamp\n[stamp]\nmatch_patern = [0-9]+\nreplacement = N\n",
     "alt.rc:4: unknown key 'match_patern' in [stamp] (did you mean 'match_pattern'?)"),
    ("home.rc", "[tool]\nintercepts = ls\n",
     "home.rc:2: unknown key 'intercepts' in [tool] ('intercepts' belongs in [python] or [command line])"),
    ("case.rc", "[General]\nuse_exact_matching = true\n",
     "case.rc:1: unknown section [General] (did you mean 'general'?)"),
    ("y.yaml", "python:\n  intercepts: [json]\n  ignore_caller: [x]\n",
     "y.yaml:3: unknown key 'ignore_caller' in [python] (did you mean 'ignore_callers'?)"),
])
def test_command_refuses_an_unknown_key_or_section(tmp_path: Path, name: str, text: str, message: str) -> None:
    write(tmp_path, name, text)
    result = run_command(tmp_path, "-m", "1", "-r", "rec.mock", "-R", name, "sh", "-c", "echo ran")
    assert (result.returncode, result.stdout, result.stderr) == (2, "", f"capturemock: {message}\n")


def test_command_refuses_a_missing_rc_file(tmp_path: Path) -> None:
    result = run_command(tmp_path, "-m", "1", "-r", "rec.mock", "-R", "nosuch.rc", "sh", "-c", "echo ran")
    assert (result.returncode, result.stdout, result.stderr) == (
        2, "", "capturemock: rc file nosuch.rc does not exist\n")


def test_command_replays_a_missing_mock_live_by_default(tmp_path: Path) -> None:
    write(tmp_path, "plain.rc", "[command line]\nintercepts = ls\n")
    result = run_command(tmp_path, "-p", "nosuch.mock", "-R", "plain.rc", "sh", "-c", "echo ran")
    assert (result.returncode, result.stdout, result.stderr) == (0, "ran\n", "")


def test_command_refuses_a_missing_mock_with_on_missing_mock_error(tmp_path: Path) -> None:
    write(tmp_path, "strict.rc", STRICT)
    result = run_command(tmp_path, "-p", "nosuch.mock", "-R", "strict.rc", "sh", "-c", "echo ran")
    assert (result.returncode, result.stdout, result.stderr) == (
        2, "", "capturemock: cannot replay: mock file nosuch.mock does not exist ([general] on_missing_mock = error)\n")


def test_command_refuses_an_unknown_on_missing_mock_value(tmp_path: Path) -> None:
    write(tmp_path, "odd.rc", "[general]\non_missing_mock = fail\n")
    result = run_command(tmp_path, "-p", "nosuch.mock", "-R", "odd.rc", "sh", "-c", "echo ran")
    assert (result.returncode, result.stderr) == (
        2, "capturemock: odd.rc:2: on_missing_mock = 'fail' is not 'live' or 'error'\n")


def test_every_declared_key_and_per_name_section_is_valid(tmp_path: Path) -> None:
    """Sections named after intercepts, programs, alterations and HTTP methods, [DEFAULT] and data
    sections are all 2.10 rc files: none may be reported."""
    sections: dict[str, list[str]] = {}
    for key in KEYS:
        for section in (["git", "smtplib", "smtplib.SMTP.sendmail", "stamp", "GET", "tcp_header"]
                        if key.section == PER_NAME else [key.section]):
            sections.setdefault(section, []).append(f"{key.name} = x")
    text = "".join(f"[{name}]\n" + "\n".join(lines) + "\n" for name, lines in sections.items())
    text += "[DEFAULT]\nbase = 1\n[default_http_headers]\nx-any = 1\n[enums]\nstate = 1\n"
    assert RcConfig([str(write(tmp_path, "all.rc", text))]).unknown_settings() == []


def test_set_up_python_warns_once_per_problem_and_carries_on(tmp_path: Path, capfd, monkeypatch) -> None:
    rc = write(tmp_path, "stray.rc", "[python]\nintercepts = json\ncheck_repeated_call = false\n")
    env: dict[str, str] = {}
    monkeypatch.setattr(api, "_make_importable", lambda environment: None)
    for _ in range(2):  # TextTest sets up every test of a suite with the same rc file
        assert api.setUpPython(capturemock.RECORD, str(tmp_path / "rec.mock"), None, [str(rc)], environment=env)
    assert capfd.readouterr().err == (f"WARNING: {rc}:3: unknown key 'check_repeated_call' in [python] "
                                      "(did you mean 'check_repeated_calls'?)\n")


def test_set_up_server_warns_and_carries_on(tmp_path: Path, capfd) -> None:
    rc = write(tmp_path, "stray.rc", "[command line]\nintercepts = ls\nenviroment = HOME\n")
    env = dict(os.environ)
    try:
        assert capturemock.setUpServer(capturemock.RECORD, str(tmp_path / "rec.mock"), rcFiles=[str(rc)],
                                       interceptDir=str(tmp_path / "bin"), environment=env)
    finally:
        capturemock.terminate()
    assert capfd.readouterr().err == (f"WARNING: {rc}:3: unknown key 'enviroment' in [command line] "
                                      "(did you mean 'environment'?)\n")


@pytest.mark.parametrize("set_up", ["setUpPython", "setUpServer"])
@pytest.mark.parametrize("replay, what", [("nosuch.mock", "mock file {} does not exist"),
                                          (None, "no mock file was given")])
def test_texttest_api_refuses_a_missing_mock_with_on_missing_mock_error(
        tmp_path: Path, set_up: str, replay: Optional[str], what: str) -> None:
    rc = write(tmp_path, "strict.rc", STRICT)
    replay = replay and str(tmp_path / replay)
    with pytest.raises(MissingMockError) as info:
        getattr(capturemock, set_up)(capturemock.REPLAY, str(tmp_path / "rec.mock"), replay,
                                     rcFiles=[str(rc)], environment={})
    assert str(info.value) == f"cannot replay: {what.format(replay)} ([general] on_missing_mock = error)"


def test_texttest_api_runs_a_missing_mock_live_by_default(tmp_path: Path) -> None:
    rc = write(tmp_path, "plain.rc", "[python]\nintercepts = json\n")
    env: dict[str, str] = {}
    assert not capturemock.setUpPython(capturemock.REPLAY, str(tmp_path / "rec.mock"), None, [str(rc)],
                                       environment=env)
    assert env == {}


TESTS = '''
import capturemock

@capturemock.capturemock("json", rcFiles=["RC"])
def test_decorated():
    import json
    assert json.dumps(1) == "1"

def test_fixture(capturemock):
    capturemock.intercept("json", rcFiles=["RC"])
    import json
    assert json.dumps(1) == "1"
'''


def run_pytest(directory: Path, rc_text: str) -> str:
    write(directory, "pytest.ini", "[pytest]\n")
    write(directory, "the.rc", rc_text)
    write(directory, "test_sut.py", textwrap.dedent(TESTS).replace("RC", str(directory / "the.rc")))
    env = {key: value for key, value in os.environ.items() if not key.startswith("CAPTUREMOCK")}
    env.pop("PYTEST_ADDOPTS", None)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rA", "test_sut.py"],
                          cwd=directory, env=env, capture_output=True, text=True, timeout=120)
    return proc.stdout + proc.stderr


def test_decorator_and_fixture_fail_a_test_with_no_mock_under_on_missing_mock_error(tmp_path: Path) -> None:
    report = run_pytest(tmp_path, STRICT)
    assert "2 failed" in report, report
    for mock in ("decorated.mock", "test_sut/test_fixture.mock"):
        path = tmp_path / "mocks" / mock
        message = f"cannot replay: mock file {path} does not exist ([general] on_missing_mock = error)"
        assert message in report, report
    assert f"capturemock.errors.MissingMockError: cannot replay: mock file {tmp_path}/mocks/decorated.mock" in report
    assert "FAILED test_sut.py::test_fixture - Failed: cannot replay: mock file" in report
    assert "During handling" not in report and "capturemock/config.py" not in report


def test_decorator_and_fixture_run_a_test_with_no_mock_live_by_default(tmp_path: Path) -> None:
    report = run_pytest(tmp_path, "[python]\nintercepts = json\n")
    assert "2 passed" in report, report
