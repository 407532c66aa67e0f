"""Classic plain-text TCP (§8.3): one message per connection; the client sends, half-closes and reads
until the server closes. CaptureMock forwards and records (record), answers from the mock when it
plays the server (client as SUT), or plays the recorded client against the live server (server as SUT).
"""
from __future__ import annotations

from ..mockfile import Item
from .exchange import Exchange, ForwardError
from .location import exchange, parse_host_port

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable, Optional

    Record = Callable[[str], None]

MAX_MESSAGE = 1 << 28
RESET_WARNING = ("WARNING: Server process reset the connection while TextTest's 'fake client' was trying "
                 "to read a response from it!")


def decode(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


class ClassicSession(Exchange[bytes, str]):
    """The classic handlers of one server session, sharing the destination and the replay state."""

    destination: Optional[tuple[str, int]] = None

    # -- handlers (the Dispatcher has consumed any SUT_SERVER: prefix) ------------------------------
    def location_message(self, conn, record: Record) -> None:
        """``SUT_SERVER:<text ending in host:port>``; free text without an address is recorded too."""
        text = decode(conn.read_to_end(MAX_MESSAGE))
        self.log.received(f"SUT_SERVER:{text}")
        self.take_location(text, record)
        conn.sock.close()  # the SUT may wait for our (empty) answer before it starts serving
        self._play(record)

    def take_location(self, text: str, record: Record) -> None:
        """Where the real server is, if ``text`` ends in ``host:port``; recorded either way."""
        self.log.processing(self.log.location, text)
        address = parse_host_port(text)
        if address is not None:
            self.destination = address
        record(self.transcript.location(text))
        self.log.finished()

    def client_message(self, conn, record: Record) -> None:
        data = conn.read_to_end(MAX_MESSAGE)
        text = data.decode("utf-8", "surrogateescape")  # ``decode``, without its call: every message
        if self.log.on:
            self.log.received(text)
        answer = self.exchange(text, data, record)
        if answer:
            conn.sock.sendall(answer.encode("utf-8", "surrogateescape"))
        if self.log.on:
            self.log.finished()

    # -- the exchange hooks: a message is its text; a sealed or failed forward closes unanswered ------
    def mismatch(self, reason: str) -> str:
        return reason

    def decode(self, replies: list[Item]) -> str:
        return replies[0].text if len(replies) == 1 else "".join(item.text for item in replies)

    def send(self, wire: bytes) -> tuple[str, str]:
        try:
            reply = decode(exchange(self.destination, wire))
        except ConnectionResetError:
            raise ForwardError(RESET_WARNING) from None
        except OSError as err:
            raise ForwardError(f"WARNING: Could not forward to server {self.where}: {err}\n-- {decode(wire)}") from None
        return reply, reply

    def recorded_request(self, text: str, item: Item) -> bytes:
        return encode(text)

    @property
    def where(self) -> str:
        host, port = self.destination
        return f"{host}:{port}"
