"""Writing into the record edit store (§4.3); restoring into the SUT's tree goes through ``fileedits_sandbox``."""
from __future__ import annotations

import os
import stat
import sys


def make_parents(path: str) -> None:
    """Create path's missing parent dirs. A file or link in the way is an OSError: the user named the
    store's place, and a user's file is never deleted."""
    os.makedirs(os.path.dirname(path), exist_ok=True)


def place_file(src: str, dst: str) -> None:
    """Copy content and mode; a file or link already at dst is replaced, never written through.

    The copy stays writable by its owner: stored data is often read-only, and a later copy must replace it.
    """
    make_parents(dst)
    if os.path.islink(dst) or os.path.isfile(dst):
        os.unlink(dst)
    import shutil  # here: shutil (re, bz2, lzma) is ~30 M instructions of a run that edits no files

    shutil.copyfile(src, dst)
    os.chmod(dst, stat.S_IMODE(os.stat(src).st_mode) | stat.S_IWUSR)


def warn_stderr(message: str) -> None:
    """The default way to report a file that could not be stored or restored: the server's stderr,
    which the launcher relays when the server stops."""
    sys.stderr.write(f"{message}\n")
