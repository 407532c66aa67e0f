"""``tcp_header`` with 2.10's format extensions (§8.8), with a real stdlib server and client on
127.0.0.1: lists, unions, bit flags, alternative formats, sub-types, enums, list elements, Time,
significance pairs, enforce and padding; and CaptureMock playing the recorded client to a live SUT
server. Expected texts are what 2.10.0 records for the same bytes."""
from __future__ import annotations

import datetime
import io
import struct

import capturemock
from capturemock.clientserver.binaryframing import Stream, read_frame
from tests.clientserver.tcpheader_helpers import answering_server, codec, connect, exactly, locate, read_length_prefixed

RC = """\
[general]
server_protocol = tcp_header
record_for_client = true

[tcp_header]
format = >4sI
fields = type,length

[LIST]
format = >IH[Ib]
fields = seq,items

[STRL]
format = >H[h$]
fields = names

[NEST]
format = >H[BH[B]]
fields = groups

[BLEN]
format = >H*[H]B
fields = words,last

[PLCH]
format = >H[]
fields = slots

[UNIO]
format = >IB(|I|HH)
fields = seq,choice

[BITS]
format = >B(1=I|2=H|4=B)
fields = flags

[ALTS]
format = >IH,>B
fields = a,b

[ENUM]
format = >BBH
fields = status,colour,other

[TIME]
format = >IQ
fields = Time,x

[SIGS]
format = >IHH
fields = small,val_leastsig,val_mostsig

[SUBT_header]
format = >H
fields = subtype

[SUBT.3]
format = >I
fields = x

[list_elements]
items = id,flag

[enums]
status = OK,FAIL,UNKNOWN
"""
HEADER = struct.Struct(">4sI")
STAMP = 1700000000


def message(type_: bytes, body: bytes) -> bytes:
    return HEADER.pack(type_, len(body)) + body


# (bytes sent, the text 2.10 records for them)
CASES = [
    (message(b"LIST", struct.pack(">IH", 5, 2) + struct.pack(">Ib", 1, -1) + struct.pack(">Ib", 2, 3)),
     "LIST {}\n{'seq': 5, 'items': [{'id': 1, 'flag': -1}, {'id': 2, 'flag': 3}]}"),
    (message(b"LIST", struct.pack(">IH", 5, 0) + b"\x01\x02"),
     "LIST {}\n{'seq': 5, 'items': [], 'parameters': ['0102']}"),
    (message(b"STRL", struct.pack(">Hh", 2, 2) + b"ab" + struct.pack(">h", 1) + b"c"),
     "STRL {}\n{'names': ['ab', 'c']}"),
    (message(b"NEST", struct.pack(">HBHBBBH", 2, 1, 2, 7, 8, 2, 0)), "NEST {}\n{'groups': [(1, [7, 8]), (2, [])]}"),
    (message(b"BLEN", struct.pack(">HHHB", 4, 7, 8, 9)), "BLEN {}\n{'words': [7, 8], 'last': 9}"),
    (message(b"PLCH", struct.pack(">HII", 2, 7, 8)),
     "PLCH {}\n{'slots': [(), ()], 'parameters': ['0000000700000008']}"),
    (message(b"UNIO", struct.pack(">IB", 5, 0)), "UNIO {}\n{'seq': 5, 'choice': (0, None)}"),
    (message(b"UNIO", struct.pack(">IBI", 5, 1, 9)), "UNIO {}\n{'seq': 5, 'choice': (1, 9)}"),
    (message(b"UNIO", struct.pack(">IBHH", 5, 2, 3, 4)), "UNIO {}\n{'seq': 5, 'choice': (2, (3, 4))}"),
    (message(b"BITS", struct.pack(">BIH", 3, 7, 8)), "BITS {}\n{'flags': (3, (7, 8))}"),
    (message(b"BITS", struct.pack(">BHB", 6, 7, 8)), "BITS {}\n{'flags': (6, (7, 8))}"),
    (message(b"BITS", struct.pack(">BI", 1, 7)), "BITS {}\n{'flags': (1, 7)}"),
    (message(b"ALTS", struct.pack(">IH", 1, 2)), "ALTS {}\n{'a': 1, 'b': 2}"),
    (message(b"ALTS", struct.pack(">B", 1)), "ALTS {}\n{'a': 1}"),
    (message(b"ALTS", struct.pack(">IHB", 1, 2, 3)), "ALTS {}\n{'a': 1, 'b': 2, 'parameters': ['03']}"),
    (message(b"ENUM", struct.pack(">BBH", 1, 5, 2)), "ENUM {}\n{'status': 'FAIL', 'colour': 5, 'other': 2}"),
    (message(b"ENUM", struct.pack(">BBH", 7, 5, 2)), "ENUM {}\n{'status': 7, 'colour': 5, 'other': 2}"),
    (message(b"TIME", struct.pack(">IQ", STAMP, 3)),
     f"TIME {{}}\n{{'Time': '{datetime.datetime.fromtimestamp(STAMP).isoformat()}', 'x': 3}}"),
    (message(b"SIGS", struct.pack(">IHH", 3, 4, 5)), "SIGS {}\n{'small': 3, 'val': 1284}"),
    (message(b"SUBT", struct.pack(">HI", 3, 7)), "SUBT {'subtype': 3}\n{'x': 7}"),
]


def split(data: bytes) -> tuple[dict, bytes]:
    type_, length = HEADER.unpack(data[:HEADER.size])
    return {"type": type_, "length": length}, data[HEADER.size:]


def test_each_extension_is_written_as_2_10_writes_it_and_packed_back_to_the_same_bytes(tmp_path):
    layouts = codec(RC, tmp_path)
    for data, text in CASES:
        assert layouts.to_text([split(data)]) == text
        assert layouts.to_bytes(text) == data, text


def test_a_hostile_count_is_bounded_by_the_bytes_there_are(tmp_path):
    layouts = codec(RC, tmp_path)
    data = message(b"LIST", struct.pack(">IH", 5, 0xFFFF))
    assert layouts.to_text([split(data)]) == "LIST {}\n{'unknown_format': '00000005ffff'}"
    data = message(b"PLCH", struct.pack(">H", 0xFFFF) + b"\0" * 4)  # 65535 elements of no bytes: fine
    text = layouts.to_text([split(data)])
    assert text.count("()") == 0xFFFF and text.endswith("'parameters': ['00000000']}")


def read_message(sock) -> bytes:
    return read_length_prefixed(sock, HEADER)


def echo_server(rig, received: list):
    """Answers every message with the same bytes."""
    def echo(data: bytes) -> bytes:
        received.append(data)
        return data

    return answering_server(rig, read_message, echo)


RECORDED = "".join(f"<-CLI:{text}\n->SRV:{text}\n" for _, text in CASES)


def test_every_extension_records_as_2_10_then_replays_the_same_bytes_with_the_server_stopped(rig):
    real = echo_server(rig, [])
    address = rig.start(capturemock.RECORD, RC)
    locate(address, real.address)
    with connect(address) as sock:
        for data, _ in CASES:
            sock.sendall(data)
            assert read_message(sock) == data
    rig.stop()
    assert rig.read("rec.mock") == RECORDED

    real.stop()
    rig.write("stored.mock", RECORDED)
    address = rig.start(capturemock.REPLAY, RC, record="replayed.mock", replay="stored.mock")
    with connect(address) as sock:
        for data, _ in CASES:
            sock.sendall(data)
            assert read_message(sock) == data
    rig.stop()
    assert rig.read("replayed.mock") == RECORDED


SUT_RC = RC.replace("record_for_client = true\n", "")


def test_the_recorded_client_is_played_to_a_live_sut_server_and_recorded_in_server_form(rig):
    """A file recorded with the client as SUT, replayed with the server as SUT: CaptureMock is the client."""
    received: list[bytes] = []
    sut = echo_server(rig, received)
    rig.write("stored.mock", RECORDED)
    address = rig.start(capturemock.REPLAY, SUT_RC, record="replayed.mock", replay="stored.mock")
    locate(address, sut.address)
    rig.stop()
    assert received == [data for data, _ in CASES]
    assert rig.read("replayed.mock") == (f"<-SRV:{sut.address}\n" +
                                         "".join(f"->CLI:{text}\n<-SRV:{text}\n" for _, text in CASES))


def test_replay_for_server_plays_tcp_header_messages_on_one_connection(rig, tmp_path):
    received: list[bytes] = []
    sut = echo_server(rig, received)
    rig.write("stored.mock", RECORDED)
    rc = rig.write("capturemockrc", RC)
    capturemock.replay_for_server(rcFile=rc, replayFile=str(tmp_path / "stored.mock"),
                                  recordFile=str(tmp_path / "played.mock"), serverAddress=sut.address)
    assert received == [data for data, _ in CASES]
    assert rig.read("played.mock") == RECORDED


PADDED_RC = """\
[general]
server_protocol = tcp_header
record_for_client = true
tcp_padding = true

[tcp_header]
format = >4sHB
fields = type,msg_size,version
enforce = version=1

[DATA]
format = >B
fields = x
"""


def padded(type_: bytes, body: bytes, version: int = 1) -> bytes:
    data = struct.pack(">4sHB", type_, 7 + len(body), version) + body
    return data + b"\0" * (len(data) % 2)


def read_padded(sock) -> bytes:
    head = exactly(sock, 7)
    size = struct.unpack(">H", head[4:6])[0]
    return head + exactly(sock, size - 7 + size % 2)


def test_padding_and_an_enforced_header_value_record_as_2_10_and_replay(rig):
    real = answering_server(rig, read_padded, lambda _: padded(b"PONG", b"hi"))
    recorded = "<-CLI:DATA {'msg_size': 8}\n{'x': 5}\n->SRV:PONG {'msg_size': 9}\nhi\n"
    address = rig.start(capturemock.RECORD, PADDED_RC)
    locate(address, real.address)
    with connect(address) as sock:
        sock.sendall(padded(b"DATA", b"\x05"))
        assert read_padded(sock) == padded(b"PONG", b"hi")
    rig.stop()
    assert rig.read("rec.mock") == recorded

    real.stop()
    rig.write("stored.mock", recorded)
    address = rig.start(capturemock.REPLAY, PADDED_RC, replay="stored.mock")
    with connect(address) as sock:
        sock.sendall(padded(b"DATA", b"\x05"))
        assert read_padded(sock) == padded(b"PONG", b"hi")
    rig.stop()


def test_a_header_breaking_enforce_is_said_and_skipped_as_2_10_does(tmp_path):
    stream = Stream(io.BytesIO(padded(b"DATA", b"", version=2)[:7] + padded(b"DATA", b"\x05")).read)
    said: list[str] = []
    frame = read_frame(stream, codec(PADDED_RC, tmp_path), said.append)
    assert said == ["FAILED to parse incoming header b'DATA\\x00\\x07\\x02'"]
    assert frame.chunks == [({"type": b"DATA", "msg_size": 8, "version": 1}, b"\x05")]
    assert frame.data == padded(b"DATA", b"\x05")


def test_a_hostile_length_field_ends_the_input_with_one_line_not_a_huge_read(tmp_path):
    said: list[str] = []
    stream = Stream(io.BytesIO(HEADER.pack(b"LIST", 1 << 30) + b"\0" * 16).read)
    assert read_frame(stream, codec(RC, tmp_path), said.append) is None
    assert said == ["tcp_header: a message of 1073741824 bytes is over the limit of 67108864"]
