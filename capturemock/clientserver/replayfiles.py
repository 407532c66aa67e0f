"""The replay file of a client/server session, read on first use: a traffic server that only ever
serves command-line shims (the default classic protocol) must not load a large mock twice. Either
reading brings the file into the form of its role (``roles``): one recording replays either side."""
from __future__ import annotations

import threading

from .. import mockfile
from ..lazyregex import LazyRegex
from ..replay import ReplayIndex
from ..replaypolicy import WARN
from .roles import SERVER_FORM_HEAD, client_form, server_form
from .script import ClientScript
from .settings import Settings

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

# the requests this family replays: client messages and custom-client requests (the mock file may
# hold command-line traffic too, which the command handler's own index reports)
REQUEST_TYPES = ("CLI", "CAL")
_TRAFFIC = LazyRegex(r"(?m)^(<-|->)(CLI|CAL):")


class ReplayFiles:
    def __init__(self, path: str, settings: Settings):
        self.path = path
        self.settings = settings
        self._index: Optional[ReplayIndex] = None
        self._script: Optional[ClientScript] = None
        self._lock = threading.Lock()

    @property
    def index(self) -> ReplayIndex:
        """Recorded requests and their answers, for playing the server (§5)."""
        index = self._index
        if index is not None:  # once read, every request: no lock
            return index
        with self._lock:
            if self._index is None:
                self._index = self._read_index()
            return self._index

    def _read_index(self) -> ReplayIndex:
        # the command handler's index of the same file has logged the recorded requests (Replay log)
        options = {"exact": self.settings.exact, "on_best_match": self.settings.on_best_match,
                   "report_unused": self.settings.report_unused, "describe": False, **self.settings.breaks}
        index = ReplayIndex.from_file(self.path, **options)
        if index.has_item_head(SERVER_FORM_HEAD):  # recorded with the server as SUT: seldom, so read again
            index = ReplayIndex(client_form(mockfile.parse(index.text)), **options)
            index.path = self.path
        return index

    @property
    def script(self) -> Optional[ClientScript]:
        """The recorded client, for playing it when the server is the SUT (§8.2); None with
        ``record_for_client``, where the client is the SUT."""
        if self.settings.record_for_client:
            return None
        with self._lock:
            if self._script is None:
                self._script = ClientScript(server_form(mockfile.read(self.path, **self.settings.breaks)))
            return self._script

    def report(self, played_client: bool) -> list[str]:
        """``on_best_match = warn`` and ``report_unused``: the end-of-replay lines. ``played_client``:
        the server was the SUT, so the recorded client messages were sent (``script``) and those never
        released are the unused ones; else the recorded requests nothing looked up. An index never
        built borrowed nothing; it is built now only to list unused requests, if the file has any."""
        if not (self.settings.on_best_match == WARN or self.settings.report_unused):
            return []
        if played_client:
            if not self.settings.report_unused or self._script is None:
                return []
            from ..explain import unused  # with difflib and typing: only when there is something to say

            return [unused(f"{self.path}:{item.line}", item.description) for item in self._script.unused()]
        if self._index is None and not (self.settings.report_unused and _TRAFFIC.search(mockfile.read_text(self.path))):
            return []
        return self.index.report(REQUEST_TYPES)
