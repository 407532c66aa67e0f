"""HTTP through the real traffic server (§8.5): forwarding, recording, replay, repeats, ID mapping."""
from __future__ import annotations

import http.client
import json
import socket
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import capturemock
from capturemock.clientserver import httptext
from capturemock.clientserver.idmap import IdMap, compile_pattern, find_id

CLIENT_RC = "[general]\nserver_protocol = http\nrecord_for_client = true\n"


def real_store(rig):
    """A JSON store: POST /items creates an item with an id it chooses, GET /items/<id> reads one."""
    items: dict[str, dict] = {}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def reply(self, status, data: bytes, content_type="application/json"):
            self.send_response_only(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path == "/blob":
                self.reply(200, bytes([0xFF, 0x00, 0x41]), "application/octet-stream")
                return
            item = items.get(self.path.rsplit("/", 1)[-1])
            self.reply(200 if item else 404, json.dumps(item or {"error": "none"}).encode())

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            key = f"i-{100 + len(items)}"
            items[key] = dict(body, id=key, token=self.headers.get("Authorization"))
            self.reply(201, json.dumps({"id": key}).encode())

    return rig.real(ThreadingHTTPServer(("127.0.0.1", 0), Handler))


def call(base: str, method: str, path: str, body=None, headers=None):
    connection = http.client.HTTPConnection(urlsplit(base).hostname, urlsplit(base).port, timeout=10)
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    result = response.status, dict(response.getheaders()), response.read()
    connection.close()
    return result


def test_record_filters_headers_and_replay_returns_the_recording(rig):
    real = real_store(rig)
    rc = CLIENT_RC + "ignore_http_headers = x-request-id\n[default_http_headers]\nAuthorization = Bearer t\n"
    base = rig.start(capturemock.RECORD, rc, recordFromUrl=real.url)
    status, _, body = call(base, "POST", "/items", b'{"name": "cup"}',
                           {"Content-Type": "application/json", "X-Request-Id": "7", "User-Agent": "x"})
    assert (status, body) == (201, b'{"id": "i-100"}')
    status, headers, body = call(base, "GET", "/blob")
    assert (status, body, headers["Access-Control-Allow-Origin"]) == (200, b"\xff\x00A", "*")
    rig.stop()
    recorded = ('<-CLI:POST /items {"name": "cup"}\n--HEA:authorization=Bearer t\n'
                '--HEA:Content-Type=application/json\n->SRV:201 {"id": "i-100"}\n--HEA:Content-Type=application/json\n'
                '<-CLI:GET /blob\n--HEA:authorization=Bearer t\n'
                '->SRV:200 0xff0041\n--HEA:Content-Type=application/octet-stream\n')
    assert rig.read("rec.mock") == recorded
    real.stop()
    base = rig.start(capturemock.REPLAY, rc, replay="rec.mock", record="replayed.mock")
    status, headers, body = call(base, "POST", "/items", b'{"name": "cup"}', {"Content-Type": "application/json"})
    assert (status, headers["Content-Type"], body) == (201, "application/json", b'{"id": "i-100"}')
    assert call(base, "GET", "/blob")[2] == b"\xff\x00A"
    rig.stop()
    assert rig.read("replayed.mock") == recorded


def test_options_is_answered_locally_and_not_recorded(rig):
    real = real_store(rig)
    base = rig.start(capturemock.RECORD, CLIENT_RC, recordFromUrl=real.url)
    status, headers, body = call(base, "OPTIONS", "/items", headers={"Origin": "http://x.test"})
    assert (status, headers["Access-Control-Allow-Methods"], body) == (200, "*", b"")
    rig.stop()
    assert not rig.exists("rec.mock")


def test_repeated_gets_are_folded_until_a_state_change(rig):
    rig.write("stored.mock", "<-CLI:GET /n\n->SRV:200 one\n<-CLI:POST /n x\n->SRV:201 \n<-CLI:GET /n\n->SRV:200 two\n")
    rc = CLIENT_RC + "[GET]\ncheck_repeated_calls = False\n"
    base = rig.start(capturemock.REPLAY, rc, replay="stored.mock")
    bodies = [call(base, method, "/n", b"x" if method == "POST" else None)[2]
              for method in ("GET", "GET", "POST", "GET", "GET")]
    rig.stop()
    assert bodies == [b"one", b"one", b"", b"two", b"two"]
    assert rig.read("rec.mock") == rig.read("stored.mock")


def test_id_mapping_when_replaying_as_the_server(rig):
    rig.write("stored.mock", '<-CLI:GET /s/s-1/items\n->SRV:200 {"s": "s-1", "next": "/s/s-1/more", "other": "s-12"}\n')
    rc = CLIENT_RC + "id_pattern_client = [A-Z]+ /s/(s-[0-9]+)\n"
    base = rig.start(capturemock.REPLAY, rc, replay="stored.mock")
    with urllib.request.urlopen(base + "/s/s-9/items", timeout=10) as response:
        assert json.loads(response.read()) == {"s": "s-9", "next": "/s/s-9/more", "other": "s-12"}
    rig.stop()
    assert rig.read("id_alterations.rc") == ("[general]\nalterations = s-1\n\n"
                                             "[s-1]\nmatch_pattern = s-1\nreplacement = s-9\n")


def test_replay_for_server_pairs_response_ids_and_rewrites_later_requests(rig, monkeypatch):
    real = real_store(rig)
    rig.write("stored.mock", '<-CLI:POST /items {"name": "pen"}\n--HEA:Content-Type=application/json\n'
                             '->SRV:201 {"id": "i-1"}\n<-CLI:GET /items/i-1\n->SRV:200 {}\n')
    monkeypatch.chdir(rig.root)
    capturemock.replay_for_server(rcFile=rig.write("rc", CLIENT_RC + 'id_pattern_server = [0-9]+ \\{"id": "([^"]+)"\n'),
                                  replayFile=str(rig.root / "stored.mock"), recordFile=str(rig.root / "out.mock"),
                                  serverAddress=real.url)
    out = rig.read("out.mock")
    assert out.startswith('<-CLI:POST /items {"name": "pen"}\n--HEA:Content-Type=application/json\n'
                          '->SRV:201 {"id": "i-100"}\n--HEA:Content-Type=application/json\n'
                          '<-CLI:GET /items/i-100\n->SRV:200 ')
    assert "replacement = i-100" in rig.read("id_alterations.rc")


def test_text_form_round_trips():
    message = httptext.Message("POST /a?b=1", b"line\r\nnext", [("X-B", "2"), ("Host", "h"), ("a-x", "1")])
    message = message._replace(headers=httptext.recorded_headers(message.headers))
    text = httptext.render(message)
    assert text == "POST /a?b=1 line\nnext\n--HEA:a-x=1\n--HEA:X-B=2"
    assert httptext.parse(text) == httptext.Message("POST /a?b=1", b"line\nnext", [("a-x", "1"), ("X-B", "2")])
    assert httptext.parse("204 ", is_response=True) == httptext.Message("204", b"", [])
    assert find_id(compile_pattern("GET /(x-[0-9]+)", "k"), "GET /x-5/y") == "x-5"
    ids = IdMap("unused")
    ids.pairs["s-1"] = "s-9"
    assert ids.to_live("s-1 s-12 /s-1/") == "s-9 s-12 /s-9/"


def test_equivalence_ignores_query_order_and_json_formatting():
    from capturemock.clientserver.httpmatch import equivalence_key

    assert equivalence_key("<-CLI:GET /items?b=2&a=1&a=0") == equivalence_key("<-CLI:GET /items?a=1&a=0&b=2") \
        != equivalence_key("<-CLI:GET /items?a=0&a=1&b=2")  # repeated keys keep their relative order
    assert equivalence_key('<-CLI:POST /orders {"qty": 2, "sku": "x"}\n--HEA:Content-Type=application/json') == \
        equivalence_key('<-CLI:POST /orders {"sku":"x","qty":2}\n--HEA:Content-Type=application/json')
    assert equivalence_key('<-CLI:POST /orders {"qty": 3}') != equivalence_key('<-CLI:POST /orders {"qty": 2}')
    assert equivalence_key("<-CLI:POST /raw not json {") == "<-CLI:POST /raw not json {"


def test_replay_matches_query_parameters_in_any_order_and_json_by_value(rig):
    rig.write("stored.mock", """\
        <-CLI:GET /search?page=2&q=shoes&size=10
        ->SRV:200 page two
        <-CLI:GET /search?page=1&q=shoes&size=10
        ->SRV:200 page one
        <-CLI:POST /orders {"qty": 2, "sku": "boot"}
        ->SRV:201 {"id": 7}
        <-CLI:POST /orders {"qty": 1, "sku": "boot"}
        ->SRV:201 {"id": 8}
        """)
    base = rig.start(capturemock.REPLAY, CLIENT_RC, replay="stored.mock")
    assert call(base, "GET", "/search?size=10&q=shoes&page=1")[2] == b"page one"
    assert call(base, "GET", "/search?q=shoes&page=2&size=10")[2] == b"page two"
    assert call(base, "POST", "/orders", body=b'{"sku":"boot","qty":1}')[2] == b'{"id": 8}'
    assert call(base, "POST", "/orders", body=b'{\n  "qty": 2,\n  "sku": "boot"\n}')[2] == b'{"id": 7}'


def redirecting_server(rig):
    """``/old`` redirects to ``/new`` by an absolute URL on itself; HEAD answers headers only."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            if self.path == "/old":
                self.send_response_only(302)
                self.send_header("Location", f"http://127.0.0.1:{self.server.server_address[1]}/new?x=1")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = f"at {self.path}".encode()
            self.send_response_only(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command == "GET":
                self.wfile.write(body)

        do_HEAD = do_GET

    return rig.real(ThreadingHTTPServer(("127.0.0.1", 0), Handler))


def test_head_and_absolute_redirects_go_through_the_proxy_in_record_and_replay(rig):
    real = redirecting_server(rig)
    base = rig.start(capturemock.RECORD, CLIENT_RC, recordFromUrl=real.url)
    status, headers, body = call(base, "HEAD", "/page")
    assert (status, headers["Content-Type"], body) == (200, "text/plain", b"")
    status, headers, _ = call(base, "GET", "/old")
    assert (status, headers["Location"]) == (302, f"{base}/new?x=1")
    assert urllib.request.urlopen(f"{base}/old", timeout=10).read() == b"at /new?x=1"  # followed through us
    rig.stop()
    redirect = f"<-CLI:GET /old\n->SRV:302 \n--HEA:Location={real.url}/new?x=1\n"  # recorded as the server sent it
    assert rig.read("rec.mock") == ("<-CLI:HEAD /page\n->SRV:200 \n--HEA:Content-Type=text/plain\n" + redirect * 2 +
                                    "<-CLI:GET /new?x=1\n->SRV:200 at /new?x=1\n--HEA:Content-Type=text/plain\n")
    real.stop()
    base = rig.start(capturemock.REPLAY, CLIENT_RC, replay="rec.mock", record="replayed.mock", recordFromUrl=real.url)
    assert call(base, "HEAD", "/page")[::2] == (200, b"")
    assert urllib.request.urlopen(f"{base}/old", timeout=10).read() == b"at /new?x=1"
    rig.stop()
    assert "<-CLI:GET /new?x=1\n->SRV:200 at /new?x=1" in rig.read("replayed.mock")


def test_a_request_cut_off_mid_body_is_refused_not_forwarded(rig):
    real = real_store(rig)
    stderr: list[str] = []
    base = rig.start(capturemock.RECORD, CLIENT_RC, recordFromUrl=real.url, stderrFn=stderr.append)
    host, port = urlsplit(base).hostname, urlsplit(base).port
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(b'POST /items HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\n\r\n{"na')
        sock.shutdown(socket.SHUT_WR)
        answer = sock.makefile("rb").read()
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(b'POST /items HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n{"na')
        sock.shutdown(socket.SHUT_WR)
        chunked = sock.makefile("rb").read()
    rig.stop()
    assert answer.startswith(b"HTTP/1.1 400 ") and chunked.startswith(b"HTTP/1.1 400 ")
    assert not rig.exists("rec.mock")
    assert stderr == ["Error from CaptureMock Server :\n"
                      "CaptureMock: refused POST /items: request body cut off after 4 of 40 bytes\n"
                      "CaptureMock: refused POST /items: chunked request body cut off\n"]


def test_unreachable_server_and_nothing_to_replay_are_answered_with_the_reason(rig):
    stderr: list[str] = []
    base = rig.start(capturemock.RECORD, CLIENT_RC, recordFromUrl="http://127.0.0.1:1", stderrFn=stderr.append)
    status, _, body = call(base, "GET", "/items/1")
    rig.stop()
    reason = "Failed to forward http traffic to server http://127.0.0.1:1: [Errno 111] Connection refused"
    assert (status, body.decode()) == (502, f"{reason}\n")
    assert stderr == [f"Error from CaptureMock Server :\n{reason}\n"]
    mock = rig.write("stored.mock", "<-CLI:GET /items/1\n")
    stderr.clear()
    base = rig.start(capturemock.REPLAY, CLIENT_RC, replay="stored.mock", stderrFn=stderr.append)
    status, _, body = call(base, "GET", "/items/1")
    rig.stop()
    assert (status, body.decode()) == (500, f"CaptureMock: no recorded response to 'GET /items/1' in {mock}\n")
    assert stderr == [f"Error from CaptureMock Server :\n{body.decode()}"]


def test_control_requests_of_2_10_act_and_are_not_forwarded_or_recorded(rig):
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            seen.append(f"{self.path} {self.headers.get('X-Extra')}")
            self.send_response_only(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        do_POST = do_GET

    real = rig.real(ThreadingHTTPServer(("127.0.0.1", 0), Handler))
    extra = rig.write("extra.rc", "[default_http_headers]\nX-Extra = added\n")
    stderr: list[str] = []
    base = rig.start(capturemock.RECORD, CLIENT_RC, recordFromUrl=real.url, stderrFn=stderr.append)
    assert call(base, "POST", "/capturemock/addAlterations", extra.encode())[::2] == (200, b"")
    assert call(base, "POST", "/capturemock/addAlterations", b"/no/such.rc")[::2] == (
        400, b"CaptureMock: addAlterations: no rc file at '/no/such.rc'\n")
    assert call(base, "GET", "/capturemock/shutdownServer", headers={"Origin": "http://evil"})[0] == 403
    assert call(base, "GET", "/a")[::2] == (200, b"ok")
    assert call(base, "GET", "/capturemock/shutdownServer")[::2] == (200, b"")
    rig.manager.process.wait(timeout=10)  # stopped by the request, with what it recorded written
    assert seen == ["/a added"]
    assert rig.read("rec.mock") == "<-CLI:GET /a\n--HEA:x-extra=added\n->SRV:200 ok\n"
    rig.stop()
    assert stderr == ["Error from CaptureMock Server :\n"
                      "CaptureMock: addAlterations: no rc file at '/no/such.rc'\n"
                      "CaptureMock: refused /capturemock/shutdownServer sent by a browser without this session's "
                      "CAPTUREMOCK_TOKEN in the X-CaptureMock-Token header\n"]
