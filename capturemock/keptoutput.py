"""What a traffic server writes while it runs, kept to be shown when it stops: bounded, because a peer
sending junk makes the server write a warning per message, and a long run must not grow without end.
The start and the end are kept (where a failure and its consequence are usually said); what lies
between is counted and named in one line."""
from __future__ import annotations

from collections import deque

from .typed import Generic, TypeVar

AnyStr = TypeVar("AnyStr", str, bytes)
HALF = 1 << 19  # characters (or bytes) kept at each end


class KeptOutput(Generic[AnyStr]):
    def __init__(self, empty: AnyStr):
        self._empty = empty
        self._head: list[AnyStr] = []
        self._head_size = 0
        self._tail: deque[AnyStr] = deque()
        self._tail_size = 0
        self._dropped = 0

    def add(self, chunk: AnyStr) -> None:
        if self._head_size < HALF:
            room = HALF - self._head_size
            self._head.append(chunk[:room])
            self._head_size += min(room, len(chunk))
            chunk = chunk[room:]
        if not chunk:
            return
        self._tail.append(chunk)
        self._tail_size += len(chunk)
        while self._tail_size - len(self._tail[0]) >= HALF:
            first = self._tail.popleft()
            self._tail_size -= len(first)
            self._dropped += len(first)

    def joined(self) -> AnyStr:
        head = self._empty.join(self._head)
        tail = self._empty.join(self._tail)
        if not self._dropped:
            return head + tail
        note = f"\n... ({self._dropped} more characters of server output not kept) ...\n"
        return head + (note if isinstance(head, str) else note.encode()) + tail
