"""The ``capturemock`` command (§10): options, exit status, clean-up."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

import pytest

RC = "[command line]\nintercepts = tool\n"


def capturemock_cmd(*args: str, cwd: Path, path: str, extra_env: Optional[dict] = None,
                    **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": path, "TMPDIR": str(cwd / "tmp"), **(extra_env or {})}
    (cwd / "tmp").mkdir(exist_ok=True)
    return subprocess.run([sys.executable, "-m", "capturemock", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=60, **kwargs)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "bin").mkdir()
    tool = tmp_path / "bin" / "tool"
    tool.write_text("#!/bin/sh\necho \"real tool $*\"\n[ \"$1\" = fail ] && exit 4\nexit 0\n")
    tool.chmod(0o755)
    (tmp_path / "rc").write_text(RC)
    return tmp_path


def test_records_by_default_and_exits_with_the_program_status(workdir):
    path = f"{workdir / 'bin'}:/usr/bin:/bin"
    (workdir / "rec.mock").write_text("<-CMD:tool stale\n")
    result = capturemock_cmd("-r", "rec.mock", "-R", "rc", "sh", "-c", "tool ok; tool fail", cwd=workdir, path=path)
    assert result.returncode == 4
    assert result.stdout == "real tool ok\nreal tool fail\n"
    assert (workdir / "rec.mock").read_text() == ("<-CMD:tool ok\n->OUT:real tool ok\n"
                                                  "<-CMD:tool fail\n->OUT:real tool fail\n->EXC:4\n")
    assert os.listdir(workdir / "tmp") == []  # the intercept dir is gone


def test_replays_with_long_options_and_the_program_absent(workdir):
    (workdir / "stored.mock").write_text("<-CMD:tool ok\n->OUT:mocked\n->EXC:9\n")
    result = capturemock_cmd("--mode=0", "--replay=stored.mock", "--record=rec.mock", "--rcfiles=rc",
                             "sh", "-c", "tool ok", cwd=workdir, path="/usr/bin:/bin")
    assert (result.stdout, result.returncode) == ("mocked\n", 9)
    assert (workdir / "rec.mock").read_text() == "<-CMD:tool ok\n->OUT:mocked\n->EXC:9\n"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL])
def test_program_killed_by_a_signal(workdir, signum):
    result = capturemock_cmd("-R", "rc", "sh", "-c", f"kill -{signum} $$", cwd=workdir, path="/usr/bin:/bin")
    assert (result.returncode, result.stderr) == (-signum, "")
    assert os.listdir(workdir / "tmp") == []


def test_no_program_is_a_usage_error(workdir):
    result = capturemock_cmd(cwd=workdir, path="/usr/bin:/bin")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith("usage: capturemock")
    assert result.stderr.endswith("capturemock: error: no program to run was given\n")


@pytest.mark.parametrize("args, message", [
    (["-m", "7", "true"], "capturemock: unknown capturemock mode '7' in --mode"),
    (["-R", "bad.rc", "true"], "capturemock: "),
    (["-m", "2", "-p", "rc", "-r", "./rc", "true"], "capturemock: --replay and --record name the same file"),
])
def test_bad_options_are_one_clean_line(workdir, args, message):
    (workdir / "bad.rc").write_text("no section here\n")
    result = capturemock_cmd(*args, cwd=workdir, path="/usr/bin:/bin")
    assert result.returncode != 0
    assert result.stderr.startswith(message)
    assert len(result.stderr.strip().splitlines()) == 1
    assert (workdir / "rc").read_text() == RC  # nothing given on the command line was touched


def test_missing_program(workdir):
    result = capturemock_cmd("-R", "rc", "no-such-program", cwd=workdir, path="/usr/bin:/bin")
    assert result.returncode == 127
    assert result.stderr == "capturemock: cannot run 'no-such-program': No such file or directory\n"


def test_killed_capturemock_stops_its_program_server_and_temp_dir(workdir):
    env = {**os.environ, "PATH": "/usr/bin:/bin", "TMPDIR": str(workdir / "tmp")}
    (workdir / "tmp").mkdir()
    process = subprocess.Popen([sys.executable, "-m", "capturemock", "-R", "rc", "sh", "-c",
                                "echo $$ > child.pid; sleep 30; echo never"], cwd=workdir, env=env,
                               stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    while not (workdir / "child.pid").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    assert process.wait(20) == -signal.SIGTERM
    assert "never" not in process.stdout.read()
    assert os.listdir(workdir / "tmp") == []


def test_python_intercepts_replay_without_a_record_file(workdir):
    """``-r`` is optional for Python traffic as for commands: the module is absent, replay answers."""
    (workdir / "py.rc").write_text("[python]\nintercepts = weather\n")
    (workdir / "stored.mock").write_text("<-PYT:import weather\n<-PYT:weather.temperature('Oslo')\n->RET:-4.5\n")
    result = capturemock_cmd("-p", "stored.mock", "-R", "py.rc", sys.executable, "-c",
                             "import weather; print(weather.temperature('Oslo'))", cwd=workdir, path="/usr/bin:/bin")
    assert (result.stdout, result.stderr, result.returncode) == ("-4.5\n", "", 0)
    assert sorted(os.listdir(workdir)) == ["bin", "py.rc", "rc", "stored.mock", "tmp"]  # nothing recorded here
    assert os.listdir(workdir / "tmp") == []


def test_dotted_intercepts_of_the_programs_own_modules(workdir):
    """sitecustomize runs before the program's directory is on sys.path: such names are patched once
    the program imports their module, record and replay alike."""
    (workdir / "app").mkdir()
    (workdir / "app" / "__init__.py").write_text("")
    (workdir / "app" / "client.py").write_text(
        "import os\nclass Client:\n    def fetch(self, key):\n        return key + '-' + os.environ['SERIAL']\n")
    (workdir / "app" / "util.py").write_text("def shout(text):\n    return text.upper()\n")
    (workdir / "sut.py").write_text("from app.client import Client\nimport app.util\n"
                                    "print(Client().fetch('a'), app.util.shout('b'))\n")
    (workdir / "py.rc").write_text("[python]\nintercepts = app.client.Client.fetch, app.util, app.util.shout\n")
    record = capturemock_cmd("-m", "1", "-r", "app.mock", "-R", "py.rc", sys.executable, "sut.py", cwd=workdir,
                             path="/usr/bin:/bin", extra_env={"SERIAL": "1"})
    assert (record.stdout, record.stderr) == ("a-1 B\n", "")
    recorded = (workdir / "app.mock").read_text()
    assert recorded.startswith("<-PYT:import app.util\n")  # a module proxy, not a real import
    assert recorded.endswith("<-PYT:app.client.Client.fetch('a')\n->RET:'a-1'\n<-PYT:app.util.shout('b')\n"
                             "->RET:'B'\n")
    replay = capturemock_cmd("-p", "app.mock", "-R", "py.rc", sys.executable, "sut.py", cwd=workdir,
                             path="/usr/bin:/bin", extra_env={"SERIAL": "2"})
    assert (replay.stdout, replay.stderr) == ("a-1 B\n", "")


@pytest.mark.parametrize("argv", [
    ["true"], ["-m", "1", "true"], ["-m1", "true"], ["--mode=1", "true"], ["--mode", "1", "true", "-m", "2"],
    ["-R", "a,b", "-r", "x.mock", "-p", "y.mock", "sh", "-c", "echo hi"], ["-P", "5", "true"], ["-P5", "true"],
    ["--port=5", "true"], ["--mode=", "true"], ["-r", "a", "-r", "b", "prog", "--help"], ["-Rrc", "-ra=b", "p"],
    ["-f", "d", "-F", "e", "--replay-file-edits", "g", "--record-file-edits=h", "p"],
    ["--rcfiles=rc", "--record=r", "--replay=s", "p", "-x"], ["-P", "٥", "true"], ["--port=05", "t"],
    ["-m=1", "true"], ["--mod=1", "true"], ["-P", "x", "true"], ["-P", "²", "true"], ["-P", "-1", "true"],
    ["-r", "-x", "true"], ["--", "true"], ["-", "true"], ["-m"], [], ["-r", "x"], ["--recipe"], ["-x", "true"],
])
def test_the_hand_parser_reads_every_command_line_as_argparse_does(argv, capsys):
    """The run's options are parsed by hand (argparse is ~9 ms of every command): the same values, and
    for anything else (abbreviations, mistakes, help) argparse's own answer."""
    from capturemock import cli

    def parse(parser):
        try:
            return vars(parser(list(argv)))
        except SystemExit as stop:
            return stop.code, capsys.readouterr()

    assert parse(cli.parse_args) == parse(lambda args: cli.Options(**vars(cli.build_parser().parse_args(args))))
