"""The traffic server's connection threads (§4.5): whatever order requests finish in, what they record
is written in the order their requests arrived, and stopping waits for requests in flight."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading

import capturemock
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


def test_a_server_told_to_stop_before_it_serves_stops_at_once():
    """``stop`` may come before ``serve`` (the launcher gone while the server starts): serving then ends
    without accepting anything."""
    server = TrafficServer("token")
    server.stop()
    serving = threading.Thread(target=server.serve, args=(echo_name, ArrivalOrder([].append)))
    serving.start()
    serving.join(10)
    assert not serving.is_alive()


PUBLISHING = """\
import sys
sys.path.insert(0, sys.argv.pop(1))
from capturemock.server import listen, parse_options
server, config, mode = listen(parse_options(["-m", "1", "-r", sys.argv[1], "--parent-pipe"]), "token")
print(server.address, "threading" in sys.modules)
server.close()
"""


def test_the_server_process_publishes_its_address_before_importing_threading(tmp_path):
    """All the server process does before its address is out (which the launcher waits for), run as the
    launcher runs it (``-S``): ``threading`` (~14 M instructions there) is imported after, by ``serve``."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(capturemock.__file__)))
    out = subprocess.run([sys.executable, "-S", "-c", PUBLISHING, root, str(tmp_path / "rec.mock")],
                         stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    address, threading_loaded = out.stdout.split()
    assert address.startswith("127.0.0.1:") and threading_loaded == "False"
