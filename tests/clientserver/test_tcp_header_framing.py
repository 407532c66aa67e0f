"""``tcp_header`` framing beyond one length-prefixed frame (§8.8), with a real stdlib server and client
on 127.0.0.1: chunked messages (``incomplete``, ``<type>_intermediate``) and ``[tcp_footer]``.

2.10 wrote only a chunked message's first body and never recorded a footer-framed message; the texts
here are the evident correct forms (one header line per chunk as 2.10 writes them, then the joined body)."""
from __future__ import annotations

import io
import socketserver
import struct

import capturemock
from capturemock.clientserver.binaryformat import BinaryCodec
from capturemock.clientserver.binaryframing import Stream, read_frame
from tests.clientserver.tcpheader_helpers import answering_server, codec, connect, exactly, locate

CHUNKED_RC = """\
[general]
server_protocol = tcp_header
record_for_client = true

[tcp_header]
format = >4sIB
fields = type,length,more
incomplete = more=1

[TEXT_intermediate]
format = >H
fields = part

[DATA]
format = >I
fields = x
"""
HEADER = struct.Struct(">4sIB")


def frame(type_: bytes, body: bytes, more: int = 0) -> bytes:
    return HEADER.pack(type_, len(body), more) + body


def chunked_text(body: bytes) -> bytes:
    """TEXT as the protocol sends it: 4096-byte chunks, each after the first led by its part number."""
    parts = [body[at:at + 4096] for at in range(0, len(body), 4096)]
    return b"".join(frame(b"TEXT", (struct.pack(">H", index + 1) if index else b"") + part, int(index < len(parts) - 1))
                    for index, part in enumerate(parts))


SMALL_CHUNKS = frame(b"TEXT", b"hello ", 1) + frame(b"TEXT", b"\x00\x02big ", 1) + frame(b"TEXT", b"\x00\x03world")
SMALL_TEXT = "TEXT {}\nTEXT {'part': 2}\nTEXT {'more': 0, 'part': 3}\nhello big world"
DATA_CHUNKS = frame(b"DATA", b"\x00\x00", 1) + frame(b"DATA", b"\x00\x07")
BIG = bytes(range(97, 123)) * 200  # 5200 bytes: two chunks


def frames(data: bytes, layouts: BinaryCodec) -> list:
    stream = Stream(io.BytesIO(data).read)
    read = []
    while (message := read_frame(stream, layouts, print)) is not None:
        read.append(message)
    return read


def test_chunks_are_one_header_line_each_then_the_joined_body_and_replay_in_4096_byte_parts(tmp_path):
    layouts = codec(CHUNKED_RC, tmp_path)
    small, data, big = frames(SMALL_CHUNKS + DATA_CHUNKS + chunked_text(BIG), layouts)
    assert layouts.to_text(small.chunks) == SMALL_TEXT
    assert small.data == SMALL_CHUNKS
    assert layouts.to_text(data.chunks) == "DATA {}\nDATA {'more': 0}\n{'x': 7}"
    big_text = "TEXT {}\nTEXT {'more': 0, 'part': 2}\n" + BIG.decode()
    assert layouts.to_text(big.chunks) == big_text
    assert layouts.to_bytes(big_text) == chunked_text(BIG)
    # bodies go back in 4096-byte parts, with the last header line on the last part
    assert layouts.to_bytes(SMALL_TEXT) == frame(b"TEXT", b"hello big world")
    assert layouts.to_bytes("DATA {}\nDATA {'more': 0}\n{'x': 7}") == frame(b"DATA", b"\x00\x00\x00\x07")


def test_a_message_that_is_not_chunked_reads_and_packs_as_before(tmp_path):
    layouts = codec(CHUNKED_RC, tmp_path)
    [message] = frames(frame(b"DATA", b"\x00\x00\x00\x05"), layouts)
    assert layouts.to_text(message.chunks) == "DATA {'more': 0}\n{'x': 5}"
    assert layouts.to_bytes("DATA {'more': 0}\n{'x': 5}") == frame(b"DATA", b"\x00\x00\x00\x05")


def test_endless_chunks_end_the_input_with_one_line(tmp_path):
    layouts = codec(CHUNKED_RC, tmp_path)
    said: list[str] = []

    def endless(size: int) -> bytes:
        return frame(b"TEXT", b"x" * 4096, 1)[:size]  # every read starts a new chunk: never the last

    assert read_frame(Stream(endless), layouts, said.append) is None
    assert said == ["tcp_header: a chunked message of over 67108864 bytes is over the limit"]


def read_message(sock) -> bytes:
    """A whole message (all its chunks) as bytes."""
    data = b""
    while True:
        head = exactly(sock, HEADER.size)
        data += head + exactly(sock, HEADER.unpack(head)[1])
        if not HEADER.unpack(head)[2]:
            return data


def chunking_server(rig, received: list):
    """Answers TEXT with BIG in chunks, DATA with DATA 8 in one frame."""
    def answer(data: bytes) -> bytes:
        received.append(data)
        return chunked_text(BIG) if data.startswith(b"TEXT") else frame(b"DATA", b"\x00\x00\x00\x08")

    return answering_server(rig, read_message, answer)


BIG_TEXT = "TEXT {}\nTEXT {'more': 0, 'part': 2}\n" + BIG.decode()
CHUNKED_RECORDED = (f"<-CLI:{SMALL_TEXT}\n->SRV:{BIG_TEXT}\n"
                    "<-CLI:DATA {}\nDATA {'more': 0}\n{'x': 7}\n->SRV:DATA {'more': 0}\n{'x': 8}\n")


def send_chunked_and_check_replies(address: str) -> None:
    """Chunked TEXT then DATA, each answered as chunking_server answers it."""
    with connect(address) as sock:
        sock.sendall(SMALL_CHUNKS)
        assert read_message(sock) == chunked_text(BIG)
        sock.sendall(DATA_CHUNKS)
        assert read_message(sock) == frame(b"DATA", b"\x00\x00\x00\x08")


def test_chunked_messages_record_then_replay_with_the_server_stopped(rig):
    received: list[bytes] = []
    real = chunking_server(rig, received)
    address = rig.start(capturemock.RECORD, CHUNKED_RC)
    locate(address, real.address)
    send_chunked_and_check_replies(address)
    rig.stop()
    assert received == [SMALL_CHUNKS, DATA_CHUNKS]  # passed on as they came
    assert rig.read("rec.mock") == CHUNKED_RECORDED

    real.stop()
    rig.write("stored.mock", CHUNKED_RECORDED)
    address = rig.start(capturemock.REPLAY, CHUNKED_RC, record="replayed.mock", replay="stored.mock")
    send_chunked_and_check_replies(address)
    rig.stop()
    assert rig.read("replayed.mock") == CHUNKED_RECORDED


def test_a_recorded_chunked_client_is_played_to_a_live_sut_server(rig):
    received: list[bytes] = []
    sut = chunking_server(rig, received)
    rig.write("stored.mock", f"<-CLI:{BIG_TEXT}\n->SRV:{BIG_TEXT}\n")
    address = rig.start(capturemock.REPLAY, CHUNKED_RC.replace("record_for_client = true\n", ""),
                        record="replayed.mock", replay="stored.mock")
    locate(address, sut.address)
    rig.stop()
    assert received == [chunked_text(BIG)]
    assert rig.read("replayed.mock") == f"<-SRV:{sut.address}\n->CLI:{BIG_TEXT}\n<-SRV:{BIG_TEXT}\n"


FOOTER_RC = """\
[general]
server_protocol = tcp_header
record_for_client = true

[tcp_header]
format = >4s
fields = type

[tcp_footer]
format = >2s
fields = end
enforce = end=ZZ

[DATA]
format = >I
fields = x
"""
CHECKED_RC = FOOTER_RC.replace("format = >2s\nfields = end\nenforce = end=ZZ",
                               "format = >BB\nfields = end,check\nenforce = end=255")


def test_a_footer_ends_the_message_and_is_recomputed_on_replay(tmp_path):
    layouts = codec(FOOTER_RC, tmp_path)
    data, text, pong = frames(b"DATA\x00\x00\x00\x05ZZ" + b"TEXThelloZ worldZZ" + b"PONGZZ", layouts)
    assert [layouts.to_text(message.chunks) for message in (data, text, pong)] == [
        "DATA {}\n{'x': 5}", "TEXT {}\nhelloZ world", "PONG {}"]
    assert text.data == b"TEXThelloZ worldZZ"
    assert layouts.to_bytes("TEXT {}\nhelloZ world") == b"TEXThelloZ worldZZ"
    assert layouts.to_bytes("DATA {}\n{'x': 5}") == b"DATA\x00\x00\x00\x05ZZ"


def test_footer_values_not_enforced_join_the_header_line(tmp_path):
    layouts = codec(CHECKED_RC, tmp_path)
    first, second = frames(b"TEXTabc\xff\x07" + b"TEXTa\xffb\xff\x07", layouts)
    assert layouts.to_text(first.chunks) == "TEXT {'check': 7}\nabc"
    assert layouts.to_bytes("TEXT {'check': 7}\nabc") == b"TEXTabc\xff\x07"
    # the first footer-sized block that parses ends the message, as in 2.10
    assert layouts.to_text(second.chunks) == "TEXT {'check': 98}\na"


def test_no_footer_within_the_limit_ends_the_input_with_one_line(tmp_path):
    layouts = codec(CHECKED_RC, tmp_path)
    said: list[str] = []
    stream = Stream(io.BytesIO(b"TEXT" + b"\0" * (1 << 19)).read)
    assert read_frame(stream, layouts, said.append) is None
    assert said == ["tcp_header: no footer within 262144 bytes of a message"]


def footer_server(rig):
    """Answers each footer-framed message with PONG and the message's type."""
    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            data = b""
            while True:
                chunk = self.request.recv(4096)
                if not chunk:
                    return
                data += chunk
                while b"ZZ" in data:
                    message, _, data = data.partition(b"ZZ")
                    self.request.sendall(b"PONG" + message[:4] + b"ZZ")

    return rig.real(socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler))


def read_footed(sock) -> bytes:
    data = b""
    while not data.endswith(b"ZZ"):
        data += exactly(sock, 1)
    return data


def test_footer_framed_messages_record_then_replay_with_the_server_stopped(rig):
    real = footer_server(rig)
    recorded = ("<-CLI:DATA {}\n{'x': 5}\n->SRV:PONG {}\nDATA\n"
                "<-CLI:TEXT {}\nhello world\n->SRV:PONG {}\nTEXT\n")
    address = rig.start(capturemock.RECORD, FOOTER_RC)
    locate(address, real.address)
    with connect(address) as sock:
        sock.sendall(b"DATA\x00\x00\x00\x05ZZ")
        assert read_footed(sock) == b"PONGDATAZZ"
        sock.sendall(b"TEXThello worldZZ")
        assert read_footed(sock) == b"PONGTEXTZZ"
    rig.stop()
    assert rig.read("rec.mock") == recorded

    real.stop()
    rig.write("stored.mock", recorded)
    address = rig.start(capturemock.REPLAY, FOOTER_RC, record="replayed.mock", replay="stored.mock")
    with connect(address) as sock:
        sock.sendall(b"DATA\x00\x00\x00\x05ZZTEXThello worldZZ")  # two messages in one write
        assert read_footed(sock) == b"PONGDATAZZ"
        assert read_footed(sock) == b"PONGTEXTZZ"
    rig.stop()
    assert rig.read("replayed.mock") == recorded


def test_a_body_that_starts_like_a_header_line_stays_the_body(tmp_path):
    layouts = codec(CHUNKED_RC, tmp_path)
    assert layouts.to_bytes("TEXT {'more': 0}\nTEXT {not a dict}") == frame(b"TEXT", b"TEXT {not a dict}")


def test_a_recorded_footer_framed_client_is_played_to_a_live_sut_server(rig):
    sut = footer_server(rig)
    rig.write("stored.mock", "<-CLI:DATA {}\n{'x': 5}\n->SRV:PONG {}\nDATA\n<-CLI:TEXT {}\nhi\n->SRV:PONG {}\nTEXT\n")
    address = rig.start(capturemock.REPLAY, FOOTER_RC.replace("record_for_client = true\n", ""),
                        record="replayed.mock", replay="stored.mock")
    locate(address, sut.address)
    rig.stop()
    assert rig.read("replayed.mock") == (f"<-SRV:{sut.address}\n->CLI:DATA {{}}\n{{'x': 5}}\n<-SRV:PONG {{}}\nDATA\n"
                                         "->CLI:TEXT {}\nhi\n<-SRV:PONG {}\nTEXT\n")
