"""Classic plain text over UDP (``server_protocol = classic_udp``, §8.3): one datagram is one message.

The traffic server listens for datagrams on the port of its TCP listener (the launcher still stops it
over TCP), so ``CAPTUREMOCK_SERVER`` is the address the SUT sends to either way. A datagram is a
location message (``SUT_SERVER:... host:port``), the stop message with the session's token, or a client
message (whitespace-stripped, as 2.10), which the exchange skeleton answers, forwards or plays.

Forwarding: the reply is the datagrams the real server sends back, joined, up to an empty datagram
(2.10's end marker) or until it is silent for ``connection_timeout`` after its last datagram; a server
that sends nothing within ``FIRST_REPLY_TIMEOUT`` gets the message recorded without a reply. With
``broadcast = true`` the message is broadcast to the destination port (``127.255.255.255`` for a
loopback destination, else ``255.255.255.255``) and every reply within ``connection_timeout`` is
recorded as its own item, and sent back to the SUT as its own datagram.
"""
from __future__ import annotations

import socket
import threading
import time
from functools import partial
from typing import Callable

from ..config import GENERAL, RcConfig
from ..mockfile import Item
from .classic import ClassicSession, decode, encode
from .exchange import ForwardError
from .location import warn

Record = Callable[[str], None]
MAX_DATAGRAM = 65535
FIRST_REPLY_TIMEOUT = 5.0  # a UDP message may go unanswered: do not hold the SUT up for long
LOOPBACK_BROADCAST = "127.255.255.255"
STOP = b"TERMINATE_SERVER"
CAUGHT_UP = b"CAPTUREMOCK_CAUGHT_UP:"  # + token: the datagram loop has handled all sent before a stop
STOP_GRACE = 2.0  # as long as the server gives requests in flight


def bind_beside(make_tcp: Callable[[int], object], host: str, port: int, tries: int = 20):
    """The TCP traffic server and a UDP socket on the same ``host:port``: the UDP port is taken first
    (datagrams sent before the socket exists are lost, so it must exist before the address is out);
    if the TCP port of that number is taken, another pair is tried. ``make_tcp(port)`` raises
    ConfigError when the port cannot be had."""
    from ..errors import ConfigError

    attempts = tries if port == 0 else 1
    while True:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind((host, port))
        except OSError as err:
            sock.close()
            raise ConfigError(f"cannot listen for UDP on {host}:{port}: {err.strerror}") from None
        try:
            server = make_tcp(sock.getsockname()[1])
        except ConfigError:
            sock.close()
            attempts -= 1
            if attempts == 0:
                raise
            continue
        server.datagrams = sock
        return server


class UdpSession(ClassicSession):
    """Classic session whose messages are datagrams; the answer is the datagrams to send back."""

    def __init__(self, *args, config: RcConfig, **kwargs):
        super().__init__(*args, **kwargs)
        self.broadcast = bool(config.setting(GENERAL, "broadcast"))
        self.window = float(config.setting(GENERAL, "connection_timeout"))

    # -- the datagram loop --------------------------------------------------------------------------
    def serve(self, server) -> None:
        """Handle the datagrams on ``server.datagrams`` one at a time, in arrival order. A stop over TCP
        first lets the datagrams sent before it be handled (they are queued already: loopback delivery
        is immediate), so what the SUT sent before the launcher stopped the server is recorded."""
        told_to_stop = server.told_to_stop
        caught_up = threading.Event()
        marker = CAUGHT_UP + server.token.encode()

        def catch_up_and_stop() -> None:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                sock.sendto(marker, server.datagrams.getsockname())
            caught_up.wait(STOP_GRACE)
            told_to_stop()

        server.told_to_stop = catch_up_and_stop
        threading.Thread(target=self._serve, args=(server, told_to_stop, caught_up, marker), daemon=True).start()

    def _serve(self, server, told_to_stop: Callable[[], None], caught_up: threading.Event, marker: bytes) -> None:
        sock = server.datagrams
        while True:
            try:
                data, peer = sock.recvfrom(MAX_DATAGRAM)
            except OSError:
                return
            if data == marker:
                caught_up.set()
                continue
            if data.startswith(STOP):
                self._stop(server, told_to_stop, data[len(STOP):], sock, peer)
                continue
            ticket = server.order.ticket()
            try:
                self.datagram(data, partial(server.order.record, ticket), sock, peer)
            except Exception as err:  # a broken message must not take the server down
                warn(f"CaptureMock server: error while handling a datagram: {err}")
            finally:
                server.order.finish(ticket)

    @staticmethod
    def _stop(server, told_to_stop: Callable[[], None], rest: bytes, sock, peer) -> None:
        """The stop message as a datagram (2.10's way), with the session's token."""
        from ..cmdline.request import same_token

        if same_token(rest.lstrip(b":").strip().decode(errors="replace"), server.token):
            told_to_stop()
            server.stop()
        else:
            sock.sendto(b"CaptureMock server: refused to stop without this session's CAPTUREMOCK_TOKEN\n", peer)

    def client_message(self, conn, record: Record) -> None:
        """A classic TCP message to a UDP session is not traffic: said once per message, and dropped."""
        conn.drain()
        warn("CaptureMock server: server_protocol = classic_udp takes messages as UDP datagrams; "
             "a TCP message was ignored")

    def datagram(self, data: bytes, record: Record, sock, peer) -> None:
        text = decode(data)
        self.log.received(text)
        if data.startswith(b"SUT_SERVER:"):
            self._location(text[len("SUT_SERVER:"):], record)
            return
        message = data.strip()
        for reply in self.exchange(decode(message), message, record) or ():
            sock.sendto(encode(reply), peer)
        self.log.finished()

    def _location(self, text: str, record: Record) -> None:
        self.take_location(text, record)
        self._play(record)

    # -- exchange hooks -----------------------------------------------------------------------------
    def mismatch(self, reason: str) -> list[str]:
        return [reason]

    def decode(self, replies: list[Item]) -> list[str]:
        return [item.text for item in replies]

    def send(self, wire: bytes) -> tuple[list[str], list[str]]:
        """The replies of the real server (record them each as an item; send them back each as a datagram)."""
        try:
            replies = forward(self.destination, wire, self.broadcast, self.window)
        except OSError as err:
            raise ForwardError(f"WARNING: Could not forward to server {self.where}: {err}\n-- {decode(wire)}") from None
        return replies, replies


def forward(address: tuple[str, int], data: bytes, broadcast: bool, window: float) -> list[str]:
    """Send one message to the real server, its replies (see the module docstring); OSError if it is gone."""
    host, port = address
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        if broadcast:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
            sock.sendto(data, (LOOPBACK_BROADCAST if host.startswith("127.") else "<broadcast>", port))
            return _collect(sock, window, window, until_empty=False)
        sock.connect((host, port))  # connected: a server that is gone is refused at once, not waited for
        sock.send(data)
        replies = _collect(sock, FIRST_REPLY_TIMEOUT, window, until_empty=True)
        return ["".join(replies)] if replies else []


def _collect(sock: socket.socket, first: float, window: float, until_empty: bool) -> list[str]:
    """Datagrams until an empty one (``until_empty``) or silence: ``first`` seconds for the first,
    ``window`` after each later one; a broadcast collects for ``first`` seconds in all."""
    replies: list[str] = []
    deadline = time.monotonic() + first
    while True:
        wait = deadline - time.monotonic() if not until_empty or not replies else window
        if wait <= 0:
            return replies
        sock.settimeout(wait)
        try:
            data = sock.recv(MAX_DATAGRAM)
        except TimeoutError:
            return replies
        if not data:
            if until_empty:
                return replies
            continue
        replies.append(decode(data))
