"""What the ``tcp_header`` tests share: reading framed bytes off a socket, a real answering server,
connecting as the SUT does, and a codec read from rc text, so each test file keeps only its scenarios."""
from __future__ import annotations

import socket
import socketserver
import struct
from typing import Callable, TypeVar

from capturemock.clientserver.binaryformat import BinaryCodec
from capturemock.config import RcConfig

Message = TypeVar("Message")


def exactly(sock: socket.socket, size: int) -> bytes:
    """``size`` bytes; a closed connection fails the assertion, which also ends the servers below."""
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        assert chunk, f"connection closed after {data!r}"
        data += chunk
    return data


def read_length_prefixed(sock: socket.socket, header: struct.Struct) -> bytes:
    """One message (header and body) whose header's second field is the body's length."""
    head = exactly(sock, header.size)
    return head + exactly(sock, header.unpack(head)[1])


def answering_server(rig, read: Callable[[socket.socket], Message], answer: Callable[[Message], bytes],
                     greeting: bytes = b""):
    """A real server on 127.0.0.1 sending ``greeting`` to whoever connects, then ``answer(message)`` for
    each message ``read`` takes in, until its client hangs up."""
    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            self.request.sendall(greeting)
            while True:
                try:
                    message = read(self.request)
                except AssertionError:
                    return
                self.request.sendall(answer(message))

    return rig.real(socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler))


def connect(address: str) -> socket.socket:
    host, port = address.rsplit(":", 1)
    return socket.create_connection((host, int(port)), timeout=10)


def locate(address: str, real_address: str) -> None:
    """The location message; CaptureMock closes the connection once it has taken it in."""
    with connect(address) as sock:
        sock.sendall(f"SUT_SERVER:{real_address}\n".encode())
        assert sock.recv(1) == b""


def codec(rc_text: str, tmp_path) -> BinaryCodec:
    rc = tmp_path / "rc"
    rc.write_text(rc_text)
    return BinaryCodec(RcConfig([str(rc)]))
