"""An HTTP answer as it goes on the wire (§8.5): its head written in one go, as ``http.server``'s
``send_response_only`` and ``send_header`` would write it line by line (those per-header calls were a
tenth of a replayed exchange's server time), and its body. Shared by ``http.server``'s request handler
(``httpproxy._Request``) and the lean path (``httplean``)."""
from __future__ import annotations

from http.server import BaseHTTPRequestHandler

from .httptext import HOP_BY_HOP, StoredBody
from .location import warn

TYPE_CHECKING = False  # typing is not imported at run time: ~20 M instructions of the HTTP server's start-up
if TYPE_CHECKING:
    from typing import Iterable

    from .httptext import Body, Message

# every traffic answer carries these (§8.5, for SUTs running in a browser); the control endpoints do not
CORS = [("Access-Control-Allow-Origin", "*"), ("Access-Control-Expose-Headers", "*")]
_CORS_NAMES = frozenset(name.lower() for name, _ in CORS)
_NOT_PASSED_ON = HOP_BY_HOP | _CORS_NAMES
_CORS_LINES = [f"{name}: {value}\r\n" for name, value in CORS]
_REASONS = BaseHTTPRequestHandler.responses  # http.server's: (reason, explanation) by status
VERSION = "HTTP/1.1"  # the proxy's (``httpproxy._Request.protocol_version``): persistent connections


def response_head(response: Message, length: int, to_head: bool, close: bool, cors: bool = True) -> bytes:
    """The status line and headers of an answer: the recorded headers but those of a connection, ours
    for CORS (on traffic only), the length (not for HEAD: the length of a HEAD answer is the GET's, which
    is not recorded) and ``Connection: close`` when the connection ends after it."""
    try:
        status = int(response.first)
    except ValueError:
        warn(f"CaptureMock: {response.first!r} is not an HTTP status; answering 500")
        status = 500
    reason = _REASONS.get(status)
    lines = [f"{VERSION} {status} {reason[0] if reason else ''}\r\n"]
    lines += [f"{name}: {value}\r\n" for name, value in response.headers if name.lower() not in _NOT_PASSED_ON]
    if cors:
        lines += _CORS_LINES
    if not to_head:
        lines.append(f"Content-Length: {length}\r\n")
    if close:
        lines.append("Connection: close\r\n")
    lines.append("\r\n")
    return "".join(lines).encode("latin-1")


def body_chunks(body: Body) -> Iterable[bytes]:
    """A body as it is written: a large stored one a chunk at a time, decoded as it goes."""
    return body.chunks() if isinstance(body, StoredBody) else (body,)
