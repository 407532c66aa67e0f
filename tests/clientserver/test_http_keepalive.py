"""Persistent HTTP connections through the real traffic server (issue #14 item 5): several requests per
connection in record and replay, each in its place in the record file; ``Connection: close`` and
HTTP/1.0 clients honoured; chunked request bodies and ``Expect: 100-continue`` on a kept connection."""
from __future__ import annotations

import http.client
import socket
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import capturemock

CLIENT_RC = "[general]\nserver_protocol = http\nrecord_for_client = true\n"


def echo_server(rig):
    """Answers ``METHOD PATH BODY`` as text; HTTP/1.1 with keep-alive, as real servers are."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def answer(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            data = f"{self.command} {self.path} {body.decode()}".strip().encode()
            self.send_response_only(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = answer

    return rig.real(ThreadingHTTPServer(("127.0.0.1", 0), Handler))


def connect(base: str) -> http.client.HTTPConnection:
    return http.client.HTTPConnection(urlsplit(base).hostname, urlsplit(base).port, timeout=10)


def ask(connection: http.client.HTTPConnection, method: str, path: str, body=None, headers=None):
    """One request on a connection the caller keeps; the response, read whole."""
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    return response, response.read()


def test_one_connection_serves_many_requests_in_record_and_replay(rig):
    real = echo_server(rig)
    base = rig.start(capturemock.RECORD, CLIENT_RC, recordFromUrl=real.url)
    connection = connect(base)
    first = ask(connection, "GET", "/a")
    sock = connection.sock
    second = ask(connection, "POST", "/b", b"x=1")
    third = ask(connection, "GET", "/c")
    assert [body for _, body in (first, second, third)] == [b"GET /a", b"POST /b x=1", b"GET /c"]
    assert connection.sock is sock and not third[0].will_close  # the same socket, still open
    connection.close()
    rig.stop()
    recorded = rig.read("rec.mock")
    assert recorded == ("<-CLI:GET /a\n->SRV:200 GET /a\n--HEA:Content-Type=text/plain\n"
                        "<-CLI:POST /b x=1\n->SRV:200 POST /b x=1\n--HEA:Content-Type=text/plain\n"
                        "<-CLI:GET /c\n->SRV:200 GET /c\n--HEA:Content-Type=text/plain\n")
    real.stop()
    base = rig.start(capturemock.REPLAY, CLIENT_RC, replay="rec.mock", record="replayed.mock")
    connection = connect(base)
    bodies = [ask(connection, "GET", "/a")[1]]
    sock = connection.sock
    bodies += [ask(connection, "POST", "/b", b"x=1")[1], ask(connection, "GET", "/c")[1]]
    assert bodies == [b"GET /a", b"POST /b x=1", b"GET /c"] and connection.sock is sock
    connection.close()
    rig.stop()
    assert rig.read("replayed.mock") == recorded


def test_requests_of_interleaved_connections_are_recorded_in_arrival_order(rig):
    real = echo_server(rig)
    base = rig.start(capturemock.RECORD, CLIENT_RC, recordFromUrl=real.url)
    one, two = connect(base), connect(base)
    ask(one, "GET", "/1")
    ask(two, "GET", "/2")
    ask(one, "GET", "/3")  # the first connection is still open: its later request comes after /2
    ask(two, "GET", "/4")
    rig.stop()  # with both connections idle and open: they must not hold the stop or the record up
    lines = [line for line in rig.read("rec.mock").splitlines() if line.startswith("<-CLI:")]
    assert lines == ["<-CLI:GET /1", "<-CLI:GET /2", "<-CLI:GET /3", "<-CLI:GET /4"]
    one.close()
    two.close()


def test_connection_close_and_http_1_0_clients_get_one_answer_and_the_end(rig):
    rig.write("stored.mock", "<-CLI:GET /a\n->SRV:200 one\n<-CLI:GET /b\n->SRV:200 two\n")
    base = rig.start(capturemock.REPLAY, CLIENT_RC, replay="stored.mock")
    connection = connect(base)
    response, body = ask(connection, "GET", "/a", headers={"Connection": "close"})
    assert (body, response.getheader("Connection"), response.will_close) == (b"one", "close", True)
    with urllib.request.urlopen(base + "/b", timeout=10) as answer:  # urllib always says Connection: close
        assert answer.read() == b"two"
    host, port = urlsplit(base).hostname, urlsplit(base).port
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(b"GET /a HTTP/1.0\r\n\r\n")
        reply = read_to_end(sock)  # an HTTP/1.0 request without keep-alive: closed after the answer
    assert reply.startswith(b"HTTP/1.1 200 ") and reply.endswith(b"\r\n\r\none")


def test_chunked_bodies_and_expect_continue_on_a_kept_connection(rig):
    real = echo_server(rig)
    base = rig.start(capturemock.RECORD, CLIENT_RC, recordFromUrl=real.url)
    connection = connect(base)
    _, body = ask(connection, "POST", "/up", body=iter([b"ab", b"cd"]))  # an iterator: sent chunked
    assert body == b"POST /up abcd"
    sock = connection.sock
    sock.sendall(b"POST /exp HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n")
    assert sock.recv(100).startswith(b"HTTP/1.1 100 ")  # asked for before the body is sent
    sock.sendall(b"xyz")
    reply = b""
    while not reply.endswith(b"POST /exp xyz"):
        reply += sock.recv(4096)
    assert ask(connection, "GET", "/after")[1] == b"GET /after"  # still in step with the stream
    connection.close()
    rig.stop()
    lines = [line for line in rig.read("rec.mock").splitlines() if line.startswith("<-CLI:")]
    assert lines == ["<-CLI:POST /up abcd", "<-CLI:POST /exp xyz", "<-CLI:GET /after"]


def read_to_end(sock: socket.socket) -> bytes:
    chunks = []
    while True:
        data = sock.recv(4096)
        if not data:
            return b"".join(chunks)
        chunks.append(data)


def test_a_client_resetting_its_idle_kept_connection_is_no_error(rig):
    rig.write("stored.mock", "<-CLI:GET /a\n->SRV:200 one\n")
    errors: list[str] = []
    base = rig.start(capturemock.REPLAY, CLIENT_RC, replay="stored.mock", stderrFn=errors.append)
    connection = connect(base)
    assert ask(connection, "GET", "/a")[1] == b"one"
    connection.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    connection.close()  # linger 0: the close is a reset
    assert ask(connect(base), "GET", "/a")[1] == b"one"
    rig.stop()
    assert errors == []
