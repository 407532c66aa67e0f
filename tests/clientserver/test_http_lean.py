"""The lean path of a replayed HTTP request (issue #16): what it answers, records and says is what
``http.server``'s handler answers, records and says, byte for byte, and whatever it does not take goes
to that handler untouched, on the same connection."""
from __future__ import annotations

import http.client
import socket

import pytest

import capturemock
from capturemock.clientserver import httplean
from capturemock.clientserver.httpproxy import HttpSession
from capturemock.clientserver.session import traffic_handlers
from capturemock.config import RcConfig
from capturemock.modes import REPLAY
from capturemock.server import Connection

pytestmark = pytest.mark.usefixtures("replay_core")  # the replay index read by the C accelerator and by Python

RC = "[general]\nserver_protocol = http\nrecord_for_client = true\n"
MOCK = """<-CLI:GET /items/1
->SRV:200 {"id": 1}
--HEA:Content-Type=application/json
--HEA:Connection=keep-alive
<-CLI:GET /items/2
->SRV:404 none
<-CLI:POST /items {"name": "x"}
--HEA:Content-Type=application/json
->SRV:201 made
<-CLI:GET /odd
->SRV:299 odd status
<-CLI:GET /bad
->SRV:abc not a status
<-CLI:GET /caf\u00e9
->SRV:200 caf\u00e9
--HEA:X-Name=caf\u00e9
"""
GET = b"GET /items/1 HTTP/1.1\r\nHost: h\r\nAccept-Encoding: identity\r\n\r\n"
LEAN = [
    GET,
    GET + b"GET /items/2 HTTP/1.1\r\nHost: h\r\n\r\n",  # two on one kept connection
    b"HEAD /items/1 HTTP/1.1\r\nHost: h\r\n\r\n",
    b'POST /items HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{"name": "x"}',
    b"GET /items/1 HTTP/1.0\r\nHost: h\r\n\r\n",
    b"GET /items/1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" + GET,
    b"GET /items/1 HTTP/1.1\r\nConnection: close\r\n\r\n" + GET,  # the second is never read
    b"GET /odd HTTP/1.1\r\n\r\n",
    b"GET /bad HTTP/1.1\r\n\r\n",
    b"GET /missing HTTP/1.1\r\n\r\n",
    b"GET /caf%C3%A9 HTTP/1.1\r\n\r\n",
    b"GET /caf\xc3\xa9 HTTP/1.1\r\n\r\n",
    b'POST /items HTTP/1.1\r\nContent-Length: 1_3\r\n\r\n{"name": "x"}',  # int() reads it, as the handler does
]
HANDLED = [  # what the lean path leaves to the handler, first or after a lean one
    b"GET /items/1 HTTP/1.1\r\nExpect: 100-continue\r\n\r\n",
    b"POST /items HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nd\r\n{\"name\": \"x\"}\r\n0\r\n\r\n",
    b"POST /items HTTP/1.1\r\nContent-Length: x\r\n\r\n",
    b"POST /items HTTP/1.1\r\nContent-Length: 99\r\n\r\nshort",
    b"GET /items/1 HTTP/1.1\r\nX-Folded: a\r\n b\r\n\r\n",
    b"GET /items/1 HTTP/1.1\nHost: h\n\n",
    b"OPTIONS /items/1 HTTP/1.1\r\n\r\n",
    b"BREW /items/1 HTTP/1.1\r\n\r\n",
    b"GET /capturemock/rules HTTP/1.1\r\n\r\n",
    b"GET /capturemock/elsewhere HTTP/1.1\r\n\r\n",
    b"GET /items/1 HTTP/2.0\r\n\r\n",
    b"GET /items/1\r\n\r\n",
    b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n",
    GET + b"GET /items/1 HTTP/1.1\r\nExpect: 100-continue\r\n\r\n" + GET,
    GET + b"GET /items/2 HTTP/1.1\r\n",  # the second never complete
]


def serve(tmp_path, request: bytes) -> tuple[bytes, list[str]]:
    """What the HTTP session answers and records for ``request`` sent whole on a fresh connection (the
    client then shuts its sending side), read as the traffic server reads it first (``Dispatcher``)."""
    (tmp_path / "stored.mock").write_text(MOCK, encoding="utf-8")
    (tmp_path / "rc").write_text(RC)
    session = traffic_handlers(REPLAY, RcConfig([str(tmp_path / "rc")]), {"replay": str(tmp_path / "stored.mock")},
                               "http://127.0.0.1:1").fallback
    ours, theirs = socket.socketpair()
    theirs.sendall(request)
    theirs.shutdown(socket.SHUT_WR)
    conn = Connection(ours, lambda conn: 0, lambda conn: True)
    conn.peek(1)
    recorded: list[str] = []
    session(conn, recorded.append)
    ours.close()
    answer = b""
    while data := theirs.recv(1 << 20):
        answer += data
    theirs.close()
    return answer, recorded


def served_both_ways(tmp_path, capsys, monkeypatch, request: bytes, lean: list) -> list:
    """``serve`` by the lean path and by the handler alone, each with what it said on stderr."""
    taken = []
    lean_serve = httplean.serve
    monkeypatch.setattr(httplean, "serve", lambda *args: taken.append(True) or lean_serve(*args))
    answers = [(*serve(tmp_path, request), capsys.readouterr().err)]
    lean += taken
    monkeypatch.setattr(httplean, "serve", lambda *args: False)
    answers.append((*serve(tmp_path, request), capsys.readouterr().err))
    return answers


@pytest.mark.parametrize("request_bytes", LEAN + HANDLED)
def test_the_lean_path_answers_records_and_says_what_the_handler_does(tmp_path, capsys, monkeypatch, request_bytes):
    lean_answer, handler_answer = served_both_ways(tmp_path, capsys, monkeypatch, request_bytes, [])
    assert lean_answer == handler_answer
    assert lean_answer[0]  # every one is answered


@pytest.mark.parametrize("request_bytes", LEAN)
def test_plain_replayed_requests_take_the_lean_path(request_bytes):
    assert httplean.lean_request(request_bytes) is not None


@pytest.mark.parametrize("request_bytes", HANDLED[:-2])
def test_the_rest_is_left_to_the_handler(request_bytes):
    assert httplean.lean_request(request_bytes) is None


def test_a_lean_answer_is_written_as_http_server_would_write_it(tmp_path):
    answer, recorded = serve(tmp_path, GET + b"HEAD /items/1 HTTP/1.1\r\nConnection: close\r\n\r\n")
    head = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nAccess-Control-Allow-Origin: *\r\n"
            b"Access-Control-Expose-Headers: *\r\n")
    assert answer == head + b'Content-Length: 9\r\n\r\n{"id": 1}' + head + b"Connection: close\r\n\r\n"
    reply = '->SRV:200 {"id": 1}\n--HEA:Content-Type=application/json\n--HEA:Connection=keep-alive\n'
    assert recorded == [f"<-CLI:GET /items/1\n{reply}", f"<-CLI:HEAD /items/1\n{reply}"]  # HEAD: the best match


class NoHandler:
    def __init__(self, *args):
        raise AssertionError("the handler was used")


@pytest.mark.parametrize("request_bytes", LEAN)
def test_plain_replayed_requests_never_reach_the_handler(tmp_path, capsys, monkeypatch, request_bytes):
    expected = served_both_ways(tmp_path, capsys, monkeypatch, request_bytes, [])[1]
    monkeypatch.undo()
    monkeypatch.setattr(HttpSession, "request_handler", NoHandler)
    assert (*serve(tmp_path, request_bytes), capsys.readouterr().err) == expected


def test_a_replayed_client_keeps_its_connection_through_the_real_server(rig):
    rig.write("stored.mock", MOCK)
    base = rig.start(capturemock.REPLAY, RC, replay="stored.mock")
    host, port = base.split("//")[1].split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    answers = []
    for path in ("/items/1", "/items/2", "/items/1"):
        connection.request("GET", path)
        response = connection.getresponse()
        answers.append((response.status, response.read(), response.getheader("Content-Type")))
    sock = connection.sock
    connection.request("POST", "/items", body=b'{"name": "x"}', headers={"Content-Type": "application/json"})
    answers.append((connection.getresponse().status, connection.sock is sock))
    connection.close()
    assert answers == [(200, b'{"id": 1}', "application/json"), (404, b"none", None), (200, b'{"id": 1}',
                       "application/json"), (201, True)]
    rig.stop()
    assert rig.read("rec.mock") == (
        '<-CLI:GET /items/1\n->SRV:200 {"id": 1}\n--HEA:Content-Type=application/json\n--HEA:Connection=keep-alive\n'
        '<-CLI:GET /items/2\n->SRV:404 none\n'
        '<-CLI:GET /items/1\n->SRV:200 {"id": 1}\n--HEA:Content-Type=application/json\n--HEA:Connection=keep-alive\n'
        '<-CLI:POST /items {"name": "x"}\n--HEA:Content-Type=application/json\n->SRV:201 made\n')


@pytest.mark.parametrize("status", ["200", "201", "299", "404", "503"])
def test_an_answers_head_is_what_http_servers_calls_wrote(status):
    """``httpanswer.response_head`` against ``send_response_only`` and ``send_header``, which it replaces."""
    from http.server import BaseHTTPRequestHandler

    from capturemock.clientserver.httpanswer import response_head
    from capturemock.clientserver.httptext import Message

    handler = BaseHTTPRequestHandler.__new__(BaseHTTPRequestHandler)
    handler.request_version, handler.protocol_version, handler.close_connection = "HTTP/1.1", "HTTP/1.1", False
    handler.send_response_only(int(status))
    for name, value in [("X-Name", "caf\u00e9"), ("Access-Control-Allow-Origin", "*"),
                        ("Access-Control-Expose-Headers", "*"), ("Content-Length", "4"), ("Connection", "close")]:
        handler.send_header(name, value)
    expected = b"".join(handler._headers_buffer) + b"\r\n"
    response = Message(status, b"body", [("X-Name", "caf\u00e9"), ("Transfer-Encoding", "chunked"),
                                         ("access-control-allow-origin", "x")])
    assert response_head(response, 4, False, True) == expected
