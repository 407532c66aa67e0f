"""HTTP exchanges recorded by other tools (browsers' HAR files, vcrpy cassettes) as our mock text.

The readers (``har``, ``vcr``) only turn their format into ``Exchange``s; everything that decides how
an exchange looks in the mock is here, and is what ``httpproxy`` does to live traffic, so an imported
mock replays (and matches) exactly like one our proxy recorded: the request target as the client sent
it, client header names capitalised, the same headers left out, bodies verbatim (``0x`` + hex when not
UTF-8), headers sorted.
"""
from __future__ import annotations

from typing import Any, Callable, NamedTuple, Optional
from urllib.parse import urlsplit

from .. import mockfile
from ..errors import CaptureMockError
from . import httptext
from .httpproxy import header_name
from .httptext import HOP_BY_HOP, Headers, Message

# the methods our HTTP server takes as traffic (``httpproxy._Request``); OPTIONS it answers itself
TRAFFIC_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


class RecordingError(CaptureMockError):
    """A file to import is not what its format says; one line naming the file and the entry."""


class Exchange(NamedTuple):
    """One request and its response as another tool recorded them (headers not yet filtered)."""

    method: str
    url: str
    body: bytes
    headers: Headers
    status: int
    response_body: bytes
    response_headers: Headers


class Conversion(NamedTuple):
    """What a reader found: the exchanges to write, and why it left the others out."""

    exchanges: list[Exchange]
    skipped: list[str]


def skip_reason(method: str, status: int) -> Optional[str]:
    """Why our proxy would never have recorded this exchange, if it would not."""
    if method == "OPTIONS":
        return "OPTIONS preflights are answered by CaptureMock and never recorded"
    if method not in TRAFFIC_METHODS:
        return f"CaptureMock's HTTP server does not take {method} requests"
    if status <= 0:
        return "it got no response"
    return None


def collect(records: list, where_of: Callable[[int], str],
            exchange_of: Callable[[object, str], Exchange]) -> Conversion:
    """Each record (a HAR entry, a cassette interaction) as an exchange, or as a note of why it was
    skipped: both formats skip alike, and name a record by its place in the file."""
    conversion = Conversion([], [])
    for index, record in enumerate(records):
        where = where_of(index)
        exchange = exchange_of(record, where)
        reason = skip_reason(exchange.method, exchange.status)
        if reason:
            conversion.skipped.append(f"{where}: skipped {exchange.method} {exchange.url}: {reason}")
        else:
            conversion.exchanges.append(exchange)
    return conversion


def target(url: str) -> str:
    """The request target a client sends for ``url``: path and raw query, no host, no fragment."""
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _kept(headers: Headers, name=str) -> Headers:
    """HTTP/2 pseudo-headers and hop-by-hop headers never reach the mock; ``recorded_headers`` does the rest."""
    return httptext.recorded_headers((name(key), value) for key, value in headers
                                     if not key.startswith(":") and key.lower() not in HOP_BY_HOP)


def mock_text(exchanges: list[Exchange]) -> str:
    """The mock file's text: ``<-CLI:`` request, ``->SRV:`` response, in recording order."""
    items = []
    for exchange in exchanges:
        request = Message(f"{exchange.method} {target(exchange.url)}", exchange.body,
                          _kept(exchange.headers, header_name))
        response = Message(str(exchange.status), exchange.response_body, _kept(exchange.response_headers))
        items.append(mockfile.format_item("<-", "CLI", httptext.render(request)))
        items.append(mockfile.format_item("->", "SRV", httptext.render(response)))
    return "".join(items)


def need(mapping: Any, key: str, kinds: tuple, where: str) -> Any:
    """``mapping[key]`` if it is one of ``kinds``; else a RecordingError naming ``where``."""
    if not isinstance(mapping, dict):
        raise RecordingError(f"{where}: expected a mapping, found {type(mapping).__name__}")
    if key not in mapping:
        raise RecordingError(f"{where}: {key} is missing")
    value = mapping[key]
    if not isinstance(value, kinds) or isinstance(value, bool):
        names = " or ".join(kind.__name__ for kind in kinds)
        raise RecordingError(f"{where}: {key} should be {names}, found {type(value).__name__}")
    return value
