"""HTTP requests that mean the same (product spec §3, a seed's wish): query parameters in any order,
JSON bodies equal by value.

Replay tries this only after an exact miss and before best matching (§5.4), so every recorded mock
replays as before; a request whose parameters merely come in another order, or whose JSON body is
formatted differently, now gets the responses of its recorded twin instead of a near miss.
"""
from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlencode

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Iterable, Optional


def equivalence_key(description: str) -> str:
    """``description`` with its query parameters sorted and its JSON body in canonical form."""
    head, separator, headers = description.partition("\n--HEA:")
    prefix, colon, request = head.partition(":")
    method, _, rest = request.partition(" ")
    target, _, body = rest.partition(" ")
    path, question, query = target.partition("?")
    if question:
        # by name only (a stable sort): values of a repeated parameter keep their order
        query = urlencode(sorted(parse_qsl(query, keep_blank_values=True), key=lambda pair: pair[0]))
    return f"{prefix}{colon}{method} {path}{question}{query} {_canonical_json(body)}{separator}{headers}"


def _canonical_json(body: str) -> str:
    """Past the nesting Python's json can take (RecursionError), a body is compared as text: a mock
    or a request with one must not leave the request unanswered."""
    if body[:1] not in ("{", "["):
        return body
    try:
        return json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"))
    except (ValueError, RecursionError):
        return body


class EquivalentRequests:
    """Recorded request keys by their equivalence key; the first recorded one wins."""

    def __init__(self, keys: Iterable[str]):
        self.keys: dict[str, str] = {}
        for key in keys:
            if key.startswith("<-CLI:"):
                self.keys.setdefault(equivalence_key(key), key)

    def find(self, description: str) -> Optional[str]:
        return self.keys.get(equivalence_key(description))
