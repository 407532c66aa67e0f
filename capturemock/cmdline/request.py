"""A shim's command request as data: decoded from the wire fields of ``shim.py``, never evaluated."""
from __future__ import annotations

import os

from . import shim

TYPE_CHECKING = False  # typing is not imported at run time: it is a third of the server's start-up
if TYPE_CHECKING:
    from typing import Optional

_MAX_FIELDS = 1 << 20
_MAX_FIELD = 1 << 28
_MAX_TOKEN = 1 << 10


class CommandRequest:
    """What a shim sends: session token, cwd, argv, the whole environment. (A plain class: importing
    dataclasses costs the server several ms of start-up.)"""

    __slots__ = ("token", "cwd", "argv", "env")

    def __init__(self, token: str, cwd: str, argv: list[str], env: dict[str, str]):
        self.token = token
        self.cwd = cwd
        self.argv = argv
        self.env = env

    @property
    def program(self) -> str:
        return os.path.basename(self.argv[0])


def _text(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


class RefusedRequest(ValueError):
    """A request that does not carry the session token."""


def read_request(conn, token: Optional[str] = None) -> CommandRequest:
    """Read the fields that follow ``shim.MAGIC``; raises ValueError on anything malformed and
    RefusedRequest as soon as the first field shows the wrong token, before reading (and holding in
    memory) whatever a stranger sends after it."""
    count = shim.read_u32(conn)
    if count < 3 or count > _MAX_FIELDS:
        raise ValueError(f"bad field count {count}")
    fields = []
    for _ in range(count):
        size = shim.read_u32(conn)
        limit = _MAX_FIELD if fields else _MAX_TOKEN
        data = shim.read_exact(conn, size) if size <= limit else b""
        if len(data) != size:
            raise ValueError("truncated field")
        if not fields and token is not None and not same_token(_text(data), token):
            raise RefusedRequest("wrong session token")
        fields.append(data)
    token, cwd, argc_text = fields[:3]
    argc = int(argc_text)
    if not 1 <= argc <= count - 3:
        raise ValueError(f"bad argument count {argc}")
    argv = [_text(arg) for arg in fields[3:3 + argc]]
    env = dict(_text(entry).partition("=")[::2] for entry in fields[3 + argc:])
    return CommandRequest(_text(token), _text(cwd), argv, env)


def same_token(given: str, expected: str) -> bool:
    """Constant-time comparison (``hmac.compare_digest`` is this function: hmac would start OpenSSL)."""
    try:
        from _operator import _compare_digest
    except ImportError:
        from hmac import compare_digest as _compare_digest
    return _compare_digest(given.encode(), expected.encode())
