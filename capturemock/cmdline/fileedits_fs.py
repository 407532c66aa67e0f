"""Putting files, links and removals in place, whatever blocks the way (shared by storing and restoring)."""
from __future__ import annotations

import os
import shutil
import stat
import sys


def make_parents(path: str, *, clear_way: bool = True) -> None:
    """Create path's missing parent dirs. With ``clear_way`` files or links that stand where a dir must
    be are replaced: right when restoring into the SUT's tree (§7.6), which replay is meant to set.
    Without it (the record edit store, below a directory the user named) they are an OSError: a user's
    file is never deleted."""
    parent = os.path.dirname(path)
    if not clear_way:
        os.makedirs(parent, exist_ok=True)
        return
    if os.path.isdir(parent):
        return
    make_parents(parent)
    if os.path.lexists(parent):
        os.unlink(parent)
    os.mkdir(parent)


def place_file(src: str, dst: str, *, clear_way: bool = True) -> None:
    """Copy content and mode; a file or link already at dst is replaced, never written through.
    ``clear_way`` is passed to ``make_parents``.

    The copy stays writable by its owner: stored data is often read-only, the SUT's files should not be.
    """
    make_parents(dst, clear_way=clear_way)
    if os.path.islink(dst) or os.path.isfile(dst):
        os.unlink(dst)
    shutil.copyfile(src, dst)
    os.chmod(dst, stat.S_IMODE(os.stat(src).st_mode) | stat.S_IWUSR)


def place_link(target: str, dst: str) -> None:
    """A symlink at dst pointing at target; an existing link is kept, a file in the way replaced."""
    if os.path.islink(dst):
        return
    make_parents(dst)
    if os.path.isfile(dst):
        os.unlink(dst)
    os.symlink(target, dst)


def remove(path: str) -> None:
    """Remove a file, link or whole tree; nothing to do when it is already gone."""
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.unlink(path)


def warn_stderr(message: str) -> None:
    """The default way to report a file that could not be stored or restored: the server's stderr,
    which the launcher relays when the server stops."""
    sys.stderr.write(f"{message}\n")
