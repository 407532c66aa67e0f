"""Only the session's own shims and harness drive the traffic server (product spec §3 "Loopback only"):
a raw client on CAPTUREMOCK_SERVER without CAPTUREMOCK_TOKEN is refused, and nothing is run or recorded."""
from __future__ import annotations

import os
import socket

import pytest

from capturemock.cmdline import shim
from capturemock.modes import RECORD

RC = "[command line]\nintercepts = tool\n"


def talk(address: str, data: bytes) -> bytes:
    host, port = address.rsplit(":", 1)
    assert host == "127.0.0.1"
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def command_request(token: str, sut, *argv: str) -> bytes:
    env = [f"{key}={value}".encode() for key, value in sut.env.items() if key != "CAPTUREMOCK_TOKEN"]
    fields = [token.encode(), str(sut.root).encode(), str(len(argv)).encode(), *(a.encode() for a in argv), *env]
    return shim.MAGIC + shim.encode_fields(fields)


def frames(data: bytes) -> list[tuple[bytes, bytes]]:
    result = []
    while data:
        size = int.from_bytes(data[1:5], "big")
        result.append((data[:1], data[5:5 + size]))
        data = data[5 + size:]
    return result


@pytest.fixture
def server(sut):
    marker = sut.root / "ran"
    sut.program("tool", f"touch {marker}\necho real\n")
    sut.start_server(RECORD, sut.write("capturemockrc", RC))
    assert ":" in sut.env["CAPTUREMOCK_SERVER"] and sut.env["CAPTUREMOCK_TOKEN"] not in sut.env["CAPTUREMOCK_SERVER"]
    return sut


@pytest.mark.parametrize("token", ["", "0" * 32, "not-the-token"])
def test_command_request_without_the_token_is_refused(server, token):
    answer = frames(talk(server.env["CAPTUREMOCK_SERVER"], command_request(token, server, "tool", "x")))
    assert answer == [(shim.STDERR, b"CaptureMock server: refused a command request without this session's "
                                    b"CAPTUREMOCK_TOKEN\n"), (shim.EXIT, b"1")]
    # the server still serves its own shims; the refused request left no trace
    assert server.run("tool", "y", text=True).stdout == "real\n"
    (server.root / "ran").unlink()
    from capturemock.launcher import terminate
    terminate()
    assert [(i.type, i.text) for i in server.items("rec.mock")] == [("CMD", "tool y"), ("OUT", "real")]
    assert not (server.root / "ran").exists()


@pytest.mark.parametrize("request_text", [b"TERMINATE_SERVER", b"TERMINATE_SERVER:", b"TERMINATE_SERVER:guess"])
def test_stop_without_the_token_is_refused(server, request_text):
    answer = talk(server.env["CAPTUREMOCK_SERVER"], request_text)
    assert answer == b"CaptureMock server: refused to stop without this session's CAPTUREMOCK_TOKEN\n"
    assert server.run("tool", text=True).stdout == "real\n"  # still serving


def test_a_malformed_request_is_a_clean_refusal(server):
    answer = talk(server.env["CAPTUREMOCK_SERVER"], shim.MAGIC + b"\xff\xff\xff\xff")
    assert frames(answer)[-1] == (shim.EXIT, b"1") and b"malformed command request" in frames(answer)[0][1]
    assert not (server.root / "ran").exists()


def test_the_server_listens_on_loopback_only(server):
    port = int(server.env["CAPTUREMOCK_SERVER"].rsplit(":", 1)[1])
    import psutil
    listening = [c for c in psutil.Process(server.server_pid()).net_connections("inet")
                 if c.status == psutil.CONN_LISTEN]
    assert [(c.laddr.ip, c.laddr.port) for c in listening] == [("127.0.0.1", port)]
    assert os.environ.get("CAPTUREMOCK_TOKEN") != server.env["CAPTUREMOCK_TOKEN"]


def test_a_stranger_is_refused_before_it_has_sent_everything(server):
    """The token comes first, so a wrong one is refused at once: nothing a stranger sends after it is
    read or held in memory (here it announces a 200 MB field and never sends it)."""
    host, port = server.env["CAPTUREMOCK_SERVER"].rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(shim.MAGIC + (3).to_bytes(4, "big") + (5).to_bytes(4, "big") + b"wrong"
                     + (200 << 20).to_bytes(4, "big"))
        answer = sock.recv(65536)
    assert b"refused a command request without this session's CAPTUREMOCK_TOKEN" in answer


def test_an_endless_stop_request_is_cut_short(server):
    host, port = server.env["CAPTUREMOCK_SERVER"].rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"TERMINATE_SERVER:" + b"x" * 4096)  # and never shut down our side
        assert sock.recv(65536).startswith(b"CaptureMock server: refused to stop")
