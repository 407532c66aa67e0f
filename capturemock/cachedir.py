"""A private per-user directory for what capturemock builds once and the SUT's processes then use.

Only a directory of our own that nobody else can write to may hold things the SUT will run or import
(a shared /tmp fallback could otherwise be planted by another user).
"""
from __future__ import annotations

import os

TYPE_CHECKING = False  # typing is not imported at run time: ~3 ms of every capturemock command
if TYPE_CHECKING:
    from typing import Callable, Iterator, Optional

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def candidate_dirs() -> Iterator[str]:
    """The user's cache (XDG, else ~/.cache), then a per-user directory in the temp dir."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    yield os.path.join(base, "capturemock")
    import tempfile  # only where the cache will not do: its imports (shutil, re, random) are ~40 M instructions

    yield os.path.join(tempfile.gettempdir(), f"capturemock-{os.getuid()}")


def is_private(directory: str) -> bool:
    """Create ``directory`` if needed; true if it is ours alone (owned by us, writable by nobody else)."""
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        info = os.lstat(directory)
    except OSError:
        return False
    return info.st_uid == os.getuid() and not info.st_mode & 0o022 and not os.path.islink(directory)


def first_private(make: Callable[[str], Optional[str]]) -> Optional[str]:
    """The first result of ``make(directory)`` over the private candidate directories."""
    for directory in candidate_dirs():
        if is_private(directory):
            result = make(directory)
            if result:
                return result
    return None


def import_path() -> Optional[str]:
    """A directory holding only a link named ``capturemock`` to this package.

    Appended to the SUT's PYTHONPATH, it lets whatever Python the SUT starts import capturemock (so its
    processes are intercepted) without exposing anything else installed beside the package.
    """
    import hashlib

    def make(directory: str) -> Optional[str]:
        digest = hashlib.sha256(PACKAGE_DIR.encode("utf-8", "surrogateescape")).hexdigest()[:16]
        path_dir = os.path.join(directory, f"path-{digest}")
        link = os.path.join(path_dir, "capturemock")
        try:
            if os.path.realpath(link) != os.path.realpath(PACKAGE_DIR):
                os.makedirs(path_dir, mode=0o700, exist_ok=True)
                temporary = f"{link}.{os.getpid()}"
                os.symlink(PACKAGE_DIR, temporary)
                os.replace(temporary, link)  # atomic: concurrent set-ups never see a half-made link
        except OSError:
            return None
        return path_dir

    return first_private(make)
