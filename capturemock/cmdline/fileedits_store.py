"""The record edit directory (§4.3): per ``->FIL:<name>`` a copy of what changed under one candidate."""
from __future__ import annotations

import os
from collections import Counter
from contextlib import contextmanager

from ..lazyregex import LazyRegex
from .fileedits_fs import make_parents, place_file, warn_stderr
from .fileedits_paths import is_inside
from .fileedits_sandbox import EMPTY_DIR, EditRefused, safe_entries
from .fileedits_scan import Edit

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable, Iterator, Tuple

SYMLINK_SUFFIX = ".CAPTUREMOCK_SYMLINK"
DELETION_SUFFIX = ".CAPTUREMOCK_DELETION"
_EDIT_NUMBER = LazyRegex(r"\.edit_\d+$")


def plain_name(fil_name: str) -> str:
    """The edited path's basename: ``out.edit_3`` -> ``out``."""
    return _EDIT_NUMBER.sub("", fil_name)


def link_text(link: str) -> str:
    """What a stored symlink records: its target, relative when it points inside the link's own dir."""
    target = os.readlink(link)
    directory = os.path.dirname(link)
    if os.path.isabs(target) and is_inside(os.path.normpath(target), directory):
        return os.path.relpath(target, directory)
    return target


def stored_entries(stored: str) -> Iterator[Tuple[str, str, str]]:
    """(stored path, path relative to the target, marker suffix or ``EMPTY_DIR``) for everything kept
    under one FIL name.

    Links are listed too (not followed): ``fileedits_sandbox.safe_entries`` refuses them. A file named
    just like a marker is a file: a marker names something."""
    for suffix in (SYMLINK_SUFFIX, DELETION_SUFFIX):
        if os.path.lexists(stored + suffix):
            yield stored + suffix, "", suffix
    if os.path.islink(stored) or os.path.isfile(stored):
        yield stored, "", ""
    elif os.path.isdir(stored):
        for dirpath, dirnames, filenames in os.walk(stored):
            if not (dirnames or filenames):
                yield dirpath, "" if dirpath == stored else os.path.relpath(dirpath, stored), EMPTY_DIR
            links = [name for name in dirnames if os.path.islink(os.path.join(dirpath, name))]
            for name in sorted(filenames + links):
                src = os.path.join(dirpath, name)
                rel = os.path.relpath(src, stored)
                suffix = next((s for s in (SYMLINK_SUFFIX, DELETION_SUFFIX) if name.endswith(s) and name != s), "")
                yield src, rel[:len(rel) - len(suffix)], suffix


class EditStore:
    """Saves edits under unique FIL names: ``out``, then ``out.edit_2``, ``out.edit_3``...

    Not thread-safe: callers save one edit at a time (the numbering depends on the order). Nothing in
    the way of the store's directories is ever removed (``make_parents``): the user named the place.
    """

    def __init__(self, record_edit_dir: str, warn: Callable[[str], None] = warn_stderr):
        self.directory = record_edit_dir
        self.saved: Counter = Counter()
        self.warn = warn

    def save(self, edit: Edit) -> str:
        """Copy the edit's changed files, links (as text) and removals (as empty markers); return its FIL name.

        The command has run and its answer is still to be recorded: a path that cannot be stored (gone
        or changed into a FIFO since the scan, unreadable, the store blocked) is a warning, never a
        failure that would lose the interaction. So is one of ``keep``.
        """
        name = os.path.basename(edit.root)
        self.saved[name] += 1
        fil_name = name if self.saved[name] == 1 else f"{name}.edit_{self.saved[name]}"
        base = os.path.join(self.directory, fil_name)
        entries = [(path, True) for path in edit.removed] + [(path, False) for path in edit.changed]
        for path, removed in entries:
            with self._storing(path):
                _copy(path, self._dest(base, edit.root, path), removed)
        return fil_name

    def keep(self, fil_name: str, replay_edit_dir: str) -> None:
        """A replayed edit that stays in a new (mixed-mode) recording: copy its stored tree into the record
        edit dir under the same name, and never hand that name out for a new edit, so approving the
        new recording loses nothing."""
        name = plain_name(fil_name)
        number = int(fil_name.rsplit("_", 1)[1]) if fil_name != name else 1
        self.saved[name] = max(self.saved[name], number)
        base = os.path.join(self.directory, fil_name)
        entries = stored_entries(os.path.join(replay_edit_dir, fil_name))
        for src, rel, suffix in safe_entries(entries, replay_edit_dir, _already_reported):
            dest = os.path.join(base, rel) if rel else base
            with self._storing(src):
                if suffix == EMPTY_DIR:
                    os.makedirs(dest, exist_ok=True)
                else:
                    place_file(src, dest + suffix)

    @contextmanager
    def _storing(self, path: str) -> Iterator[None]:
        """Storing one path: failing is a warning, and the other paths are still stored."""
        try:
            yield
        except FileNotFoundError:
            pass  # removed again before it could be copied: nothing left to record
        except OSError as err:
            self.warn(f"WARNING: CaptureMock could not store the edit of {path}: {err.strerror or err}")

    @staticmethod
    def _dest(base: str, root: str, path: str) -> str:
        return base if path == root else os.path.join(base, os.path.relpath(path, root))


def _already_reported(refusal: EditRefused) -> None:
    """``keep`` follows a restore, which reported what it refused: a refused entry is just left out."""


def _copy(path: str, dest: str, removed: bool) -> None:
    """Store one path of an edit at ``dest``: a removal as an empty marker, a link as its text, an empty
    directory (the scan's ``EMPTY_DIR``) as one."""
    if removed:
        _write(dest + DELETION_SUFFIX, "")
    elif os.path.islink(path):
        _write(dest + SYMLINK_SUFFIX, link_text(path) + "\n")
    elif os.path.isdir(path):
        os.makedirs(dest, exist_ok=True)
    else:
        place_file(path, dest)


def _write(path: str, text: str) -> None:
    make_parents(path)
    with open(path, "w", encoding="utf-8", errors="surrogateescape") as handle:
        handle.write(text)
