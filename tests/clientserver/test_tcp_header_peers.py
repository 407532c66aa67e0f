"""``tcp_header`` clients that only listen (``client_passive``) and CaptureMock instances that tell each
other what their clients said (``CAPTUREMOCK_SYNCH``), with real stdlib servers and clients on 127.0.0.1."""
from __future__ import annotations

import socket
import socketserver
import struct
import threading

import capturemock
from tests.clientserver.tcpheader_helpers import answering_server, connect, locate, read_length_prefixed

RC = """\
[general]
server_protocol = tcp_header
record_for_client = true
client_passive = true

[tcp_header]
format = >4sI
fields = type,length
"""
HEADER = struct.Struct(">4sI")


def message(type_: bytes, body: bytes) -> bytes:
    return HEADER.pack(type_, len(body)) + body


def read_message(sock) -> bytes:
    return read_length_prefixed(sock, HEADER)


GREETINGS = [message(b"HELO", b"hi"), message(b"MORE", b"there")]
JUNK = b"\xff\xff\xff\xffnot a message at all"


def talking_server(rig, received: list):
    """Sends its greetings to whoever connects, then keeps what it is sent."""
    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            self.request.sendall(b"".join(GREETINGS))
            while data := self.request.recv(4096):
                received.append(data)

    return rig.real(socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler))


def test_a_passive_client_is_never_read_and_hears_the_server_in_record_and_replay(rig):
    received: list[bytes] = []
    real = talking_server(rig, received)
    recorded = "<-CLI:connect\n->SRV:HELO {}\nhi\n->SRV:MORE {}\nthere\n"
    address = rig.start(capturemock.RECORD, RC)
    locate(address, real.address)
    with connect(address) as sock:
        sock.sendall(JUNK)  # neither read as a message nor passed on
        assert [read_message(sock), read_message(sock)] == GREETINGS
    rig.stop()
    assert rig.read("rec.mock") == recorded
    assert received == []

    real.stop()
    rig.write("stored.mock", recorded)
    address = rig.start(capturemock.REPLAY, RC, record="replayed.mock", replay="stored.mock")
    with connect(address) as sock:
        sock.sendall(JUNK)
        assert [read_message(sock), read_message(sock)] == GREETINGS
    rig.stop()
    assert rig.read("replayed.mock") == recorded


ACTIVE_RC = RC.replace("client_passive = true\n", "")


def pong_server(rig, received: list):
    """Answers each message with PONG and its body."""
    def pong(data: bytes) -> bytes:
        received.append(data)
        return message(b"PONG", data[HEADER.size:])

    return answering_server(rig, read_message, pong)


def synch(address: str, text: str) -> None:
    with connect(address) as sock:
        sock.sendall(f"CAPTUREMOCK_SYNCH:{text}\n".encode())
        assert sock.recv(1) == b""


def test_client_messages_matching_a_peers_regex_are_told_to_it_before_the_real_server_hears_them(rig):
    real_received: list[bytes] = []
    told: list[tuple[bytes, list]] = []  # what each peer connection carried, and what the server had then

    class Peer(socketserver.BaseRequestHandler):
        def handle(self):
            data = b""
            while chunk := self.request.recv(4096):
                data += chunk
            told.append((data, list(real_received)))
            self.request.sendall(b"ok")

    peer = rig.real(socketserver.ThreadingTCPServer(("127.0.0.1", 0), Peer))
    real = pong_server(rig, real_received)
    address = rig.start(capturemock.RECORD, ACTIVE_RC)
    locate(address, real.address)
    synch(address, f"{peer.address},PI")  # matched from the start: 'XPING' is not told
    with connect(address) as sock:
        for data in [message(b"PING", b"one"), message(b"XPIN", b"two"), message(b"PING", b"3")]:
            sock.sendall(data)
            read_message(sock)
    rig.stop()
    assert told == [(b"CAPTUREMOCK_STATUS:PING {}\none\n", []),
                    (b"CAPTUREMOCK_STATUS:PING {}\n3\n", [message(b"PING", b"one"), message(b"XPIN", b"two")])]
    assert rig.read("rec.mock") == ("<-CLI:PING {}\none\n->SRV:PONG {}\none\n<-CLI:XPIN {}\ntwo\n->SRV:PONG {}\ntwo\n"
                                    "<-CLI:PING {}\n3\n->SRV:PONG {}\n3\n")


def status(address: str, text: str) -> bytes:
    """A peer's status message, as a peer sends it; CaptureMock's answer."""
    with connect(address) as sock:
        sock.sendall(f"CAPTUREMOCK_STATUS:{text}\n".encode())
        sock.shutdown(socket.SHUT_WR)
        return sock.recv(16)


def pushing_server(rig, push):
    """Greets its client, then sends UPDT each time ``push`` is set."""
    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            self.request.sendall(GREETINGS[0])
            while push.wait(10):
                push.clear()
                self.request.sendall(message(b"UPDT", b"news"))

    return rig.real(socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler))


def test_a_status_is_recorded_as_the_clients_message_and_replays_its_answer(rig):
    push = threading.Event()
    real = pushing_server(rig, push)
    recorded = "<-CLI:connect\n->SRV:HELO {}\nhi\n<-CLI:ORDR {}\nbuy\n->SRV:UPDT {}\nnews\n"
    address = rig.start(capturemock.RECORD, RC)
    locate(address, real.address)
    with connect(address) as listener:
        assert read_message(listener) == GREETINGS[0]  # the listening client is connected
        assert status(address, "ORDR {}\nbuy") == b"ok"
        push.set()  # the real server reacts to the other client's order
        assert read_message(listener) == message(b"UPDT", b"news")
    rig.stop()
    assert rig.read("rec.mock") == recorded

    real.stop()
    rig.write("stored.mock", recorded)
    address = rig.start(capturemock.REPLAY, RC, record="replayed.mock", replay="stored.mock")
    with connect(address) as listener:
        assert read_message(listener) == GREETINGS[0]
        assert status(address, "ORDR {}\nbuy") == b"ok"
        assert read_message(listener) == message(b"UPDT", b"news")
    rig.stop()
    assert rig.read("replayed.mock") == recorded


def test_two_replaying_instances_one_clients_order_makes_the_others_server_speak(rig, tmp_path):
    (tmp_path / "b").mkdir()
    other = type(rig)(tmp_path / "b")  # a second CaptureMock, as a second SUT process would have
    try:
        other.write("stored.mock", "<-CLI:connect\n->SRV:HELO {}\nhi\n<-CLI:ORDR {}\nbuy\n->SRV:UPDT {}\nnews\n")
        listening = other.start(capturemock.REPLAY, RC, replay="stored.mock")
        rig.write("stored.mock", "<-CLI:ORDR {}\nbuy\n->SRV:DONE {}\nok\n")
        address = rig.start(capturemock.REPLAY, ACTIVE_RC, replay="stored.mock")
        synch(address, f"{listening},ORDR")
        with connect(listening) as listener, connect(address) as ordering:
            assert read_message(listener) == GREETINGS[0]
            ordering.sendall(message(b"ORDR", b"buy"))
            assert read_message(ordering) == message(b"DONE", b"ok")
            assert read_message(listener) == message(b"UPDT", b"news")
    finally:
        other.stop()


def test_a_peer_on_another_host_is_refused_unless_remote_access_is_set(rig, capfd):
    """Anyone who reaches the port can send CAPTUREMOCK_SYNCH (2.10's form has no token): by default
    it must not get the client's messages sent off this host."""
    real = pong_server(rig, [])
    address = rig.start(capturemock.RECORD, ACTIVE_RC)
    locate(address, real.address)
    synch(address, "192.0.2.1:9")  # TEST-NET-1: never a real host
    with connect(address) as sock:
        sock.sendall(message(b"PING", b"one"))
        read_message(sock)
    rig.stop()
    err = capfd.readouterr().err
    assert ("CaptureMock: CAPTUREMOCK_SYNCH:192.0.2.1:9: refused, 192.0.2.1 is not this host "
            "(set [general] server_remote_access to tell peers on other hosts)") in err
    assert "could not tell CaptureMock peer" not in err
    assert rig.read("rec.mock") == "<-CLI:PING {}\none\n->SRV:PONG {}\none\n"
