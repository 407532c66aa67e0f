"""``tcp_header`` clients that only listen (``client_passive``) and CaptureMock instances that tell each
other what their clients said (``CAPTUREMOCK_SYNCH``), with real stdlib servers and clients on 127.0.0.1."""
from __future__ import annotations

import socket
import socketserver
import struct

import capturemock

RC = """\
[general]
server_protocol = tcp_header
record_for_client = true
client_passive = true

[tcp_header]
format = >4sI
fields = type,length
"""
HEADER = struct.Struct(">4sI")


def message(type_: bytes, body: bytes) -> bytes:
    return HEADER.pack(type_, len(body)) + body


def exactly(sock, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        assert chunk, f"connection closed after {data!r}"
        data += chunk
    return data


def read_message(sock) -> bytes:
    head = exactly(sock, HEADER.size)
    return head + exactly(sock, HEADER.unpack(head)[1])


def connect(address: str) -> socket.socket:
    host, port = address.rsplit(":", 1)
    return socket.create_connection((host, int(port)), timeout=10)


def locate(address: str, real_address: str) -> None:
    with connect(address) as sock:
        sock.sendall(f"SUT_SERVER:{real_address}\n".encode())
        assert sock.recv(1) == b""


GREETINGS = [message(b"HELO", b"hi"), message(b"MORE", b"there")]
JUNK = b"\xff\xff\xff\xffnot a message at all"


def talking_server(rig, received: list):
    """Sends its greetings to whoever connects, then keeps what it is sent."""
    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            self.request.sendall(b"".join(GREETINGS))
            while data := self.request.recv(4096):
                received.append(data)

    return rig.real(socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler))


def test_a_passive_client_is_never_read_and_hears_the_server_in_record_and_replay(rig):
    received: list[bytes] = []
    real = talking_server(rig, received)
    recorded = "<-CLI:connect\n->SRV:HELO {}\nhi\n->SRV:MORE {}\nthere\n"
    address = rig.start(capturemock.RECORD, RC)
    locate(address, real.address)
    with connect(address) as sock:
        sock.sendall(JUNK)  # neither read as a message nor passed on
        assert [read_message(sock), read_message(sock)] == GREETINGS
    rig.stop()
    assert rig.read("rec.mock") == recorded
    assert received == []

    real.stop()
    rig.write("stored.mock", recorded)
    address = rig.start(capturemock.REPLAY, RC, record="replayed.mock", replay="stored.mock")
    with connect(address) as sock:
        sock.sendall(JUNK)
        assert [read_message(sock), read_message(sock)] == GREETINGS
    rig.stop()
    assert rig.read("replayed.mock") == recorded
