"""Instructions of the traffic server process per classic or HTTP exchange, by callgrind.

    python bench/callgrind_server.py classic|http [--real] [--low 100] [--high 1100]

The server runs under ``valgrind --tool=callgrind`` as a launcher starts it (``python -S -c <boot>
-m 2 -p stored.mock -r rec.mock -R rc``, ``PYTHONHASHSEED=0``); ``--real`` runs the stdlib server of
``workload_servers.py serve`` instead. ``workload_servers.py``'s client, outside valgrind, makes ``--low``
then ``--high`` exchanges (one connection each, a mock of as many items), then stops the server; the figure
is (I_high - I_low) / (high - low), so start-up cancels out. Compile the tree's ``.pyc`` files first
(``python -m compileall capturemock``): a stale one is compiled again at every start.
"""
from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile

import workload_servers

TREE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BOOT = "import sys; sys.path.insert(0, sys.argv.pop(1)); from capturemock.server import main; main()"


def instructions(protocol: str, exchanges: int, real: bool, directory: str) -> int:
    """The server process's instruction count over start-up, ``exchanges`` exchanges and the stop."""
    exchange, request, reply, recorded_request, recorded_reply, _ = workload_servers.PROTOCOLS[protocol]
    rc, replay = os.path.join(directory, "rc"), os.path.join(directory, "stored.mock")
    with open(rc, "w") as handle:
        handle.write(f"[general]\nserver_protocol = {protocol}\nrecord_for_client = true\n")
    with open(replay, "w") as handle:
        handle.writelines(f"<-CLI:{recorded_request(n)}\n->SRV:{recorded_reply(n)}\n" for n in range(exchanges + 1))
    out = os.path.join(directory, "callgrind.out")
    if real:
        server = [os.path.join(TREE, "bench", "workload_servers.py"), "serve", protocol]
    else:
        server = ["-S", "-c", BOOT, TREE, "-m", "2", "-p", replay, "-r", os.path.join(directory, "rec.mock"), "-R", rc]
    env = dict(os.environ, PYTHONHASHSEED="0", CAPTUREMOCK_TOKEN="bench")
    process = subprocess.Popen(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable,
                                *server], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True, env=env, cwd=directory)
    first = process.stdout.readline().split()
    address = f"127.0.0.1:{first[1]}" if real else first[0]
    if real and protocol == "http":
        address = f"http://{address}"
    for n in range(exchanges):
        if exchange(address, request(n)) != reply(n):
            raise SystemExit(f"wrong answer to {request(n)!r}")
    if real:
        process.stdin.close()
    else:
        host, port = address.split("//")[-1].rsplit(":", 1)
        with socket.create_connection((host, int(port))) as sock:
            sock.sendall(b"TERMINATE_SERVER:bench")
            sock.shutdown(socket.SHUT_WR)
            sock.recv(1)
    process.wait()
    with open(out) as handle:
        return next(int(line.split()[1]) for line in handle if line.startswith("summary:"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("protocol", choices=sorted(workload_servers.PROTOCOLS))
    parser.add_argument("--real", action="store_true", help="the stdlib server instead of ours")
    parser.add_argument("--low", type=int, default=100)
    parser.add_argument("--high", type=int, default=1100)
    args = parser.parse_args()
    counts = [instructions(args.protocol, n, args.real, tempfile.mkdtemp()) for n in (args.low, args.high)]
    per_exchange = (counts[1] - counts[0]) / (args.high - args.low) / 1000
    print(f"{args.protocol} {'real' if args.real else 'ours'}: {per_exchange:.1f} k instructions per exchange "
          f"({counts[0]} at {args.low}, {counts[1]} at {args.high})")


if __name__ == "__main__":
    main()
