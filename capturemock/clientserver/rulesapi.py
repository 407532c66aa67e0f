"""The configuration endpoint of the run-time HTTP rules (``httprules``):

* ``GET /capturemock/rules`` lists them (JSON, each with its ``id``);
* ``POST /capturemock/rules`` with a rule as JSON adds one: ``201 {"id": "<id>"}``;
* ``DELETE /capturemock/rules/<id>`` removes one: ``200 {"deleted": "<id>"}``, 404 if there is none;
* ``DELETE /capturemock/rules`` removes them all: ``200 {"deleted": ["<id>", ...]}``.

Changing rules makes the server act, so it needs the session token in the ``X-CaptureMock-Token``
header (product spec §3, "Only you drive the server"); without it: 403 and a message saying so.
Nothing here is recorded.
"""
from __future__ import annotations

import json

from ..cmdline.request import same_token
from .httprules import Rules
from .httptext import Message

TYPE_CHECKING = False  # typing is not imported at run time: ~20 M instructions of the HTTP server's start-up
if TYPE_CHECKING:
    from typing import Any, Iterable, Optional

RULES_PATH = "/capturemock/rules"
MAX_NESTING = 64  # JSON levels a rule may have: far more than any rule needs, far less than json can take
TOKEN_HEADER = "X-CaptureMock-Token"
REFUSED = (f"CaptureMock: changing replay rules needs this session's CAPTUREMOCK_TOKEN in the "
           f"{TOKEN_HEADER} header")


def is_rules_path(path: str) -> bool:
    return path == RULES_PATH or path.startswith(f"{RULES_PATH}/")


def _json(status: int, value: Any) -> Message:
    return Message(str(status), json.dumps(value).encode(), [("Content-Type", "application/json")])


def _text(status: int, text: str) -> Message:
    return Message(str(status), f"{text}\n".encode(), [("Content-Type", "text/plain; charset=utf-8")])


class RulesEndpoint:
    def __init__(self, rules: Rules, token: Optional[str]):
        self.rules = rules
        self.token = token  # None: this server has no session token, so no one may change rules

    def handle(self, method: str, path: str, body: bytes, headers: Iterable[tuple[str, str]]) -> Message:
        rule_id = path[len(RULES_PATH) + 1:]
        if method == "GET" and not rule_id:
            return _json(200, self.rules.listing())
        if method not in ("POST", "DELETE") or (method == "POST" and rule_id):
            return _text(405, f"CaptureMock: {method} {path} is not a rules request (GET, POST or DELETE "
                              f"{RULES_PATH}, DELETE {RULES_PATH}/<id>)")
        if not has_token(headers, self.token):
            return _text(403, REFUSED)
        if method == "DELETE" and not rule_id:
            return _json(200, {"deleted": self.rules.clear()})
        if method == "DELETE":
            if self.rules.remove(rule_id):
                return _json(200, {"deleted": rule_id})
            return _text(404, f"CaptureMock: there is no replay rule {rule_id!r}")
        return self._add(body)

    def _add(self, body: bytes) -> Message:
        """A rule deeper than ``MAX_NESTING`` is refused like any invalid one: json cannot decode one
        much deeper (RecursionError), and one it could would fail when listed back."""
        too_deep = _text(400, f"CaptureMock: not a replay rule: JSON nested more than {MAX_NESTING} levels")
        try:
            spec = json.loads(body or b"null")
            if nesting(spec) > MAX_NESTING:
                return too_deep
            return _json(201, {"id": self.rules.add(spec)})
        except RecursionError:
            return too_deep
        except ValueError as err:  # bad JSON too (JSONDecodeError is a ValueError)
            return _text(400, f"CaptureMock: not a replay rule: {err}")


def nesting(value: Any) -> int:
    """How many levels decoded JSON has (level by level: no recursion limit to run into)."""
    levels, level = 0, [value]
    while level:
        levels += 1
        level = [child for item in level if isinstance(item, (dict, list))
                 for child in (item.values() if isinstance(item, dict) else item)]
    return levels


def has_token(headers: Iterable[tuple[str, str]], token: Optional[str]) -> bool:
    """Whether the request carries this session's token (never, when the server has none)."""
    given = next((value for name, value in headers if name.lower() == TOKEN_HEADER.lower()), None)
    return bool(token and given) and same_token(given, token)
