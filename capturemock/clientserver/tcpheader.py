"""Binary TCP with length-prefixed messages (``server_protocol = tcp_header``, §8.8).

The SUT client keeps one connection open and sends framed messages (``binaryformat``); either side may
speak first. Record: CaptureMock connects to the real server once its location is known
(``SUT_SERVER:host:port``, a line on its own connection), passes messages both ways and records each
(``<-CLI``/``->SRV`` in text form); messages the server sends before any client connects are kept and
delivered when one does. Replay (client as SUT): each client message is matched (§5) and the recorded
replies sent back, with ``replay_chain_pause`` between replies from ``replay_chain_min_length`` on or
for replies starting with a ``replay_chain_trigger_prefixes`` entry; a client silent for
``header_timeout`` after connecting is the request ``connect``, so a server's greeting replays.

Replay with the server as SUT: the location message makes CaptureMock play the recorded client to
it (``binaryplay``). With ``client_passive`` the client only listens: its bytes are never read as
messages. Peers registered by ``CAPTUREMOCK_SYNCH`` are told of client messages (``binarypeers``), and
their ``CAPTUREMOCK_STATUS`` messages are this client's.
"""
from __future__ import annotations

import socket
import threading
import time
from typing import Callable, Optional

from ..config import GENERAL, RcConfig
from ..errors import CaptureMockError
from ..mockfile import Item
from ..remoteaccess import remote_access_enabled
from .binaryformat import BinaryCodec
from .binaryframing import READ_AHEAD, Stream, read_frame
from .binarypeers import Peers, read_status
from .binaryplay import CONNECT, play_client
from .exchange import Exchange, ForwardError
from .location import FORWARD_TIMEOUT, parse_host_port, warn

Record = Callable[[str], None]
MAX_LINE = 4096


class TcpHeaderSession(Exchange[bytes, list[bytes]]):
    def __init__(self, *args, config: RcConfig, **kwargs):
        super().__init__(*args, **kwargs)
        self.codec = BinaryCodec(config)
        self.header_timeout = float(config.setting(GENERAL, "header_timeout"))
        self.chain_pause = float(config.setting(GENERAL, "replay_chain_pause"))
        self.chain_min = int(config.setting(GENERAL, "replay_chain_min_length"))
        self.chain_prefixes = tuple(config.setting(GENERAL, "replay_chain_trigger_prefixes"))
        self.passive = bool(config.setting(GENERAL, "client_passive"))
        self.peers = Peers(warn, remote_peers=remote_access_enabled(config))
        self._upstream: Optional[socket.socket] = None
        self._early: list[tuple[bytes, str]] = []  # server messages before any client connected
        self._client: Optional[_Client] = None
        self._lock = threading.Lock()  # record: a client message is recorded before the server's answer
        self._connecting = threading.Lock()

    # -- handlers -----------------------------------------------------------------------------------
    def location_message(self, conn, record: Record) -> None:
        """``SUT_SERVER:host:port`` ended by a newline (or the end of the connection)."""
        text = _read_line(conn).decode("utf-8", "replace").strip()
        self.log.received(f"SUT_SERVER:{text}")
        address = parse_host_port(text)
        if address is not None:
            self.destination = address
        record(self.transcript.location(text))
        self.log.finished()
        script = self.replay.script if self.replay is not None else None
        if address is not None and script is not None and self.transcript.server_is_sut:
            conn.sock.close()  # the SUT may wait for the location's end before it serves
            play_client(script, self.codec, address, self.transcript, record, warn)
        elif address is not None and self.replay is None:
            self._connect_upstream()

    def client_connection(self, conn, record: Record) -> None:
        """One client connection, until it closes: its messages, and the server's to it."""
        client = _Client(conn.sendall, record)
        with self._lock:
            self._client = client
            if self.passive and self.replay is None:  # it says nothing: its part begins when it connects
                self._record_server(client, None)
            early, self._early = self._early, []
            for _, text in early:
                self._record_server(client, text)
        for data, _ in early:
            conn.sendall(data)
        if self.passive:
            self._passive_client(conn, record)
        else:
            self._client_messages(conn, client, record)
        with self._lock:
            self._client = None

    def _client_messages(self, conn, client: _Client, record: Record) -> None:
        first = True
        stream = Stream(self._arrived(conn))
        while True:
            wait = self.header_timeout if first and self.replay is not None else None
            message = self._read_message(conn, stream, wait)
            if message is None and first and self.replay is not None:
                self._answer(conn, CONNECT, b"", record)  # nothing said first: the server's greeting
                first = False
                continue
            if message is None:
                break
            first = False
            text, data = message
            self.log.received(text)
            client.spoke = True
            self.peers.tell(text, wait=self._upstream is not None)
            self._answer(conn, text, data, record)

    def _passive_client(self, conn, record: Record) -> None:
        """``client_passive``: what the client sends is never read as messages (a listener may send
        anything, or nothing). It is sent what the server says (record) or what was recorded after its
        ``connect`` (replay), until it closes the connection."""
        conn.arrived()  # its place in the record's order, and no idle timeout: listening is all it does
        if self.replay is not None:
            self._answer(conn, CONNECT, b"", record)
        elif self.destination is not None:
            self._connect_upstream()
        try:
            while conn.recv(READ_AHEAD):
                pass
        except OSError:
            pass

    def synch_message(self, conn, record: Record) -> None:
        """``CAPTUREMOCK_SYNCH:host:port[,regex]``: a peer to tell of later client messages (not recorded:
        its address is this run's)."""
        text = _read_line(conn).decode("utf-8", "replace").strip()
        self.log.received(f"CAPTUREMOCK_SYNCH:{text}")
        self.peers.register(text)
        self.log.finished()

    def status_message(self, conn, record: Record) -> None:
        """``CAPTUREMOCK_STATUS:<text>``: a peer's client said ``text``; it is this client's message. Record:
        written in the client's place (the real server hears it from the peer's side); replay: answered
        to the connected client as recorded. Then ``ok``, which a recording peer waits for."""
        text = read_status(conn, self.header_timeout)
        self.log.received(f"CAPTUREMOCK_STATUS:{text}")
        with self._lock:
            client = self._client
        where = client.record if client is not None else record
        if self.replay is None:
            with self._lock:
                where(self.transcript.client(text))
                if client is not None:
                    client.spoke = True
        else:
            for reply in self.exchange(text, b"", where) or []:
                if client is not None:
                    client.send(reply)
        self.log.finished()
        conn.sendall(b"ok")

    def _answer(self, conn, text: str, data: bytes, record: Record) -> None:
        if self.replay is None:
            with self._lock:  # recorded before the server can answer it
                replies = self.exchange(text, data, record) or []
        else:
            replies = self.exchange(text, data, record) or []
        for index, reply in enumerate(replies):
            if index and self._pauses(index + 1, replies[index]):
                time.sleep(self.chain_pause)
            conn.sendall(reply)
        self.log.finished()

    def _pauses(self, position: int, reply: bytes) -> bool:
        if not self.chain_pause:
            return False
        return position >= self.chain_min or reply.startswith(tuple(p.encode() for p in self.chain_prefixes))

    def _read_message(self, conn, stream: Stream, timeout: Optional[float]) -> Optional[tuple[str, bytes]]:
        """The next message and its text; None at the end of the connection (or silence for ``timeout``)."""
        if timeout is not None:
            conn.sock.settimeout(timeout)
        try:
            frame = read_frame(stream, self.codec, warn)
        except TimeoutError:
            return None
        finally:
            if timeout is not None:
                conn.sock.settimeout(None)
        if frame is None:  # the end, or cut off
            return None
        return self.codec.to_text(frame.chunks), frame.data

    @staticmethod
    def _arrived(conn) -> Callable[[int], bytes]:
        """``conn.recv`` that tells the connection a request has arrived once its first bytes have."""
        def recv(size: int) -> bytes:
            data = conn.recv(size)
            conn.arrived()
            return data
        return recv

    # -- record: the real server's side -------------------------------------------------------------
    def _connect_upstream(self) -> Optional[socket.socket]:
        """The connection to the real server, made once (by the location message, or by the first
        client message if that comes first); None, said on stderr, if it cannot be made."""
        with self._connecting:
            if self._upstream is None:
                try:
                    upstream = socket.create_connection(self.destination, timeout=FORWARD_TIMEOUT)
                except OSError as err:
                    warn(f"WARNING: Could not connect to server {self.where}: {err}")
                    return None
                upstream.settimeout(None)
                self._upstream = upstream
                threading.Thread(target=self._pump, args=(upstream,), daemon=True).start()
            return self._upstream

    def _pump(self, upstream: socket.socket) -> None:
        """Server messages, recorded and passed to the client (kept until one connects)."""
        stream = Stream(upstream.recv)
        while True:
            try:
                frame = read_frame(stream, self.codec, warn)
            except OSError:
                return
            if frame is None:
                return
            data, text = frame.data, self.codec.to_text(frame.chunks)
            self.log.responded(self.log.server, text)
            with self._lock:
                client = self._client
                if client is None:
                    self._early.append((data, text))
                    continue
                self._record_server(client, text)
            try:
                client.send(data)
            except OSError:
                pass

    def _record_server(self, client: _Client, text: Optional[str]) -> None:
        """A server message (None: just the client's start), in the client connection's place in the
        file; the server speaking first is recorded after the request ``connect``, which replays it
        (``_lock`` held)."""
        if not client.spoke:
            client.record(self.transcript.client(CONNECT))
            client.spoke = True
        if text is not None:
            client.record(self.transcript.server(text))

    # -- exchange hooks -----------------------------------------------------------------------------
    def mismatch(self, reason: str) -> list[bytes]:
        warn(reason)
        return []

    def decode(self, replies: list[Item]) -> list[bytes]:
        try:
            return [self.codec.to_bytes(item.text) for item in replies]
        except CaptureMockError as err:
            warn(f"CaptureMock: {self.replay.path}: {err}")
            return []

    def send(self, wire: bytes) -> tuple[list[bytes], list[str]]:
        """Pass a client message on; the server's messages are recorded as they come (``_pump``)."""
        upstream = self._connect_upstream()
        if upstream is None:
            raise ForwardError(f"WARNING: Could not forward to server {self.where}: not connected")
        try:
            upstream.sendall(wire)
        except OSError as err:
            raise ForwardError(f"WARNING: Could not forward to server {self.where}: {err}") from None
        return [], []

    def recorded_request(self, text: str, item: Item) -> Optional[bytes]:
        return None  # the recorded client is played by ``binaryplay``, on one connection

    @property
    def where(self) -> str:
        host, port = self.destination
        return f"{host}:{port}"


class _Client:
    """The connected SUT client: how to send to it and record in its place; whether it spoke yet."""

    __slots__ = ("send", "record", "spoke")

    def __init__(self, send: Callable[[bytes], None], record: Record):
        self.send, self.record, self.spoke = send, record, False


def _read_line(conn) -> bytes:
    line = b""
    while len(line) < MAX_LINE and not line.endswith(b"\n"):
        chunk = conn.recv(1)
        if not chunk:
            break
        line += chunk
    conn.arrived()
    return line
