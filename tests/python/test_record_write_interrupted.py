"""The record file's write(2), replaying or recording, interrupted by a signal or cut short by one, with
either core: the handler runs (PEP 475) and the whole item still reaches the record file, in order, after
what was there."""
from __future__ import annotations

import contextlib
import fcntl
import os
import select
import signal
import threading
import time
from pathlib import Path

import pytest

from capturemock.mockfile import MockWriter
from tests.python.test_python_calls_in_c import mock_text, replaying
from tests.python.test_recorded_calls_in_c import recording

LONG_ANSWER = "x" * 300_000  # several pipe-fulls: the write blocks many times while it goes out


@contextlib.contextmanager
def into_a_full_pipe(path: Path):
    """The descriptors this process has open on ``path`` put on the write end of a pipe that is full: the next
    write(2) blocks until ``drain`` starts reading. Yields (the bytes put in to fill it, drain), where
    ``drain(count)`` reads ``count`` bytes slowly in a thread that never takes the signals."""
    read_end, write_end = os.pipe()
    fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, 4096)
    os.set_blocking(write_end, False)
    filler = b""
    with contextlib.suppress(BlockingIOError):
        while True:
            filler += b"f" * os.write(write_end, b"f" * 512)
    os.set_blocking(write_end, True)
    for fd in map(int, os.listdir("/proc/self/fd")):
        with contextlib.suppress(OSError):
            if os.readlink(f"/proc/self/fd/{fd}") == str(path):
                os.dup2(write_end, fd)
    received: list[bytes] = []

    def read_slowly(count: int) -> None:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        time.sleep(0.1)  # several signals arrive while the write has written nothing: EINTR
        while count > 0 and select.select([read_end], [], [], 5)[0]:  # gives up if the writer stopped
            chunk = os.read(read_end, min(count, 4096))
            received.append(chunk)
            count -= len(chunk)
            time.sleep(0.001)  # and more while it has written part of its bytes: a short write

    reader: list[threading.Thread] = []

    def drain(count: int) -> None:
        reader.append(threading.Thread(target=read_slowly, args=(count,)))
        reader[0].start()

    try:
        yield filler, drain, received
    finally:
        for thread in reader:
            thread.join()
        os.close(read_end)
        os.close(write_end)


@contextlib.contextmanager
def signals_every(seconds: float):
    """SIGALRM every ``seconds`` (a handler that counts them, installed as Python does: no SA_RESTART)."""
    caught: list[int] = []
    previous = signal.signal(signal.SIGALRM, lambda number, frame: caught.append(number))
    signal.setitimer(signal.ITIMER_REAL, seconds, seconds)
    try:
        yield caught
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def noting_finish(monkeypatch) -> list[int]:
    """The bytes already written each time a write came back short and the writer completed it."""
    finished: list[int] = []
    plain_finish = MockWriter._finish

    def noted_finish(self, fd, data, written):
        finished.append(written)
        return plain_finish(self, fd, data, written)

    monkeypatch.setattr(MockWriter, "_finish", noted_finish)
    return finished


def calls_f2_into_a_full_pipe_under_signals(calc, record: Path) -> None:
    """``calc.f(1)`` (answering 0), then ``calc.f(2)``, answering LONG_ANSWER, with the record file on a full
    pipe drained slowly and SIGALRM every 5 ms: its item reaches the pipe whole, after what filled it, and
    signals came meanwhile. Both from this frame: a recorded call's first caller is classified in Python."""
    assert calc.f(1) == 0
    item = f"<-PYT:calc.f(2)\n->RET:{LONG_ANSWER!r}\n".encode()
    with into_a_full_pipe(record) as (filler, drain, received):
        drain(len(filler) + len(item))
        with signals_every(0.005) as caught:
            assert calc.f(2) == LONG_ANSWER
    assert b"".join(received) == filler + item
    assert len(caught) > 10


@pytest.mark.usefixtures("replay_core")
def test_an_interrupted_or_short_transcript_write_still_writes_the_whole_item(tmp_path, replay_core, monkeypatch):
    calls = [(False, (1,), {}), (False, (2,), {})]
    text = mock_text(calls).replace("->RET:'v1é'", f"->RET:{LONG_ANSWER!r}")
    finished = noting_finish(monkeypatch)
    with replaying(tmp_path, text, replay_core) as (calc, reached_python):
        calls_f2_into_a_full_pipe_under_signals(calc, tmp_path / "record.mock")
    assert finished, "no write was cut short by a signal: the test did not reach the path it is about"
    assert reached_python == ([] if replay_core == "c" else ["calc.f", "calc.f"])


@pytest.mark.usefixtures("replay_core")
def test_an_interrupted_or_short_write_of_a_recorded_call_still_writes_the_whole_item(tmp_path, replay_core,
                                                                                    monkeypatch):
    finished = noting_finish(monkeypatch)
    with recording(tmp_path, replay_core) as (calc, calcdata, reached_python):
        calcdata.RESULTS[:] = [0, LONG_ANSWER]
        calls_f2_into_a_full_pipe_under_signals(calc, tmp_path / "record.mock")
    assert finished, "no write was cut short by a signal: the test did not reach the path it is about"
    # the first call classifies its caller in Python (test_recorded_calls_in_c): the second is C's
    assert reached_python == (["calc.f"] if replay_core == "c" else ["calc.f", "calc.f"])
