"""The ``capturemock_server`` fixture: a traffic server for one test, run through pytest in a subprocess
exactly as users get the plugin (``test_pytest_plugin.run_pytest``)."""
from __future__ import annotations

import re
from pathlib import Path

from test_pytest_plugin import run_pytest

ROOT = Path(__file__).resolve().parent.parent

REAL_SERVER = '''
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class Real(BaseHTTPRequestHandler):
    def do_GET(self):
        text = f"real answer to {self.path} ({self.headers['X-Suite']})".encode()
        self.send_response_only(200)
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)

    def log_message(self, *args):
        pass


def fetch(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


@pytest.mark.capturemock_server(rcFiles=["client.rc"])
def test_greeting(capturemock_server):
    if not capturemock_server.replaying:  # recording: the real server runs, only then
        real = ThreadingHTTPServer(("127.0.0.1", 0), Real)
        threading.Thread(target=real.serve_forever, daemon=True).start()
        capturemock_server.forward_to(f"http://127.0.0.1:{real.server_address[1]}")
    capturemock_server.rules.add(path="/stub", response={"body": "from a rule"})
    assert fetch(f"{capturemock_server.url}/hello?name=ann") == "real answer to /hello?name=ann (suite)"
    assert fetch(f"{capturemock_server.url}/stub") == "from a rule"
    assert FAIL == 0
'''
CLIENT_RC = "[general]\nserver_protocol = http\nrecord_for_client = true\n[default_http_headers]\nX-Suite = suite\n"
# rc option names are lower case (configparser), and so is the default header as recorded
RECORDED = ("<-CLI:GET /hello?name=ann\n--HEA:x-suite=suite\n->SRV:200 real answer to /hello?name=ann (suite)\n"
            "<-CLI:GET /stub\n--HEA:x-suite=suite\n->SRV:200 from a rule\n")


def readme_example() -> str:
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    return next(block for block in blocks if "def test_pages(capturemock_server)" in block)


def test_the_readme_pagination_example_passes_with_nothing_recorded(tmp_path: Path) -> None:
    report = run_pytest(tmp_path, readme_example(), weather=False)
    assert "1 passed" in report, report
    assert not (tmp_path / "mocks").exists()


def test_records_with_the_real_server_then_replays_without_it(tmp_path: Path) -> None:
    (tmp_path / "client.rc").write_text(CLIENT_RC)
    mock = tmp_path / "mocks" / "test_sut" / "test_greeting.server.mock"
    report = run_pytest(tmp_path, REAL_SERVER.replace("FAIL", "1"), "--capturemock-mode=record", weather=False)
    assert "1 failed" in report, report
    assert not mock.exists()  # a failed test stores nothing
    report = run_pytest(tmp_path, REAL_SERVER.replace("FAIL", "0"), "--capturemock-mode=record", weather=False)
    assert "1 passed" in report, report
    assert mock.read_text() == RECORDED
    report = run_pytest(tmp_path, REAL_SERVER.replace("FAIL", "0"), weather=False)
    assert "1 passed" in report, report
    assert mock.read_text() == RECORDED
    assert sorted(path.name for path in mock.parent.iterdir()) == ["test_greeting.server.mock"]


def test_the_environment_names_the_server_during_the_test_only(tmp_path: Path) -> None:
    report = run_pytest(tmp_path, '''
        import os

        from capturemock.rules import RulesClient


        def test_a(capturemock_server):
            assert os.environ["CAPTUREMOCK_SERVER"] == capturemock_server.url
            assert capturemock_server.url.startswith("http://127.0.0.1:")
            RulesClient().add(path="/x", response={})  # server and token from the environment
            assert [rule["id"] for rule in capturemock_server.rules.list()] == ["1"]


        def test_b():
            assert "CAPTUREMOCK_SERVER" not in os.environ and "CAPTUREMOCK_TOKEN" not in os.environ
    ''', weather=False)
    assert "2 passed" in report, report


def test_a_missing_mock_under_on_missing_mock_error_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "strict.rc").write_text("[general]\nserver_protocol = http\non_missing_mock = error\n")
    report = run_pytest(tmp_path, '''
        import pytest


        @pytest.mark.capturemock_server(rcFiles="strict.rc")
        def test_a(capturemock_server):
            pass
    ''', weather=False)
    mock = tmp_path / "mocks" / "test_sut" / "test_a.server.mock"
    assert "1 error" in report, report
    assert f"\ncannot replay: mock file {mock} does not exist ([general] on_missing_mock = error)\n" in report
    assert "Traceback" not in report


def test_the_python_fixture_warns_that_an_http_rc_starts_no_server(tmp_path: Path) -> None:
    (tmp_path / "http.rc").write_text("[general]\nserver_protocol = http\n")
    report = run_pytest(tmp_path, '''
        import os

        import pytest


        def test_a(capturemock):
            with pytest.warns(UserWarning) as warned:
                capturemock.intercept(rcFiles=["http.rc"], mode="record")
            assert [str(warning.message) for warning in warned] == [
                f"capturemock: {os.path.abspath('http.rc')} set server_protocol = http, but the capturemock "
                "fixture intercepts Python only: no traffic server runs and CAPTUREMOCK_SERVER is not set "
                "(use the capturemock_server fixture)"]
    ''', weather=False)
    assert "1 passed" in report, report
