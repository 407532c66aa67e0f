"""Stopping with a background command still running, special files where edits are scanned, and
user errors found at start-up instead of on every request (§4.5, §7.1, §7.6, spec README §3)."""
from __future__ import annotations

import os
import signal
import socket
import threading
import time
from pathlib import Path

import pytest

import capturemock
from capturemock import launcher, server
from capturemock.cmdline import settings
from capturemock.cmdline.fileedits import Edit, EditStore, Snapshot
from capturemock.config import RcConfig
from capturemock.errors import CaptureMockError, ConfigError
from capturemock.server import ArrivalOrder, TrafficServer

pytestmark = pytest.mark.skipif(os.name == "nt", reason="FIFOs, sockets and shell stand-ins are POSIX here")

RC = """\
[command line]
intercepts = daemon, tool
"""


# --- shutting down with a request still in flight ------------------------------------------------

def test_shutdown_writes_completed_requests_after_an_unfinished_one_and_nothing_later():
    written: list[str] = []
    order = ArrivalOrder(written.append)
    daemon, tool = order.ticket(), order.ticket()
    order.record(daemon, "<-CMD:daemon\n")
    order.record(tool, "<-CMD:tool x\n->OUT:x\n")
    order.finish(tool)
    order.flush_all()
    order.record(daemon, "->OUT:daemon up\n")  # too late: it would read as the answer of ``tool x``
    order.finish(daemon)
    assert written == ["<-CMD:daemon\n", "<-CMD:tool x\n->OUT:x\n"]


def test_stop_gives_requests_in_flight_a_short_grace_well_within_the_launchers_kill_timeout():
    assert server.STOP_GRACE * 5 <= launcher._STOP_TIMEOUT


def test_stop_does_not_wait_long_for_a_request_that_never_ends(monkeypatch):
    monkeypatch.setattr(server, "STOP_GRACE", 0.3)
    written: list[str] = []

    def handle(conn, record) -> None:
        name = conn.recv(64).decode()
        record(f"<-CMD:{name}\n")
        if name == "daemon":
            conn.recv(64)  # its client never sends more
        record(f"->OUT:{name} done\n")

    traffic = TrafficServer("token")
    serving = threading.Thread(target=traffic.serve, args=(handle, ArrivalOrder(written.append)))
    serving.start()
    host, port = traffic.address.split(":")
    stuck = socket.create_connection((host, int(port)))
    try:
        stuck.sendall(b"daemon")
        deadline = time.monotonic() + 10
        while not written and time.monotonic() < deadline:  # its request is in: it comes first (§4.5)
            time.sleep(0.01)
        with socket.create_connection((host, int(port))) as later:
            later.sendall(b"tool")
            later.shutdown(socket.SHUT_WR)
            later.recv(10)  # closed by the server once handled
        start = time.monotonic()
        traffic.stop()
        serving.join(10)
        assert time.monotonic() - start < 2
    finally:
        stuck.close()
    assert written == ["<-CMD:daemon\n", "<-CMD:tool\n", "->OUT:tool done\n"]


def test_a_background_command_left_running_neither_blocks_terminate_nor_loses_later_commands(sut):
    sut.program("daemon", "echo $$ > daemon.pid; echo daemon up; exec sleep 60\n")
    sut.program("tool", "echo tool $1\n")
    assert sut.start(capturemock.RECORD, rc=sut.rc(RC))
    try:
        result = sut.run("sh", "-c", "daemon >/dev/null 2>&1 & sleep 0.3; tool x; echo sut-done")
        assert result.stdout == "tool x\nsut-done\n"
        start = time.monotonic()
        capturemock.terminate()
        assert time.monotonic() - start < 10  # the launcher's kill timeout is 30 s
    finally:
        os.kill(int(sut.text("daemon.pid")), signal.SIGTERM)
    assert sut.text("rec.mock") == "<-CMD:daemon\n<-CMD:tool x\n->OUT:tool x\n"


# --- special files where edits are scanned ---------------------------------------------------------

def test_scan_leaves_out_fifos_and_sockets(tmp_path):
    snapshot = Snapshot.take([str(tmp_path)])
    os.mkfifo(tmp_path / "pipe")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(tmp_path / "sock"))
        (tmp_path / "file").write_text("x")
        assert snapshot.changes() == [Edit(str(tmp_path), (str(tmp_path / "file"),))]
    assert Snapshot.take([str(tmp_path / "pipe")]).states == {str(tmp_path / "pipe"): {}}


def test_what_cannot_be_stored_is_a_warning_and_the_rest_is_stored(tmp_path, capsys):
    edited = tmp_path / "edited"
    edited.mkdir()
    (edited / "kept").write_text("kept")
    os.mkfifo(edited / "became_a_pipe")  # a file at scan time, a FIFO when copied
    store = EditStore(str(tmp_path / "store"))
    edit = Edit(str(edited), (str(edited / "became_a_pipe"), str(edited / "gone"), str(edited / "kept")))
    assert store.save(edit) == "edited"
    assert (tmp_path / "store" / "edited" / "kept").read_text() == "kept"
    assert capsys.readouterr().err == (f"WARNING: CaptureMock could not store the edit of "
                                       f"{edited / 'became_a_pipe'}: `{edited / 'became_a_pipe'}` is a named pipe\n")


def test_store_never_removes_a_user_file_in_its_way(tmp_path):
    (tmp_path / "notadir").write_text("mine")
    (tmp_path / "out").write_text("new")
    warnings: list[str] = []
    store = EditStore(str(tmp_path / "notadir" / "sub"))
    store.warn = warnings.append
    assert store.save(Edit(str(tmp_path / "out"), (str(tmp_path / "out"),))) == "out"
    assert (tmp_path / "notadir").read_text() == "mine"
    assert len(warnings) == 1 and warnings[0].startswith("WARNING: CaptureMock could not store the edit of ")


def test_recording_a_program_that_makes_a_fifo_loses_nothing(sut):
    sut.program("tool", 'mkfifo "$1/pipe"; echo ok\n')
    (sut.root / "watched").mkdir()
    assert sut.start(capturemock.RECORD, rc=sut.rc(RC), recordEditDir=str(sut.root / "edits"))
    result = sut.run("tool", str(sut.root / "watched"))
    assert (result.stdout, result.stderr, result.returncode) == ("ok\n", "", 0)
    capturemock.terminate()
    assert sut.text("rec.mock") == f"<-CMD:tool {sut.root / 'watched'}\n->OUT:ok\n"


# --- user errors found at start-up -----------------------------------------------------------------

def start_error(sut, rc_text: str = RC, **kwargs) -> str:
    with pytest.raises(CaptureMockError) as caught:
        sut.start(capturemock.RECORD, rc=sut.rc(rc_text), **kwargs)
    message = str(caught.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize("rc_text, line", [
    (RC + "asynchronous = perhaps\n", 3),
    (RC + "[tool]\nenvironment = A\nasynchronous = perhaps\n", 5),
])
def test_a_bad_setting_read_per_command_stops_the_start_naming_file_and_line(sut, rc_text, line):
    message = start_error(sut, rc_text)
    assert message == (f"the CaptureMock server did not start: {sut.root / 'capturemockrc'}:{line}: "
                       "asynchronous = 'perhaps' is not a boolean (use true/false)")


def test_a_directory_as_record_file_stops_the_start(sut):
    (sut.root / "rec.mock").mkdir()
    assert start_error(sut).endswith(f"cannot record to {sut.root / 'rec.mock'}: it is a directory")


def test_a_file_where_the_edit_store_needs_a_directory_stops_the_start_and_is_kept(sut):
    (sut.root / "notadir").write_text("mine")
    message = start_error(sut, recordEditDir=str(sut.root / "notadir" / "sub"))
    assert message.endswith(f"cannot store file edits in {sut.root / 'notadir' / 'sub'}: "
                            f"{sut.root / 'notadir'} is not a directory")
    assert (sut.root / "notadir").read_text() == "mine"


def test_check_names_the_last_file_setting_the_value(tmp_path: Path):
    first, second = tmp_path / "a.rc", tmp_path / "b.rc"
    first.write_text("[command line]\nintercepts = tool\n")
    second.write_text("[general]\nx = 1\n\n[tool]\n# asynchronous = yes\nAsynchronous: sometimes\n")
    with pytest.raises(ConfigError) as caught:
        settings.check(RcConfig([str(first), str(second)]))
    assert str(caught.value) == f"{second}:6: asynchronous = 'sometimes' is not a boolean (use true/false)"
    settings.check(RcConfig([str(first)]))  # good settings pass
