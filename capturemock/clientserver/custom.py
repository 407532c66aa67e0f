"""The custom client protocol (§8.4): any program records ``SUT_CUSTOM:<request>:SUT_SEP:<response>``
(having done the real work itself) and replays with ``SUT_CUSTOM:<request>``, reading the recorded
response. Recorded as ``<-CAL:<request>`` / ``->RET:<response>``; alterations apply to both parts."""
from __future__ import annotations

import threading

from ..errors import CaptureMockReplayError
from .classic import MAX_MESSAGE, decode, encode
from .replayfiles import ReplayFiles
from .serverlog import CUSTOM, CUSTOM_REPLY, QUIET, QuietLog
from .traffic import Transcript

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable, Optional

SEPARATOR = ":SUT_SEP:"


class CustomClients:
    def __init__(self, transcript: Transcript, replay: Optional[ReplayFiles] = None, log: QuietLog = QUIET):
        self.transcript = transcript
        self.replay = replay
        self.log = log
        self._replay_lock = threading.Lock()

    def __call__(self, conn, record: Callable[[str], None]) -> None:
        """Handles a connection whose ``SUT_CUSTOM:`` prefix the Dispatcher has consumed."""
        message = decode(conn.read_to_end(MAX_MESSAGE))
        self.log.received(f"SUT_CUSTOM:{message}")
        request, separator, response = message.partition(SEPARATOR)
        self.log.processing(CUSTOM, request)
        for reply in self._answer(conn, record, request, response if separator else None):
            self.log.responded(CUSTOM_REPLY, reply)
        self.log.finished()

    def _answer(self, conn, record: Callable[[str], None], request: str, response: Optional[str]) -> list[str]:
        """Record the request with the ``response`` the client sent, or answer it from the mock; the
        responses it got."""
        alter, item = self.transcript.alter, self.transcript.item
        if response is not None:
            record(item("<-", "CAL", alter(request)) + item("->", "RET", alter(response)))
            return [response]
        if self.replay is None:
            record(item("<-", "CAL", alter(request)))
            return []
        try:
            with self._replay_lock:
                group = self.replay.index.lookup(f"<-CAL:{alter(request)}") or []
        except CaptureMockReplayError as err:
            conn.sendall(encode(f"CAPTUREMOCK MISMATCH: {err}"))
            return []
        replies = [alter(reply.text) for reply in group if reply.type == "RET"]
        record(item("<-", "CAL", alter(request)) + "".join(item("->", "RET", reply) for reply in replies))
        conn.sendall(encode("".join(replies)))
        return replies
