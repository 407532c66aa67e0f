"""``capturemock import-har`` / ``import-vcr``: hand-written recordings converted, then replayed through
the real HTTP traffic server as if our proxy had recorded them."""
from __future__ import annotations

import base64
import gzip
import json
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml

import capturemock
from capturemock import cli

CLIENT_RC = "[general]\nserver_protocol = http\nrecord_for_client = true\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\xff"


def run_cli(*argv: str) -> int:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(list(argv))
    return exit_info.value.code


def fetch(base: str, path: str, body: bytes = None, headers: dict = None):
    """Status, headers and body as urllib sees them (an HTTP error status is an answer too)."""
    request = urllib.request.Request(base + path, data=body, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as err:
        with err:
            return err.code, err.headers, err.read()


def har_entry(method: str, url: str, status: int, text: str = "", *, request_headers=(), response_headers=(),
              post=None, encoding=None) -> dict:
    content = {"size": len(text), "mimeType": "x/y", "text": text}
    if encoding:
        content["encoding"] = encoding
    entry = {"startedDateTime": "2024-05-01T12:00:00.000Z", "time": 1.0,
             "request": {"method": method, "url": url, "httpVersion": "HTTP/2", "cookies": [],
                         "headers": [{"name": n, "value": v} for n, v in request_headers],
                         "queryString": [], "headersSize": -1, "bodySize": 0},
             "response": {"status": status, "statusText": "", "httpVersion": "HTTP/2", "cookies": [],
                          "headers": [{"name": n, "value": v} for n, v in response_headers],
                          "content": content, "redirectURL": "", "headersSize": -1, "bodySize": -1}}
    if post is not None:
        entry["request"]["postData"] = post
    return entry


BROWSER = [(":authority", "api.example.test"), (":method", "GET"), ("user-agent", "Mozilla/5.0"),
           ("cookie", "session=1"), ("sec-fetch-mode", "cors"), ("accept-encoding", "gzip, br"),
           ("connection", "keep-alive"), ("referer", "https://app.example.test/")]
SERVED = [("date", "Wed, 01 May 2024 12:00:00 GMT"), ("content-length", "99"), ("transfer-encoding", "chunked"),
          ("connection", "keep-alive"), ("content-encoding", "gzip")]


def write_har(rig, entries: list[dict], name: str = "app.har") -> str:
    return rig.write(name, json.dumps({"log": {"version": "1.2", "creator": {"name": "t", "version": "1"},
                                               "entries": entries}}))


APP_HAR = [
    har_entry("GET", "https://api.example.test/api/users?page=2&sort=name#top", 200, '{"users": ["ann", "bob"]}',
              request_headers=BROWSER + [("accept", "application/json")],
              response_headers=SERVED + [("content-type", "application/json"), ("x-total", "41")]),
    har_entry("OPTIONS", "https://api.example.test/api/users", 204),
    har_entry("POST", "https://api.example.test/api/users", 201, '{"id": 3}',
              request_headers=BROWSER + [("content-type", "application/json")],
              response_headers=[("content-type", "application/json"), ("location", "/api/users/3")],
              post={"mimeType": "application/json", "text": '{"name": "cy", "tags": ["a"]}'}),
    har_entry("GET", "https://api.example.test/missing", 404, "no such page",
              response_headers=[("content-type", "text/plain")]),
    har_entry("GET", "https://api.example.test/logo.png", 200, base64.b64encode(PNG).decode(), encoding="base64",
              response_headers=[("content-type", "image/png")]),
]
APP_MOCK = ('<-CLI:GET /api/users?page=2&sort=name\n--HEA:Accept=application/json\n'
            '->SRV:200 {"users": ["ann", "bob"]}\n--HEA:content-type=application/json\n--HEA:x-total=41\n'
            '<-CLI:POST /api/users {"name": "cy", "tags": ["a"]}\n--HEA:Content-Type=application/json\n'
            '->SRV:201 {"id": 3}\n--HEA:content-type=application/json\n--HEA:location=/api/users/3\n'
            '<-CLI:GET /missing\n->SRV:404 no such page\n--HEA:content-type=text/plain\n'
            '<-CLI:GET /logo.png\n->SRV:200 0x89504e470d0a1a0a00ff\n--HEA:content-type=image/png\n')


def replay_app(rig, mock: str) -> None:
    """The requests of APP_HAR (query order and JSON spacing changed) answered from ``mock``."""
    base = rig.start(capturemock.REPLAY, CLIENT_RC, replay=mock)
    status, headers, body = fetch(base, "/api/users?sort=name&page=2", headers={"Accept": "application/json"})
    assert (status, json.loads(body), headers["Content-Type"], headers["X-Total"]) == \
           (200, {"users": ["ann", "bob"]}, "application/json", "41")
    assert "Content-Encoding" not in headers and "Date" not in headers
    status, headers, body = fetch(base, "/api/users", b'{"tags":["a"],"name":"cy"}',
                                  {"Content-Type": "application/json"})
    assert (status, body, headers["Location"]) == (201, b'{"id": 3}', "/api/users/3")
    status, headers, body = fetch(base, "/missing")
    assert (status, body, headers["Content-Type"]) == (404, b"no such page", "text/plain")
    status, headers, body = fetch(base, "/logo.png")
    assert (status, body, headers["Content-Type"]) == (200, PNG, "image/png")
    rig.stop()
    assert "MISMATCH" not in rig.read("rec.mock")


def test_har_converts_to_our_format_and_replays(rig, capsys):
    har = write_har(rig, APP_HAR)
    assert run_cli("import-har", har, "-o", str(rig.root / "app.mock")) == 0
    assert rig.read("app.mock") == APP_MOCK
    out, err = capsys.readouterr()
    assert out == f"capturemock: wrote 4 HTTP exchanges to {rig.root / 'app.mock'}\n"
    assert err == (f"capturemock: {har}: log.entries[1]: skipped OPTIONS https://api.example.test/api/users: "
                   "OPTIONS preflights are answered by CaptureMock and never recorded\n")
    replay_app(rig, "app.mock")


CASSETTE = """\
interactions:
- request:
    body: null
    headers:
      Accept: [application/json]
      Accept-Encoding: ['gzip, deflate']
      Connection: [keep-alive]
      User-Agent: [python-requests/2.31.0]
    method: GET
    uri: https://api.example.test/api/users?page=2&sort=name
  response:
    body: {string: '{"users": ["ann", "bob"]}'}
    headers:
      Content-Type: [application/json]
      Date: ['Wed, 01 May 2024 12:00:00 GMT']
      Content-Length: ['25']
      X-Total: ['41']
    status: {code: 200, message: OK}
- request:
    body: '{"name": "cy", "tags": ["a"]}'
    headers:
      Content-Length: ['29']
      Content-Type: [application/json]
    method: POST
    uri: https://api.example.test/api/users
  response:
    body: {string: '{"id": 3}'}
    headers:
      Content-Type: [application/json]
      Location: [/api/users/3]
    status: {code: 201, message: Created}
- request:
    body: null
    headers: {}
    method: GET
    uri: https://api.example.test/missing
  response:
    body: {string: no such page}
    headers:
      Content-Type: [text/plain]
    status: {code: 404, message: Not Found}
- request:
    body: null
    headers: {}
    method: GET
    uri: https://api.example.test/logo.png
  response:
    body:
      string: !!binary |
        iVBORw0KGgoA/w==
    headers:
      Content-Type: [image/png]
      Transfer-Encoding: [chunked]
    status: {code: 200, message: OK}
version: 1
"""


def test_vcr_cassette_converts_to_our_format_and_replays(rig):
    cassette = rig.write("app.yaml", CASSETTE)
    assert run_cli("import-vcr", cassette) == 0  # default output: app.mock beside it
    assert rig.read("app.mock") == APP_MOCK.replace("content-type", "Content-Type").replace(
        "x-total", "X-Total").replace("location=", "Location=")
    replay_app(rig, "app.mock")


def test_an_imported_mock_is_what_our_proxy_records_for_the_same_traffic(rig):
    class Real(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response_only(201)
            for name, value in (("Content-Type", "application/json"), ("Content-Length", "9"),
                                ("X-Trace", "t1"), ("Connection", "close")):
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(b'{"id": 3}')

    real = rig.real(ThreadingHTTPServer(("127.0.0.1", 0), Real))
    base = rig.start(capturemock.RECORD, CLIENT_RC, recordFromUrl=real.url, record="proxy.mock")
    fetch(base, "/api/users?x=1&y=%20", b'{"name": "cy"}', {"Content-Type": "application/json", "X-client-id": "7"})
    rig.stop()
    har = write_har(rig, [har_entry(
        "post", "http://api.example.test/api/users?x=1&y=%20", 201, '{"id": 3}',
        request_headers=BROWSER + [("content-type", "application/json"), ("x-client-id", "7")],
        response_headers=[("Content-Type", "application/json"), ("X-Trace", "t1"), ("Connection", "close")],
        post={"mimeType": "application/json", "text": '{"name": "cy"}'})])
    assert run_cli("import-har", har, "-o", str(rig.root / "har.mock")) == 0
    assert rig.read("har.mock") == rig.read("proxy.mock")


def test_form_params_and_compressed_cassette_bodies(rig):
    har = write_har(rig, [har_entry("POST", "http://h/login", 200, "ok", post={
        "mimeType": "application/x-www-form-urlencoded", "params": [{"name": "u", "value": "a b"}, {"name": "p"}]})])
    assert run_cli("import-har", har) == 0
    assert rig.read("app.mock") == "<-CLI:POST /login u=a+b&p=\n->SRV:200 ok\n"
    response = {"status": {"code": 200, "message": "OK"}, "body": {"string": gzip.compress(b"line 1\nline 2")},
                "headers": {"Content-Encoding": ["gzip"], "Vary": ["Accept-Encoding"]}}
    cassette = rig.write("z.yaml", yaml.safe_dump({"version": 1, "interactions": [
        {"request": {"method": "GET", "uri": "http://h/", "body": None, "headers": {}}, "response": response}]}))
    assert run_cli("import-vcr", cassette) == 0
    assert rig.read("z.mock") == "<-CLI:GET /\n->SRV:200 line 1\nline 2\n--HEA:Vary=Accept-Encoding\n"


def good_har() -> dict:
    return {"log": {"entries": [har_entry("GET", "http://h/", 200, "ok"), har_entry("GET", "http://h/2", 200, "ok")]}}


def broken_har(change) -> str:
    document = good_har()
    change(document["log"]["entries"][1])
    return json.dumps(document)


def broken_cassette(change) -> str:
    document = yaml.safe_load(CASSETTE)
    change(document)
    return yaml.safe_dump(document)


@pytest.mark.parametrize("command, text, message", [
    ("import-har", "{not json", "not a HAR file (not JSON: Expecting property name enclosed in double quotes"),
    ("import-har", "[]", "expected a mapping, found list"),
    ("import-har", json.dumps({"log": {}}), "log: entries is missing"),
    ("import-har", broken_har(lambda e: e["response"].pop("status")), "log.entries[1].response: status is missing"),
    ("import-har", broken_har(lambda e: e["request"].update(url=7)), "log.entries[1].request: url should be str"),
    ("import-har", broken_har(lambda e: e["response"]["content"].update(encoding="base64", text="*")),
     "log.entries[1].response.content: text is not valid base64"),
    ("import-har", broken_har(lambda e: e["request"]["headers"].append({"name": "a"})),
     "log.entries[1].request.headers[0]: value is missing"),
    ("import-vcr", "interactions: [\n", "not a vcrpy cassette (not YAML: line 2: expected the node content, "
     "but found '<stream end>')"),
    ("import-vcr", "- 1\n", "expected a mapping, found list"),
    ("import-vcr", broken_cassette(lambda d: d.update(version=2)), "cassette version 2 is not supported (only 1)"),
    ("import-vcr", broken_cassette(lambda d: d["interactions"][2]["request"].pop("uri")),
     "interactions[2].request: uri is missing"),
    ("import-vcr", broken_cassette(lambda d: d["interactions"][0]["response"]["status"].update(code="200")),
     "interactions[0].response.status: code should be int, found str"),
    ("import-vcr", broken_cassette(lambda d: d["interactions"][1]["response"]["headers"].update(
        {"Content-Encoding": ["br"]})), "interactions[1].response: body is br-encoded; re-record it with vcrpy's"),
    ("import-vcr", "version: 1\ninteractions: []\n", "no HTTP exchanges to import"),
])
def test_malformed_recordings_are_one_line_errors_naming_file_and_entry(rig, capsys, command, text, message):
    path = rig.write("in.txt", text)
    assert run_cli(command, path) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"capturemock: {path}: {message}") and err.count("\n") == 1, err
    assert not rig.exists("in.mock")


def test_output_may_not_replace_the_recording(rig, capsys):
    har = write_har(rig, good_har()["log"]["entries"], name="x.mock")
    assert run_cli("import-har", har) == 2
    assert "the output would replace the recording" in capsys.readouterr().err
