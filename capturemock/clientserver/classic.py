"""Classic plain-text TCP (§8.3): one message per connection; the client sends, half-closes and reads
until the server closes. CaptureMock forwards and records (record), answers from the mock when it
plays the server (client as SUT), or plays the recorded client against the live server (server as SUT).
"""
from __future__ import annotations

import threading
from typing import Callable, Optional

from ..errors import CaptureMockReplayError
from ..mockfile import Item
from .location import exchange, parse_host_port, warn
from .replayfiles import ReplayFiles
from .sealing import Seal, first_line
from .serverlog import QUIET, QuietLog
from .traffic import Transcript

Record = Callable[[str], None]
MAX_MESSAGE = 1 << 28
RESET_WARNING = ("WARNING: Server process reset the connection while TextTest's 'fake client' was trying "
                 "to read a response from it!")


def decode(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


class ClassicSession:
    """The classic handlers of one server session, sharing the destination and the replay state."""

    def __init__(self, transcript: Transcript, replay: Optional[ReplayFiles] = None, seal: Optional[Seal] = None,
                 log: QuietLog = QUIET):
        self.transcript = transcript
        self.replay = replay
        self.seal = seal  # sealed replay: a message the mock does not answer is never forwarded
        self.log = log
        self.destination: Optional[tuple[str, int]] = None
        self._replay_lock = threading.Lock()  # response groups are consumed one request at a time (§5.5)

    # -- handlers (the Dispatcher has consumed any SUT_SERVER: prefix) ------------------------------
    def location_message(self, conn, record: Record) -> None:
        """``SUT_SERVER:<text ending in host:port>``; free text without an address is recorded too."""
        text = decode(conn.read_to_end(MAX_MESSAGE))
        self.log.received(f"SUT_SERVER:{text}")
        self.log.processing(self.log.location, text)
        address = parse_host_port(text)
        if address is not None:
            self.destination = address
        record(self.transcript.location(text))
        self.log.finished()
        conn.sock.close()  # the SUT may wait for our (empty) answer before it starts serving
        script = self.replay.script if self.replay is not None else None
        if script is not None and self.transcript.server_is_sut:
            script.play(lambda item: self._play_client(item, record))

    def client_message(self, conn, record: Record) -> None:
        data = conn.read_to_end(MAX_MESSAGE)
        text = decode(data)
        self.log.received(text)
        self.log.processing(self.log.client, text)
        if self.replay is not None and not self.transcript.server_is_sut:
            conn.sendall(encode(self._replay(text, record)))
        elif self.seal is not None and self.destination is not None:
            host, port = self.destination
            self.seal.refuse(first_line(text), f"{host}:{port}")  # closed unanswered
        else:
            reply = self._forward(text, data, record)
            if reply:
                conn.sendall(reply)
        self.log.finished()

    # -- replay as the server ------------------------------------------------------------------------
    def _replay(self, text: str, record: Record) -> str:
        """The recorded answer (§5.3); under exact matching a mismatch is answered, not recorded (§2.5)."""
        try:
            with self._replay_lock:
                group = self.replay.index.lookup(self.transcript.request_key(text)) or []
        except CaptureMockReplayError as err:
            return f"CAPTUREMOCK MISMATCH: {err}"
        replies = [self.transcript.alter(item.text) for item in group if not item.from_sut]
        record(self.transcript.client(text) + "".join(self.transcript.server(reply, altered=True) for reply in replies))
        for reply in replies:
            self.log.responded(self.log.server, reply)
        return "".join(replies)

    # -- record: forward to the real server ----------------------------------------------------------
    def _forward(self, text: str, data: bytes, record: Record) -> bytes:
        """Send to the real server and record both sides; with no destination just the message (§8.2)."""
        if self.destination is None:
            record(self.transcript.client(text))
            return b""
        try:
            reply = exchange(self.destination, data)
        except ConnectionResetError:
            warn(RESET_WARNING)
            return b""
        except OSError as err:
            host, port = self.destination
            warn(f"WARNING: Could not forward to server {host}:{port}: {err}\n-- {text}")
            return b""
        record(self.transcript.client(text) + self.transcript.server(decode(reply)))
        self.log.responded(self.log.server, decode(reply))
        return reply

    def _play_client(self, item: Item, record: Record) -> str:
        """Send one recorded client message to the live server; its reply (may release the next batch)."""
        return decode(self._forward(item.text, encode(item.text), record))
