"""The lean HTTP request reader (issue #16): a plain request is read without the email parser, and a
handler sees what ``http.server``'s own reading gives it: command, path, version, headers, whether the
connection stays open. Anything out of the ordinary is read by ``http.server`` itself, errors included."""
from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler

import pytest

from capturemock.clientserver import httpwire
from capturemock.server import Connection


class Seen(httpwire.ConnectionHandler):
    """Answers every GET with what it was given, and notes it."""

    protocol_version = "HTTP/1.1"
    seen: list

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.seen.append((self.command, self.path, self.request_version, self.requestline,
                          self.headers.items(), self.headers.get("x-twice"), self.headers.get("Missing", "-"),
                          self.close_connection))
        self.send_response_only(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def handle_one_request(self) -> None:
        super().handle_one_request()
        self.close_connection = True  # one request per test


class SeenByHttpServer(Seen):
    def parse_request(self) -> bool:
        return BaseHTTPRequestHandler.parse_request(self)


def serve(handler: type, request: bytes) -> tuple[list, bytes]:
    """What ``handler`` saw of ``request`` sent on a real socket, and what it answered."""
    ours, theirs = socket.socketpair()
    handler.seen = []
    thread = threading.Thread(target=httpwire.handle, args=(handler, Connection(ours), None))
    thread.start()
    theirs.sendall(request)
    thread.join(10)
    ours.close()
    theirs.settimeout(10)
    answer = b""
    while True:
        data = theirs.recv(65536)
        if not data:
            break
        answer += data
    theirs.close()
    return handler.seen, answer


PLAIN = [
    b"GET /a?b=1 HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /a HTTP/1.1\r\n\r\n",
    b"GET /a HTTP/1.0\r\nHost: x\r\n\r\n",
    b"GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    b"GET /a HTTP/1.1\r\nConnection: close\r\n\r\n",
    b"GET /a HTTP/1.1\r\nX-Twice: one\r\nx-twice: two\r\nX-Spaced: \t value with end space \r\nX-Empty:\r\n\r\n",
    b"GET /a HTTP/1.1\r\nX-Latin: caf\xe9\r\n\r\n",
]
ODD = [
    b"GET /a\xa0b HTTP/1.1\r\n\r\n",  # split where http.server splits it (no-break space): 400
    b"GET /a\x1fb HTTP/1.1\r\n\r\n",
    b"GET //a//b HTTP/1.1\r\nHost: x\r\n\r\n",  # a path made single-slashed
    b"GET /a HTTP/1.1\r\nX-Folded: one\r\n two\r\n\r\n",  # an obsolete folded line
    b"GET /a HTTP/1.1\nHost: x\n\n",  # bare line feeds
    b"GET /a HTTP/1.1\r\nNo colon here\r\n\r\n",
    b"GET /a HTTP/2.0\r\n\r\n",  # answered 505
    b"GET /a HTTP/x\r\n\r\n",  # answered 400
    b"GET /a\r\n\r\n",  # HTTP/0.9
    b"GET /a HTTP/1.1\r\n" + b"".join(b"X-%d: v\r\n" % n for n in range(100)) + b"\r\n",  # answered 431
    b"GET /a HTTP/1.1\r\n" + b"".join(b"X-%d: v\r\n" % n for n in range(99)) + b"\r\n",  # just allowed
]


@pytest.mark.parametrize("request_bytes", PLAIN + ODD)
def test_a_handler_sees_what_http_server_would_have_given_it(request_bytes):
    seen, answer = serve(Seen, request_bytes)
    expected, expected_answer = serve(SeenByHttpServer, request_bytes)
    assert (seen, answer.split(b"\r\nDate: ")[0]) == (expected, expected_answer.split(b"\r\nDate: ")[0])


def test_plain_headers_are_read_as_written():
    seen, answer = serve(Seen, PLAIN[5])
    assert seen == [("GET", "/a", "HTTP/1.1", "GET /a HTTP/1.1",
                     [("X-Twice", "one"), ("x-twice", "two"), ("X-Spaced", "value with end space "), ("X-Empty", "")],
                     "one", "-", False)]
    assert answer == b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"


def test_too_many_headers_are_refused_as_http_server_refuses_them():
    seen, answer = serve(Seen, ODD[-2])
    assert seen == []
    assert answer.startswith(b"HTTP/1.1 431 Too many headers\r\n")
