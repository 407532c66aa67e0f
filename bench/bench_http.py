"""Ours only: the HTTP proxy's throughput and added latency, with and without keep-alive, and a large body.

    python bench/bench_http.py [--requests N] [--body-mb M]

A real HTTP/1.1 server (stdlib, threaded, keep-alive) runs in a subprocess. The client (the SUT,
`record_for_client = true`) sends N GETs of a small JSON item three ways: to the real server directly,
through the recording proxy (`setUpServer(RECORD, ..., recordFromUrl=...)`) and to the replay server
(`setUpServer(REPLAY, ...)` on what was just recorded), each once on a fresh connection per request and
once on one kept connection (`http.client.HTTPConnection` reused). Then one GET of an M MB binary body
the same three ways, with the size of the mock file and the serving process's resident memory (peak
over the process's life, and before the request; Linux ``/proc``). Every answer is checked. Prints a table; asserts
nothing. The original 2.10.0 is not measured here: it answers one request per connection.
"""
from __future__ import annotations

import argparse
import http.client
import http.server
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from typing import Callable
from urllib.parse import urlsplit

import timing

BLOB_SEED = b"capturemock"


def blob(megabytes: float) -> bytes:
    """The same incompressible-looking bytes on both sides (not UTF-8: recorded as a binary body)."""
    size = int(megabytes * 1024 * 1024)
    block = bytes((i * 131 + 7) % 256 for i in range(65536)) + BLOB_SEED
    return (block * (size // len(block) + 1))[:size]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = 65536
    big = b""

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        if self.path == "/big":
            body, kind = self.big, "application/octet-stream"
        else:
            body, kind = f'{{"id": {self.path.rsplit("/", 1)[-1]}}}'.encode(), "application/json"
        self.send_response_only(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def serve(megabytes: float) -> None:
    """Entry of the real-server subprocess: print the port, serve until stdin closes."""
    Handler.big = blob(megabytes)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"PORT {server.server_address[1]}", flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()
    server.shutdown()


class Client:
    """GETs against one base URL, on a fresh connection each (``keep=False``) or on one kept one."""

    def __init__(self, base: str, keep: bool):
        self.host, self.port = urlsplit(base).hostname, urlsplit(base).port
        self.keep = keep
        self.connection = None

    def get(self, path: str) -> bytes:
        if self.connection is None:
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            self.connection.request("GET", path)
            return self.connection.getresponse().read()
        finally:
            if not self.keep:
                self.connection.close()
                self.connection = None


def small_requests(base: str, keep: bool, requests: int) -> dict:
    """Median latency and requests per second over ``requests`` GETs; answers checked."""
    client = Client(base, keep)
    client.get("/api/items/-1")  # warm-up: lazy imports, the proxy's first connection to the real server
    begin = time.perf_counter()
    samples = timing.timed_us(lambda n: client.get(f"/api/items/{n}"), range(requests))
    took = time.perf_counter() - begin
    wrong = sum(client.get(f"/api/items/{n}") != f'{{"id": {n}}}'.encode() for n in range(min(requests, 20)))
    return {"median_us": statistics.median(samples), "per_s": requests / took, "wrong": wrong}


def memory_mb(pid: int, field: str) -> float:
    """``VmHWM`` (peak) or ``VmRSS`` (now) of a process, in MB."""
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith(field + ":"))
    return int(line.split()[1]) / 1024


def big_request(base: str, expected: bytes, pid: int) -> dict:
    """One GET of the large body; the serving process ``pid``'s memory before it and at its peak."""
    client = Client(base, keep=False)
    before = memory_mb(pid, "VmRSS")
    begin = time.perf_counter()
    body = client.get("/big")
    return {"seconds": time.perf_counter() - begin, "wrong": int(body != expected), "rss_before": before,
            "rss_peak": memory_mb(pid, "VmHWM")}


def traffic_server_pid() -> int:
    from capturemock import launcher

    return launcher._manager.process.pid


def through_capturemock(mode: int, directory: str, record: str, replay: str, real: str,
                        measure: Callable[[str], dict]) -> dict:
    import capturemock

    rc = os.path.join(directory, "capturemockrc")
    with open(rc, "w") as handle:
        handle.write("[general]\nserver_protocol = http\nrecord_for_client = true\n")
    env = dict(os.environ)
    capturemock.setUpServer(mode, os.path.join(directory, record), replay and os.path.join(directory, replay),
                            rcFiles=[rc], sutDirectory=directory, environment=env,
                            recordFromUrl=real if mode == capturemock.RECORD else None)
    try:
        return measure(env["CAPTUREMOCK_SERVER"])
    finally:
        capturemock.terminate()


def main() -> None:
    if sys.argv[1:2] == ["serve"]:
        serve(float(sys.argv[2]))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--body-mb", type=float, default=10.0)
    args = parser.parse_args()

    import capturemock

    server = subprocess.Popen([sys.executable, __file__, "serve", str(args.body_mb)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    expected = blob(args.body_mb)
    rows = []
    try:
        real = f"http://127.0.0.1:{server.stdout.readline().split()[1]}"
        with tempfile.TemporaryDirectory(prefix="bench-http-") as directory:
            for keep in (False, True):
                def small(base: str, keep: bool = keep) -> dict:
                    return small_requests(base, keep, args.requests)

                name = "kept connection" if keep else "connection per request"
                rows.append((f"direct, {name}", small(real)))
                rows.append((f"record, {name}", through_capturemock(capturemock.RECORD, directory, f"small-{keep}.mock",
                                                                    None, real, small)))
                rows.append((f"replay, {name}", through_capturemock(capturemock.REPLAY, directory, "again.mock",
                                                                    f"small-{keep}.mock", real, small)))
            big = {"direct": big_request(real, expected, server.pid)}
            big["record"] = through_capturemock(capturemock.RECORD, directory, "big.mock", None, real,
                                                lambda base: big_request(base, expected, traffic_server_pid()))
            big["replay"] = through_capturemock(capturemock.REPLAY, directory, "big-again.mock", "big.mock", real,
                                                lambda base: big_request(base, expected, traffic_server_pid()))
            stored = os.path.getsize(os.path.join(directory, "big.mock"))
    finally:
        server.stdin.close()
        server.wait()
    print(f"{args.requests} GETs of a small JSON item; real server: stdlib ThreadingHTTPServer, HTTP/1.1")
    print(f"{'way':34} {'median µs':>10} {'added µs':>9} {'req/s':>8}")
    for name, result in rows:
        direct = next(r for n, r in rows if n == "direct, " + name.split(", ", 1)[1])
        wrong = f"  ({result['wrong']} wrong answers)" if result["wrong"] else ""
        print(f"{name:34} {result['median_us']:10.0f} {result['median_us'] - direct['median_us']:9.0f} "
              f"{result['per_s']:8.0f}{wrong}")
    print(f"one GET of a {args.body_mb:g} MB binary body (mock file: {stored / 1e6:.1f} MB); the serving "
          "process's RSS (the real server's for direct):")
    for name, result in big.items():
        wrong = "  (wrong answer)" if result["wrong"] else ""
        print(f"  {name:8} {result['seconds']:.3f} s, RSS {result['rss_before']:.0f} MB before, "
              f"{result['rss_peak']:.0f} MB peak{wrong}")


if __name__ == "__main__":
    main()
