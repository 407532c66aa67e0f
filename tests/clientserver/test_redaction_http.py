"""Redaction of HTTP traffic (issue #13): ``[general] redact`` keeps secrets in headers, query parameters
and JSON fields out of the mock file, in requests and answers, and replay still matches."""
from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from test_http import call  # the test directory is on sys.path (no __init__.py)

import capturemock

RC = "[general]\nserver_protocol = http\nrecord_for_client = true\nuse_exact_matching = true\nredact = defaults\n"
LOGIN = json.dumps({"user": "bob", "password": "hunter2"})
BEARER = {"Authorization": "Bearer s3cr3t-t0ken-abcdef"}


def real_auth_server(rig):
    """POST /login answers an access token; GET /items needs it, as the header or as ``?token=``."""
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def reply(self, status: int, data: dict):
            body = json.dumps(data).encode()
            self.send_response_only(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            sent = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            self.reply(200 if sent["password"] == "hunter2" else 403, {"access_token": "live-token-123"})

        def do_GET(self):
            allowed = self.headers.get("Authorization") == BEARER["Authorization"] or "token=t0k" in self.path
            self.reply(200 if allowed else 401, {"items": [1, 2]})

    return rig.real(ThreadingHTTPServer(("127.0.0.1", 0), Handler))


def exchange(base: str) -> list:
    return [call(base, "POST", "/login", LOGIN, {"Content-Type": "application/json"})[::2],
            call(base, "GET", "/items", headers=BEARER)[::2],
            call(base, "GET", "/items?token=t0k&page=2")[::2]]


RECORDED = (
    '<-CLI:POST /login {"user": "bob", "password": "<redacted>"}\n'
    "--HEA:Content-Type=application/json\n"
    '->SRV:200 {"access_token": "<redacted>"}\n'
    "--HEA:Content-Type=application/json\n"
    "<-CLI:GET /items\n"
    "--HEA:Authorization=Bearer <redacted>\n"
    '->SRV:200 {"items": [1, 2]}\n'
    "--HEA:Content-Type=application/json\n"
    "<-CLI:GET /items?token=<redacted>&page=2\n"
    '->SRV:200 {"items": [1, 2]}\n'
    "--HEA:Content-Type=application/json\n"
)


def test_secrets_in_headers_query_and_json_are_recorded_redacted(rig):
    real = real_auth_server(rig)
    base = rig.start(capturemock.RECORD, RC, recordFromUrl=real.url)
    answers = exchange(base)
    rig.stop()
    assert answers == [(200, b'{"access_token": "live-token-123"}'), (200, b'{"items": [1, 2]}'),
                       (200, b'{"items": [1, 2]}')]  # the client got the real answers
    recorded = rig.read("rec.mock")
    assert recorded == RECORDED
    assert "hunter2" not in recorded and "s3cr3t" not in recorded and "live-token" not in recorded


def test_replay_with_the_real_secrets_matches_the_redacted_recording_exactly(rig):
    """``use_exact_matching`` is on: only a redacted live request finds its recording."""
    rig.write("stored.mock", RECORDED)
    base = rig.start(capturemock.REPLAY, RC, replay="stored.mock")
    answers = exchange(base)
    rig.stop()
    assert answers == [(200, b'{"access_token": "<redacted>"}'), (200, b'{"items": [1, 2]}'),
                       (200, b'{"items": [1, 2]}')]  # the placeholder stands where the secret was
    assert rig.read("rec.mock") == RECORDED


def test_an_unredacted_likely_secret_is_warned_about_once(rig):
    real = real_auth_server(rig)
    lines: list[str] = []
    rc = RC.replace("redact = defaults", "redact = password")
    base = rig.start(capturemock.RECORD, rc, recordFromUrl=real.url, stderrFn=lines.append)
    exchange(base)
    exchange(base)
    rig.stop()
    assert "".join(lines) == (  # each once, relayed from the server as 2.10's launcher relays its stderr
        "Error from CaptureMock Server :\n"
        "capturemock: WARNING: 'access_token' looks like a secret and is recorded unredacted: add it to "
        "[general] redact in the rc file\n"
        "capturemock: WARNING: 'Authorization' looks like a secret and is recorded unredacted: add it to "
        "[general] redact in the rc file\n"
        "capturemock: WARNING: a bearer token is recorded unredacted: add the name it is sent under, or a re: "
        "pattern matching it, to [general] redact in the rc file\n"
        "capturemock: WARNING: 'token' looks like a secret and is recorded unredacted: add it to "
        "[general] redact in the rc file\n")
