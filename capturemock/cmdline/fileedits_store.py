"""The record edit directory (§4.3): per ``->FIL:<name>`` a copy of what changed under one candidate."""
from __future__ import annotations

import os
import re
from collections import Counter
from typing import Iterator, Tuple

from .fileedits_fs import make_parents, place_file
from .fileedits_paths import is_inside
from .fileedits_scan import Edit

SYMLINK_SUFFIX = ".CAPTUREMOCK_SYMLINK"
DELETION_SUFFIX = ".CAPTUREMOCK_DELETION"
_EDIT_NUMBER = re.compile(r"\.edit_\d+$")


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
    """(stored path, path relative to the target, marker suffix) for everything kept under one FIL name."""
    for suffix in (SYMLINK_SUFFIX, DELETION_SUFFIX):
        if os.path.isfile(stored + suffix):
            yield stored + suffix, "", suffix
    if os.path.isfile(stored):
        yield stored, "", ""
    elif os.path.isdir(stored):
        for dirpath, _, filenames in os.walk(stored):
            for name in sorted(filenames):
                src = os.path.join(dirpath, name)
                rel = os.path.relpath(src, stored)
                suffix = next((s for s in (SYMLINK_SUFFIX, DELETION_SUFFIX) if rel.endswith(s)), "")
                yield src, rel[:len(rel) - len(suffix)], suffix


class EditStore:
    """Saves edits under unique FIL names: ``out``, then ``out.edit_2``, ``out.edit_3``...

    Not thread-safe: callers save one edit at a time (the numbering depends on the order).
    """

    def __init__(self, record_edit_dir: str):
        self.directory = record_edit_dir
        self.saved: Counter = Counter()

    def save(self, edit: Edit) -> str:
        """Copy the edit's changed files, links (as text) and removals (as empty markers); return its FIL name."""
        name = os.path.basename(edit.root)
        self.saved[name] += 1
        fil_name = name if self.saved[name] == 1 else f"{name}.edit_{self.saved[name]}"
        base = os.path.join(self.directory, fil_name)
        for path in edit.removed:
            _write(self._dest(base, edit.root, path) + DELETION_SUFFIX, "")
        for path in edit.changed:
            try:
                if os.path.islink(path):
                    _write(self._dest(base, edit.root, path) + SYMLINK_SUFFIX, link_text(path) + "\n")
                else:
                    place_file(path, self._dest(base, edit.root, path))
            except FileNotFoundError:
                continue  # removed again before it could be copied: nothing left to record
        return fil_name

    def keep(self, fil_name: str, replay_edit_dir: str) -> None:
        """A replayed edit that stays in a new (mixed-mode) recording: copy its stored tree into the record
        edit dir under the same name, and never hand that name out for a new edit, so approving the
        new recording loses nothing."""
        name = plain_name(fil_name)
        number = int(fil_name.rsplit("_", 1)[1]) if fil_name != name else 1
        self.saved[name] = max(self.saved[name], number)
        base = os.path.join(self.directory, fil_name)
        for src, rel, suffix in stored_entries(os.path.join(replay_edit_dir, fil_name)):
            place_file(src, (os.path.join(base, rel) if rel else base) + suffix)

    @staticmethod
    def _dest(base: str, root: str, path: str) -> str:
        return base if path == root else os.path.join(base, os.path.relpath(path, root))


def _write(path: str, text: str) -> None:
    make_parents(path)
    with open(path, "w", encoding="utf-8", errors="surrogateescape") as handle:
        handle.write(text)
