"""Where the real server is (§8.2), and the classic one-message exchange with it (§8.3)."""
from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

FORWARD_TIMEOUT = 60.0  # a real server that says nothing for this long is taken as gone
MAX_REPLY = 1 << 28


def parse_host_port(text: str) -> Optional[tuple[str, int]]:
    """The ``host:port`` that ends a location message (``SUT_SERVER:quiz on 127.0.0.1:4000``), if any;
    a URL (``http://host:port/``) counts too. Free text without one is a synchronisation point."""
    words = text.split()
    if not words:
        return None
    word = words[-1]
    if "://" in word:
        word = word.split("://", 1)[1].split("/", 1)[0]
    host, colon, port = word.rpartition(":")
    if not colon or not host or not port.isdigit():
        return None
    return host.strip("[]"), int(port)


def exchange(address: tuple[str, int], data: bytes) -> bytes:
    """Send one classic message (send, half-close, read to the end); OSError if the server is gone."""
    import socket  # only when forwarding: ~12 M instructions (its enums) the command's replay never needs

    with socket.create_connection(address, timeout=FORWARD_TIMEOUT) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        chunks, size = [], 0
        while size < MAX_REPLY:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)


def warn(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()
