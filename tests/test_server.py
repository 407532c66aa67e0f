"""The traffic server's connection threads (§4.5): whatever order requests finish in, what they record
is written in the order their requests arrived, and stopping waits for requests in flight."""
from __future__ import annotations

import socket
import threading

from capturemock.server import ArrivalOrder, Connection, TrafficServer


def read_line(conn: Connection) -> bytes:
    line = b""
    while not line.endswith(b"\n"):
        chunk = conn.recv(64)
        if not chunk:
            break
        line += chunk
    return line


def echo_name(conn: Connection, record) -> None:
    """The first line the client sends is its request: answered "in"; the second ends it: recorded with
    the name, answered "ok"."""
    name = read_line(conn)
    conn.arrived()
    conn.sendall(b"in\n")
    read_line(conn)
    record(name.decode())
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
            assert sock.recv(3) == b"in\n"
        for sock in warm:
            sock.sendall(b"end\n")
            assert sock.recv(3) == b"ok\n"
            sock.close()
        for _ in range(20):
            clients = list(zip("abc", [connect(server.address) for _ in range(3)]))
            for name, sock in reversed(clients):  # requests arrive c, b, a
                sock.sendall(f"{name}\n".encode())
                assert sock.recv(3) == b"in\n"
            for _, sock in clients:  # ...and finish in the opposite order
                sock.sendall(b"end\n")
                assert sock.recv(3) == b"ok\n"
                sock.close()
    finally:
        server.stop()
        serving.join(10)
    assert not serving.is_alive()
    assert written[:4] == [f"warm {index}\n" for index in range(4)]
    assert written[4:] == ["c\n", "b\n", "a\n"] * 20
