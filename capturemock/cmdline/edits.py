"""Adapts ``fileedits`` (pure filesystem code) to what the command handler needs for one session."""
from __future__ import annotations

import threading

from ..errors import MockFileError
from ..mockfile import Item
from . import fileedits
from .fileedits_fs import warn_stderr
from .fileedits_sandbox import EditRefused, Sandbox
from .request import CommandRequest

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable, Mapping, Optional


class SessionFileEdits:
    """FIL items for one server session: snapshots before recorded commands, stored copies, restores."""

    def __init__(self, record_dir: Optional[str], replay_dir: Optional[str], ignore_names: list[str],
                 base_cwd: str, base_env: Mapping[str, str], *, keep_replayed: bool = False,
                 allow_outside: bool = False):
        self.store = fileedits.EditStore(record_dir) if record_dir else None
        self.replay_dir = replay_dir
        self.ignore_names = ignore_names
        self.base_cwd = base_cwd
        self.base_env = base_env
        self.watch = fileedits.AsyncWatch()
        self.keep_replayed = keep_replayed and self.store is not None  # mixed mode: replayed edits stay recorded
        self.lock = threading.Lock()  # the store names edits .edit_N: one save at a time
        self.sandbox = Sandbox(base_cwd, allow_outside)
        self.replayed_async: list[str] = []  # candidates of asynchronous commands replayed so far (§7.7)

    def candidates(self, request: CommandRequest, watched: list[str]) -> list[str]:
        changed = {name: request.env[name] for name in watched
                   if name in request.env and request.env[name] != self.base_env.get(name)}
        return fileedits.candidate_paths(request.argv, request.cwd, self.base_cwd, changed, request.env.get("HOME"))

    def snapshot(self, request: CommandRequest, watched: list[str], asynchronous: bool) -> object:
        if self.store is None:
            return None
        snapshot = fileedits.Snapshot.take(self.candidates(request, watched), self.ignore_names)
        if asynchronous:
            with self.lock:
                self.watch.add(snapshot)
        return snapshot

    def changes(self, snapshot: object) -> list[str]:
        if snapshot is None:
            return []
        with self.lock:
            edits = snapshot.changes()
            self.watch.absorb(edits)  # so an asynchronous watch does not report them a second time
            return [self.store.save(edit) for edit in edits]

    def async_changes(self) -> list[str]:
        if self.store is None:
            return []
        with self.lock:
            return [self.store.save(edit) for edit in self.watch.collect()]

    def restore(self, items: list[Item], request: CommandRequest, watched: list[str],
                mock_path: Optional[str], asynchronous: bool = False) -> list[str]:
        """Restore the ``->FIL:`` items of one replayed command; the names for the new transcript.

        A refusal is one line on stderr naming the mock file and line, and its item stays in the new
        transcript: the mock's data is refused, never lost. Items with nothing stored or no candidate to
        go to are dropped (§7.6).
        """
        candidates = self._replay_candidates(request, watched, asynchronous)
        used: set[str] = set()
        names = []
        for item in items:
            refuse = _reporter(mock_path, item.line)
            try:
                target = fileedits.restore(item.text, self.replay_dir, candidates, used, self.sandbox, refuse=refuse)
            except EditRefused as err:  # not a plain name: nothing of it was read
                refuse(err)
                names.append(item.text)
                continue
            if target is not None:
                names.append(item.text)
                self._keep(item.text)
        return names

    def _replay_candidates(self, request: CommandRequest, watched: list[str], asynchronous: bool) -> list[str]:
        """The command's own candidates, then those of the asynchronous commands replayed before it: a
        background job's edit was recorded with whichever request came next (§7.7), and 2.10 restores
        it there onto the path it was made under."""
        own = self.candidates(request, watched)
        with self.lock:
            candidates = list(dict.fromkeys(own + self.replayed_async))
            if asynchronous:
                self.replayed_async += [path for path in own if path not in self.replayed_async]
        return candidates

    def _keep(self, name: str) -> None:
        """Mixed mode: a replayed edit stays recorded, its stored tree copied to the new edit dir."""
        if self.keep_replayed:
            with self.lock:
                self.store.keep(name, self.replay_dir)


def _reporter(mock_path: Optional[str], line: int) -> Callable[[EditRefused], None]:
    """Refusals of one ``->FIL:`` item as one stderr line naming the mock file and the item's line."""
    return lambda refusal: warn_stderr(str(MockFileError(str(refusal), mock_path or "replay file", line)))
