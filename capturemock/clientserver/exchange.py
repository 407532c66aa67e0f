"""One client/server exchange, whatever the protocol (§8.2): the skeleton every protocol shares.

A request either gets its answer from the mock (CaptureMock plays the server: the client is the
SUT), or is forwarded to the real server with both sides recorded (record), or, in sealed replay, is
refused instead of forwarded. When the server is the SUT, the recorded client is played to it
(``_play``). The skeleton takes the replay lock, looks the request up, answers a mismatch, applies
alterations, records both sides in the session's direction, folds repeats and writes the debug log.

A protocol is a subclass giving only its encode/decode hooks, over its own ``Wire`` (the request as
it is sent on: bytes, an HTTP message, a method call) and ``Answer`` (what its client is sent back):

    mismatch(reason)        the answer to a request the mock cannot answer (exact matching, §2.5)
    decode(replies)         the answer made of the recorded (altered) replies; None: answer nothing
    send(wire)              forward to ``self.destination``: (answer, reply text to record, or a list of
                            them when the reply is several messages, each recorded as an item); raises
                            ``ForwardError`` with the stderr line when the real server cannot be reached
    recorded_request(text)  a recorded client message (variables restored) as a Wire, to play it
    where                   the destination as the messages name it
and, where the default does not fit:
    failed(status, line)    the answer when there is none to give, saying why (``line``, also on
                            stderr): the real server unreachable (``UNREACHABLE``), sealed replay
                            refusing to forward (``SEALED``), no recorded reply (``NO_REPLY``);
                            default: none, the connection closes unanswered
    stand_in(wire)          an answer given in place of the server before the mock (HTTP rules)
    lookup(key)             the recorded request answering ``key`` and its replies (default: the index)
    to_live(key, text, r)   replies with recorded IDs mapped to live ones (§5.7)
    named(wire, text)       the request in one line, for refusals
    repeat_section(wire)    the rc section whose ``check_repeated_calls`` folds repeats (§5.6), if any
    recorded_reply(a, r)    the forwarded answer as recorded items (default: one ``->SRV`` per reply
                            message; FTP writes a listing or a file ahead of it)

The protocol's connection handler decodes the request into (text, wire), calls ``exchange`` and
encodes the answer; its location message sets ``destination``, records ``transcript.location`` and
calls ``_play``. A new protocol is that handler plus these hooks.
"""
from __future__ import annotations

import threading

from ..errors import CaptureMockError, CaptureMockReplayError
from ..mockfile import Item
from ..typed import Generic, TypeVar
from .location import warn
from .repeats import Repeats
from .replayfiles import ReplayFiles
from .sealing import Seal, first_line
from .serverlog import QUIET, QuietLog
from .traffic import Transcript

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Optional, Union

    Record = Callable[[Union[str, list[str]]], None]  # a list: the text in parts (``Transcript.replayed``)
    Reply = Union[str, list[str]]  # what a forward records: one reply, or several messages
# the HTTP statuses of the answers that say why there is no answer (``failed``)
UNREACHABLE, SEALED, NO_REPLY = "502", "500", "500"
Wire = TypeVar("Wire")
Answer = TypeVar("Answer")


class ForwardError(CaptureMockError):
    """The real server could not be reached or answered nonsense; the message is what stderr says."""


class Exchange(Generic[Wire, Answer]):
    """The replay / forward / play skeleton of one server session (see the module docstring)."""

    destination: Optional[Any] = None
    repeats: Optional[Repeats[Answer]] = None

    def __init__(self, transcript: Transcript, replay: Optional[ReplayFiles] = None, seal: Optional[Seal] = None,
                 log: QuietLog = QUIET):
        self.transcript = transcript
        self.replay = replay
        self.seal = seal  # sealed replay: a request the mock does not answer is never forwarded
        self.log = log
        self._replay_lock = threading.Lock()  # response groups are consumed one request at a time (§5.5)

    # -- hooks ----------------------------------------------------------------------------------------
    def mismatch(self, reason: str) -> Optional[Answer]:
        raise NotImplementedError

    def decode(self, replies: list[Item]) -> Optional[Answer]:
        raise NotImplementedError

    def send(self, wire: Wire) -> tuple[Answer, Reply]:
        raise NotImplementedError

    def recorded_request(self, text: str, item: Item) -> Optional[Wire]:
        raise NotImplementedError

    @property
    def where(self) -> str:
        return str(self.destination)

    def failed(self, status: str, line: str) -> Optional[Answer]:
        """The answer saying why there is no answer (``status``: the HTTP status it would have);
        None: close the connection unanswered."""
        return None

    def stand_in(self, wire: Wire) -> Optional[tuple[Answer, str]]:
        return None

    def lookup(self, key: str) -> tuple[Optional[str], list[Item]]:
        """A miss under exact matching raises CaptureMockReplayError."""
        return key, self.replay.index.lookup(key) or []

    def to_live(self, key: Optional[str], text: str, replies: list[Item]) -> list[Item]:
        return replies

    def named(self, wire: Wire, text: str) -> str:
        return first_line(text)

    def repeat_section(self, wire: Wire) -> Optional[str]:
        return None

    def recorded_reply(self, answer: Answer, reply: Reply) -> str:
        """The items a forwarded answer is recorded as: one ``->SRV`` per reply message (several: a UDP
        broadcast's replies)."""
        replies = [reply] if isinstance(reply, str) else reply
        return "".join(self.transcript.server(each) for each in replies)

    # -- the skeleton ---------------------------------------------------------------------------------
    def exchange(self, text: str, wire: Wire, record: Record) -> Optional[Answer]:
        """The answer to one request (``text`` as recorded); None when there is none to give (§2.5, §8.2)."""
        if self.log.on:
            self.log.processing(self.log.client, text)
        if not self.transcript.server_is_sut:  # a stand-in or the mock plays the server, never a SUT server
            given = self.stand_in(wire)
            if given is not None:
                answer, reply = given
                self._use_up_recording(text)
                record(self.transcript.client(text) + self.transcript.server(reply))
                self.log.responded(self.log.server, reply)
                return answer
            if self.replay is not None:
                return self._replay(text, wire, record)
        if self.seal is not None and self.destination is not None:
            return self.failed(SEALED, self.seal.refuse(self.named(wire, text), self.where))
        return self._forward(text, wire, record)[0]

    def _use_up_recording(self, text: str) -> None:
        """In replay, a request a stand-in answers uses up its recorded answer (the stand-in's, recorded
        while recording): the same request after the rule is removed gets the answer recorded after it."""
        if self.replay is not None:
            with self._replay_lock:
                self.replay.index.lookup_exact(self.transcript.request_key(text))

    def _replay(self, text: str, wire: Wire, record: Record) -> Optional[Answer]:
        """The recorded answer (§5.3); under exact matching a mismatch is answered, not recorded."""
        section = self.repeat_section(wire) if self.repeats is not None else None
        if section is not None:
            previous = self.repeats.previous(section, text)
            if previous is not None:
                return previous[0]  # §5.6: answered as before, not recorded again
        try:
            with self._replay_lock:
                key, group = self.lookup(self.transcript.request_key(text))
        except CaptureMockReplayError as err:
            return self.mismatch(f"CAPTUREMOCK MISMATCH: {err}")
        replies = []
        for item in group:
            if not item.prefix.startswith("<-"):  # not from the SUT (``from_sut``, without its call)
                altered = self.transcript.alter(item.text)
                replies.append(item if altered is item.text else item._replace(text=altered))
        replies = self.to_live(key, text, replies)
        record(self.transcript.replayed(self.transcript.client(text), replies))
        if self.log.on:
            for item in replies:
                self.log.responded(self.log.server, item.text)
        if not replies:
            return self._no_reply(wire, text)
        answer = self.decode(replies)
        if section is not None and answer is not None:
            self.repeats.served(section, text, (answer, replies[0].text))
        return answer

    def _no_reply(self, wire: Wire, text: str) -> Optional[Answer]:
        """The mock holds nothing to answer with: said on stderr too, when the protocol answers it."""
        line = f"CaptureMock: no recorded response to {self.named(wire, text)!r} in {self.replay.path}"
        answer = self.failed(NO_REPLY, line)
        if answer is not None:
            warn(line)
        return answer

    def _forward(self, text: str, wire: Wire, record: Record) -> tuple[Optional[Answer], Reply]:
        """Send to the real server and record both sides; with no destination just the request (§8.2).
        The answer and the reply text ("" when there is none)."""
        if self.destination is None:
            record(self.transcript.client(text))
            return None, ""
        section = self.repeat_section(wire) if self.repeats is not None else None
        previous = self.repeats.previous(section, text) if section is not None else None
        try:
            answer, reply = self.send(wire)
        except ForwardError as err:
            warn(str(err))
            return self.failed(UNREACHABLE, str(err).partition("\n")[0]), ""
        replies = [reply] if isinstance(reply, str) else reply  # several messages: UDP broadcast
        if previous is None or reply != previous[1]:  # §5.6: an identical repeat is not written again
            record(self.transcript.client(text) + self.recorded_reply(answer, reply))
        for each in replies:
            self.log.responded(self.log.server, each)
        if section is not None:
            self.repeats.served(section, text, (answer, reply))
        return answer, reply

    # -- replay as the client when the server is the SUT (§8.2) ---------------------------------------
    def _play(self, record: Record) -> None:
        script = self.replay.script if self.replay is not None else None
        if script is not None and self.transcript.server_is_sut:
            script.play(lambda item: self._play_request(item, record))

    def _play_request(self, item: Item, record: Record) -> Reply:
        """Send one recorded client message to the live server; its reply (may release the next batch)."""
        wire = self.recorded_request(self.transcript.alterations.restore_variables(item.text), item)
        return "" if wire is None else self._forward(item.text, wire, record)[1]
