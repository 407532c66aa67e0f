"""``server_protocol = tcp_header`` (§8.8) with a real stdlib TCP client and server on 127.0.0.1: framed
binary messages described by rc sections. Expected texts are what 2.10 records for the same traffic."""
from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

import capturemock
from tests.clientserver.tcpheader_helpers import answering_server, codec, connect, exactly, locate

RC = """\
[general]
server_protocol = tcp_header
record_for_client = true

[tcp_header]
format = >4sIHH
fields = type,length,channel,flags
assume = flags=0

[PING]
format = >I8s
fields = seq,status
"""
HEADER = struct.Struct(">4sIHH")
ROOT = str(Path(__file__).resolve().parents[2])


def message(type_: bytes, body: bytes, channel: int = 6, flags: int = 0) -> bytes:
    return HEADER.pack(type_, len(body), channel, flags) + body


def read_message(sock) -> tuple:
    """(type, body, channel, flags) of the next message."""
    type_, length, channel, flags = HEADER.unpack(exactly(sock, HEADER.size))
    return type_, exactly(sock, length), channel, flags


def ping(seq: int, status: bytes = b"") -> bytes:
    return struct.pack(">I8s", seq, status)


def real_server(rig, greeting: bool = False):
    """Answers PING with PING (status 'pong', channel 9) and TEXT with it upper-cased (channel 7, flags 1)."""
    def answer(received: tuple) -> bytes:
        type_, body, _, _ = received
        if type_ == b"TEXT":
            return message(b"TEXT", body.upper(), channel=7, flags=1)
        return message(b"PING", ping(struct.unpack(">I", body[:4])[0], b"pong"), channel=9)

    return answering_server(rig, read_message, answer,
                            greeting=message(b"PING", ping(0, b"hello"), channel=1) if greeting else b"")


RECORDED = ("<-CLI:PING {'channel': 6}\n{'seq': 5, 'status': b'\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00'}\n"
            "->SRV:PING {'channel': 9}\n{'seq': 5, 'status': b'pong\\x00\\x00\\x00\\x00'}\n"
            "<-CLI:TEXT {'channel': 6, 'flags': 2}\nhello\nworld\n"
            "->SRV:TEXT {'channel': 7, 'flags': 1}\nHELLO\nWORLD\n")


def test_record_then_replay_with_the_real_server_stopped(rig):
    real = real_server(rig)
    address = rig.start(capturemock.RECORD, RC)
    locate(address, real.address)
    with connect(address) as sock:
        sock.sendall(message(b"PING", ping(5)))
        assert read_message(sock) == (b"PING", ping(5, b"pong"), 9, 0)
        sock.sendall(message(b"TEXT", b"hello\nworld", flags=2))
        assert read_message(sock) == (b"TEXT", b"HELLO\nWORLD", 7, 1)
    rig.stop()
    assert rig.read("rec.mock") == RECORDED

    real.stop()
    rig.write("stored.mock", RECORDED)
    address = rig.start(capturemock.REPLAY, RC, record="replayed.mock", replay="stored.mock")
    with connect(address) as sock:
        sock.sendall(message(b"PING", ping(5)))
        assert read_message(sock) == (b"PING", ping(5, b"pong"), 9, 0)
        sock.sendall(message(b"TEXT", b"hello\nworld", flags=2))
        assert read_message(sock) == (b"TEXT", b"HELLO\nWORLD", 7, 1)
    rig.stop()
    assert rig.read("replayed.mock") == RECORDED


def test_a_server_speaking_first_is_recorded_after_connect_and_replayed(rig):
    real = real_server(rig, greeting=True)
    address = rig.start(capturemock.RECORD, RC)
    locate(address, real.address)
    with connect(address) as sock:
        assert read_message(sock) == (b"PING", ping(0, b"hello"), 1, 0)
        sock.sendall(message(b"PING", ping(5)))
        read_message(sock)
    rig.stop()
    recorded = rig.read("rec.mock")
    assert recorded.startswith("<-CLI:connect\n->SRV:PING {'channel': 1}\n"
                               "{'seq': 0, 'status': b'hello\\x00\\x00\\x00'}\n<-CLI:PING {'channel': 6}\n")

    real.stop()
    rig.write("stored.mock", recorded)
    address = rig.start(capturemock.REPLAY, RC, record="replayed.mock", replay="stored.mock")
    with connect(address) as sock:
        assert read_message(sock) == (b"PING", ping(0, b"hello"), 1, 0)
        sock.sendall(message(b"PING", ping(5)))
        assert read_message(sock) == (b"PING", ping(5, b"pong"), 9, 0)
    rig.stop()
    assert rig.read("replayed.mock") == recorded


def test_replay_sends_every_recorded_reply_and_edited_values(rig):
    rig.write("stored.mock", "<-CLI:PING {'channel': 6}\n{'seq': 1, 'status': b''}\n"
                             "->SRV:PING {'channel': 3}\n{'seq': 77, 'status': b'edited'}\n"
                             "->SRV:TEXT {'channel': 3, 'flags': 5}\nsecond reply\n")
    address = rig.start(capturemock.REPLAY, RC, replay="stored.mock")
    with connect(address) as sock:
        sock.sendall(message(b"PING", ping(2)))  # best match (§5.4)
        assert read_message(sock) == (b"PING", ping(77, b"edited"), 3, 0)
        assert read_message(sock) == (b"TEXT", b"second reply", 3, 5)
    rig.stop()


def test_an_unreadable_recorded_reply_is_one_line_on_stderr(rig):
    rig.write("stored.mock", "<-CLI:PING {'channel': 6}\n{'seq': 1, 'status': b''}\n->SRV:PING {}\n{'seq': oops}\n")
    lines: list[str] = []
    address = rig.start(capturemock.REPLAY, RC, replay="stored.mock", stderrFn=lines.append)
    with connect(address) as sock:
        sock.sendall(message(b"PING", ping(1)))
    rig.stop()
    assert "tcp_header: cannot read \"{'seq': oops}\" as a dict of values" in "".join(lines)
    assert "Traceback" not in "".join(lines)


STRINGS_RC = RC.replace("format = >I8s\nfields = seq,status", "format = >Ii$\nfields = seq,name")


def test_bodies_are_written_as_2_10_writes_them_and_packed_back(tmp_path):
    """Texts taken from 2.10 recording the same bytes; every text packs back to the bytes it came from."""
    strings, plain = codec(STRINGS_RC, tmp_path), codec(RC.replace(">I8s", ">I").replace("seq,status", "seq"), tmp_path)
    header = {"type": b"PING", "channel": 6, "flags": 0}
    cases = [
        (strings, struct.pack(">Ii", 5, 5) + b"alice", "PING {'channel': 6}\n{'seq': 5, 'name': 'alice'}"),
        (strings, struct.pack(">Ii", 6, 2) + b"\xff\xfe", "PING {'channel': 6}\n{'seq': 6, 'name': '0xfffe'}"),
        (strings, struct.pack(">Ii", 7, 0), "PING {'channel': 6}\n{'seq': 7, 'name': ''}"),
        (strings, struct.pack(">Ii", 8, -1), "PING {'channel': 6}\n{'seq': 8}"),
        (plain, struct.pack(">I", 5) + b"\x01\x02", "PING {'channel': 6}\n{'seq': 5, 'parameters': ['0102']}"),
        (plain, b"ab", "PING {'channel': 6}\n{'unknown_format': '6162'}"),
    ]
    for layouts, body, text in cases:
        assert layouts.to_text([(header, body)]) == text
        assert layouts.to_bytes(text) == HEADER.pack(b"PING", len(body), 6, 0) + body


def test_a_malformed_incomplete_marker_is_refused_at_start_up_naming_the_rc_line(tmp_path):
    rc = tmp_path / "rc"
    rc.write_text(RC.replace("assume = flags=0\n", "assume = flags=0\nincomplete = flags\n"))
    result = subprocess.run([sys.executable, "-m", "capturemock.server", "-m", "1", "-R", str(rc)],
                            capture_output=True, text=True, timeout=60, env=dict(os.environ, PYTHONPATH=ROOT))
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == f"{rc}:9: tcp_header: incomplete = 'flags' is not field=value\n"

