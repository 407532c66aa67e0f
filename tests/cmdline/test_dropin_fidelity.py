"""Drop-in fidelity with CaptureMock 2.10 where a SUT can tell the difference (issue 12, items 6-9):
killed commands, the order of output of commands running at once, asynchronous edits and the order of
``->FIL:`` items. Each expectation was measured with the original as a black box."""
from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

import capturemock

EDIT_RC = "[command line]\nintercepts = editor\nenvironment = OUTFILE\n"


def test_edits_named_in_arguments_come_first_and_later_arguments_before_earlier(sut):
    """2.10 lists a command's edited paths last-named first: arguments before environment values, and
    of two edited ``out`` paths the later argument is ``out``, the earlier ``out.edit_2``, also on replay."""
    sut.program("editor", 'echo env > "$OUTFILE"\nfor f in "$@"; do echo "for $f" > "$f"; done\n')
    for name in ("a", "b", "e"):
        (sut.root / name).mkdir()
    first, second, env_file = (str(sut.root / path) for path in ("a/out", "b/out", "e/envfile"))
    rc = sut.rc(EDIT_RC)
    assert sut.start(capturemock.RECORD, rc=rc, recordEditDir=str(sut.root / "edits"))
    sut.run("editor", first, second, env={**sut.env, "OUTFILE": env_file})
    capturemock.terminate()
    assert sut.text("rec.mock") == (f"<-CMD:env 'OUTFILE={env_file}' editor {first} {second}\n"
                                    "->FIL:out\n->FIL:out.edit_2\n->FIL:envfile\n")
    assert sut.text("edits/out") == f"for {second}\n"

    (sut.root / "rec.mock").rename(sut.root / "stored.mock")
    for path in (first, second, env_file):
        open(path, "w").close()
    assert sut.start(capturemock.REPLAY, rc=rc, replay="stored.mock", real_programs=False,
                     replayEditDir=str(sut.root / "edits"))
    sut.run("editor", first, second, env={**sut.env, "OUTFILE": env_file})
    capturemock.terminate()
    assert [sut.text(path) for path in ("a/out", "b/out", "e/envfile")] == [f"for {first}\n", f"for {second}\n",
                                                                           "env\n"]
    assert sut.text("rec.mock") == sut.text("stored.mock")


def test_asynchronous_edit_recorded_after_a_later_command_is_restored_where_the_edit_was_made(sut):
    """A background job's edit is recorded with whichever command came next (§7.7); on replay 2.10
    restores it, during that command, onto the asynchronous command's path."""
    stored = ("<-CMD:daemon d\n->OUT:started\n<-CMD:check one\n->OUT:checked\n->FIL:d\n"
              "<-CMD:check two\n->OUT:checked\n")
    sut.replay_async_edit(stored)
    result = sut.run("sh", "-c", "daemon d && check one && cat d/late.txt && check two")
    capturemock.terminate()
    assert result.stdout == "started\nchecked\nlater\nchecked\n"
    assert sut.text("rec.mock") == stored


def test_recorded_output_reaches_the_sut_when_the_command_completes(sut):
    """2.10 hands a recorded command's output over when it completes, as replay does: a SUT printing
    while the command runs prints before it, and stdout comes before stderr even on one file."""
    sut.program("slow", 'echo "slow start"\necho "slow complaint" >&2\nsleep 0.6\necho "slow end"\n')
    assert sut.start(capturemock.RECORD, rc=sut.rc("[command line]\nintercepts = slow\n"))
    result = sut.run("sh", "-c", 'slow 2>&1 & sleep 0.3; echo "sut: between"; wait; echo "sut: end"')
    capturemock.terminate()
    assert result.stdout == "sut: between\nslow start\nslow end\nslow complaint\nsut: end\n"
    assert sut.text("rec.mock") == "<-CMD:slow\n->OUT:slow start\nslow end\n->ERR:slow complaint\n"


def test_output_of_a_command_still_running_is_streamed_after_a_while(sut):
    """Unlike 2.10, a SUT waiting for a line of a long-running command (a server's "ready") gets it."""
    sut.program("server", "echo ready\nexec sleep 30\n")
    assert sut.start(capturemock.RECORD, rc=sut.rc("[command line]\nintercepts = server\n"))
    process = subprocess.Popen(["server"], env=sut.env, cwd=sut.root, stdout=subprocess.PIPE, text=True)
    started = time.monotonic()
    assert process.stdout.readline() == "ready\n"
    assert time.monotonic() - started < 10
    process.terminate()
    assert process.wait(10) == -signal.SIGTERM
    capturemock.terminate()
    assert sut.text("rec.mock") == "<-CMD:server\n->OUT:ready\n->EXC:-15\n"


def test_program_writing_to_a_reader_that_went_away_dies_by_sigpipe_although_output_is_held(sut):
    sut.program("tool", "sleep 0.3\necho one\necho two\n")
    assert sut.start(capturemock.RECORD, rc=sut.rc("[command line]\nintercepts = tool\n"))
    process = subprocess.Popen(["tool"], env=sut.env, cwd=sut.root, stdout=subprocess.PIPE)
    process.stdout.close()
    assert process.wait(10) == -signal.SIGPIPE
    capturemock.terminate()
    assert sut.text("rec.mock").endswith("->EXC:-13\n")


def test_replayed_command_recorded_as_killed_runs_until_the_sut_sends_the_signal(sut):
    """2.10's replayed shim waits for the signal too: the SUT finds the command still running, as it
    did while recording, and it dies by the signal the SUT sends."""
    sut.program("tool", "echo started\nexec sleep 30\n")
    rc = sut.rc("[command line]\nintercepts = tool\n")
    assert sut.start(capturemock.RECORD, rc=rc)
    assert start_and_stop(sut, signal.SIGTERM) == -signal.SIGTERM
    capturemock.terminate()
    assert sut.text("rec.mock") == "<-CMD:tool\n->OUT:started\n->EXC:-15\n"

    (sut.root / "rec.mock").rename(sut.root / "stored.mock")
    assert sut.start(capturemock.REPLAY, rc=rc, replay="stored.mock", real_programs=False)
    assert start_and_stop(sut, signal.SIGINT) == -signal.SIGINT
    capturemock.terminate()
    assert sut.text("rec.mock") == sut.text("stored.mock")


def start_and_stop(sut, signum: int) -> int:
    """Start ``tool``, read its first line, check it is still running a while later, then signal it."""
    process = subprocess.Popen(["tool"], env=sut.env, cwd=sut.root, stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline() == "started\n"
    time.sleep(0.3)
    assert process.poll() is None
    process.send_signal(signum)
    assert process.stdout.read() == ""
    return process.wait(10)


@pytest.mark.parametrize("status", ["-15", "-9"])
def test_replayed_kill_that_never_comes_ends_after_the_shim_timeout(sut, status):
    sut.write("stored.mock", f"<-CMD:tool\n->OUT:out\n->EXC:{status}\n")
    assert sut.start(capturemock.REPLAY, rc=sut.rc("[command line]\nintercepts = tool\n"), replay="stored.mock",
                     real_programs=False)
    started = time.monotonic()
    result = sut.run("tool", env={**sut.env, "CAPTUREMOCK_SHIM_TIMEOUT": "0.5"})
    assert 0.5 <= time.monotonic() - started < 10
    assert (result.stdout, result.returncode) == ("out\n", int(status))


@pytest.mark.parametrize("signum", [signal.SIGSEGV, signal.SIGABRT, signal.SIGPIPE, signal.SIGALRM])
def test_replayed_death_a_program_causes_itself_comes_at_once(sut, signum):
    sut.write("stored.mock", f"<-CMD:tool\n->OUT:out\n->EXC:-{signum}\n")
    assert sut.start(capturemock.REPLAY, rc=sut.rc("[command line]\nintercepts = tool\n"), replay="stored.mock",
                     real_programs=False)
    started = time.monotonic()
    result = sut.run("tool")
    assert time.monotonic() - started < 5  # the shim timeout is 600 s
    assert (result.stdout, result.returncode) == ("out\n", -signum)


def test_replayed_kill_ends_when_the_sut_has_gone(sut):
    """A shim waiting for a signal from a SUT that has exited would wait for nothing."""
    sut.write("stored.mock", "<-CMD:tool\n->EXC:-15\n")
    assert sut.start(capturemock.REPLAY, rc=sut.rc("[command line]\nintercepts = tool\n"), replay="stored.mock",
                     real_programs=False)
    pid = int(sut.run("sh", "-c", "tool >/dev/null 2>&1 & echo $!; sleep 0.3").stdout)
    deadline = time.monotonic() + 5
    while process_exists(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not process_exists(pid)


def process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as handle:  # reaped by init soon, but a zombie is gone already
        return handle.read().split(") ")[1][0] != "Z"
