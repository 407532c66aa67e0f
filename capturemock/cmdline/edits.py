"""Adapts ``fileedits`` (pure filesystem code) to what the command handler needs for one session."""
from __future__ import annotations

import threading
from typing import Mapping, Optional

from . import fileedits
from .request import CommandRequest


class SessionFileEdits:
    """FIL items for one server session: snapshots before recorded commands, stored copies, restores."""

    def __init__(self, record_dir: Optional[str], replay_dir: Optional[str], ignore_names: list[str],
                 base_cwd: str, base_env: Mapping[str, str], *, keep_replayed: bool = False):
        self.store = fileedits.EditStore(record_dir) if record_dir else None
        self.replay_dir = replay_dir
        self.ignore_names = ignore_names
        self.base_cwd = base_cwd
        self.base_env = base_env
        self.watch = fileedits.AsyncWatch()
        self.keep_replayed = keep_replayed and self.store is not None  # mixed mode: replayed edits stay recorded
        self.lock = threading.Lock()  # the store names edits .edit_N: one save at a time

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

    def restore(self, names: list[str], request: CommandRequest, watched: list[str]) -> list[str]:
        candidates = self.candidates(request, watched)
        used: set[str] = set()
        restored = [name for name in names
                    if fileedits.restore(name, self.replay_dir, candidates, used) is not None]
        if self.keep_replayed:
            with self.lock:
                for name in restored:
                    self.store.keep(name, self.replay_dir)
        return restored
