"""The configuration endpoint of the run-time HTTP rules (``httprules``):

* ``GET /capturemock/rules`` lists them (JSON, each with its ``id``);
* ``POST /capturemock/rules`` with a rule as JSON adds one: ``201 {"id": "<id>"}``;
* ``DELETE /capturemock/rules/<id>`` removes one: ``200 {"deleted": "<id>"}``, 404 if there is none.

Changing rules makes the server act, so it needs the session token in the ``X-CaptureMock-Token``
header (product spec §3, "Only you drive the server"); without it: 403 and a message saying so.
Nothing here is recorded.
"""
from __future__ import annotations

import hmac
import json
from typing import Any, Iterable, Optional

from .httprules import Rules
from .httptext import Message

RULES_PATH = "/capturemock/rules"
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
        if method not in ("POST", "DELETE") or bool(rule_id) != (method == "DELETE"):
            return _text(405, f"CaptureMock: {method} {path} is not a rules request (GET or POST {RULES_PATH}, "
                              f"DELETE {RULES_PATH}/<id>)")
        if not self._allowed(headers):
            return _text(403, REFUSED)
        if method == "DELETE":
            if self.rules.remove(rule_id):
                return _json(200, {"deleted": rule_id})
            return _text(404, f"CaptureMock: there is no replay rule {rule_id!r}")
        try:
            return _json(201, {"id": self.rules.add(json.loads(body or b"null"))})
        except ValueError as err:  # bad JSON too (JSONDecodeError is a ValueError)
            return _text(400, f"CaptureMock: not a replay rule: {err}")

    def _allowed(self, headers: Iterable[tuple[str, str]]) -> bool:
        given = next((value for name, value in headers if name.lower() == TOKEN_HEADER.lower()), None)
        return bool(self.token and given) and hmac.compare_digest(given.encode(), self.token.encode())
