"""HTTP answers given by rules added at run time (product spec §3, issue 14): stand-ins for a server,
at the SUT's own paths, in the same proxy that records or replays the rest.

A rule says which requests it answers and how::

    {"method": "GET", "path": "/items", "query": {"page": "2", "debug": null},
     "response": {"status": 200, "body": "...", "headers": {"Content-Type": "text/plain"}}}

Which requests (every condition given must hold; none given: every request):

- ``method`` (any case); one of ``path`` (exactly), ``path_glob`` (``*`` and ``?`` within one path
  segment, ``**`` across them) or ``path_regex`` (the whole path; named groups are ``match`` in a
  template); the query is never part of the path;
- ``query``: for each named parameter, in any order among the others, a string (exactly that value), a
  list (those values, in any order), ``null`` (the parameter must be absent) or ``true`` (present, any
  value); parameters the rule does not name are ignored;
- ``body``: ``{"contains": "text"}`` and/or ``{"json": {...}}`` (the request's JSON body has these fields
  with these values; objects are compared field by field, so the rule names only what matters);
- ``times``: answer this many requests, then stand aside (the request goes on to less specific rules,
  the mock, the real server).

How: ``response`` (given as is; a ``body`` that is not a string is sent as JSON), ``template`` (the same
shape, computed from the request: ``ruletemplate``; ``data`` holds JSON it may read) or, in a server
running in the test's own process, a Python callable (``Rules.add(..., respond=...)``) given a
``Request`` and returning a response object. ``delay`` (seconds) waits before answering.

When several rules match, the most specific answers (the one naming the most conditions), among equals
the one added last: a composite rule refines a broad one, and a test can shadow a rule and remove its
own again. A rule that cannot answer (a template or callable failing) answers 500 with the reason.
"""
from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections import namedtuple
from urllib.parse import parse_qs

from .httptext import Headers, Message
from .location import warn
from .ruletemplate import Headers as TemplateHeaders
from .ruletemplate import Template, TemplateError, compile_json

TYPE_CHECKING = False  # typing is not imported at run time: ~20 M instructions of the HTTP server's start-up
if TYPE_CHECKING:
    from typing import Any, Callable, Optional

    Respond = Callable[["Request"], dict]
    Condition = Callable[["Request"], bool]

RULE_KEYS = frozenset(("method", "path", "path_glob", "path_regex", "query", "body", "times", "delay", "data",
                       "response", "template"))
RESPONSE_KEYS = frozenset(("status", "body", "headers"))
BODY_KEYS = frozenset(("contains", "json"))
PATH_KEYS = ("path", "path_glob", "path_regex")
MAX_DELAY = 60.0  # seconds: enough to test a client's timeout, short enough that a typo cannot hang a run
JSON_TYPE = ("Content-Type", "application/json")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_UNREAD = object()  # Request.json not decoded yet


class Request:
    """One request as a rule's callable sees it: ``param``, ``header`` and ``json`` read it."""

    def __init__(self, method: str, target: str, body: bytes = b"", headers: Headers = ()):
        self.method = method.upper()
        self.target = target
        self.path, _, query = target.partition("?")
        self.query: dict[str, list[str]] = parse_qs(query, keep_blank_values=True)
        self.body = body
        self.headers = list(headers)
        self.match: dict[str, str] = {}  # the named groups of the answering rule's path_regex
        self._json: Any = _UNREAD

    def param(self, name: str, default: Optional[str] = None) -> Optional[str]:
        """The query parameter's first value."""
        return self.query.get(name, [default])[0]

    def header(self, name: str, default: Optional[str] = None) -> Optional[str]:
        return next((value for key, value in self.headers if key.lower() == name.lower()), default)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        """The body as JSON; ValueError if it is not."""
        if self._json is _UNREAD:
            try:
                self._json = json.loads(self.body)
            except ValueError as err:
                self._json = err
        if isinstance(self._json, ValueError):
            raise self._json
        return self._json

    def scope(self, data: Any) -> dict:
        """The names a template reads."""
        try:
            body_json = self.json()
        except ValueError:
            body_json = None
        return {"method": self.method, "path": self.path, "match": self.match, "body": self.text,
                "query": {name: values[0] for name, values in self.query.items()},
                "headers": TemplateHeaders(self.headers), "json": body_json, "data": data}


class Rule(namedtuple("Rule", ("id", "method", "path", "conditions", "times", "delay", "respond", "spec"))):
    """``id`` str; ``method`` str or None (any); ``path`` None (any) or a callable giving the path's named
    groups when it matches, else None; ``conditions`` (``Condition``s) on query and body; ``times`` int or
    None; ``delay`` float; ``respond`` Request -> Message; ``spec`` the rule as given, for listing."""

    __slots__ = ()

    @property
    def specificity(self) -> int:
        return (self.method is not None) + (self.path is not None) + len(self.conditions)

    def matches(self, request: Request) -> bool:
        """Whether the rule answers ``request`` (``request.match`` is then set)."""
        if self.method is not None and self.method != request.method:
            return False
        groups = self.path(request.path) if self.path is not None else {}
        if groups is None or not all(condition(request) for condition in self.conditions):
            return False
        request.match = groups
        return True


def make_rule(rule_id: str, spec: Any, respond: Optional[Respond] = None) -> Rule:
    """The rule ``spec`` (decoded JSON) describes, answered by ``respond`` if given; ValueError naming
    what is wrong with it."""
    if not isinstance(spec, dict):
        raise ValueError("a rule is a JSON object")
    _no_unknown_keys(spec, RULE_KEYS, "rule")
    method = _optional_text(spec, "method")
    conditions = _query(spec.get("query") or {}) + _body(spec.get("body"))
    answer = _answer(spec, respond)
    if respond is not None:
        spec = dict(spec, respond=f"{getattr(respond, '__module__', '?')}.{getattr(respond, '__qualname__', '?')}")
    return Rule(rule_id, method and method.upper(), _path(spec), conditions, _times(spec.get("times")),
                _delay(spec.get("delay", 0)), answer, spec)


def _no_unknown_keys(given: dict, known: frozenset, what: str) -> None:
    unknown = sorted(set(given) - known)
    if unknown:
        raise ValueError(f"unknown {what} key(s) {', '.join(unknown)} (use {', '.join(sorted(known))})")


def _optional_text(spec: dict, key: str) -> Optional[str]:
    value = spec.get(key)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{key} must be a string")
    return value


# -- which requests -------------------------------------------------------------------------------------
def _path(spec: dict) -> Optional[Callable[[str], Optional[dict]]]:
    given = [key for key in PATH_KEYS if spec.get(key) is not None]
    if len(given) > 1:
        raise ValueError(f"give only one of {', '.join(PATH_KEYS)}")
    if not given:
        return None
    key, pattern = given[0], _optional_text(spec, given[0])
    if key != "path_regex" and (not pattern.startswith("/") or (key == "path" and "?" in pattern)):
        raise ValueError(f"{key} {pattern!r} must start with '/' and have no query (put that under 'query')")
    if key == "path":
        return lambda path: {} if path == pattern else None
    try:
        compiled = re.compile(pattern if key == "path_regex" else _glob(pattern))
    except re.error as err:
        raise ValueError(f"path_regex {pattern!r} is not a regular expression: {err}") from None
    return lambda path: _groups(compiled.fullmatch(path))


def _glob(pattern: str) -> str:
    parts = re.split(r"(\*\*|\*|\?)", pattern)
    wild = {"**": ".*", "*": "[^/]*", "?": "[^/]"}
    return "".join(wild.get(part) or re.escape(part) for part in parts)


def _groups(found: Optional[re.Match]) -> Optional[dict]:
    return None if found is None else {name: value for name, value in found.groupdict().items() if value is not None}


def _query(query: Any) -> tuple[Condition, ...]:
    if not isinstance(query, dict):
        raise ValueError("query must be an object of parameter names and values")
    return tuple(_parameter(name, given) for name, given in query.items())


def _parameter(name: str, given: Any) -> Condition:
    if given is None:
        return lambda request: name not in request.query
    if given is True:
        return lambda request: name in request.query
    if isinstance(given, str):
        return lambda request: request.query.get(name) == [given]
    if isinstance(given, list) and all(isinstance(value, str) for value in given):
        expected = sorted(given)
        return lambda request: sorted(request.query.get(name, ())) == expected
    raise ValueError(f"query parameter {name!r} must be a string, a list of strings, null (absent) or true "
                     "(present)")


def _body(body: Any) -> tuple[Condition, ...]:
    if body is None:
        return ()
    if not isinstance(body, dict) or not body:
        raise ValueError("body must be an object: contains (text in the body), json (fields of a JSON body)")
    _no_unknown_keys(body, BODY_KEYS, "body")
    conditions: list[Condition] = []
    if "contains" in body:
        text = body["contains"]
        if not isinstance(text, str):
            raise ValueError("body contains must be a string")
        conditions.append(lambda request: text in request.text)
    if "json" in body:
        conditions.append(lambda request: _has_fields(request, body["json"]))
    return tuple(conditions)


def _has_fields(request: Request, expected: Any) -> bool:
    try:
        return _json_contains(request.json(), expected)
    except ValueError:
        return False


def _json_contains(actual: Any, expected: Any) -> bool:
    """Objects field by field (the request may have more), anything else equal (and true is not 1)."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            key in actual and _json_contains(actual[key], value) for key, value in expected.items())
    return actual == expected and isinstance(actual, bool) == isinstance(expected, bool)


def _times(times: Any) -> Optional[int]:
    if times is not None and (not isinstance(times, int) or isinstance(times, bool) or times < 1):
        raise ValueError(f"times {times!r} must be a whole number from 1")
    return times


def _delay(delay: Any) -> float:
    if not isinstance(delay, (int, float)) or isinstance(delay, bool) or not 0 <= delay <= MAX_DELAY:
        raise ValueError(f"delay {delay!r} must be a number of seconds from 0 to {MAX_DELAY:g}")
    return float(delay)


# -- how to answer --------------------------------------------------------------------------------------
def _answer(spec: dict, respond: Optional[Respond]) -> Callable[[Request], Message]:
    given = [key for key in ("response", "template") if key in spec] + (["a callable"] if respond else [])
    if not given:
        raise ValueError("a rule needs a response object (status, body, headers) or a template")
    if len(given) > 1:
        raise ValueError(f"give only one of response, template{' or a callable' if respond else ''}")
    if "data" in spec and "template" not in spec:
        raise ValueError("data is read only by a template")
    if respond is not None:
        if not callable(respond):
            raise ValueError("respond must be a callable")
        return lambda request: _message(*_response_parts(respond(request), "the callable's answer"))
    if "template" in spec:
        return _template(spec["template"], spec.get("data"))
    answer = _message(*_response_parts(spec["response"], "response"))
    return lambda request: answer


def _response_parts(response: Any, name: str) -> tuple[int, Any, dict]:
    """Status, body and headers of a response object, checked (``name`` says what it is, for messages)."""
    if not isinstance(response, dict):
        raise ValueError(f"{name} must be an object (status, body, headers), not {_json_type(response)}")
    _no_unknown_keys(response, RESPONSE_KEYS, "response")
    status = response.get("status", 200)
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise ValueError(f"status {status!r} is not an HTTP status")
    headers = response.get("headers") or {}
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise ValueError("headers must be an object of header names and string values")
    return status, response.get("body", ""), headers


def _message(status: int, body: Any, headers: dict) -> Message:
    """The response to send; ValueError for a header that would break the response (a computed value
    may come from the request: a line break in it would let the client write headers of its own)."""
    for name, value in headers.items():
        if not _HEADER_NAME.fullmatch(name) or "\r" in value or "\n" in value:
            raise ValueError(f"header {name!r}: {value!r} is not a valid header (name, or line break in the value)")
    if not isinstance(body, str):
        body = json.dumps(body)
        if not any(name.lower() == "content-type" for name in headers):
            headers = dict([JSON_TYPE], **headers)
    return Message(str(status), body.encode("utf-8"), sorted(headers.items(), key=lambda pair: pair[0].lower()))


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number" if isinstance(value, (int, float)) else type(value).__name__)


def _template(template: Any, data: Any) -> Callable[[Request], Message]:
    """Parsed now, so a mistake refuses the rule; computed per request."""
    status, body, headers = _response_parts(template, "template")
    try:
        body_of = compile_json(body)
        header_of = [(name, Template(value).text) for name, value in headers.items()]
    except TemplateError as err:
        raise ValueError(f"template: {err}") from None

    def answer(request: Request) -> Message:
        scope = request.scope(data)
        computed = {name: text(scope) for name, text in header_of}
        if not isinstance(body, str) and not any(name.lower() == "content-type" for name in computed):
            computed = dict([JSON_TYPE], **computed)
        return _message(status, body_of(scope), computed)
    return answer


class Rules:
    """The rules of one server session: changed one at a time, read by every request."""

    def __init__(self):
        # least specific first, then in the order added (a stable sort); replaced, never changed in place:
        # requests read it unlocked
        self._rules: tuple[Rule, ...] = ()
        self._answered: dict[str, int] = {}  # rule id -> requests it answered
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def add(self, spec: Any, respond: Optional[Respond] = None) -> str:
        """Add the rule ``spec`` describes; its id. ValueError if it is not a valid rule."""
        with self._lock:
            rule = make_rule(str(next(self._ids)), spec, respond)
            self._rules = tuple(sorted(self._rules + (rule,), key=lambda known: known.specificity))
            self._answered[rule.id] = 0
        return rule.id

    def remove(self, rule_id: str) -> bool:
        with self._lock:
            kept = tuple(rule for rule in self._rules if rule.id != rule_id)
            removed, self._rules = len(kept) != len(self._rules), kept
            self._answered.pop(rule_id, None)
        return removed

    def clear(self) -> list[str]:
        """Remove every rule; the ids removed."""
        with self._lock:
            removed = sorted((rule.id for rule in self._rules), key=int)
            self._rules, self._answered = (), {}
        return removed

    def listing(self) -> list[dict]:
        """In the order they were added, each with how many requests it answered."""
        with self._lock:
            return [dict(rule.spec, id=rule.id, answered=self._answered[rule.id])
                    for rule in sorted(self._rules, key=lambda rule: int(rule.id))]

    def answer(self, method: str, target: str, body: bytes = b"", headers: Headers = ()) -> Optional[Message]:
        """The response of the most specific, then newest, rule matching the request, if any (after
        the rule's delay)."""
        rules = self._rules
        if not rules:
            return None
        request = Request(method, target, body, headers)
        for rule in reversed(rules):
            if rule.matches(request) and self._take(rule):
                response = _computed(rule, request)
                if rule.delay:
                    time.sleep(rule.delay)
                return response
        return None

    def _take(self, rule: Rule) -> bool:
        """Count one answer of ``rule``; False when its ``times`` are used up (or it was just removed)."""
        with self._lock:
            answered = self._answered.get(rule.id)
            if answered is None or (rule.times is not None and answered >= rule.times):
                return False
            self._answered[rule.id] = answered + 1
        return True


def _computed(rule: Rule, request: Request) -> Message:
    """The rule's answer; a 500 saying why when its template or callable fails (one line on stderr too)."""
    try:
        return rule.respond(request)
    except Exception as err:  # a test's callable may raise anything: the client gets the reason
        reason = str(err) if isinstance(err, (TemplateError, ValueError)) else f"{type(err).__name__}: {err}"
        text = f"CaptureMock: rule {rule.id} could not answer {request.method} {request.target}: {reason}"
        warn(text)
        return Message("500", f"{text}\n".encode(), [("Content-Type", "text/plain; charset=utf-8")])
