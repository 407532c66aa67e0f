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
    else:
        reason = _refusal(existing if existing != path else os.path.dirname(path))
        if reason is None:
            return
    raise ConfigError(f"cannot {doing} {path}: {reason}")


def _refusal(directory: str) -> str | None:
    """Why nothing can be created in ``directory``, found by trying: ``os.access`` says yes to root on a
    read-only or virtual file system (/proc, /sys, a read-only mount), where the first record would
    fail. An existing record file is replaced, not appended to, so its directory is what counts."""
    probe = os.path.join(directory, f".capturemock-probe-{os.getpid()}")
    try:
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        os.unlink(probe)
    except OSError as err:
        return f"{directory} is not writable ({err.strerror})"
    return None
