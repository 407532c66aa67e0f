"""A large command output round-trips record -> replay through the traffic server in bounded memory.

The output is 10 MB in CI and 100 MB with ``CAPTUREMOCK_FUZZ=long``. It holds lines that look like
items, non-ASCII text and undecodable bytes, so the lossless escape is on the path too.

The bound: while the server handles the command, its peak resident memory may grow by at most 5x the
payload *as Python text* over its idle size (here the text is ~2x the bytes, as undecodable bytes kept
as surrogates make it 2 bytes a character; plain ASCII output is 1x). Recording holds the received
bytes, the decoded text, its escaped item form and the encoded write; replaying holds the item value,
its re-recorded form and the encoded frame (the replay file is loaded before; its cost is the replay
index's, see bench/). Each copy is freed before the next where possible: measured ~3-4x, against the
original's ~15x a mock file (product spec §3).
"""
from __future__ import annotations

import hashlib
import os
import socket
import sys

import psutil
from fuzz_settings import LONG

import capturemock
from capturemock.modes import RECORD, REPLAY

MB = 1 << 20
PAYLOAD = (100 if LONG else 10) * MB
RC = "[command line]\nintercepts = tool\n"


def write_payload(path, size: int) -> bytes:
    line = "plain line of output with some words, numbers 12345 and ünïcödé\n".encode()
    special = b"<-CMD:a line that looks like an item\n|capturemock|a line that looks like an escape\n\xff\xfe\n"
    block = line * 200 + special
    data = block * (size // len(block)) + b"\n\n"
    path.write_bytes(data)
    return data


def peak_rss(pid: int) -> int:
    """Peak resident set size of a process (Linux VmHWM), in bytes."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def wait_until_serving(address: str) -> None:
    """A stop request without the token is refused, and only answered once the server serves."""
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=60) as sock:
        sock.sendall(b"TERMINATE_SERVER:not-the-token")
        sock.shutdown(socket.SHUT_WR)
        assert sock.recv(1024).startswith(b"CaptureMock server: refused")


def run_through_server(sut, mode: int, **kwargs) -> tuple[bytes, int]:
    """Start a server, run the tool once, and return its output and the server's growth in memory."""
    sut.start_server(mode, sut.write("capturemockrc", RC), **kwargs)
    server = psutil.Process(sut.server_pid())
    wait_until_serving(sut.env["CAPTUREMOCK_SERVER"])  # the replay file is loaded by then
    idle = server.memory_info().rss
    result = sut.run("tool", timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    growth = peak_rss(server.pid) - idle
    capturemock.terminate()
    return result.stdout, growth


def test_large_output_round_trips_in_bounded_memory(sut):
    payload = write_payload(sut.root / "payload.bin", PAYLOAD)
    sut.program("tool", f"cat {sut.root / 'payload.bin'}\n")
    output, record_growth = run_through_server(sut, RECORD, record="stored.mock")
    assert output == payload
    assert os.path.getsize(sut.root / "stored.mock") < 1.1 * PAYLOAD
    os.remove(sut.root / "payload.bin")
    output, replay_growth = run_through_server(sut, REPLAY, replay="stored.mock", record="again.mock",
                                               real_programs=False)
    assert hashlib.sha256(output).digest() == hashlib.sha256(payload).digest()
    assert (sut.root / "again.mock").read_bytes() == (sut.root / "stored.mock").read_bytes()
    text_size = sys.getsizeof(payload.decode("utf-8", "surrogateescape"))
    print(f"payload {PAYLOAD / MB:.0f} MB ({text_size / MB:.0f} MB as text): server grew "
          f"{record_growth / MB:.0f} MB recording, {replay_growth / MB:.0f} MB replaying")
    assert record_growth < 5 * text_size and replay_growth < 5 * text_size
