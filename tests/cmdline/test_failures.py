"""Things going wrong: mismatches, dead servers, missing tokens, signals, bad configuration."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time

import pytest

import capturemock
from capturemock.cmdline import shim

RC = """\
[command line]
intercepts = tool, other
"""
EXACT_RC = "[general]\nuse_exact_matching = True\n" + RC


def test_exact_mismatch_gives_three_lines_and_later_commands_still_recorded(sut):
    sut.write("stored.mock", "<-CMD:tool a\n->OUT:mock a\n<-CMD:tool b\n->OUT:mock b\n")
    assert sut.start(capturemock.REPLAY, rc=sut.rc(EXACT_RC), replay="stored.mock", real_programs=False)
    first = sut.run("tool", "a")
    wrong = sut.run("tool", "c")
    last = sut.run("tool", "b")
    capturemock.terminate()
    assert first.stdout == "mock a\n"
    assert (wrong.stdout, wrong.returncode) == ("", 1)
    assert wrong.stderr == ("Replayed calls do not match those recorded.\n"
                            "Could not find any replay request matching '<-CMD:tool c'\n"
                            "Either rerun with capturemock in record mode or update the stored mock file by hand.\n")
    assert last.stdout == "mock b\n"
    assert sut.text("rec.mock") == "<-CMD:tool a\n->OUT:mock a\n<-CMD:tool b\n->OUT:mock b\n"


def test_dead_server_gives_a_clear_error(sut):
    assert sut.start(capturemock.RECORD, rc=sut.rc(RC))
    capturemock.terminate()
    result = sut.run("tool", "x")
    assert result.returncode == 1
    assert result.stderr.startswith("CaptureMock shim for 'tool': cannot reach the CaptureMock server at '127.0.0.1:")
    assert "Traceback" not in result.stderr


def test_request_without_token_is_refused_and_runs_nothing(sut):
    sut.program("tool", "touch ran\n")
    assert sut.start(capturemock.RECORD, rc=sut.rc(RC))
    env = {k: v for k, v in sut.env.items() if k != "CAPTUREMOCK_TOKEN"}
    result = sut.run("tool", env=env)
    assert result.returncode == 1
    assert "refused a command request without this session's CAPTUREMOCK_TOKEN" in result.stderr
    assert not (sut.root / "ran").exists()
    host, port = sut.env["CAPTUREMOCK_SERVER"].split(":")
    with socket.create_connection((host, int(port))) as sock:  # nor does a stop without the token work
        sock.sendall(b"TERMINATE_SERVER:wrong")
        sock.shutdown(socket.SHUT_WR)
        assert b"refused to stop" in sock.recv(1000)
    assert sut.run("tool", "still", "served").returncode == 0
    capturemock.terminate()
    assert sut.text("rec.mock") == "<-CMD:tool still served\n"


def test_program_killed_by_a_signal_records_negative_exit_and_shim_dies_alike(sut):
    sut.program("tool", "echo going\nkill -TERM $$\n")
    rc = sut.rc(RC)
    assert sut.start(capturemock.RECORD, rc=rc)
    recorded = sut.run("tool")
    capturemock.terminate()
    assert (recorded.stdout, recorded.returncode) == ("going\n", -signal.SIGTERM)
    assert sut.text("rec.mock") == "<-CMD:tool\n->OUT:going\n->EXC:-15\n"

    (sut.root / "rec.mock").rename(sut.root / "stored.mock")
    assert sut.start(capturemock.REPLAY, rc=rc, replay="stored.mock", real_programs=False)
    # the replayed command waits for a SIGTERM (test_dropin_fidelity.py); none comes: a short shim timeout
    replayed = sut.run("tool", env={**sut.env, "CAPTUREMOCK_SHIM_TIMEOUT": "0.2"})
    capturemock.terminate()
    assert (replayed.stdout, replayed.returncode) == ("going\n", -signal.SIGTERM)


def test_signal_to_the_shim_is_relayed_to_the_real_program(sut):
    sut.program("tool", "echo started > started\nexec sleep 30\n")
    assert sut.start(capturemock.RECORD, rc=sut.rc(RC))
    process = subprocess.Popen(["tool"], env=sut.env, cwd=sut.root, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not (sut.root / "started").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    process.send_signal(signal.SIGINT)
    assert process.wait(10) == -signal.SIGINT
    capturemock.terminate()
    assert sut.text("rec.mock") == "<-CMD:tool\n->EXC:-2\n"


def test_malformed_request_is_answered_cleanly(sut):
    assert sut.start(capturemock.RECORD, rc=sut.rc(RC))
    host, port = sut.env["CAPTUREMOCK_SERVER"].split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(shim.MAGIC + b"\x00\x00\x00\x01garbage")
        sock.shutdown(socket.SHUT_WR)
        kind, payload = shim.read_frame(sock)
    assert kind == shim.STDERR and b"malformed command request" in payload
    capturemock.terminate()
    assert not (sut.root / "rec.mock").exists()


def test_bad_rc_file_is_one_clean_line(sut):
    rc = sut.rc("intercepts = tool\n")
    with pytest.raises(capturemock.ConfigError) as error:
        sut.start(capturemock.RECORD, rc=rc)
    assert str(error.value).startswith(f"{rc}:1: ")


def test_port_in_use_is_a_clean_error(sut):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        with pytest.raises(capturemock.CaptureMockError) as error:
            sut.start(capturemock.RECORD, rc=sut.rc(RC), port=taken.getsockname()[1])
    message = str(error.value)
    assert "cannot listen on 127.0.0.1:" in message and "Traceback" not in message


def test_twenty_parallel_shims_record_every_item_whole(sut):
    sut.program("tool", """\
        i=0
        while [ $i -lt 200 ]; do echo "line $i of $1"; i=$((i+1)); done
    """)
    assert sut.start(capturemock.RECORD, rc=sut.rc(RC))
    processes = [subprocess.Popen(["tool", f"job{n}"], env=sut.env, cwd=sut.root, stdout=subprocess.DEVNULL)
                 for n in range(20)]
    assert [p.wait(30) for p in processes] == [0] * 20
    capturemock.terminate()
    items = sut.text("rec.mock").split("<-CMD:")[1:]
    assert sorted(items) == sorted(
        f"tool job{n}\n->OUT:" + "".join(f"line {i} of job{n}\n" for i in range(200)) for n in range(20))


def test_terminate_waits_for_a_command_in_flight(sut):
    sut.program("tool", "sleep 0.5\necho late\n")
    assert sut.start(capturemock.RECORD, rc=sut.rc(RC))
    process = subprocess.Popen(["tool"], env=sut.env, cwd=sut.root, stdout=subprocess.PIPE, text=True)
    time.sleep(0.2)
    capturemock.terminate()
    assert process.communicate(timeout=10)[0] == "late\n"
    assert sut.text("rec.mock") == "<-CMD:tool\n->OUT:late\n"


def test_server_stops_when_its_launcher_goes_away(sut, tmp_path):
    assert sut.start(capturemock.RECORD, rc=sut.rc(RC))
    from capturemock import launcher

    process = launcher._manager.process
    process.stdin.close()  # what the launcher's death looks like to the server
    assert process.wait(10) == 0
    launcher._manager.process = None
    assert os.path.exists(tmp_path / "intercepts" / "tool")


def test_hand_edited_exit_status_that_is_no_number_is_a_clean_error(sut):
    sut.write("stored.mock", "<-CMD:tool ok\n->OUT:fine\n<-CMD:tool bad\n->EXC:oops\n")
    assert sut.start(capturemock.REPLAY, rc=sut.rc(RC), replay="stored.mock", real_programs=False)
    bad = sut.run("tool", "bad")
    good = sut.run("tool", "ok")
    capturemock.terminate()
    assert (bad.returncode, bad.stderr) == (1, f"{sut.root / 'stored.mock'}:4: '->EXC:oops' is not an exit status "
                                               "(0 to 255, or minus a signal that ends a process)\n")
    assert good.stdout == "fine\n"
    assert sut.text("rec.mock") == "<-CMD:tool ok\n->OUT:fine\n"


def test_missing_rc_file_is_warned_about_once(sut, capfd):
    rc = sut.rc(RC)
    assert sut.start(capturemock.RECORD, rc=rc)
    capturemock.terminate()
    missing = str(sut.root / "missing.rc")
    capturemock.setUpServer(capturemock.RECORD, str(sut.root / "rec.mock"), rcFiles=[rc, missing],
                            interceptDir=str(sut.root / "intercepts"), environment=dict(sut.env))
    capturemock.terminate()
    assert capfd.readouterr().err == f"WARNING: RC file at {missing} does not exist, ignoring.\n"


def test_server_output_is_relayed_with_headings_at_terminate(sut, capfd):
    assert sut.start(capturemock.RECORD, rc=sut.rc(RC))
    host, port = sut.env["CAPTUREMOCK_SERVER"].split(":")
    with socket.create_connection((host, int(port))) as sock:  # a shim that goes away mid-command
        sock.sendall(shim.MAGIC + shim.encode_fields([sut.env["CAPTUREMOCK_TOKEN"].encode(), b"/", b"1", b"true",
                                                      b"PATH=/usr/bin:/bin"]))
        sock.shutdown(socket.SHUT_WR)
    capturemock.terminate()
    err = capfd.readouterr().err
    assert err.startswith("Error from CaptureMock Server :\nCaptureMock server: error while handling a request")
