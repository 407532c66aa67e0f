"""Issue 13 on the command line, through the traffic server and real shims: ``sealed``,
``on_best_match`` and ``report_unused``; defaults stay 2.10's."""
from __future__ import annotations

import capturemock

STORED = "<-CMD:git log\n->OUT:commit abc\n<-CMD:ls /tmp\n->OUT:a b\n<-CMD:date\n->OUT:Monday\n"


def start(sut, general: str, stderr: list[str]) -> None:
    sut.write("stored.mock", STORED)
    rc = sut.rc(f"[command line]\nintercepts = git, ls, whoami, date\n\n[general]\n{general}\n")
    assert sut.start(capturemock.REPLAY, rc=rc, replay="stored.mock", real_programs=False, stderrFn=stderr.append)


def test_default_best_match_stays_silent(sut) -> None:
    stderr: list[str] = []
    start(sut, "", stderr)
    done = sut.run("git", "status", "--short")
    assert (done.returncode, done.stdout, done.stderr) == (0, "commit abc\n", "")
    capturemock.terminate()
    assert stderr == []


def test_warn_and_unused_are_printed_by_the_server_at_terminate(sut) -> None:
    stderr: list[str] = []
    start(sut, "on_best_match = warn\nreport_unused = true", stderr)
    assert sut.run("git", "status", "--short").stdout == "commit abc\n"
    assert sut.run("ls", "-la", "/nonexistent").returncode == 0
    capturemock.terminate()
    mock = sut.root / "stored.mock"
    assert stderr == [
        "Error from CaptureMock Server :\n"
        f"capturemock: best match: '<-CMD:git status --short' was answered by {mock}:1: <-CMD:git log\n"
        f"capturemock: best match: '<-CMD:ls -la /nonexistent' was answered by {mock}:3: <-CMD:ls /tmp\n"
        f"capturemock: unused: {mock}:5: <-CMD:date was recorded but never replayed\n"]


def test_on_best_match_error_fails_the_command_naming_the_closest(sut) -> None:
    stderr: list[str] = []
    start(sut, "on_best_match = error", stderr)
    done = sut.run("ls", "-la", "/nonexistent")
    mock = sut.root / "stored.mock"
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        "Replayed calls do not match those recorded.\n"
        f"'<-CMD:ls -la /nonexistent' is not recorded in {mock} and [general] on_best_match = error forbids "
        "answering it with another request's answer\n"
        "closest recorded requests:\n"
        f"  {mock}:3: <-CMD:ls /tmp\n"
        "    <-CMD:ls{+ -la+} /[-tmp-]{+nonexistent+}\n"
        f"  {mock}:1: <-CMD:git log\n"
        "    [-<-CMD:git-]{+<-CMD:ls+} [-log-]{+-la /nonexistent+}\n"
        f"  {mock}:5: <-CMD:date\n"
        "    [-<-CMD:date-]{+<-CMD:ls -la /nonexistent+}\n"
        "Either rerun with capturemock in record mode or update the stored mock file by hand.\n")


def test_sealed_shims_an_unmentioned_program_and_refuses_it(sut) -> None:
    stderr: list[str] = []
    start(sut, "sealed = true", stderr)
    done = sut.run("whoami")
    mock = sut.root / "stored.mock"
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (f"capturemock: sealed replay: 'whoami' is not recorded in {mock}, so it was not run "
                           "([general] sealed = true)\n")
    assert sut.run("date").stdout == "Monday\n"


def test_unsealed_runs_an_unmentioned_program_for_real(sut) -> None:
    stderr: list[str] = []
    start(sut, "", stderr)
    done = sut.run("whoami")
    assert done.returncode == 0 and done.stdout.strip() and "capturemock" not in done.stderr
