"""Add and remove a traffic server's run-time HTTP rules from Python (``clientserver/httprules`` says
what a rule can hold; this talks to the server's ``/capturemock/rules`` endpoint with the session token).

    from capturemock.rules import RulesClient

    with RulesClient() as rules:   # the server and token from CAPTUREMOCK_SERVER and CAPTUREMOCK_TOKEN
        rules.add(path="/items", query={"page": "2"}, response={"body": {"items": [3, 4]}})
        ...                        # the rules added here are removed on leaving the block

A Python callable can answer only in a server running in this process (the ``capturemock_server``
fixture's client knows it): ``rules.add(path="/items", respond=lambda request: {...})``.
"""
from __future__ import annotations

import http.client
import json
import os
from typing import Any, Callable, Optional
from urllib.parse import urlsplit

from .errors import CaptureMockError

TOKEN_HEADER = "X-CaptureMock-Token"  # rulesapi.TOKEN_HEADER, not imported: that would load the server side
RULES_PATH = "/capturemock/rules"
TIMEOUT = 30.0


class RulesError(CaptureMockError):
    """The server refused a change (the text is its reason), or could not be reached."""


class RulesClient:
    """The rules of one traffic server. As a context manager it removes the rules it added on exit;
    ``scope()`` gives a client of the same server whose exit removes only its own."""

    def __init__(self, server: Optional[str] = None, token: Optional[str] = None, *, local: Any = None):
        """``server``: ``http://127.0.0.1:<port>`` or ``127.0.0.1:<port>`` (default ``CAPTUREMOCK_SERVER``);
        ``token``: the session token (default ``CAPTUREMOCK_TOKEN``); ``local``: the ``Rules`` of a
        server in this process, which alone can take a callable."""
        server = server or os.environ.get("CAPTUREMOCK_SERVER")
        if not server:
            raise RulesError("no traffic server to give rules to: pass its address or set CAPTUREMOCK_SERVER")
        parts = urlsplit(server if "://" in server else f"http://{server}")
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.token = token if token is not None else os.environ.get("CAPTUREMOCK_TOKEN", "")
        self.local = local
        self.added: list[str] = []  # ids of the rules this client added and has not removed

    def add(self, rule: Optional[dict] = None, /, *, respond: Optional[Callable[..., dict]] = None,
            **fields: Any) -> str:
        """Add a rule (a dict, keyword fields, or both); its id. ``respond``: a callable given the
        ``httprules.Request`` and returning a response object, in an in-process server only."""
        spec = {**(rule or {}), **fields}
        if respond is not None:
            rule_id = self._add_callable(spec, respond)
        else:
            rule_id = self._call("POST", RULES_PATH, spec)["id"]
        self.added.append(rule_id)
        return rule_id

    def _add_callable(self, spec: dict, respond: Callable[..., dict]) -> str:
        if self.local is None:
            raise RulesError("a Python callable can answer only in a server running in this process (the "
                             "capturemock_server fixture): give this server a response or a template instead")
        try:
            return self.local.add(spec, respond)
        except ValueError as err:
            raise RulesError(f"CaptureMock: not a replay rule: {err}") from None

    def remove(self, rule_id: str) -> None:
        """Remove one rule; RulesError if the server has none by that id."""
        if rule_id in self.added:
            self.added.remove(rule_id)
        self._call("DELETE", f"{RULES_PATH}/{rule_id}")

    def list(self) -> list[dict]:
        """Every rule of the server, in the order added, each with its ``id`` and ``answered`` count."""
        return self._call("GET", RULES_PATH)

    def clear(self) -> None:
        """Remove every rule of the server, whoever added it."""
        self._call("DELETE", RULES_PATH)
        self.added = []

    def scope(self) -> RulesClient:
        """A client of the same server; leaving it as a context manager removes only what it added."""
        return RulesClient(f"{self.host}:{self.port}", self.token, local=self.local)

    def __enter__(self) -> RulesClient:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        added, self.added = self.added, []
        known = {rule["id"] for rule in self.list()}
        for rule_id in reversed(added):
            if rule_id in known:  # removed meanwhile by someone else (clear): nothing to do
                self._call("DELETE", f"{RULES_PATH}/{rule_id}")

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        """One request to the rules endpoint; its JSON answer, or RulesError with the server's reason."""
        data = None if body is None else json.dumps(body).encode()
        headers = {TOKEN_HEADER: self.token, "Content-Type": "application/json"}
        connection = http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT)
        try:
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            status, text = response.status, response.read().decode("utf-8", "replace")
        except OSError as err:
            raise RulesError(f"cannot reach the traffic server at {self.host}:{self.port}: {err}") from None
        finally:
            connection.close()
        if status >= 300:
            raise RulesError(text.strip() or f"{method} {path}: HTTP {status}")
        return json.loads(text)
