"""The recorded client CaptureMock plays when the server is the SUT (§8.2, replay).

Every ``<-SRV`` item, whatever its text, is one occurrence of a single key: the location message and
each reply of the live server release the next batch of recorded ``->CLI`` messages, in order. Order,
not content, drives it. Unlike the original the batches do not wrap around once used up: a live
server answering more often than recorded would otherwise be sent the recording again, forever.
"""
from __future__ import annotations

import threading

from ..mockfile import Item

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable, Optional


class ClientScript:
    def __init__(self, items: list[Item]):
        self._batches: list[list[Item]] = []
        for item in items:
            if item.from_sut and item.type == "SRV":
                self._batches.append([])
            elif self._batches and not item.from_sut:
                self._batches[-1].append(item)
        self._used = 0
        self._lock = threading.Lock()

    def next_batch(self) -> list[Item]:
        """The client messages released by the next message from the server (none once used up)."""
        with self._lock:
            if self._used >= len(self._batches):
                return []
            self._used += 1
            return self._batches[self._used - 1]

    def released_all(self) -> bool:
        """Whether every batch was released: every recorded server message has come."""
        with self._lock:
            return self._used >= len(self._batches)

    def play(self, send: Callable[[Item], Optional[str]]) -> None:
        """Release the batch of one server message, then depth first the batch of each non-empty reply
        that ``send`` returns: a reply comes before the rest of the batch that caused it."""
        pending = [iter(self.next_batch())]
        while pending:
            item = next(pending[-1], None)
            if item is None:
                pending.pop()
            elif send(item):
                pending.append(iter(self.next_batch()))

    def unused(self) -> list[Item]:
        """The recorded client messages no server message released (``report_unused``)."""
        with self._lock:
            return [item for batch in self._batches[self._used:] for item in batch]
