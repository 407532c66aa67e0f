"""HTTP repeat handling (§5.6): with ``check_repeated_calls = False`` in a method's section (``[GET]``),
a request identical to one already served since the last state-changing request is answered as before
and not recorded again. What is kept of an answer is the protocol's answer and its recorded text."""
from __future__ import annotations

import threading

from ..config import RcConfig
from ..typed import Generic, TypeVar

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

Answer = TypeVar("Answer")


class Repeats(Generic[Answer]):
    """The answers served since the last state-changing request, by request text."""

    def __init__(self, config: RcConfig, assume_all_can_modify: bool):
        self.config = config
        self.assume_all_can_modify = assume_all_can_modify
        self._served: dict[str, tuple[Answer, str]] = {}
        self._lock = threading.Lock()
        self._ignored: dict[str, bool] = {}  # by method: asked twice per request, the rc files never change

    def ignores(self, method: str) -> bool:
        """Whether repeats of this method are folded (the section is the method name, §3.3)."""
        ignored = self._ignored.get(method)
        if ignored is None:
            ignored = self._ignored[method] = not self.config.getboolean("check_repeated_calls", [method], True)
        return ignored

    def changes_state(self, method: str) -> bool:
        return self.assume_all_can_modify or method != "GET"

    def previous(self, method: str, request: str) -> Optional[tuple[Answer, str]]:
        """The answer an identical earlier request got, when repeats of ``method`` are folded; a
        state-changing request forgets everything served before it."""
        ignored = self.ignores(method)
        changes = self.changes_state(method)
        if not (ignored or changes and self._served):  # the usual GET: nothing to give, nothing to forget
            return None
        with self._lock:
            if changes:
                self._served.clear()
            return self._served.get(request) if ignored else None

    def served(self, method: str, request: str, answer: tuple[Answer, str]) -> None:
        if self.ignores(method):
            with self._lock:
                self._served[request] = answer
