"""CaptureMock instances telling each other what their clients said (``tcp_header``, §8.8).

When several SUT processes each have their own CaptureMock, one client's message may be what makes a
server speak to another client. ``CAPTUREMOCK_SYNCH:host:port[,regex]`` (a control message) registers
the CaptureMock at host:port as a peer: each later client message whose text the regex matches from its
start (as 2.10; every message without one) is sent to it as ``CAPTUREMOCK_STATUS:<text>``, one
connection each. While a real server is connected (record) the sender waits for the peer's ``ok``, so
the peer has recorded the message before the server can react to it; the peer treats the text as its
own client's message. Unless ``[general] server_remote_access`` is set, a peer must be on this host:
anyone who can reach the port could register one, and would otherwise get every client message sent
off the machine (the 2.10 message has no room for the session token).
"""
from __future__ import annotations

import re
import socket
import threading
from typing import Callable, Optional

from .location import FORWARD_TIMEOUT, parse_host_port

SYNCH = b"CAPTUREMOCK_SYNCH:"
STATUS = b"CAPTUREMOCK_STATUS:"
MAX_STATUS = 1 << 26  # a status message this long is cut off, as a message body would be refused


class Peers:
    """The registered peers, and telling them."""

    def __init__(self, warn: Callable[[str], None], remote_peers: bool = False):
        self._remote_peers = remote_peers
        self._peers: list[tuple[tuple[str, int], Optional[re.Pattern]]] = []
        self._lock = threading.Lock()
        self._warn = warn

    def register(self, text: str) -> None:
        """``host:port[,regex]``; a malformed one is said on stderr and ignored."""
        where, _, pattern = text.partition(",")
        address = parse_host_port(where.strip())
        if address is None:
            self._warn(f"CaptureMock: CAPTUREMOCK_SYNCH:{text}: {where.strip()!r} is not host:port")
            return
        if not self._remote_peers and not _on_this_host(address[0]):
            self._warn(f"CaptureMock: CAPTUREMOCK_SYNCH:{text}: refused, {address[0]} is not this host "
                       f"(set [general] server_remote_access to tell peers on other hosts)")
            return
        try:
            regex = re.compile(pattern) if pattern else None
        except re.error as err:
            self._warn(f"CaptureMock: CAPTUREMOCK_SYNCH:{text}: bad regex: {err}")
            return
        with self._lock:
            self._peers.append((address, regex))

    def tell(self, text: str, wait: bool) -> None:
        """Send ``text`` to each peer whose regex it matches; with ``wait``, until each answers."""
        with self._lock:
            peers = [address for address, regex in self._peers if regex is None or regex.match(text)]
        for host, port in peers:
            try:
                with socket.create_connection((host, port), timeout=FORWARD_TIMEOUT) as sock:
                    sock.sendall(STATUS + text.encode("utf-8", "surrogateescape") + b"\n")
                    sock.shutdown(socket.SHUT_WR)
                    if wait:
                        sock.recv(64)
            except OSError as err:
                self._warn(f"WARNING: could not tell CaptureMock peer {host}:{port}: {err}")


def _on_this_host(host: str) -> bool:
    """Loopback by name or address; names other than ``localhost`` are not looked up (no DNS here)."""
    return host.lower() == "localhost" or host.startswith("127.") or host == "::1"


def read_status(conn, quiet: float) -> str:
    """A status message's text: up to the sender's end of sending, or ``quiet`` seconds without more
    (2.10 keeps its connection open for the answer); its last newline taken off."""
    return conn.read_to_end(MAX_STATUS, quiet).decode("utf-8", "surrogateescape").removesuffix("\n")
