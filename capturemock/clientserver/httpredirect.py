"""2.10's ``sendPathRedirect`` (§8.5): requests under a path prefix are sent elsewhere with a 307.

``POST /capturemock/sendPathRedirect/<prefix>`` with ``{"matcher": {id: server URL, ...}, "replace":
{regex: replacement}}`` registers the prefix: everything after ``sendPathRedirect/``, so the prefix
``/api`` is registered by ``.../sendPathRedirect//api`` (a plain string prefix: it covers ``/apix``
too). A later request whose path starts with it is answered ``307`` to the chosen server + its path
(the replacements applied, ``$n`` naming a group), and neither is recorded: the client follows the
redirect to that server, often another CaptureMock. The server is the only matcher, else the one the
cookie ``capturemock_proxy_target`` names; none is a 404 and one stderr line. A request with an
``Authorization`` header first gets it to the chosen server as a default header: an rc file
``<path, / as _>.rc`` is written in the working directory and its path posted to that server's
``addAlterations``, once per file. All found by running 2.10 as a black box.
"""
from __future__ import annotations

import json
import os
import re

from .httptext import Message
from .location import warn

TYPE_CHECKING = False  # typing is not imported at run time: ~20 M instructions of the HTTP server's start-up
if TYPE_CHECKING:
    from typing import Iterable, Optional

REDIRECT_PATH = "/capturemock/sendPathRedirect/"
TARGET_COOKIE = "capturemock_proxy_target"
ALTERATIONS = "/capturemock/addAlterations"
TIMEOUT = 10.0
_GROUP = re.compile(r"\$(\d+)")


class PathRedirects:
    """The registered prefixes, each with its servers by id and its path replacements."""

    def __init__(self, directory: Optional[str] = None):
        self.directory = directory or os.getcwd()  # where the Authorization rc files go, as in 2.10
        self.prefixes: dict[str, tuple[dict[str, str], dict[str, tuple[re.Pattern, str]]]] = {}
        self._posted: set[str] = set()

    def register(self, path: str, body: bytes) -> Optional[str]:
        """Register (or extend) the prefix in ``path``; what is wrong with the request, if anything."""
        prefix = path[len(REDIRECT_PATH):]
        try:
            data = json.loads(body or b"{}")
            matcher, replace = data.get("matcher") or {}, data.get("replace") or {}
            if not (isinstance(matcher, dict) and isinstance(replace, dict)):
                raise ValueError("matcher and replace must be JSON objects")
            pairs = {str(pattern): (re.compile(str(pattern)), _GROUP.sub(r"\\g<\1>", str(value)))
                     for pattern, value in replace.items()}
        except (ValueError, AttributeError, re.error) as err:
            return (f'sendPathRedirect {prefix!r}: the body must be {{"matcher": {{id: server URL}}, '
                    f'"replace": {{regex: replacement}}}}: {err}')
        if matcher:
            targets, replacements = self.prefixes.setdefault(prefix, ({}, {}))
            targets.update((str(key), str(value)) for key, value in matcher.items())
            replacements.update(pairs)
        return None

    def answer(self, path: str, headers: Iterable[tuple[str, str]]) -> Optional[Message]:
        """The 307 (or 404) for a request under a registered prefix; None for any other."""
        prefix = next((prefix for prefix in self.prefixes if path.startswith(prefix)), None)
        if prefix is None:
            return None
        targets, replacements = self.prefixes[prefix]
        headers = list(headers)
        chosen = _cookie(headers) if len(targets) > 1 else next(iter(targets))
        target = targets.get(chosen) if chosen is not None else None
        if target is None:
            warn(f"CaptureMock: FAILED to redirect {path}: no server with id {chosen!r} ({TARGET_COOKIE} cookie) "
                 f"among {', '.join(sorted(targets))}")
            return Message("404", b"", [])
        authorization = next((value for name, value in headers if name.lower() == "authorization"), None)
        if authorization is not None:
            self._pass_on(authorization, path, target)
        for pattern, replacement in replacements.values():
            path = pattern.sub(replacement, path)
        return Message("307", b"", [("Location", target.rstrip("/") + path)])

    def _pass_on(self, authorization: str, path: str, target: str) -> None:
        """The client's credentials, as the target's default header (2.10: once per rc file name)."""
        rc_file = os.path.join(self.directory, path.split("?", 1)[0].replace("/", "_") + ".rc")
        if rc_file in self._posted:
            return
        self._posted.add(rc_file)
        with open(rc_file, "w") as stream:
            stream.write(f"[default_http_headers]\nAuthorization = {authorization}\n")
        import urllib.request  # only here: with http.cookies, ~5 ms of every HTTP server's start-up

        request = urllib.request.Request(target.rstrip("/") + ALTERATIONS, data=rc_file.encode(), method="POST")
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                response.read()
        except (OSError, ValueError) as err:
            warn(f"CaptureMock: could not pass Authorization on to {target} ({ALTERATIONS}): {err}")


def _cookie(headers: list[tuple[str, str]]) -> Optional[str]:
    from http.cookies import CookieError, SimpleCookie  # only where paths are redirected

    for name, value in headers:
        if name.lower() == "cookie":
            try:
                morsel = SimpleCookie(value).get(TARGET_COOKIE)
            except CookieError:
                continue
            if morsel is not None:
                return morsel.value
    return None
