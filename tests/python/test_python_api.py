"""The entry points TextTest and the decorator use (§2.7, §6.1), and interception of child processes."""
from __future__ import annotations

import os
import subprocess
import sys
from collections import OrderedDict

import pytest

import capturemock
from capturemock import RECORD, REPLAY, REPLAY_OLD_RECORD_NEW, cachedir
from capturemock.errors import CaptureMockError, ConfigError
from capturemock.python.api import write_sitecustomize


class TextTestEnvironment(OrderedDict):
    """Like TextTest's environment: an OrderedDict subclass."""


def test_set_up_python_exports_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    env = TextTestEnvironment(CAPTUREMOCK_REPLAY_FILE="stale", PYTHONPATH="/sut/own/path")
    replay = tmp_path / "stored.mock"
    replay.write_text("<-PYT:import x\n")
    assert capturemock.setUpPython(REPLAY, "rec.mock", str(replay), ["a.rc", "b.rc"], ["x", "y.z"], environment=env)
    assert dict(env) == {"CAPTUREMOCK_MODE": "0", "CAPTUREMOCK_REPLAY_FILE": str(replay),
                         "CAPTUREMOCK_RECORD_FILE": "rec.mock", "CAPTUREMOCK_PROCESS_START": "a.rc,b.rc",
                         "CAPTUREMOCK_PYTHON": "x,y.z",
                         # the SUT's own path first, then a directory holding only a link to capturemock
                         "PYTHONPATH": f"/sut/own/path:{cachedir.import_path()}"}
    assert capturemock.setUpPython(RECORD, "rec.mock", str(replay), ["a.rc"], environment=env)
    assert "CAPTUREMOCK_REPLAY_FILE" not in env and env["CAPTUREMOCK_MODE"] == "1"


def test_python_without_capturemock_installed_is_intercepted_too(tmp_path):
    """The SUT may run another interpreter than ours: setUpPython makes capturemock importable to it."""
    base_python = os.path.join(sys.base_prefix, "bin", "python3")
    if sys.base_prefix == sys.prefix or not os.path.exists(base_python):
        pytest.skip("needs the interpreter this venv was made from")
    (tmp_path / "ledger.py").write_text("def balance(account):\n    return len(account) * 10\n")
    (tmp_path / "sut.py").write_text("import ledger\nprint(ledger.balance('abc'))\n")
    (tmp_path / "rc").write_text("[python]\nintercepts = ledger\n")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("CAPTUREMOCK", "PYTHON"))}
    assert capturemock.setUpPython(RECORD, str(tmp_path / "rec.mock"), None, [str(tmp_path / "rc")], environment=env)
    site = tmp_path / "site"
    write_sitecustomize(str(site))
    env["PYTHONPATH"] = f"{site}:{env['PYTHONPATH']}"
    proc = subprocess.run([base_python, "sut.py"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert proc.stdout == "30\n", proc.stderr
    assert "<-PYT:ledger.balance('abc')\n->RET:30\n" in (tmp_path / "rec.mock").read_text()


def test_set_up_python_is_inactive_for_replay_without_a_mock(tmp_path):
    env = TextTestEnvironment()
    assert not capturemock.setUpPython(REPLAY, "rec.mock", str(tmp_path / "missing"), ["rc"], environment=env)
    assert not env
    assert capturemock.setUpPython(REPLAY_OLD_RECORD_NEW, "rec.mock", None, ["rc"], environment=env)


def test_parent_and_child_processes_append_to_one_transcript(tmp_path):
    (tmp_path / "ledger.py").write_text("def balance(account):\n    return len(account) * 10\n")
    (tmp_path / "child.py").write_text("import ledger\nprint(ledger.balance('child'))\n")
    (tmp_path / "sut.py").write_text(
        "import subprocess, sys\nimport ledger\nprint(ledger.balance('ab'), flush=True)\n"
        "subprocess.run([sys.executable, 'child.py'], check=True)\nprint(ledger.balance('abc'))\n")
    (tmp_path / "rc").write_text("[python]\nintercepts = ledger\n")
    env = dict(os.environ)
    capturemock.setUpPython(RECORD, str(tmp_path / "rec.mock"), rcFiles=[str(tmp_path / "rc")], environment=env)
    site = os.path.dirname(write_sitecustomize(str(tmp_path / "site")))
    env["PYTHONPATH"] = os.pathsep.join([site, os.path.dirname(os.path.dirname(capturemock.__file__))])
    output = subprocess.run([sys.executable, "sut.py"], cwd=tmp_path, env=env, capture_output=True, text=True,
                            check=True).stdout
    assert output == "20\n50\n30\n"
    calls = [line for line in (tmp_path / "rec.mock").read_text().splitlines() if "balance" in line]
    assert calls == ["<-PYT:ledger.balance('ab')", "<-PYT:ledger.balance('child')", "<-PYT:ledger.balance('abc')"]


def test_process_startup_does_nothing_without_rc_files(monkeypatch):
    monkeypatch.delenv("CAPTUREMOCK_PROCESS_START", raising=False)
    assert capturemock.process_startup() is None


def test_a_bad_rc_file_stops_set_up_and_a_process_started_with_it_at_once(tmp_path):
    """Running on unintercepted would send a replayed test to the real dependencies (and pass)."""
    rc = tmp_path / "rc"
    rc.write_text("[python]\nintercepts = random\ncheck_repeated_calls = perhaps\n")
    (tmp_path / "stored.mock").write_text("<-PYT:import random\n<-PYT:random.randint(1, 100)\n->RET:5\n")
    with pytest.raises(ConfigError, match=r"rc:3: check_repeated_calls = 'perhaps' is not a boolean"):
        capturemock.setUpPython(REPLAY, str(tmp_path / "rec.mock"), str(tmp_path / "stored.mock"), rcFiles=[str(rc)],
                                environment={})  # a harness is told before the SUT runs; and if it runs anyway:
    env = dict(os.environ, CAPTUREMOCK_PROCESS_START=str(rc), CAPTUREMOCK_MODE="0",
               CAPTUREMOCK_REPLAY_FILE=str(tmp_path / "stored.mock"),
               CAPTUREMOCK_RECORD_FILE=str(tmp_path / "rec.mock"))
    site = os.path.dirname(write_sitecustomize(str(tmp_path / "site")))
    env["PYTHONPATH"] = os.pathsep.join([site, os.path.dirname(os.path.dirname(capturemock.__file__))])
    result = subprocess.run([sys.executable, "-c", "import random; print(random.randint(1, 100))"], cwd=tmp_path,
                            env=env, capture_output=True, text=True)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"capturemock: {rc}:3: check_repeated_calls = 'perhaps' is not a boolean (use true/false)\n"


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # texttestlib imports sre_parse
def test_set_up_errors_reach_texttest_as_its_own_one_line_errors(tmp_path, monkeypatch):
    """TextTest shows a TextTestError as "not compared: <message>", anything else as a traceback."""
    from texttestlib import plugins

    monkeypatch.setitem(sys.modules, "texttestlib.plugins", plugins)
    rc = tmp_path / "rc"
    rc.write_text("[general]\nuse_exact_matching = maybe\n")
    for set_up in (capturemock.setUpPython, capturemock.setUpServer):
        with pytest.raises(plugins.TextTestError) as info:
            set_up(RECORD, str(tmp_path / "rec.mock"), rcFiles=[str(rc)], environment={})
        assert isinstance(info.value, CaptureMockError)  # still ours, for callers that catch that
        assert str(info.value).endswith(f"{rc}:2: use_exact_matching = 'maybe' is not a boolean (use true/false)")
        assert "\n" not in str(info.value)


def test_variables_inherited_from_the_caller_do_not_reach_the_sut(tmp_path, monkeypatch):
    """A TextTest run inside a capturemock'd process: TestEnvironment only pops its own variables."""
    from texttestlib.testmodel import TestEnvironment

    monkeypatch.setenv("CAPTUREMOCK_REPLAY_FILE", "/elsewhere/other.mock")
    env = TestEnvironment(lambda: None)
    assert capturemock.setUpPython(RECORD, str(tmp_path / "rec.mock"), environment=env)
    assert env.copy().get("CAPTUREMOCK_REPLAY_FILE") is None


def test_set_up_says_so_when_it_cannot_make_capturemock_importable(tmp_path, monkeypatch, capsys):
    """Cache directories others can write to are refused (a planted link would run as the SUT)."""
    for shared in (tmp_path / "cache" / "capturemock", tmp_path / "tmp" / f"capturemock-{os.getuid()}"):
        shared.mkdir(parents=True)
        shared.chmod(0o777)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    monkeypatch.setattr("tempfile.tempdir", None)
    env = TextTestEnvironment()
    assert capturemock.setUpPython(RECORD, str(tmp_path / "rec.mock"), environment=env)
    assert "PYTHONPATH" not in env
    assert "capturemock: WARNING: no private cache directory" in capsys.readouterr().err


def test_process_startup_called_again_in_one_process_keeps_the_first_interception(tmp_path):
    """sitecustomize calls it, then the program does too (as 2.10 suites were told to)."""
    (tmp_path / "rc").write_text("[python]\nintercepts = ledger\n")
    (tmp_path / "ledger.py").write_text("def balance():\n    return 7\n")
    env = dict(os.environ)
    capturemock.setUpPython(RECORD, str(tmp_path / "rec.mock"), rcFiles=[str(tmp_path / "rc")], environment=env)
    site = os.path.dirname(write_sitecustomize(str(tmp_path / "site")))
    env["PYTHONPATH"] = os.pathsep.join([site, os.path.dirname(os.path.dirname(capturemock.__file__))])
    script = ("import capturemock\nfirst = capturemock.process_startup()\n"
              "assert capturemock.process_startup() is first is not None\nimport ledger\nprint(ledger.balance())\n")
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert (result.returncode, result.stdout, result.stderr) == (0, "7\n", "")
    assert "<-PYT:ledger.balance()\n->RET:7\n" in (tmp_path / "rec.mock").read_text()
