"""Command-line interception cost: ms per intercepted invocation and traffic server start/stop.

    .venv/bin/python bench/bench_cmdline.py [--calls 300]

Runs a tiny program 300 times directly, then through the shims while recording and while replaying,
with the native (C) shim and with the Python fallback shim, and times ``setUpServer``/``terminate``.
Targets (product spec §3): replayed invocation <= 5 ms, server start <= 30 ms, stop <= 10 ms.
Measures and prints only; asserts nothing. Note: with PYTHONDONTWRITEBYTECODE set, the server compiles
its modules on every start; unset it once to cache bytecode for realistic start-up numbers.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import capturemock
from capturemock.cmdline import shims

RC = "[command line]\nintercepts = tool\n"


def run_many(argv: list[str], env: dict, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, check=False)
    return (time.perf_counter() - start) * 1000 / calls


def session(root: Path, mode: int, replay: str | None, calls: int) -> tuple[float, float, float]:
    env = {"PATH": f"{root / 'bin'}:/usr/bin:/bin", "HOME": os.environ.get("HOME", str(root))}
    start = time.perf_counter()
    capturemock.setUpServer(mode, str(root / f"rec{mode}.mock"), replay, rcFiles=[str(root / "rc")],
                            interceptDir=str(root / f"intercepts{mode}"), sutDirectory=str(root), environment=env)
    started = time.perf_counter()
    per_call = run_many(["tool", "arg"], env, calls)
    stopping = time.perf_counter()
    capturemock.terminate()
    return (started - start) * 1000, per_call, (time.perf_counter() - stopping) * 1000


def server_start_stop(root: Path, rounds: int = 10) -> tuple[float, float]:
    starts, stops = [], []
    for _ in range(rounds):
        env = {"PATH": "/usr/bin:/bin"}
        start = time.perf_counter()
        capturemock.setUpServer(capturemock.RECORD, str(root / "none.mock"), rcFiles=[str(root / "rc")],
                                interceptDir=str(root / "icpt"), sutDirectory=str(root), environment=env)
        starts.append((time.perf_counter() - start) * 1000)
        time.sleep(0.1)  # the SUT's run: the server finishes wiring its handlers after publishing its address
        stopping = time.perf_counter()
        capturemock.terminate()
        stops.append((time.perf_counter() - stopping) * 1000)
    return statistics.median(starts), statistics.median(stops)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300)
    calls = parser.parse_args().calls
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "bin").mkdir()
        tool = root / "bin" / "tool"
        tool.write_text("#!/bin/sh\necho \"tool $*\"\n")
        tool.chmod(0o755)
        (root / "rc").write_text(RC)
        native = shims.native_shim()
        direct = run_many([str(tool), "arg"], {"PATH": "/usr/bin:/bin"}, calls)
        print(f"{calls} invocations of a /bin/sh script; direct: {direct:.2f} ms each")
        print(f"{'shim':8} {'record ms':>10} {'overhead':>9} {'replay ms':>10} {'overhead':>9}")
        for kind in ("native", "python"):
            if kind == "native" and native is None:
                print("native   (no C compiler: skipped)")
                continue
            shims_native = shims.native_shim
            if kind == "python":
                shims.native_shim = lambda compiler=None: None
            try:
                _, record, _ = session(root, capturemock.RECORD, None, calls)
                _, replay, _ = session(root, capturemock.REPLAY, str(root / "rec1.mock"), calls)
            finally:
                shims.native_shim = shims_native
            print(f"{kind:8} {record:10.2f} {record - direct:9.2f} {replay:10.2f} {replay - direct:9.2f}")
        start, stop = server_start_stop(root)
        print(f"traffic server: start {start:.1f} ms, stop {stop:.1f} ms (median of 10, setUpServer/terminate)")


if __name__ == "__main__":
    main()
