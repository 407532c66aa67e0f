"""Finding what a command changed on disk: snapshots of (mtime, size) and the edits since (§7.6, §7.7)."""
from __future__ import annotations

import os
from collections import namedtuple
from stat import S_ISLNK, S_ISREG

from .fileedits_paths import is_inside

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Dict, Iterable, Optional, Tuple

    Stat = Tuple[int, int]  # (mtime in ns, size): nanoseconds so quick rewrites are still seen
    State = Dict[str, Stat]
# A candidate that is an empty directory, such as ``mkdir -p new`` leaves: an entry of its own, as no
# file under it would show it
EMPTY_DIR: Stat = (0, -1)


class Edit(namedtuple("Edit", ("root", "changed", "removed"), defaults=((), ()))):
    """Changes under one candidate path (``root``): new/changed files and links (``changed``), and the
    highest removed paths (``removed``), tuples of paths. ``collections.namedtuple``: importing
    dataclasses (and inspect) cost every server ~8 ms, and ``typing`` ~3.5 ms."""

    __slots__ = ()


class Snapshot:
    """What lies under some candidate paths, so that a command's edits can be found afterwards."""

    def __init__(self, states: Dict[str, State], ignore_names: frozenset):
        self.states = states
        self.ignore_names = ignore_names

    @classmethod
    def take(cls, candidates: Iterable[str], ignore_names: Iterable[str] = ()) -> Snapshot:
        ignore = frozenset(ignore_names)
        return cls({root: _scan(root, ignore) for root in candidates}, ignore)

    @property
    def candidates(self) -> list[str]:
        return list(self.states)

    def changes(self) -> list[Edit]:
        """One edit per candidate that changed since the last look; the snapshot then moves forward."""
        edits = []
        for root, before in self.states.items():
            now = _scan(root, self.ignore_names)
            self.states[root] = now
            changed = tuple(sorted(path for path, stat in now.items() if before.get(path) != stat))
            removed = _highest_removed({path for path in set(before) - set(now)
                                        if before[path] != EMPTY_DIR or not os.path.isdir(path)}, root)
            if changed or removed:
                edits.append(Edit(root, changed, removed))
        return edits

    def absorb(self, edit: Edit) -> None:
        """Take edits already recorded for another command as known, so they are not reported twice."""
        for root, state in self.states.items():
            for path in edit.removed:
                for known in [known for known in state if known == path or is_inside(known, path)]:
                    del state[known]
            for path in edit.changed:
                stat = _entry(path) if path == root or is_inside(path, root) else None
                if stat is not None:
                    state[path] = stat


class AsyncWatch:
    """Snapshots of asynchronous commands, looked at again whenever a later request arrives (§7.7)."""

    def __init__(self) -> None:
        self.snapshots: list[Snapshot] = []

    def add(self, snapshot: Snapshot) -> None:
        """Keep watching an asynchronous command's candidates, from where ``snapshot`` last looked."""
        self.snapshots.append(snapshot)

    def collect(self) -> list[Edit]:
        """Edits since the last look, to be recorded before the next request line."""
        return [edit for snapshot in self.snapshots for edit in snapshot.changes()]

    def absorb(self, edits: Iterable[Edit]) -> None:
        """Edits just recorded for a synchronous command: not to be reported again by the watch."""
        for edit in edits:
            for snapshot in self.snapshots:
                snapshot.absorb(edit)


def _scan(root: str, ignore: frozenset) -> State:
    """Every file and symlink (symlinked dirs included, not followed) under root, minus ignored names;
    root as ``EMPTY_DIR`` if there are none. FIFOs, sockets and devices are left out (see ``_stat``)."""
    if not os.path.isdir(root):
        stat = _stat(root)
        return {root: stat} if stat else {}
    state: State = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [name for name in dirnames if name not in ignore]
        links = [name for name in dirnames if os.path.islink(os.path.join(dirpath, name))]
        for name in filenames + links:
            if name not in ignore:
                path = os.path.join(dirpath, name)
                stat = _stat(path)
                if stat is not None:
                    state[path] = stat
    return state or {root: EMPTY_DIR}


def _stat(path: str) -> Optional[Stat]:
    """None for what is gone, and for what is neither a regular file nor a symlink: a FIFO, socket or
    device has no content to store (copying a FIFO would block, or fail), so it is no file edit."""
    try:
        info = os.lstat(path)
    except OSError:
        return None
    if not (S_ISREG(info.st_mode) or S_ISLNK(info.st_mode)):
        return None
    return info.st_mtime_ns, info.st_size


def _entry(path: str) -> Optional[Stat]:
    """What a scan finds at path, when it finds something there."""
    stat = _stat(path)
    return EMPTY_DIR if stat is None and os.path.isdir(path) else stat


def _highest_removed(removed: set, root: str) -> Tuple[str, ...]:
    """Each removed path as its highest removed ancestor whose parent directory still exists."""
    tops = set()
    for path in removed:
        while path != root and not os.path.isdir(os.path.dirname(path)):
            path = os.path.dirname(path)
        tops.add(path)
    return tuple(sorted(tops))
