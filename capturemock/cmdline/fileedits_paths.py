"""Where an intercepted command may edit files: its candidate paths (§7.6)."""
from __future__ import annotations

import os

from ..lazyregex import LazyRegex

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Iterable, Mapping, Optional, Sequence

_CYGDRIVE = LazyRegex(r"^/cygdrive/([A-Za-z])(/|$)")


def candidate_paths(argv: Sequence[str], cwd: str, server_cwd: str,
                    changed_env: Mapping[str, str], home: Optional[str]) -> list[str]:
    """Absolute paths a command may edit (§7.6), duplicates and nested ones dropped, last found first.

    Relative words count when they name something, or (unlike 2.10, which loses what ``touch new`` or
    ``mkdir new`` makes) a path that may be new: any word not starting with ``-``.
    Found in the order cwd, watched variables, arguments, then reversed as 2.10 does: its ``->FIL:``
    items name paths from arguments before those from the environment, and when two edited paths share
    a basename, ``out`` is the later argument and ``out.edit_2`` the earlier one, in record and replay.
    ``argv`` is the whole command line (the program name is not a candidate); ``changed_env`` holds the
    watched variables the SUT set to a value differing from the server's environment.
    """
    cwd_changed = os.path.normpath(cwd) != os.path.normpath(server_cwd)
    found = [cwd] if cwd_changed else []
    found += _env_words(changed_env.values())
    for arg in argv[1:]:
        for word in _arg_words(arg):
            if os.path.isabs(word):
                found.append(word)
            elif word and not cwd_changed and (not word.startswith("-") or os.path.exists(os.path.join(cwd, word))):
                found.append(os.path.join(cwd, word))
    return _outermost([os.path.normpath(path) for path in reversed(found)], home)


def native_path(path: str) -> str:
    """A cygwin ``/cygdrive/x/...`` path as Windows knows it, ``x:/...`` (§7.6); other paths unchanged."""
    if os.name != "nt":
        return path
    return _CYGDRIVE.sub(lambda m: f"{m.group(1)}:/", path)


def _env_words(values: Iterable[str]) -> list[str]:
    """Absolute words of watched variables; path lists (``a:b``) are not paths to edit."""
    return [word for value in values for word in value.split()
            if os.path.isabs(word) and os.pathsep not in word]


def _arg_words(arg: str) -> list[str]:
    """``--dest=out`` names ``out``; any other argument is taken word by word."""
    if arg.startswith("-") and "=" in arg:
        return arg.split("=")[1:]
    return arg.split()


def _outermost(paths: list[str], home: Optional[str]) -> list[str]:
    """Drop repeats and paths inside another candidate, unless that candidate is the home dir."""
    home = os.path.normpath(home) if home else None
    unique = list(dict.fromkeys(paths))
    return [path for path in unique
            if not any(other != home and is_inside(path, other) for other in unique if other != path)]


def is_inside(path: str, directory: str) -> bool:
    """True when path lies strictly below directory (both normalised)."""
    return path.startswith(directory.rstrip(os.sep) + os.sep)
