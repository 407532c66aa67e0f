"""The replay file of a client/server session, read on first use: a traffic server that only ever
serves command-line shims (the default classic protocol) must not load a large mock twice."""
from __future__ import annotations

import threading
from typing import Optional

from ..replay import ReplayIndex
from .script import ClientScript
from .settings import Settings


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
        with self._lock:
            if self._index is None:
                self._index = ReplayIndex.from_file(self.path, exact=self.settings.exact, **self.settings.breaks)
            return self._index

    @property
    def script(self) -> Optional[ClientScript]:
        """The recorded client, for playing it when the server is the SUT (§8.2); None with
        ``record_for_client``, where the client is the SUT."""
        if self.settings.record_for_client:
            return None
        with self._lock:
            if self._script is None:
                self._script = ClientScript.from_file(self.path, **self.settings.breaks)
            return self._script
