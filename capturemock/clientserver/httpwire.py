"""Runs an ``http.server`` request handler on a traffic-server connection.

The traffic server has already read the first bytes of the connection to choose its handler, so the
handler reads those first and then the socket. A handler speaking HTTP/1.1 (``protocol_version``)
serves persistent connections: each request takes its own place in the record file's order (§4.5)
when it has arrived, and gives it up once answered (``Connection.answered``); between requests the
connection is silent (idle timeout, closed when the server stops). HTTP/1.0 handlers answer one request
per connection, as 2.10 did.
"""
from __future__ import annotations

import io
import re
from http.server import BaseHTTPRequestHandler
from itertools import repeat

from .classic import MAX_MESSAGE, decode
from .httpforward import same_place
from .location import warn
from .rulesapi import TOKEN_HEADER, has_token

TYPE_CHECKING = False  # typing is not imported at run time: ~20 M instructions of the HTTP server's start-up
if TYPE_CHECKING:
    from typing import Iterable, Optional

MAX_BODY = 1 << 28
CONTROL_PREFIX = "/capturemock/"  # the control endpoints' paths: never traffic
# A header block http.client reads as it is written: "Name: value" lines (a name of the characters the
# email parser takes for one), each ending in CRLF, no folded lines; the blank line after it is not
# included. Anything else goes to http.server's own reading, and so do 100 headers or more (with the
# blank line that is more lines than http.client reads).
_PLAIN_HEADERS = re.compile(rb"(?:[\x21-\x39\x3b-\x7e]+:[^\r\n]*\r\n){0,99}")
_PLAIN_VERSIONS = frozenset(("HTTP/1.1", "HTTP/1.0"))


class RequestHeaders:
    """A request's headers as ``email.message.Message`` gives them to a handler (``get``: the first of
    that name, any case; ``items``: all in order), without the email parser, a third of a replayed
    HTTP exchange's time."""

    __slots__ = ("_items", "first")

    def __init__(self, items: list[tuple[str, str]]):
        self._items = items
        self.first: dict[str, str] = {}  # by lower-case name: read directly on the lean path (``httplean``)
        for name, value in reversed(items):  # the first of a name wins
            self.first[name.lower()] = value

    def get(self, name: str, default: Optional[str] = None) -> Optional[str]:
        return self.first.get(name.lower(), default)

    def items(self) -> list[tuple[str, str]]:
        return list(self._items)


def plain_words(requestline: str) -> Optional[list[str]]:
    """The method, target and version of a plain HTTP/1.x request line (its line break stripped), else
    None: split as http.server splits it (str whitespace, which bytes' is not all of)."""
    words = requestline.split()
    if len(words) != 3 or words[2] not in _PLAIN_VERSIONS or words[1].startswith("//"):
        return None
    return words


def plain_headers(data: bytes, start: int) -> Optional[tuple[RequestHeaders, int]]:
    """The plain header block at ``data[start:]`` (``_PLAIN_HEADERS``) and where what follows its blank
    line starts; None if the block is not plain or not all in ``data`` yet."""
    if data.startswith(b"\r\n", start):
        end = start
    else:
        end = data.find(b"\r\n\r\n", start) + 2
        if end == 1:
            return None  # not all in yet
    if _PLAIN_HEADERS.match(data, start, end).end() != end:
        return None
    lines = str(data[start:end], "iso-8859-1").split("\r\n")[:-1]
    return RequestHeaders([(name, value.lstrip(" \t"))
                           for name, _, value in map(str.partition, lines, repeat(":"))]), end + 2


def closes(version: str, headers: RequestHeaders, protocol_version: str) -> bool:
    """Whether the connection ends after this request, as http.server decides it."""
    connection = headers.first.get("connection", "").lower()
    if connection == "close":
        return True
    if connection == "keep-alive" and protocol_version >= "HTTP/1.1":
        return False
    return version != "HTTP/1.1" or protocol_version < "HTTP/1.1"


class _ConnectionReader(io.RawIOBase):
    def __init__(self, conn):
        self.conn = conn

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.conn.recv(len(buffer))
        buffer[:len(data)] = data
        return len(data)


class _SocketWriter(io.RawIOBase):
    def __init__(self, sock):
        self.sock = sock

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.sock.sendall(data)
        return len(data)


class ConnectionHandler(BaseHTTPRequestHandler):
    """A BaseHTTPRequestHandler over ``Connection``; ``server`` is the protocol session."""

    def setup(self) -> None:
        self.connection = self.request.sock
        self.rfile = io.BufferedReader(_ConnectionReader(self.request))
        self.wfile = io.BufferedWriter(_SocketWriter(self.connection), 65536)

    def finish(self) -> None:
        """Send the answer: headers and body leave in one write, so the client wakes once, not twice."""
        self.wfile.flush()

    def handle_expect_100(self) -> bool:
        """``Expect: 100-continue`` (HTTP/1.1): the client waits for this line before it sends the body."""
        self.send_response_only(100)
        self.end_headers()
        self.wfile.flush()
        return True

    def handle_one_request(self) -> None:
        """One request of a persistent connection; its answer is flushed before the next is read. A
        client that resets a kept connection while it is idle has simply gone (a pool closing)."""
        self.raw_requestline = b""
        try:
            super().handle_one_request()
        except ConnectionResetError:
            if self.raw_requestline:
                raise
            self.close_connection = True
            return
        if not self.close_connection and not self.request.answered():
            self.close_connection = True

    def log_message(self, format: str, *args) -> None:
        """Quiet: the record file is the log."""

    def parse_request(self) -> bool:
        """A plain HTTP/1.x request (the request line and its headers already read into the buffer, as
        a client sends them) is read here; anything else by ``http.server``, which answers what is wrong
        with it. Both give the same ``command``, ``path``, ``headers``, ``close_connection``."""
        requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        words = plain_words(requestline)
        plain = None if words is None else plain_headers(self.rfile.peek(), 0)
        if plain is None:
            return super().parse_request()
        self.headers, end = plain
        self.rfile.read(end)
        self.requestline = requestline
        self.command, self.path, version = words
        self.request_version = version
        self.close_connection = closes(version, self.headers, self.protocol_version)
        if (self.headers.get("Expect", "").lower() == "100-continue" and self.protocol_version >= "HTTP/1.1"
                and version >= "HTTP/1.1"):
            return self.handle_expect_100()
        return True

    def read_body(self) -> bytes:
        """The request body by Content-Length or chunked transfer encoding (§8.5). With it the request
        is complete: the connection takes its place in the record file's order (§4.5)."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            body = self._read_chunked()
        else:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                raise ValueError(f"request body of {length} bytes is too large")
            body = self.rfile.read(length) if length > 0 else b""
            if len(body) < length:
                raise ValueError(f"request body cut off after {len(body)} of {length} bytes")
        self.request.arrived()
        return body

    def _read_chunked(self) -> bytes:
        chunks, size = [], 0
        while size <= MAX_BODY:
            line = self.rfile.readline(1024)
            if not line.endswith(b"\n"):
                raise ValueError("chunked request body cut off")
            length = int(line.split(b";")[0].strip() or b"0", 16)
            if length == 0:
                while self.rfile.readline(65537).strip():  # trailer lines up to the blank one
                    pass
                return b"".join(chunks)
            chunks.append(self.rfile.read(length))
            if len(chunks[-1]) < length:
                raise ValueError("chunked request body cut off")
            size += length
            self.rfile.readline(1024)
        raise ValueError("chunked request body is too large")


class Call:
    """What a request handler needs: the session and this connection's record function."""

    def __init__(self, session, record):
        self.session = session
        self.record = record


class WireSession:
    """What the HTTP and XML-RPC sessions share: one request per connection; once a request has said
    where the real server is, the session plays (``_play``) what it must send it."""

    request_handler: type  # the protocol's ConnectionHandler subclass

    def __call__(self, conn, record) -> None:
        handler = handle(self.request_handler, conn, Call(self, record))
        conn.sock.close()  # the answer is complete: a SUT may wait for it before it starts serving
        if handler.located:
            self._play(record)

    def location_message(self, conn, record) -> None:
        """The launcher's ``SUT_SERVER:<url>`` (``sendServerLocation``, ``recordFromUrl``)."""
        url = decode(conn.read_to_end(MAX_MESSAGE)).strip()
        try:
            located = self.locate(url, record)
        finally:
            conn.sock.close()  # only now: the launcher waits for this, and the SUT's first request may follow
        if located:
            self._play(record)


def location_refusal(headers: Iterable[tuple[str, str]], token: Optional[str], current: Optional[str],
                     target: str) -> str:
    """What a location message would do that needs the session token, if it lacks it ("" if nothing).
    The first one needs none (§8.2: the SUT server sends its own location once, without a token), and
    repeating the same location moves nothing. Moving the proxy to another server does: whoever could
    would receive the SUT's requests, credentials included. So does any location message a browser
    sends (``Origin`` or ``Sec-Fetch-*`` header): a web page may POST to us, and must not point us."""
    if has_token(headers, token):
        return ""
    if from_browser(headers):
        return "a location message sent by a browser"
    if current is not None and not same_place(current, target):
        return f"moving the real server from {current} to {target!r}"
    return ""


def from_browser(headers: Iterable[tuple[str, str]]) -> bool:
    """Whether a web page sent this request (``Origin`` or ``Sec-Fetch-*`` header)."""
    return any(name.lower() == "origin" or name.lower().startswith("sec-fetch-") for name, _ in headers)


def refused(refusal: str) -> bool:
    """Say on stderr what was refused, if anything."""
    if refusal:
        warn(f"CaptureMock: refused {refusal} without this session's CAPTUREMOCK_TOKEN in the {TOKEN_HEADER} "
             "header")
    return bool(refusal)


def handle(handler_class: type, conn, session) -> ConnectionHandler:
    """Handle the one request on ``conn``; returns the handler so callers can see what it did."""
    return handler_class(conn, ("127.0.0.1", 0), session)
