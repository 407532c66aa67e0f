"""The traffic server's connection threads (§4.5): whatever order requests finish in, what they record
is written in the order their connections arrived, and stopping waits for requests in flight."""
from __future__ import annotations

import socket
import threading

from capturemock.server import ArrivalOrder, Connection, TrafficServer


def echo_name(conn: Connection, record) -> None:
    """Record the first line the client sends, then answer it."""
    line = b""
    while not line.endswith(b"\n"):
        chunk = conn.recv(64)
        if not chunk:
            return
        line += chunk
    record(line.decode())
    conn.sendall(b"ok\n")


def connect(address: str) -> socket.socket:
    host, port = address.split(":")
    return socket.create_connection((host, int(port)), timeout=10)


def test_records_follow_arrival_order_whatever_order_requests_finish_in():
    written: list[str] = []
    server = TrafficServer("token")
    serving = threading.Thread(target=server.serve, args=(echo_name, ArrivalOrder(written.append)))
    serving.start()
    try:
        warm = [connect(server.address) for _ in range(4)]  # four threads busy at once: later, several idle
        for index, sock in enumerate(warm):
            sock.sendall(f"warm {index}\n".encode())
            assert sock.recv(3) == b"ok\n"
            sock.close()
        for _ in range(20):
            clients = [connect(server.address) for _ in range(3)]  # arrive one after another
            for name, sock in reversed(list(zip("abc", clients))):  # ...and finish in the opposite order
                sock.sendall(f"{name}\n".encode())
                assert sock.recv(3) == b"ok\n"
                sock.close()
    finally:
        server.stop()
        serving.join(10)
    assert not serving.is_alive()
    assert written[:4] == [f"warm {index}\n" for index in range(4)]
    assert written[4:] == ["a\n", "b\n", "c\n"] * 20
