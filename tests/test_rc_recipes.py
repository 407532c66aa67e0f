"""The ready-made rc recipes in rc/, used as a user would: record against the real thing, replay without."""
from __future__ import annotations

import http.server
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

RECIPES = Path(__file__).resolve().parent.parent / "rc"

URLLIB_SUT = """\
import sys, urllib.error, urllib.request
base = sys.argv[1]
with urllib.request.urlopen(base + "/page.txt") as response:
    print(response.status, response.headers["Content-Type"], response.read().decode().strip())
try:
    urllib.request.urlopen(base + "/missing")
except urllib.error.HTTPError as error:
    print("error", error.code, error)
"""


class _Pages(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self.path == "/page.txt":
            body = b"hello\n"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_error(404, "File not found")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def web_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def capturemock(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith("CAPTUREMOCK")}
    return subprocess.run([sys.executable, "-m", "capturemock", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=60)


def test_urllib_recipe_records_responses_headers_and_errors_then_replays_them(web_server, tmp_path):
    (tmp_path / "sut.py").write_text(URLLIB_SUT)
    base = f"http://127.0.0.1:{web_server.server_address[1]}"
    rc = str(RECIPES / "urllib.rc")
    record = capturemock("-m", "1", "-r", "web.mock", "-R", rc, sys.executable, "sut.py", base, cwd=tmp_path)
    assert (record.stdout, record.stderr) == ("200 text/plain hello\nerror 404 HTTP Error 404: File not found\n", "")
    recorded = (tmp_path / "web.mock").read_text()
    assert "->RET:raise Instance('HTTPError(urllib.error.URLError" in recorded
    web_server.shutdown()  # replay talks to nobody
    replay = capturemock("-p", "web.mock", "-r", "again.mock", "-R", rc, sys.executable, "sut.py", base,
                         cwd=tmp_path)
    assert (replay.stdout, replay.stderr) == (record.stdout, "")
    assert (tmp_path / "again.mock").read_text() == recorded
