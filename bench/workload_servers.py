"""Client-server replay workload, run under either implementation's interpreter.

    python bench/workload_servers.py classic|http --dir D [--runs R] [--direct]

The client is the SUT (`record_for_client = true`, reference §8.2): capturemock's traffic server is
started with `setUpServer(REPLAY, record, replay, rcFiles=[rc], ...)` (§7.1) on a hand-written mock
(§4.4) and the client exchanges R messages with `CAPTUREMOCK_SERVER`, one connection each, then
`terminate()`. `--direct` times the same exchanges against a real stdlib server in a subprocess
instead. Prints median and p95 microseconds per exchange as one BENCH-RESULT line (see timing.py).
"""
from __future__ import annotations

import argparse
import http.client
import http.server
import os
import socket
import socketserver
import statistics
import subprocess
import sys
import threading

import timing


def classic_exchange(address: str, text: str) -> str:
    """One classic TCP message (§8.3): send, half-close, read until the server closes."""
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(text.encode())
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while True:
            data = sock.recv(65536)
            if not data:
                return b"".join(chunks).decode()
            chunks.append(data)


def http_exchange(address: str, path: str) -> str:
    """One GET on a fresh connection; the body is read to EOF (a replay sends no Content-Length, §8.5)."""
    host, port = address.split("//", 1)[-1].rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port))
    try:
        connection.request("GET", path)
        return connection.getresponse().read().decode()
    finally:
        connection.close()


class ClassicHandler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        question = self.rfile.read().decode()
        self.wfile.write(question.replace("question", "answer").encode())


class HttpHandler(http.server.BaseHTTPRequestHandler):
    wbufsize = 65536  # one send per response, as a tuned real server would do

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        body = f'{{"id": {self.path.rsplit("/", 1)[-1]}}}'.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


PROTOCOLS = {
    # protocol: (exchange, request text for n, expected reply for n, recorded request, recorded reply, server class)
    "classic": (classic_exchange, lambda n: f"question {n}", lambda n: f"answer {n}",
                lambda n: f"question {n}", lambda n: f"answer {n}",
                lambda: socketserver.TCPServer(("127.0.0.1", 0), ClassicHandler)),
    "http": (http_exchange, lambda n: f"/api/items/{n}", lambda n: f'{{"id": {n}}}',
             lambda n: f"GET /api/items/{n}", lambda n: f'200 {{"id": {n}}}\n--HEA:Content-Type=application/json',
             lambda: http.server.HTTPServer(("127.0.0.1", 0), HttpHandler)),
}


def serve(protocol: str) -> None:
    """Entry of the real-server subprocess: print the port, serve until stdin closes."""
    server = PROTOCOLS[protocol][5]()
    print(f"PORT {server.server_address[1]}", flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()
    server.shutdown()


def exchanges(protocol: str, address: str, runs: int) -> dict:
    exchange, request, reply = PROTOCOLS[protocol][:3]
    exchange(address, request(runs))  # warm-up (connection set-up paths, lazy imports)
    samples = timing.timed_us(lambda n: exchange(address, request(n)), range(runs))
    return {"median_us": statistics.median(samples), "p95_us": timing.percentile(samples, 0.95),
            **timing.check((exchange(address, request(n)), reply(n)) for n in range(min(runs, 20)))}


def run_direct(protocol: str, runs: int) -> dict:
    server = subprocess.Popen([sys.executable, __file__, "serve", protocol], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        port = server.stdout.readline().split()[1]
        scheme = "http://" if protocol == "http" else ""
        return exchanges(protocol, f"{scheme}127.0.0.1:{port}", runs)
    finally:
        server.stdin.close()
        server.wait()


def run_replay(protocol: str, directory: str, runs: int) -> dict:
    import capturemock

    _, _, _, recorded_request, recorded_reply, _ = PROTOCOLS[protocol]
    rc = os.path.join(directory, "capturemockrc")
    with open(rc, "w") as handle:
        handle.write(f"[general]\nserver_protocol = {protocol}\nrecord_for_client = true\n")
    replay = os.path.join(directory, "stored.mock")
    with open(replay, "w") as handle:
        for n in range(runs + 1):
            handle.write(f"<-CLI:{recorded_request(n)}\n->SRV:{recorded_reply(n)}\n")
    env = dict(os.environ)
    capturemock.setUpServer(capturemock.REPLAY, os.path.join(directory, "record.mock"), replay, rcFiles=[rc],
                            sutDirectory=directory, environment=env)
    try:
        return exchanges(protocol, env["CAPTUREMOCK_SERVER"], runs)
    finally:
        capturemock.terminate()


def main() -> None:
    if sys.argv[1:2] == ["serve"]:
        serve(sys.argv[2])
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("protocol", choices=sorted(PROTOCOLS))
    parser.add_argument("--dir", required=True, help="scratch directory")
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--direct", action="store_true", help="time a real stdlib server instead")
    args = parser.parse_args()
    timing.emit(run_direct(args.protocol, args.runs) if args.direct else run_replay(args.protocol, args.dir, args.runs))


if __name__ == "__main__":
    main()
