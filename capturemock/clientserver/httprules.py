"""HTTP answers given by rules added at run time (product spec §3, a seed's wish).

A rule names any combination of a method, a path and query parameters, and the response to give::

    {"method": "GET", "path": "/items", "query": {"page": "2"},
     "response": {"status": 200, "body": "...", "headers": {"Content-Type": "text/plain"}}}

A request matches when it has the rule's method (any case), exactly the rule's path (without the query)
and, for each parameter the rule names, exactly the values given (a string, or a list for a repeated
parameter, in order); parameters the rule does not name are ignored, so a rule naming nothing matches
every request. When several rules match, the most specific answers (the one naming the most of method,
path and query parameters), among equals the one added last: a composite rule refines a broad one, and
a test can shadow a rule and remove its own again. A ``body`` that is not a string is sent as JSON (with ``Content-Type:
application/json`` unless the rule gives one).
"""
from __future__ import annotations

import itertools
import json
import threading
from typing import Any, NamedTuple, Optional
from urllib.parse import parse_qs

from .httptext import Message

RULE_KEYS = frozenset(("method", "path", "query", "response"))
RESPONSE_KEYS = frozenset(("status", "body", "headers"))


class Rule(NamedTuple):
    id: str
    method: Optional[str]
    path: Optional[str]
    query: dict[str, list[str]]
    response: Message
    spec: dict  # as given, for listing

    @property
    def specificity(self) -> int:
        return (self.method is not None) + (self.path is not None) + len(self.query)

    def matches(self, method: str, path: str, query: dict[str, list[str]]) -> bool:
        return ((self.method is None or self.method == method.upper())
                and (self.path is None or self.path == path)
                and all(query.get(name) == values for name, values in self.query.items()))


def split_target(target: str) -> tuple[str, dict[str, list[str]]]:
    """``/items?page=2&tag=a`` -> (``/items``, {"page": ["2"], "tag": ["a"]})."""
    path, _, query = target.partition("?")
    return path, parse_qs(query, keep_blank_values=True)


def make_rule(rule_id: str, spec: Any) -> Rule:
    """The rule ``spec`` (decoded JSON) describes; ValueError naming what is wrong with it."""
    if not isinstance(spec, dict):
        raise ValueError("a rule is a JSON object")
    _no_unknown_keys(spec, RULE_KEYS, "rule")
    method, path = _optional_text(spec, "method"), _optional_text(spec, "path")
    if path is not None and (not path.startswith("/") or "?" in path):
        raise ValueError(f"path {path!r} must start with '/' and have no query (put that under 'query')")
    return Rule(rule_id, method and method.upper(), path, _query(spec.get("query") or {}),
                _response(spec.get("response")), spec)


def _no_unknown_keys(given: dict, known: frozenset, what: str) -> None:
    unknown = sorted(set(given) - known)
    if unknown:
        raise ValueError(f"unknown {what} key(s) {', '.join(unknown)} (use {', '.join(sorted(known))})")


def _optional_text(spec: dict, key: str) -> Optional[str]:
    value = spec.get(key)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{key} must be a string")
    return value


def _query(query: Any) -> dict[str, list[str]]:
    if not isinstance(query, dict):
        raise ValueError("query must be an object of parameter names and values")
    values = {name: [value] if isinstance(value, str) else value for name, value in query.items()}
    for name, given in values.items():
        if not isinstance(given, list) or not all(isinstance(value, str) for value in given):
            raise ValueError(f"query parameter {name!r} must be a string or a list of strings")
    return values


def _response(response: Any) -> Message:
    if not isinstance(response, dict):
        raise ValueError("a rule needs a response object (status, body, headers)")
    _no_unknown_keys(response, RESPONSE_KEYS, "response")
    status = response.get("status", 200)
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise ValueError(f"status {status!r} is not an HTTP status")
    headers = response.get("headers") or {}
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise ValueError("headers must be an object of header names and string values")
    body = response.get("body", "")
    if not isinstance(body, str):
        body = json.dumps(body)
        if not any(name.lower() == "content-type" for name in headers):
            headers = {"Content-Type": "application/json", **headers}
    return Message(str(status), body.encode("utf-8"), sorted(headers.items(), key=lambda pair: pair[0].lower()))


class Rules:
    """The rules of one server session: changed one at a time, read by every request."""

    def __init__(self):
        # least specific first, then in the order added (a stable sort); replaced, never changed in place:
        # requests read it unlocked
        self._rules: tuple[Rule, ...] = ()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def add(self, spec: Any) -> str:
        """Add the rule ``spec`` describes; its id. ValueError if it is not a valid rule."""
        with self._lock:
            rule = make_rule(str(next(self._ids)), spec)
            self._rules = tuple(sorted(self._rules + (rule,), key=lambda known: known.specificity))
        return rule.id

    def remove(self, rule_id: str) -> bool:
        with self._lock:
            kept = tuple(rule for rule in self._rules if rule.id != rule_id)
            removed, self._rules = len(kept) != len(self._rules), kept
        return removed

    def listing(self) -> list[dict]:
        """In the order they were added."""
        return [dict(rule.spec, id=rule.id) for rule in sorted(self._rules, key=lambda rule: int(rule.id))]

    def answer(self, method: str, target: str) -> Optional[Message]:
        """The response of the most specific, then newest, rule matching the request, if any."""
        rules = self._rules
        if not rules:
            return None
        path, query = split_target(target)
        for rule in reversed(rules):
            if rule.matches(method, path, query):
                return rule.response
        return None
