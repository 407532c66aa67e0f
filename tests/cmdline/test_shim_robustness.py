"""Shims behaving like the program they stand for at the edges: a reader that went away (SIGPIPE),
replayed deaths by signal, hand-edited exit statuses, a garbled answer, a deleted working directory.
Every test runs with the native and the Python fallback shim (the ``sut`` fixture or ``shim_kind``)."""
from __future__ import annotations

import signal
import socket
import subprocess
import threading

import pytest

import capturemock
from capturemock.cmdline import shim, shims

RC = "[command line]\nintercepts = tool\n"
PRODUCERS = {"endless": "exec yes\n", "finite": "exec seq 1 1000000\n"}


def read_one_line_and_go_away(sut, stream: str) -> int:
    """Run ``tool`` with ``stream`` on a pipe that is closed after one line, as ``tool | head -1`` does;
    its exit status (negative: killed by that signal)."""
    pipes = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, stream: subprocess.PIPE}
    process = subprocess.Popen(["tool"], env=sut.env, cwd=sut.root, **pipes)
    reader = getattr(process, stream)
    assert reader.readline()
    reader.close()
    return process.wait(30)


@pytest.mark.parametrize("stream", ["stdout", "stderr"])
@pytest.mark.parametrize("producer", PRODUCERS)
def test_program_whose_reader_went_away_dies_by_sigpipe_when_recorded_and_replayed(sut, producer, stream):
    redirect = " >&2" if stream == "stderr" else ""
    sut.program("tool", PRODUCERS[producer].replace("\n", redirect + "\n"))
    assert sut.start(capturemock.RECORD, rc=sut.rc(RC))
    assert read_one_line_and_go_away(sut, stream) == -signal.SIGPIPE
    capturemock.terminate()
    recorded = sut.text("rec.mock")
    assert recorded.startswith("<-CMD:tool\n->" + ("ERR:" if stream == "stderr" else "OUT:"))
    assert recorded.endswith("\n->EXC:-13\n")

    (sut.root / "rec.mock").rename(sut.root / "stored.mock")
    assert sut.start(capturemock.REPLAY, rc=sut.rc(RC), replay="stored.mock", real_programs=False)
    assert read_one_line_and_go_away(sut, stream) == -signal.SIGPIPE


@pytest.mark.parametrize("status, returncode", [("-9", -signal.SIGKILL), ("-13", -signal.SIGPIPE),
                                                ("-64", -64), ("255", 255), (" 7 ", 7)])
def test_replayed_status_is_reproduced_even_for_signals_that_cannot_be_handled(sut, status, returncode):
    sut.write("stored.mock", f"<-CMD:tool\n->OUT:out\n->EXC:{status}\n")
    assert sut.start(capturemock.REPLAY, rc=sut.rc(RC), replay="stored.mock", real_programs=False)
    result = sut.run("tool", env={**sut.env, "CAPTUREMOCK_SHIM_TIMEOUT": "0.2"})  # -9: no SIGKILL comes
    capturemock.terminate()
    assert (result.returncode, result.stdout, result.stderr) == (returncode, "out\n", "")


@pytest.mark.parametrize("status", ["abc", "", "99999999999999999999", "-999", "256", "-0x9",
                                    "-19", "-20", "-21", "-22", "-17", "-28"])
def test_hand_edited_exit_status_that_no_program_can_have_is_a_clean_error(sut, status):
    sut.write("stored.mock", f"<-CMD:tool ok\n->OUT:fine\n<-CMD:tool bad\n->OUT:never\n->EXC:{status}\n")
    assert sut.start(capturemock.REPLAY, rc=sut.rc(RC), replay="stored.mock", real_programs=False)
    bad = sut.run("tool", "bad")
    good = sut.run("tool", "ok")
    capturemock.terminate()
    assert (bad.returncode, bad.stdout) == (1, "")
    assert bad.stderr == (f"{sut.root / 'stored.mock'}:5: '->EXC:{status}' is not an exit status "
                          "(0 to 255, or minus a signal that ends a process)\n")
    assert (good.returncode, good.stdout) == (0, "fine\n")
    assert sut.text("rec.mock") == "<-CMD:tool ok\n->OUT:fine\n"


def test_shim_in_a_deleted_working_directory_says_so_in_one_line(sut):
    sut.write("stored.mock", "<-CMD:tool b\n")
    assert sut.start(capturemock.REPLAY, rc=sut.rc(RC), replay="stored.mock", real_programs=False)
    result = sut.run("sh", "-c", "mkdir gone && cd gone && rmdir ../gone && tool b")
    capturemock.terminate()
    assert (result.returncode, result.stderr) == (1, "CaptureMock shim for 'tool': cannot determine the current "
                                                     "directory\n")


@pytest.mark.parametrize("payload", [b"99999999999999999999", b"-99999999999999999999", b"-999", b"300",
                                     b"abc", b"", b"12x"])
def test_shim_refuses_a_garbled_exit_status_from_the_server(tmp_path, shim_kind, payload):
    """Not what our server sends (it validates, above); the shim must still not overflow or trace back."""
    tool = shims.install_shims(["tool"], str(tmp_path), shims.native_shim() if shim_kind == "native" else None)[0]
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        answering = threading.Thread(target=answer_once, args=(server, shim.encode_frame(shim.EXIT, payload)))
        answering.start()
        host, port = server.getsockname()
        result = subprocess.run([tool], env={"CAPTUREMOCK_SERVER": f"{host}:{port}", "PATH": "/usr/bin:/bin"},
                                capture_output=True, text=True, timeout=30)
        answering.join(30)
    assert (result.returncode, result.stderr) == (1, "CaptureMock shim for 'tool': the CaptureMock server sent "
                                                     "an invalid exit status\n")


def answer_once(server: socket.socket, answer: bytes) -> None:
    """A stand-in traffic server: read one whole shim request, send ``answer``."""
    conn, _ = server.accept()
    with conn:
        assert shim.read_exact(conn, len(shim.MAGIC)) == shim.MAGIC
        for _ in range(shim.read_u32(conn)):
            shim.read_exact(conn, shim.read_u32(conn))
        conn.sendall(answer)


def test_a_hung_server_gives_one_line_instead_of_a_wait_for_ever(tmp_path, shim_kind):
    """A server that takes the request and never answers (CAPTUREMOCK_SHIM_TIMEOUT, default 600 s)."""
    tool = shims.install_shims(["tool"], str(tmp_path), shims.native_shim() if shim_kind == "native" else None)[0]
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        host, port = server.getsockname()
        env = {"CAPTUREMOCK_SERVER": f"{host}:{port}", "CAPTUREMOCK_SHIM_TIMEOUT": "0.5", "PATH": "/usr/bin:/bin"}
        result = subprocess.run([tool], env=env, capture_output=True, text=True, timeout=30)
    assert (result.returncode, result.stderr) == (1, "CaptureMock shim for 'tool': no answer from the CaptureMock "
                                                     "server within 0.5 s\n")


@pytest.mark.parametrize("exact, seen, mock", [
    ("", ("no newline\n|\n", "err\n"), "<-CMD:tool\n->OUT:no newline\n->ERR:err\n"),  # §4.3, as 2.10
    ("exact_output = true\n", ("no newline|\n", "err"),
     "<-CMD:tool\n->OUT:no newline\n|capturemock|no newline at end\n->ERR:err\n|capturemock|no newline at end\n"),
])
def test_output_without_a_final_newline_reaches_the_sut_alike_in_record_and_replay(sut, exact, seen, mock):
    """By default 2.10's way: a newline is added in replay, so the recording run forwards one too. With
    ``exact_output`` none is added, neither while recording nor on replay: the mock says it has none."""
    sut.program("tool", "printf 'no newline'\nprintf 'err' >&2\n")
    assert sut.start(capturemock.RECORD, rc=sut.rc(RC + exact))
    recorded = sut.run("sh", "-c", "tool; echo '|'")
    capturemock.terminate()
    (sut.root / "rec.mock").rename(sut.root / "stored.mock")
    assert sut.start(capturemock.REPLAY, rc=sut.rc(RC + exact), replay="stored.mock", real_programs=False)
    replayed = sut.run("sh", "-c", "tool; echo '|'")
    capturemock.terminate()
    assert (recorded.stdout, recorded.stderr) == (replayed.stdout, replayed.stderr) == seen
    assert sut.text("rec.mock") == sut.text("stored.mock") == mock


def test_output_recorded_by_the_original_without_its_final_newline_replays_with_one(sut):
    """2.10 recorded such output with a newline added, and its mock cannot say otherwise (§12.16)."""
    sut.write("stored.mock", "<-CMD:tool\n->OUT:no newline\n->ERR:err\n")
    assert sut.start(capturemock.REPLAY, rc=sut.rc(RC), replay="stored.mock", real_programs=False)
    replayed = sut.run("sh", "-c", "tool; echo '|'")
    capturemock.terminate()
    assert (replayed.stdout, replayed.stderr) == ("no newline\n|\n", "err\n")
    assert sut.text("rec.mock") == sut.text("stored.mock")


@pytest.mark.parametrize("value", ["inf", "1e20", "nan", "-1", "soon"])
def test_an_odd_shim_timeout_setting_neither_overflows_nor_stops_the_answer(sut, value):
    sut.write("stored.mock", "<-CMD:tool\n->OUT:answered\n")
    assert sut.start(capturemock.REPLAY, rc=sut.rc(RC), replay="stored.mock", real_programs=False)
    result = sut.run("tool", env={**sut.env, "CAPTUREMOCK_SHIM_TIMEOUT": value})
    capturemock.terminate()
    assert (result.returncode, result.stdout, result.stderr) == (0, "answered\n", "")
