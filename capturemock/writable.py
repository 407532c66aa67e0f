"""Output paths checked before anything runs: a record file or edit store that cannot be written would
otherwise fail every intercepted call, and lose what it should have kept."""
from __future__ import annotations

import os

from .errors import ConfigError


def check_writable(path: str, doing: str, *, directory: bool) -> None:
    """Refuse an output path that cannot be written as a file (or created as a directory) without
    removing something of the user's. Found only when the first item is recorded, it would fail every
    request, and lose it."""
    path = os.path.abspath(path)
    existing = path
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if existing == path and os.path.isdir(path) != directory:
        reason = "it is not a directory" if directory else "it is a directory"
    elif existing != path and not os.path.isdir(existing):
        reason = f"{existing} is not a directory"
    elif not os.access(existing, os.W_OK):
        reason = f"{existing} is not writable"
    else:
        return
    raise ConfigError(f"cannot {doing} {path}: {reason}")
