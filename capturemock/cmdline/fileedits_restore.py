"""Replaying a ``->FIL:<name>`` item: put the stored tree back onto one of the command's candidates (§7.6)."""
from __future__ import annotations

import os

from .fileedits_fs import warn_stderr
from .fileedits_paths import native_path
from .fileedits_sandbox import EditRefused, Sandbox, check_fil_name, safe_entries
from .fileedits_store import DELETION_SUFFIX, EMPTY_DIR, SYMLINK_SUFFIX, plain_name, stored_entries

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable, Optional, Sequence


def restore(fil_name: str, replay_edit_dir: Optional[str], candidates: Sequence[str], used: set,
            sandbox: Optional[Sandbox] = None, *, warn: Callable[[str], None] = warn_stderr,
            refuse: Optional[Callable[[EditRefused], None]] = None) -> Optional[str]:
    """Apply the stored edit to the chosen candidate through ``sandbox`` (by default one for the current
    directory, the server's working directory) and return it (added to ``used``).

    None when nothing is stored under that name or no candidate fits: the FIL item is then dropped.
    Entries the sandbox refuses go to ``refuse`` (default: ``warn`` their text), entries that cannot be
    placed are reported through ``warn``; either way the other entries are still restored. A name that
    is not a plain file name raises ``EditRefused`` before anything is read.
    """
    check_fil_name(fil_name)
    if not replay_edit_dir:
        return None
    refuse = refuse or (lambda err: warn(str(err)))
    sandbox = sandbox or Sandbox(os.getcwd())
    stored = os.path.join(replay_edit_dir, fil_name)
    found = list(stored_entries(stored))
    if not found:
        return None
    entries = list(safe_entries(found, replay_edit_dir, refuse))
    target = choose_target(fil_name, os.path.isdir(stored), [native_path(path) for path in candidates], used)
    if target is None:
        return None
    used.add(target)
    # removals first: a path that was deleted and then created again under another type is stored as both
    for order in (DELETION_SUFFIX, EMPTY_DIR, "", SYMLINK_SUFFIX):
        for src, rel, suffix in entries:
            if suffix == order:
                dst = os.path.join(target, rel) if rel else target
                try:
                    _apply(sandbox, src, target, dst, suffix)
                except EditRefused as err:
                    refuse(err)
                except OSError:
                    warn(f"Could not transfer {src} to {dst}")
    return target


def choose_target(fil_name: str, stored_is_dir: bool, candidates: Sequence[str], used: set) -> Optional[str]:
    """The unused candidate named like the edit, else the one sharing most of its name with it.

    A fallback must be of the same kind as the stored edit (dir or file) and share at least one leading
    or trailing character; candidates named ``*.edit_*`` never win it.
    """
    name = plain_name(fil_name)
    free = [path for path in candidates if path not in used]
    for path in free:
        if os.path.basename(path) == name:
            return path
    scored = [(_likeness(name, os.path.basename(path)), path) for path in free
              if ".edit_" not in os.path.basename(path) and os.path.lexists(path)
              and os.path.isdir(path) == stored_is_dir]
    best = max(scored, key=lambda pair: pair[0], default=(0, None))
    return best[1] if best[0] > 0 else None


def _likeness(a: str, b: str) -> int:
    """Length of the common prefix plus length of the common suffix."""
    return _common_prefix(a, b) + _common_prefix(a[::-1], b[::-1])


def _common_prefix(a: str, b: str) -> int:
    return len(os.path.commonprefix([a, b]))


def _apply(sandbox: Sandbox, src: str, target: str, dst: str, suffix: str) -> None:
    if suffix == DELETION_SUFFIX:
        sandbox.remove(target, dst)
    elif suffix == EMPTY_DIR:
        sandbox.make_dir(target, dst)
    elif suffix == SYMLINK_SUFFIX:
        with open(src, encoding="utf-8", errors="surrogateescape") as handle:
            sandbox.place_link(handle.read().rstrip("\n"), target, dst)
    else:
        sandbox.place_file(src, target, dst)
