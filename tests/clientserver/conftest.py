"""Client/server test rig: a real stand-in server on 127.0.0.1, capturemock's real traffic server
started through the public API, and the test itself as the SUT."""
from __future__ import annotations

import socket
import socketserver
import textwrap
import threading
from pathlib import Path
from typing import Callable, Optional

import pytest

import capturemock


def classic_send(address: str, text: str) -> str:
    """One classic message: send, half-close, read to the end."""
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(text.encode())
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while True:
            data = sock.recv(4096)
            if not data:
                return b"".join(chunks).decode()
            chunks.append(data)


class RealServer:
    """A socketserver-style server running in a thread; ``received`` lists what it was sent."""

    def __init__(self, server):
        self.server = server
        self.received: list[str] = []
        self.thread = threading.Thread(target=server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Rig:
    def __init__(self, root: Path):
        self.root = root
        self.manager: Optional[capturemock.CaptureMockManager] = None
        self.env: dict[str, str] = {}
        self.servers: list[RealServer] = []

    def write(self, name: str, text: str) -> str:
        path = self.root / name
        path.write_text(textwrap.dedent(text))
        return str(path)

    def read(self, name: str) -> str:
        return (self.root / name).read_text()

    def exists(self, name: str) -> bool:
        return (self.root / name).exists()

    def start(self, mode: int, rc: str, *, record: str = "rec.mock", replay: Optional[str] = None,
              env: Optional[dict[str, str]] = None, **kwargs) -> str:
        """Start the traffic server (``env``: more of its environment); returns CAPTUREMOCK_SERVER as the
        SUT would see it."""
        self.stop()
        self.manager = capturemock.CaptureMockManager()
        self.env = dict(env or {})
        active = self.manager.startServer(mode, str(self.root / record), replay and str(self.root / replay),
                                          rcFiles=[self.write("capturemockrc", rc)], sutDirectory=str(self.root),
                                          environment=self.env, **kwargs)
        assert active
        return self.env["CAPTUREMOCK_SERVER"]

    send = staticmethod(classic_send)

    def stop(self) -> None:
        if self.manager is not None:
            self.manager.terminate()
            self.manager = None

    def real_classic(self, answer: Callable[[str], str]) -> RealServer:
        """A classic plain-text server: one message per connection, answered by ``answer``."""
        received: list[str] = []

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                text = self.rfile.read().decode()
                received.append(text)
                self.wfile.write(answer(text).encode())

        server = RealServer(socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler))
        server.received = received
        self.servers.append(server)
        return server

    def real(self, server) -> RealServer:
        wrapped = RealServer(server)
        self.servers.append(wrapped)
        return wrapped


@pytest.fixture
def rig(tmp_path):
    rig = Rig(tmp_path)
    yield rig
    rig.stop()
    for server in rig.servers:
        server.stop()
