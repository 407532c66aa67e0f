"""The lean path of a replayed HTTP request (issue #16): a plain request that has arrived whole is read
from the connection's buffer, answered from the mock and written back with one send, without
``http.server``'s request handler (its set-up, buffered reader and writer, per-header calls were half of
a replayed exchange's server time).

It takes only what the handler would answer as traffic, with nothing to say about the request itself:
a request line and headers that ``httpwire.plain_words`` / ``plain_headers`` read, a traffic method, a
body given by its ``Content-Length`` and all in, no ``Expect`` or ``Transfer-Encoding``, no control or
rules path, no path redirects, and a session replaying as the server. Anything else, and a request not
all in yet, goes to the handler (``httpproxy._Request``) untouched: it reads what is buffered first.
Both answer through ``HttpSession.answer`` and ``httpproxy.response_head``, so they answer, record and
keep the connection alike (``tests/clientserver/test_http_lean.py`` sends each kind through both).
"""
from __future__ import annotations

from .httpanswer import VERSION, body_chunks, response_head
from .httpwire import CONTROL_PREFIX, MAX_BODY, closes, plain_headers, plain_words

TYPE_CHECKING = False  # typing is not imported at run time: ~20 M instructions of the HTTP server's start-up
if TYPE_CHECKING:
    from typing import Callable, Optional

    from ..server import Connection
    from .httpproxy import HttpSession
    from .httpwire import RequestHeaders

    Request = tuple[str, str, str, RequestHeaders, bytes, int]

TRAFFIC_METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"))
MAX_LINE = 65536  # http.server's longest request line (with its line feed); a longer one is answered 414
ONE_SEND_BELOW = 1 << 16  # a body this short leaves with its head in one send (the client wakes once)


def serve(session: HttpSession, conn: Connection, record: Callable[[str], None]) -> bool:
    """Answer the connection's requests here while they are lean ones; True once the connection is done,
    False when the request at the head of its buffer is for the handler (nothing of it read)."""
    while True:
        if session.replay is None or session.transcript.server_is_sut or session.redirects.prefixes:
            return False
        request = lean_request(conn.pending())
        if request is None:
            return False
        command, path, version, headers, body, size = request
        conn.recv(size)  # taken from the buffer
        conn.arrived()
        close = closes(version, headers, VERSION)
        response = session.answer(command, path, body, headers.items(), record)
        if response is None:
            return True  # no answer to give: the client sees the connection end
        response = session.through_proxy(response, headers.first.get("host"))
        head = response_head(response, len(response.body), command == "HEAD", close)
        if command == "HEAD":
            conn.sendall(head)
        elif type(response.body) is bytes and len(response.body) < ONE_SEND_BELOW:
            conn.sendall(head + response.body)
        else:
            conn.sendall(head)
            for chunk in body_chunks(response.body):
                conn.sendall(chunk)
        if close or not conn.answered():
            return True
        try:
            if not conn.peek(1):
                return True  # the client has closed its kept connection
        except (TimeoutError, ConnectionResetError):
            return True  # idle too long, or a pool closing: as the handler ends it, quietly


def lean_request(data: bytes) -> Optional[Request]:
    """(method, path, version, headers, body, bytes taken) of the request at the start of ``data`` if the
    lean path may answer it (see the module docstring), else None."""
    line_end = data.find(b"\n", 0, MAX_LINE)
    if line_end < 0:
        return None
    words = plain_words(str(data[:line_end], "iso-8859-1").rstrip("\r\n"))
    if words is None or words[0] not in TRAFFIC_METHODS or words[1].startswith(CONTROL_PREFIX):  # rules too
        return None
    plain = plain_headers(data, line_end + 1)
    if plain is None:
        return None
    headers, start = plain
    first = headers.first
    if "expect" in first or "transfer-encoding" in first:
        return None
    try:
        length = int(first.get("content-length") or 0)
    except ValueError:
        return None  # the handler refuses it, saying why
    if not 0 <= length <= MAX_BODY or start + length > len(data):
        return None
    return words[0], words[1], words[2], headers, data[start:start + length], start + length
