"""``server_protocol = classic_udp`` (§8.3) with real stdlib UDP clients and servers on 127.0.0.1: one
datagram is one message. The recorded forms are 2.10's, byte for byte (taken from running 2.10)."""
from __future__ import annotations

import socket
import threading

import pytest

import capturemock

CLIENT_RC = "[general]\nserver_protocol = classic_udp\nrecord_for_client = true\n"
SERVER_RC = "[general]\nserver_protocol = classic_udp\n"
WAIT = 10.0  # generous: no test depends on it, a broken server just fails instead of hanging


def ask(address: str, text: str, replies: int = 1) -> list[str]:
    """Send one datagram to CaptureMock from a fresh socket and read ``replies`` datagrams back."""
    host, port = address.rsplit(":", 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(WAIT)
        sock.sendto(text.encode(), (host, int(port)))
        return [sock.recvfrom(65536)[0].decode() for _ in range(replies)]


def tell(address: str, text: str) -> None:
    """A datagram that gets no answer (a location message)."""
    host, port = address.rsplit(":", 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(text.encode(), (host, int(port)))


class RealUdpServer:
    """A UDP server on ``host``: answers each datagram with ``answer(text)`` datagrams, then (``marker``)
    the empty datagram 2.10's forwarding waits for."""

    def __init__(self, answer, host: str = "127.0.0.1", port: int = 0, marker: bool = True):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.port = self.sock.getsockname()[1]
        self.address = f"{host}:{self.port}"
        self.received: list[str] = []
        self.answer, self.marker = answer, marker
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                data, peer = self.sock.recvfrom(65536)
            except OSError:
                return
            self.received.append(data.decode())
            try:
                for reply in self.answer(data.decode()):
                    self.sock.sendto(reply.encode(), peer)
                if self.marker:
                    self.sock.sendto(b"", peer)
            except OSError:  # stopped meanwhile
                return

    def stop(self) -> None:
        self.sock.close()


@pytest.fixture
def udp_servers():
    servers: list[RealUdpServer] = []
    yield servers
    for server in servers:
        server.stop()


def real(servers, answer, **kwargs) -> RealUdpServer:
    server = RealUdpServer(answer, **kwargs)
    servers.append(server)
    return server


def test_record_client_forwards_and_records_both_sides_as_2_10(rig, udp_servers):
    server = real(udp_servers, lambda text: [f"reply0 to {text}", f"reply1 to {text}"])
    address = rig.start(capturemock.RECORD, CLIENT_RC)
    assert ":" in address and not address.startswith("http")
    tell(address, f"SUT_SERVER:real server on {server.address}")
    assert ask(address, "What is 6 times 7?") == ["reply0 to What is 6 times 7?reply1 to What is 6 times 7?"]
    assert ask(address, "second  message\n") == ["reply0 to second  messagereply1 to second  message"]
    rig.stop()
    assert server.received == ["What is 6 times 7?", "second  message"]  # whitespace-stripped, as 2.10
    assert rig.read("rec.mock") == (
        "<-CLI:What is 6 times 7?\n->SRV:reply0 to What is 6 times 7?reply1 to What is 6 times 7?\n"
        "<-CLI:second  message\n->SRV:reply0 to second  messagereply1 to second  message\n")


def test_a_server_without_the_end_marker_is_recorded_after_its_reply(rig, udp_servers):
    server = real(udp_servers, lambda text: [text.upper()], marker=False)
    address = rig.start(capturemock.RECORD, CLIENT_RC)
    tell(address, f"SUT_SERVER:{server.address}")
    assert ask(address, "ping") == ["PING"]
    rig.stop()
    assert rig.read("rec.mock") == "<-CLI:ping\n->SRV:PING\n"


def test_replay_a_2_10_mock_with_the_real_server_gone(rig):
    rig.write("stored.mock", "<-CLI:What is 6 times 7?\n->SRV:42\n<-CLI:status\n->SRV:part one\n->SRV:part two\n")
    address = rig.start(capturemock.REPLAY, CLIENT_RC, replay="stored.mock")
    tell(address, "SUT_SERVER:real server on 127.0.0.1:1")
    assert ask(address, "What is 6 times 7?") == ["42"]
    assert ask(address, "What is 6 times 8?") == ["42"]  # §5.4 best match
    assert ask(address, "status", replies=2) == ["part one", "part two"]  # one datagram per recorded reply
    rig.stop()
    assert rig.read("rec.mock") == ("<-CLI:What is 6 times 7?\n->SRV:42\n<-CLI:What is 6 times 8?\n->SRV:42\n"
                                    "<-CLI:status\n->SRV:part one\n->SRV:part two\n")


def test_exact_matching_answers_the_mismatch_in_a_datagram(rig):
    rig.write("stored.mock", "<-CLI:ping\n->SRV:pong\n")
    address = rig.start(capturemock.REPLAY, CLIENT_RC + "use_exact_matching = true\n", replay="stored.mock")
    assert ask(address, "pong?") == ["CAPTUREMOCK MISMATCH: Could not find any replay request matching '<-CLI:pong?'"]
    rig.stop()


def test_server_as_sut_record_then_replay_plays_the_recorded_client(rig, udp_servers):
    sut = real(udp_servers, lambda text: [f"re: {text}"])
    address = rig.start(capturemock.RECORD, SERVER_RC)
    tell(address, f"SUT_SERVER:listening on {sut.address}")
    assert ask(address, "one") == ["re: one"]
    assert ask(address, "two") == ["re: two"]
    rig.stop()
    recorded = rig.read("rec.mock")
    assert recorded == f"<-SRV:listening on {sut.address}\n->CLI:one\n<-SRV:re: one\n->CLI:two\n<-SRV:re: two\n"

    rig.write("stored.mock", recorded)
    sut.received.clear()
    address = rig.start(capturemock.REPLAY, SERVER_RC, record="replayed.mock", replay="stored.mock")
    tell(address, f"SUT_SERVER:listening on {sut.address}")
    rig.stop()  # the stop waits for the datagrams sent before it: the location message plays the client
    assert sut.received == ["one", "two"]
    assert rig.read("replayed.mock") == recorded


def test_a_real_server_that_is_gone_is_a_warning_and_nothing_recorded(rig):
    warnings: list[str] = []
    address = rig.start(capturemock.RECORD, CLIENT_RC, stderrFn=warnings.append)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:  # after the start: not CaptureMock's port
        sock.bind(("127.0.0.1", 0))
        gone = f"127.0.0.1:{sock.getsockname()[1]}"
    tell(address, f"SUT_SERVER:{gone}")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:  # the stop waits for this one
        host, port = address.rsplit(":", 1)
        sock.sendto(b"hello?", (host, int(port)))
    rig.stop()
    assert not rig.exists("rec.mock")
    assert f"WARNING: Could not forward to server {gone}: [Errno 111] Connection refused\n-- hello?\n" \
        in "".join(warnings)


def test_broadcast_collects_every_reply_and_replays_them_each(rig, udp_servers):
    try:
        first = real(udp_servers, lambda text: [f"first saw {text}"], host="127.255.255.255", marker=False)
        real(udp_servers, lambda text: [f"second saw {text}"], host="127.255.255.255", port=first.port,
             marker=False)
    except OSError as err:
        pytest.skip(f"no loopback broadcast here: {err}")
    rc = CLIENT_RC + "broadcast = true\nconnection_timeout = 1.0\n"
    address = rig.start(capturemock.RECORD, rc)
    tell(address, f"SUT_SERVER:discovery on 127.0.0.1:{first.port}")
    assert sorted(ask(address, "who is there", replies=2)) == ["first saw who is there", "second saw who is there"]
    rig.stop()
    recorded = rig.read("rec.mock")
    assert sorted(recorded.splitlines()) == ["->SRV:first saw who is there", "->SRV:second saw who is there",
                                             "<-CLI:who is there"]

    rig.write("stored.mock", recorded)
    for server in udp_servers:
        server.stop()
    address = rig.start(capturemock.REPLAY, rc, record="replayed.mock", replay="stored.mock")
    assert ask(address, "who is there", replies=2) == [line[len("->SRV:"):] for line in recorded.splitlines()[1:]]
    rig.stop()


def test_replay_for_server_plays_the_recorded_client_over_udp(rig, udp_servers):
    server = real(udp_servers, lambda text: [f"re: {text}"])
    rig.write("stored.mock", "<-CLI:one\n->SRV:old one\n<-CLI:two\n")
    capturemock.replay_for_server(rcFile=rig.write("rc", CLIENT_RC), replayFile=str(rig.root / "stored.mock"),
                                  recordFile=str(rig.root / "rec.mock"), serverAddress=server.address)
    assert server.received == ["one", "two"]
    assert rig.read("rec.mock") == "<-CLI:one\n->SRV:re: one\n<-CLI:two\n->SRV:re: two\n"


def test_a_tcp_message_to_a_udp_session_is_refused_on_stderr(rig):
    lines: list[str] = []
    address = rig.start(capturemock.RECORD, CLIENT_RC, stderrFn=lines.append)
    assert rig.send(address, "over tcp") == ""
    rig.stop()
    assert not rig.exists("rec.mock")
    assert ("CaptureMock server: server_protocol = classic_udp takes messages as UDP datagrams; "
            "a TCP message was ignored\n") in "".join(lines)
