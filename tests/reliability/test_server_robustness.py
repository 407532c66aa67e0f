"""A traffic server nobody can starve or kill: silent connections hold nobody up and cannot exhaust it,
its death is reported, it never outlives its launcher, YAML rc files reach it, web pages cannot
re-point the HTTP proxy, and deeply nested JSON gets an answer."""
from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
import xmlrpc.client
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Optional

import psutil
import pytest

import capturemock
from capturemock import server
from capturemock.errors import ConfigError
from capturemock.launcher import CaptureMockManager
from capturemock.server import ArrivalOrder, TrafficServer

pytestmark = pytest.mark.skipif(os.name == "nt", reason="shell stand-ins and rlimits are POSIX here")

RC = "[command line]\nintercepts = tool\n"
TOOL = "#!/bin/sh\necho \"tool says $1\"\n"


class Session:
    """A traffic server with shims, started the way TextTest starts one, with extra server environment."""

    def __init__(self, root: Path, rc: str = RC, rc_name: str = "capturemockrc", **env: str):
        self.root = root
        (root / "bin").mkdir()
        tool = root / "bin" / "tool"
        tool.write_text(TOOL)
        tool.chmod(0o755)
        (root / rc_name).write_text(rc)
        self.env = {"PATH": f"{root / 'bin'}:/usr/bin:/bin", "HOME": str(root), "LANG": "C.UTF-8", **env}
        self.manager = CaptureMockManager()
        assert self.manager.startServer(capturemock.RECORD, str(root / "rec.mock"), rcFiles=[str(root / rc_name)],
                                        interceptDir=str(root / "intercepts"), sutDirectory=str(root),
                                        environment=self.env)

    def connect(self) -> socket.socket:
        host, port = self.env["CAPTUREMOCK_SERVER"].rsplit(":", 1)
        return socket.create_connection((host, int(port)), timeout=10)

    def tool(self, arg: str) -> subprocess.CompletedProcess:
        return subprocess.run(["tool", arg], cwd=self.root, env=self.env, capture_output=True, timeout=30)

    def recorded(self) -> str:
        path = self.root / "rec.mock"
        return path.read_text() if path.exists() else ""


@pytest.fixture
def sessions():
    started: list[Session] = []
    yield started
    for session in started:
        session.manager.terminate()


def wait_until(condition, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


# --- item 5: silent connections hold nobody up and cannot exhaust the server ---------------------------

def test_an_idle_connection_holds_back_no_later_command(tmp_path, sessions):
    session = Session(tmp_path)
    sessions.append(session)
    with session.connect():  # says nothing, and stays open
        result = session.tool("hi")
        assert (result.returncode, result.stdout) == (0, b"tool says hi\n")
        # on disk while the silent connection is still open, not when it closes
        assert session.recorded() == "<-CMD:tool hi\n->OUT:tool says hi\n"
    assert session.manager.terminate()


def test_a_silent_connection_is_closed_after_the_idle_timeout_and_quietly(tmp_path, sessions, capsys):
    session = Session(tmp_path, CAPTUREMOCK_IDLE_TIMEOUT="0.3")
    sessions.append(session)
    with session.connect() as silent, session.connect() as half:
        half.sendall(b"SUT_COMM")  # the start of a request, never finished
        start = time.monotonic()
        assert silent.recv(10) == b"" and half.recv(10) == b""
        assert time.monotonic() - start < 5
    assert session.tool("after").returncode == 0
    assert session.manager.terminate()
    assert "CaptureMock" not in capsys.readouterr().err  # nothing to report: no error of ours or theirs


def test_running_out_of_descriptors_leaves_the_server_serving(tmp_path, sessions):
    session = Session(tmp_path)
    sessions.append(session)
    hard = psutil.Process(session.manager.process.pid).rlimit(psutil.RLIMIT_NOFILE)[1]
    psutil.Process(session.manager.process.pid).rlimit(psutil.RLIMIT_NOFILE, (48, hard))
    silent = [session.connect() for _ in range(100)]  # more than the server has descriptors for
    try:
        result = session.tool("through")
        assert (result.returncode, result.stdout, result.stderr) == (0, b"tool says through\n", b"")
        assert session.recorded() == "<-CMD:tool through\n->OUT:tool says through\n"
    finally:
        for sock in silent:
            sock.close()
    assert session.manager.terminate()


def test_beyond_the_silent_connections_allowed_the_oldest_are_dropped():
    written: list[str] = []

    def handle(conn, record) -> None:
        record(conn.read_to_end(100).decode())

    traffic = TrafficServer("token", max_silent=4)
    serving = threading.Thread(target=traffic.serve, args=(handle, ArrivalOrder(written.append)))
    serving.start()
    host, port = traffic.address.split(":")
    silent = [socket.create_connection((host, int(port)), timeout=10) for _ in range(10)]
    try:
        assert [sock.recv(10) for sock in silent[:6]] == [b""] * 6  # closed by the server
        with socket.create_connection((host, int(port)), timeout=10) as talker:
            talker.sendall(b"hello")
            talker.shutdown(socket.SHUT_WR)
            assert talker.recv(10) == b""
        assert wait_until(lambda: written == ["hello"])
    finally:
        traffic.stop()
        serving.join(10)
        for sock in silent:
            sock.close()
    assert not serving.is_alive()


def test_the_idle_timeout_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("CAPTUREMOCK_IDLE_TIMEOUT", "2.5")
    assert server.idle_timeout() == 2.5
    monkeypatch.delenv("CAPTUREMOCK_IDLE_TIMEOUT")
    assert server.idle_timeout() == server.IDLE_TIMEOUT
    for bad in ("soon", "0", "-1", "inf", "nan"):
        monkeypatch.setenv("CAPTUREMOCK_IDLE_TIMEOUT", bad)
        with pytest.raises(ConfigError, match="CAPTUREMOCK_IDLE_TIMEOUT"):
            server.idle_timeout()


# --- the server's death is reported, and it never outlives its launcher --------------------------------

KILL_SERVER = """\
import os, psutil
for process in psutil.process_iter():
    try:
        if (process.environ().get("CAPTUREMOCK_TOKEN") == os.environ["CAPTUREMOCK_TOKEN"]
                and "capturemock.server" in " ".join(process.cmdline())):
            process.kill()
    except psutil.Error:
        pass
"""
# TextTest's way: setUpServer starts a server process, the SUT runs, terminate says how the server did
API_LAUNCHER = """\
import os, subprocess, sys
import capturemock
env = dict(os.environ)
capturemock.setUpServer(capturemock.RECORD, os.path.abspath("rec.mock"), rcFiles=["rc"], interceptDir="intercepts",
                        environment=env)
subprocess.run(["sh", "-c", sys.argv[1]], env=env)
sys.exit(0 if capturemock.terminate() else 1)
"""
# The capturemock command serves in a thread: here its listener breaks after the first connection, as
# one whose descriptor was closed under it would
BREAK_LISTENER = """\
import sys
from capturemock import server
accepted = []
accept = server.TrafficServer._accept
def accept_once(self):
    if accepted:
        self._raw_listener.close()
    accepted.append(accept(self))
    return accepted[-1]
server.TrafficServer._accept = accept_once
from capturemock.cli import main
main(sys.argv[1:])
"""


def _tool_dir(tmp_path) -> dict:
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "tool").write_text(TOOL)
    (tmp_path / "bin" / "tool").chmod(0o755)
    (tmp_path / "rc").write_text(RC)
    return dict(os.environ, PATH=f"{tmp_path / 'bin'}:{os.environ['PATH']}")


def test_a_server_process_killed_mid_run_is_reported_by_terminate_and_keeps_the_recording(tmp_path):
    env = _tool_dir(tmp_path)
    (tmp_path / "kill_server.py").write_text(KILL_SERVER)
    (tmp_path / "launch.py").write_text(API_LAUNCHER)
    script = f"tool one && {sys.executable} kill_server.py; tool two; exit 0"
    result = subprocess.run([sys.executable, "launch.py", script], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 1
    died = [line for line in result.stderr.splitlines() if "CaptureMock server died" in line]
    assert died == [f"CaptureMock server died unexpectedly (killed by signal 9); the traffic it recorded until "
                    f"then is kept in {tmp_path / 'rec.mock'}, later traffic was not intercepted"]
    assert (tmp_path / "rec.mock").read_text() == "<-CMD:tool one\n->OUT:tool says one\n"


def test_a_server_failing_mid_run_fails_the_capturemock_command_and_keeps_the_recording(tmp_path):
    env = _tool_dir(tmp_path)
    (tmp_path / "break_listener.py").write_text(BREAK_LISTENER)
    result = subprocess.run([sys.executable, "break_listener.py", "-R", "rc", "-r", "rec.mock", "sh", "-c",
                             "tool one; tool two; exit 0"], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=60)
    assert (result.returncode, result.stdout) == (1, "tool says one\n")
    assert result.stderr.splitlines()[-3:] == [
        "Error from CaptureMock Server :",
        "CaptureMock server: cannot accept connections any more: [Errno 9] Bad file descriptor",
        f"CaptureMock server died unexpectedly (it failed, as said above); the traffic it recorded until then is "
        f"kept in {tmp_path / 'rec.mock'}, later traffic was not intercepted"]
    assert (tmp_path / "rec.mock").read_text() == "<-CMD:tool one\n->OUT:tool says one\n"


def test_the_capturemock_command_serves_in_its_own_process(tmp_path):
    """One interpreter start instead of two: the program's parent is the command, which has no server
    process among its children, and shims reach it all the same."""
    env = _tool_dir(tmp_path)
    children = ("import os, psutil; print([p.cmdline()[-1] for p in psutil.Process(os.getppid()).children()"
                " if p.pid != os.getpid()])")
    result = subprocess.run([sys.executable, "-m", "capturemock", "-R", "rc", "-r", "rec.mock", "sh", "-c",
                             f"tool one; exec {sys.executable} -c '{children}'"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout, result.stderr) == (0, "tool says one\n[]\n", "")
    assert (tmp_path / "rec.mock").read_text() == "<-CMD:tool one\n->OUT:tool says one\n"


def test_a_launcher_killed_while_the_server_starts_leaves_no_server(tmp_path):
    # a server slow to start: many programs to intercept; TextTest's way (the command has no server process)
    (tmp_path / "rc").write_text("[command line]\nintercepts = " + ",".join(f"p{n}" for n in range(20000)) + "\n")
    launcher = subprocess.Popen([sys.executable, "-c", "import capturemock; capturemock.setUpServer("
                                 "capturemock.RECORD, 'rec.mock', rcFiles=['rc'], interceptDir='intercepts')"],
                                cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        parent = psutil.Process(launcher.pid)
        servers: list[psutil.Process] = []
        assert wait_until(lambda: servers.extend(parent.children()) or servers)
    finally:
        launcher.kill()
        launcher.wait()
    assert wait_until(lambda: not any(_alive(process) for process in servers), timeout=1.5)


def _alive(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


# --- item 7: a YAML rc file reaches the server (which runs without site-packages) ---------------------

def test_a_yaml_rc_file_intercepts_command_lines(tmp_path, sessions):
    session = Session(tmp_path, "command line:\n  intercepts: [tool]\n", rc_name="capturemockrc.yaml")
    sessions.append(session)
    assert session.tool("yaml").stdout == b"tool says yaml\n"
    assert session.manager.terminate()
    assert session.recorded() == "<-CMD:tool yaml\n->OUT:tool says yaml\n"


# --- item 9: the HTTP proxy cannot be re-pointed by a web page -------------------------------------------

class RealServer:
    """A stand-in real server that answers who it is and keeps the Authorization headers it got."""

    def __init__(self, name: str):
        self.authorizations: list[Optional[str]] = []
        received = self.authorizations

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                received.append(self.headers.get("Authorization"))
                body = name.encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def http_call(base: str, method: str, path: str, body: Optional[bytes] = None, headers: Optional[dict] = None):
    host, port = base.split("://")[1].rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, {name.lower(): value for name, value in response.getheaders()}, response.read()
    finally:
        connection.close()


@pytest.fixture
def proxy(tmp_path):
    """An HTTP server whose SUT is the server (the 2.10 flow: it sends its location once, no token)."""
    (tmp_path / "rc").write_text("[general]\nserver_protocol = http\n")
    manager, env = CaptureMockManager(), {}
    assert manager.startServer(capturemock.RECORD, str(tmp_path / "rec.mock"), rcFiles=[str(tmp_path / "rc")],
                               sutDirectory=str(tmp_path), environment=env)
    yield manager, env
    manager.terminate()


def test_the_location_cannot_be_moved_without_the_token(proxy, capfd):
    manager, env = proxy
    base, token = env["CAPTUREMOCK_SERVER"], env["CAPTUREMOCK_TOKEN"]
    real, rogue = RealServer("real"), RealServer("rogue")
    try:
        first = http_call(base, "POST", "/capturemock/setServerLocation", real.url.encode())
        assert first[0] == 200 and "access-control-allow-origin" not in first[1]
        again = http_call(base, "POST", "/capturemock/setServerLocation", real.url.encode())
        assert again[0] == 200  # the same location is no move
        moved = http_call(base, "POST", "/capturemock/setServerLocation", rogue.url.encode())
        assert moved[0] == 403 and "access-control-allow-origin" not in moved[1]
        assert http_call(base, "GET", "/data", headers={"Authorization": "Bearer secret"})[2] == b"real"
        assert rogue.authorizations == [] and real.authorizations == ["Bearer secret"]
        allowed = http_call(base, "POST", "/capturemock/setServerLocation", rogue.url.encode(),
                            {"X-CaptureMock-Token": token})
        assert allowed[0] == 200
        assert http_call(base, "GET", "/data")[2] == b"rogue"
    finally:
        real.close()
        rogue.close()
    assert manager.terminate()
    assert f"refused moving the real server from {real.url} to '{rogue.url}'" in capfd.readouterr().err


def test_a_browser_can_neither_point_the_proxy_nor_read_control_answers(proxy, capfd):
    manager, env = proxy
    base = env["CAPTUREMOCK_SERVER"]
    real = RealServer("real")
    try:
        page = {"Origin": "http://evil.test"}
        preflight = http_call(base, "OPTIONS", "/capturemock/setServerLocation",
                              headers={**page, "Access-Control-Request-Method": "POST"})
        assert preflight[0] == 403 and not any(name.startswith("access-control") for name in preflight[1])
        simple = http_call(base, "POST", "/capturemock/setServerLocation", real.url.encode(),
                           {**page, "Content-Type": "text/plain"})
        assert simple[0] == 403 and "access-control-allow-origin" not in simple[1]
        rules = http_call(base, "GET", "/capturemock/rules", headers=page)
        assert rules[0] == 200 and "access-control-allow-origin" not in rules[1]
        with pytest.raises(http.client.RemoteDisconnected):  # pointed nowhere: no answer (§8.2)
            http_call(base, "GET", "/data")
        assert real.authorizations == []
    finally:
        real.close()
    manager.terminate()
    assert "refused a location message sent by a browser" in capfd.readouterr().err


def test_an_xmlrpc_location_cannot_be_moved_without_the_token(tmp_path, capfd):
    (tmp_path / "rc").write_text("[general]\nserver_protocol = xmlrpc\n")
    manager, env = CaptureMockManager(), {}
    assert manager.startServer(capturemock.RECORD, str(tmp_path / "rec.mock"), rcFiles=[str(tmp_path / "rc")],
                               sutDirectory=str(tmp_path), environment=env)
    try:
        proxy = xmlrpc.client.ServerProxy(env["CAPTUREMOCK_SERVER"])
        assert proxy.setServerLocation("http://127.0.0.1:9/first") == ""
        assert proxy.setServerLocation("http://127.0.0.1:9/first") == ""  # the same location is no move
        with pytest.raises(xmlrpc.client.Fault, match="refused"):
            proxy.setServerLocation("http://127.0.0.1:9/elsewhere")
    finally:
        assert manager.terminate()
    assert "refused moving the real server from http://127.0.0.1:9/first" in capfd.readouterr().err


# --- item 6: deeply nested JSON -----------------------------------------------------------------------

DEEP = "[" * 5000 + "]" * 5000


def test_a_mock_with_deeply_nested_json_still_replays(tmp_path):
    (tmp_path / "rc").write_text("[general]\nserver_protocol = http\nrecord_for_client = true\n")
    (tmp_path / "stored.mock").write_text(f"<-CLI:POST /deep {DEEP}\n->SRV:200 deep\n"
                                          "<-CLI:GET /items?a=1&b=2\n->SRV:200 items\n")
    manager, env = CaptureMockManager(), {}
    assert manager.startServer(capturemock.REPLAY, str(tmp_path / "rec.mock"), str(tmp_path / "stored.mock"),
                               rcFiles=[str(tmp_path / "rc")], sutDirectory=str(tmp_path), environment=env)
    try:
        base = env["CAPTUREMOCK_SERVER"]
        assert http_call(base, "GET", "/items?b=2&a=1")[2] == b"items"  # not exact: the matching that choked
        assert http_call(base, "POST", "/deep", DEEP.encode())[2] == b"deep"
    finally:
        assert manager.terminate()


def test_a_deeply_nested_rule_is_refused_with_400(proxy):
    manager, env = proxy
    base, token = env["CAPTUREMOCK_SERVER"], env["CAPTUREMOCK_TOKEN"]
    for depth in (100, 5000):
        body = json.dumps({"path": "/x", "response": {"body": "PLACEHOLDER"}}).replace(
            '"PLACEHOLDER"', "[" * depth + "]" * depth)
        status, _, answer = http_call(base, "POST", "/capturemock/rules", body.encode(),
                                      {"X-CaptureMock-Token": token})
        assert (status, answer) == (400, b"CaptureMock: not a replay rule: JSON nested more than 64 levels\n")
    assert http_call(base, "GET", "/capturemock/rules")[2] == b"[]"



def test_a_deeply_nested_xmlrpc_call_gets_a_fault_and_the_server_serves_on(tmp_path, capfd):
    (tmp_path / "rc").write_text("[general]\nserver_protocol = xmlrpc\nrecord_for_client = true\n")
    (tmp_path / "stored.mock").write_text("<-CLI:f(1)\n->SRV:'one'\n<-CLI:g(1)\n->SRV:'gee'\n")
    manager, env = CaptureMockManager(), {}
    assert manager.startServer(capturemock.REPLAY, str(tmp_path / "rec.mock"), str(tmp_path / "stored.mock"),
                               rcFiles=[str(tmp_path / "rc")], sutDirectory=str(tmp_path), environment=env)
    try:
        deep = "<value><array><data>" * 50000 + "</data></array></value>" * 50000
        body = (f"<?xml version='1.0'?><methodCall><methodName>g</methodName><params><param>{deep}</param>"
                "</params></methodCall>")
        status, _, answer = http_call(env["CAPTUREMOCK_SERVER"], "POST", "/RPC2", body.encode(),
                                      {"Content-Type": "text/xml"})
        assert status == 200
        with pytest.raises(xmlrpc.client.Fault, match="nested too deeply"):
            xmlrpc.client.loads(answer)
        assert xmlrpc.client.ServerProxy(env["CAPTUREMOCK_SERVER"]).f(1) == "one"
    finally:
        assert manager.terminate()
    assert "its arguments are nested too deeply" in capfd.readouterr().err
