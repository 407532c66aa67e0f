"""Forwarding to the real server (issue #14 items 5 and 6): kept connections to it, HTTPS verified against
the system's trust store plus ``server_ca_file``, and CONNECT (a TLS tunnel) refused with a reason."""
from __future__ import annotations

import http.client
import shutil
import socket
import ssl
import subprocess
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

import capturemock
from capturemock.clientserver.httpforward import tls_context

CLIENT_RC = "[general]\nserver_protocol = http\nrecord_for_client = true\n"


class CountingServer(ThreadingHTTPServer):
    """Answers ``hello <path>`` with keep-alive; counts the connections it accepted."""

    connections = 0

    def process_request(self, request, client_address):
        self.connections += 1
        super().process_request(request, client_address)


def real_server(rig, idle_close: float = 60.0, tls: ssl.SSLContext = None):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = idle_close  # a kept connection idle this long is closed by the server, unannounced

        def log_message(self, *args):
            pass

        def do_GET(self):
            data = f"hello {self.path}".encode()
            self.send_response_only(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = CountingServer(("127.0.0.1", 0), Handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    return rig.real(server)


def get(base: str, path: str) -> bytes:
    connection = http.client.HTTPConnection(urlsplit(base).hostname, urlsplit(base).port, timeout=10)
    connection.request("GET", path)
    body = connection.getresponse().read()
    connection.close()
    return body


def test_requests_forwarded_on_one_kept_connection_and_again_after_the_server_closed_it(rig):
    real = real_server(rig, idle_close=0.3)
    base = rig.start(capturemock.RECORD, CLIENT_RC, recordFromUrl=real.url)
    assert [get(base, "/1"), get(base, "/2")] == [b"hello /1", b"hello /2"]  # two client connections
    assert real.server.connections == 1
    time.sleep(1)  # the real server drops the idle kept connection: the next request opens another
    assert get(base, "/3") == b"hello /3"
    rig.stop()
    assert real.server.connections == 2
    assert [line for line in rig.read("rec.mock").splitlines() if line.startswith("->SRV")] == \
        ["->SRV:200 hello /1", "->SRV:200 hello /2", "->SRV:200 hello /3"]


@pytest.fixture
def certificate(tmp_path) -> Path:
    """A self-signed certificate for 127.0.0.1, made now with the openssl command; its key beside it."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(tmp_path / "key.pem"),
                    "-out", str(tmp_path / "cert.pem")], check=True, capture_output=True)
    return tmp_path / "cert.pem"


def https_server(rig, certificate: Path):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate, certificate.parent / "key.pem")
    real = real_server(rig, tls=context)
    return real, f"https://{real.address}"


def test_https_real_server_trusted_through_server_ca_file_records_and_replays(rig, certificate):
    real, url = https_server(rig, certificate)
    rc = CLIENT_RC + f"server_ca_file = {certificate}\n"
    base = rig.start(capturemock.RECORD, rc, recordFromUrl=url)
    assert [get(base, "/a"), get(base, "/b")] == [b"hello /a", b"hello /b"]
    rig.stop()
    assert real.server.connections == 1  # one TLS handshake for both
    real.stop()
    base = rig.start(capturemock.REPLAY, rc, replay="rec.mock", record="replayed.mock")
    assert get(base, "/b") == b"hello /b"


def test_untrusted_https_server_is_one_clear_line_and_nothing_recorded(rig, certificate):
    _, url = https_server(rig, certificate)
    errors: list[str] = []
    base = rig.start(capturemock.RECORD, CLIENT_RC, recordFromUrl=url, stderrFn=errors.append)
    connection = http.client.HTTPConnection(urlsplit(base).hostname, urlsplit(base).port, timeout=10)
    connection.request("GET", "/a")
    response = connection.getresponse()
    reason = response.read().decode()
    connection.close()
    rig.stop()
    assert response.status == 502
    assert reason.startswith(f"Failed to forward http traffic to server {url}: [SSL: CERTIFICATE_VERIFY_FAILED]")
    lines = "".join(errors).splitlines()
    assert lines[0] == "Error from CaptureMock Server :"
    assert lines[1] == reason.strip()
    assert len(lines) == 2 and not rig.exists("rec.mock")


def test_system_trust_store_is_used_and_a_missing_ca_file_is_named(tmp_path):
    assert tls_context().cert_store_stats()["x509_ca"] > 0  # this machine has a system bundle
    with pytest.raises(OSError, match=f"cannot use server_ca_file {tmp_path}/none.pem: No such file"):
        tls_context(str(tmp_path / "none.pem"))


def test_connect_tunnel_is_refused_with_the_reason(rig):
    rig.write("stored.mock", "<-CLI:GET /a\n->SRV:200 one\n")
    errors: list[str] = []
    base = rig.start(capturemock.REPLAY, CLIENT_RC, replay="stored.mock", stderrFn=errors.append)
    with socket.create_connection((urlsplit(base).hostname, urlsplit(base).port), timeout=10) as sock:
        sock.sendall(b"CONNECT api.example.test:443 HTTP/1.1\r\nHost: api.example.test:443\r\n\r\n")
        reply = b""
        while chunk := sock.recv(4096):
            reply += chunk
    rig.stop()
    reason = ("CaptureMock: refused CONNECT api.example.test:443: it cannot record or replay HTTPS tunnelled "
              "through it; send plain HTTP to it and give the https URL as the real server's location")
    assert reply.startswith(b"HTTP/1.1 501 ") and reply.endswith(f"\r\n\r\n{reason}\n".encode())
    assert "".join(errors) == f"Error from CaptureMock Server :\n{reason}\n"
