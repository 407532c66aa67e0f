"""Command-line workload, run under either implementation's interpreter.

    python bench/workload_cmdline.py direct|record|replay --dir D [--runs R]
    python bench/workload_cmdline.py server --dir D [--runs R]
    python bench/workload_cmdline.py startup --dir D [--runs R]

Drives capturemock the way TextTest does (reference §7.1, §9): `setUpServer(mode, recordFile,
replayFile, rcFiles=..., interceptDir=..., sutDirectory=..., environment=env)`, then the SUT runs
the tiny program `tinyprog` R times through the PATH shim, then `terminate()`. `server` times
setUpServer and terminate alone; `startup` times the `capturemock` command (§10) around `true`.
Prints one BENCH-RESULT line (see timing.py).
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

import timing

PROGRAM = "tinyprog"


def write_program(directory: str) -> str:
    """The real program: a two-line shell script, so its own cost is the cost of an exec."""
    bin_dir = os.path.join(directory, "bin")
    os.makedirs(bin_dir, exist_ok=True)
    path = os.path.join(bin_dir, PROGRAM)
    with open(path, "w") as handle:
        handle.write('#!/bin/sh\necho "hello $1"\n')
    os.chmod(path, 0o755)
    return bin_dir


def write_rc(directory: str) -> str:
    path = os.path.join(directory, "capturemockrc")
    with open(path, "w") as handle:
        handle.write(f"[command line]\nintercepts = {PROGRAM}\n")
    return path


def write_replay(directory: str, runs: int) -> str:
    """Hand-written mock in §4.3 syntax: one recorded invocation per argument."""
    path = os.path.join(directory, "stored.mock")
    with open(path, "w") as handle:
        for n in range(runs):
            handle.write(f"<-CMD:{PROGRAM} {n}\n->OUT:hello {n}\n")
    return path


def environment(directory: str, with_program: bool) -> dict[str, str]:
    env = dict(os.environ)
    if with_program:
        env["PATH"] = f"{write_program(directory)}{os.pathsep}{env['PATH']}"
    return env


def invocations(env: dict[str, str], directory: str, runs: int) -> dict:
    """Median ms per invocation of the program as the SUT would run it, and whether its output was right."""
    samples, outputs = [], []
    for n in range(runs):
        start = time.perf_counter()
        done = subprocess.run([PROGRAM, str(n)], env=env, cwd=directory, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
        samples.append((time.perf_counter() - start) * 1000)
        outputs.append((done.stdout, f"hello {n}\n"))
    return {"per_run_ms": statistics.median(samples), **timing.check(outputs)}


def start_server(mode: int, directory: str, env: dict[str, str], replay: str | None = None) -> None:
    import capturemock

    capturemock.setUpServer(mode, os.path.join(directory, "record.mock"), replay,
                            rcFiles=[write_rc(directory)], interceptDir=os.path.join(directory, "intercepts"),
                            sutDirectory=directory, environment=env)


def run_direct(args: argparse.Namespace) -> dict:
    return invocations(environment(args.dir, True), args.dir, args.runs)


def run_intercepted(args: argparse.Namespace, mode: int, replay: str | None) -> dict:
    import capturemock

    env = environment(args.dir, with_program=replay is None)
    start_server(mode, args.dir, env, replay)
    try:
        return invocations(env, args.dir, args.runs)
    finally:
        capturemock.terminate()


def run_server(args: argparse.Namespace) -> dict:
    import capturemock

    starts, stops = [], []
    for n in range(args.runs):
        scratch = os.path.join(args.dir, str(n))
        os.makedirs(scratch)
        env = environment(scratch, True)
        start = time.perf_counter()
        start_server(capturemock.RECORD, scratch, env)
        starts.append((time.perf_counter() - start) * 1000)
        time.sleep(0.1)  # the SUT's run: stop is timed on a server that has settled, as after a test
        stopping = time.perf_counter()
        capturemock.terminate()
        stops.append((time.perf_counter() - stopping) * 1000)
    return {"start_ms": statistics.median(starts), "stop_ms": statistics.median(stops)}


def run_startup(args: argparse.Namespace) -> dict:
    command = os.path.join(os.path.dirname(sys.executable), "capturemock")
    true = shutil.which("true")
    rc = os.path.join(args.dir, "empty.rc")
    open(rc, "w").close()
    record = os.path.join(args.dir, "startup.mock")

    def run(argv: list[str]) -> float:
        start = time.perf_counter()
        subprocess.run(argv, cwd=args.dir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return (time.perf_counter() - start) * 1000

    wrapped = [run([command, "-m", "1", "-r", record, "-R", rc, true]) for _ in range(args.runs)]
    direct = [run([true]) for _ in range(args.runs)]
    return {"per_run_ms": statistics.median(wrapped), "direct_ms": statistics.median(direct)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["direct", "record", "replay", "server", "startup"])
    parser.add_argument("--dir", required=True, help="scratch directory")
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args()
    if args.action == "direct":
        result = run_direct(args)
    elif args.action == "record":
        result = run_intercepted(args, 1, None)
    elif args.action == "replay":
        result = run_intercepted(args, 0, write_replay(args.dir, args.runs))
    elif args.action == "server":
        result = run_server(args)
    else:
        result = run_startup(args)
    timing.emit(result)


if __name__ == "__main__":
    main()
