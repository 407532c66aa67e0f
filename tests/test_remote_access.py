"""``[general] server_remote_access``: the traffic server listens beyond loopback only when asked, and
whoever can then reach it still cannot make it act without the session token. The tests talk only
to 127.0.0.1 (a wildcard listener answers there too)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys

import psutil
import pytest

from capturemock.cmdline.shims import install_shims
from capturemock.config import RcConfig
from capturemock.errors import ConfigError
from capturemock.remoteaccess import listen_and_publish


def start_server(tmp_path, rc_text: str) -> tuple[subprocess.Popen, str, str]:
    """A real traffic server process: (process, published address, session token)."""
    rc = tmp_path / "capturemockrc"
    rc.write_text(rc_text)
    env = {key: value for key, value in os.environ.items() if not key.startswith("CAPTUREMOCK")}
    server = subprocess.Popen([sys.executable, "-m", "capturemock.server", "-m", "1", "-r", str(tmp_path / "rec.mock"),
                               "-R", str(rc)], stdout=subprocess.PIPE, text=True, env=env)
    address = server.stdout.readline().strip()
    token = server.stdout.readline().strip().partition("=")[2]
    return server, address, token


def listening_address(pid: int) -> str:
    return next(conn.laddr.ip for conn in psutil.Process(pid).net_connections("tcp")
                if conn.status == psutil.CONN_LISTEN)


def stop(server: subprocess.Popen, port: int, token: str) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"TERMINATE_SERVER:{token}".encode())
        sock.shutdown(socket.SHUT_WR)
        sock.recv(100)
    assert server.wait(timeout=30) == 0


def test_by_default_the_server_listens_on_loopback_only(tmp_path):
    server, address, token = start_server(tmp_path, "[command line]\nintercepts = tool\n")
    port = int(address.rsplit(":", 1)[1])
    assert address == f"127.0.0.1:{port}"
    assert listening_address(server.pid) == "127.0.0.1"
    stop(server, port, token)


def test_remote_access_listens_on_all_interfaces_and_still_refuses_commands_without_the_token(tmp_path):
    server, address, token = start_server(tmp_path, "[general]\nserver_remote_access = true\n\n"
                                                    "[command line]\nintercepts = tool\n")
    port = int(address.rsplit(":", 1)[1])
    assert listening_address(server.pid) == "0.0.0.0"
    shim = install_shims(["tool"], str(tmp_path / "intercepts"))[0]
    env = {"PATH": "/usr/bin:/bin", "CAPTUREMOCK_SERVER": f"127.0.0.1:{port}"}  # no CAPTUREMOCK_TOKEN
    refused = subprocess.run([shim, "--delete-everything"], env=env, capture_output=True, text=True, timeout=30)
    assert refused.returncode == 1
    assert "refused a command request without this session's CAPTUREMOCK_TOKEN" in refused.stderr
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"TERMINATE_SERVER:not-the-token")
        sock.shutdown(socket.SHUT_WR)
        assert sock.recv(200) == b"CaptureMock server: refused to stop without this session's CAPTUREMOCK_TOKEN\n"
    stop(server, port, token)
    assert not (tmp_path / "rec.mock").exists()  # nothing was run, nothing recorded


def rc_config(tmp_path, value: str) -> RcConfig:
    rc = tmp_path / "capturemockrc"
    rc.write_text(f"[general]\nserver_remote_access = {value}\n")
    return RcConfig([str(rc)])


def test_an_interface_name_binds_and_publishes_that_interfaces_address(tmp_path):
    loopback = next(name for name, entries in psutil.net_if_addrs().items()
                    if any(entry.address == "127.0.0.1" for entry in entries))
    assert listen_and_publish(rc_config(tmp_path, loopback)) == ("127.0.0.1", "127.0.0.1")


def test_false_and_the_default_mean_loopback(tmp_path):
    assert listen_and_publish(rc_config(tmp_path, "False")) == ("127.0.0.1", "127.0.0.1")
    assert listen_and_publish(RcConfig([str(tmp_path / "absent")], warn=lambda message: None)) == \
        ("127.0.0.1", "127.0.0.1")


def test_an_unknown_interface_is_one_clear_error_naming_the_rc_file(tmp_path):
    with pytest.raises(ConfigError) as caught:
        listen_and_publish(rc_config(tmp_path, "nosuchif9"))
    message = str(caught.value)
    assert message.startswith(f"{tmp_path / 'capturemockrc'}: server_remote_access = nosuchif9: no network "
                              "interface of that name has an IPv4 address (there are: ")
