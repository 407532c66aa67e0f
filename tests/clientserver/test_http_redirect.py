"""2.10's ``sendPathRedirect`` through the real HTTP traffic server: requests under a registered path
prefix are answered 307 to another server and never recorded (behaviour found by running 2.10)."""
from __future__ import annotations

import http.client
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import capturemock

CLIENT_RC = "[general]\nserver_protocol = http\nrecord_for_client = true\n"


def real_echo(rig):
    """Answers any request with its path; keeps (method, path, body) of each."""
    seen: list[tuple[str, str, bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen.append((self.command, self.path, body))
            self.send_response_only(200)
            self.send_header("Content-Length", str(len(self.path)))
            self.end_headers()
            self.wfile.write(self.path.encode())

        do_POST = do_GET

    server = rig.real(ThreadingHTTPServer(("127.0.0.1", 0), Handler))
    server.received = seen
    return server


def call(base: str, method: str, path: str, body=None, headers=None):
    connection = http.client.HTTPConnection(urlsplit(base).hostname, urlsplit(base).port, timeout=10)
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    result = response.status, response.getheader("Location"), response.read()
    connection.close()
    return result


def register(base: str, prefix: str, matcher: dict, replace: dict | None = None):
    body = json.dumps({"matcher": matcher, "replace": replace or {}})
    return call(base, "POST", f"/capturemock/sendPathRedirect/{prefix}", body, {"Content-Type": "application/json"})


def test_a_registered_prefix_is_redirected_and_not_recorded(rig):
    real = real_echo(rig)
    base = rig.start(capturemock.RECORD, CLIENT_RC, recordFromUrl=real.url)
    assert register(base, "api", {"one": "http://127.0.0.1:9/a"}) == (200, None, b"")  # prefix 'api': no path has it
    assert register(base, "/api", {"one": "http://127.0.0.1:9/a"}, {"items/([0-9]+)": "things/$1"}) == (200, None, b"")
    assert call(base, "GET", "/api/items/42?q=1") == (307, "http://127.0.0.1:9/a/api/things/42?q=1", b"")
    assert call(base, "POST", "/apix", b"{}") == (307, "http://127.0.0.1:9/a/apix", b"")  # a plain string prefix
    assert call(base, "GET", "/other")[::2] == (200, b"/other")
    rig.stop()
    assert [path for _, path, _ in real.received] == ["/other"]
    assert "sendPathRedirect" not in rig.read("rec.mock") and "/api" not in rig.read("rec.mock")


def test_the_cookie_chooses_among_merged_servers_else_404_and_one_stderr_line(rig):
    errors: list[str] = []
    base = rig.start(capturemock.RECORD, CLIENT_RC, stderrFn=errors.append)
    register(base, "/api", {"one": "http://127.0.0.1:9/a"})
    register(base, "/api", {"two": "http://127.0.0.1:9/b"})
    assert call(base, "GET", "/api/x", headers={"Cookie": "capturemock_proxy_target=two"})[:2] == (
        307, "http://127.0.0.1:9/b/api/x")
    assert call(base, "GET", "/api/x") == (404, None, b"")
    rig.stop()
    assert errors == ["Error from CaptureMock Server :\nCaptureMock: FAILED to redirect /api/x: no server with id "
                      "None (capturemock_proxy_target cookie) among one, two\n"]


def test_authorization_is_passed_on_to_the_chosen_server_once_per_path(rig):
    real = real_echo(rig)
    base = rig.start(capturemock.RECORD, CLIENT_RC)
    register(base, "/api", {"one": f"{real.url}/svc"})
    for _ in range(2):
        assert call(base, "GET", "/api/x/z?q=1", headers={"Authorization": "Bearer tok"})[:2] == (
            307, f"{real.url}/svc/api/x/z?q=1")
    rig.stop()
    rc_file = rig.root / "_api_x_z.rc"
    assert real.received == [("POST", "/svc/capturemock/addAlterations", str(rc_file).encode())]
    assert rc_file.read_text() == "[default_http_headers]\nAuthorization = Bearer tok\n"


def test_a_body_that_is_not_the_json_asked_for_is_a_400_with_the_reason(rig):
    errors: list[str] = []
    base = rig.start(capturemock.RECORD, CLIENT_RC, stderrFn=errors.append)
    status, _, body = call(base, "POST", "/capturemock/sendPathRedirect//api", b"http://127.0.0.1:9/a")
    rig.stop()
    reason = ("CaptureMock: sendPathRedirect '/api': the body must be {\"matcher\": {id: server URL}, \"replace\": "
              "{regex: replacement}}: Expecting value: line 1 column 1 (char 0)")
    assert (status, body.decode()) == (400, f"{reason}\n")
    assert errors == [f"Error from CaptureMock Server :\n{reason}\n"]
