"""Side-by-side benchmarks of ours against the original CaptureMock 2.10.0: one table of medians.

    .venv/bin/python bench/run_all.py [--quick] [--only NAME] [--impl both|ours|original]
                                      [--json OUT] [--reuse PREVIOUS.json]

Every workload is a script in this directory that uses only the public API both implementations
share; each runs in its own subprocess, under ours installed as a user installs it (a throwaway venv,
see ours_venv.py) or under the original's (likewise, see original_venv.py), alternating so that
machine noise hits both alike, in rounds (each runs every job once) so that it spreads over many jobs.
A workload that fails or answers wrongly says so in its cell, with the message in the notes under the
table. Measures and prints only: no pass/fail. `--reuse` takes
the figures of implementations not run now from an earlier `--json` file (e.g. re-measure ours only
while it is being built).
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

import original_venv
import ours_venv
import plan
import table
import timing

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH_DIR)


def clean_environment(home: str) -> dict[str, str]:
    """As a user's machine: no capturemock or TextTest settings, nothing of ours on the original's path,
    bytecode caching on (pip compiled the original's at install), a HOME of its own shared by all jobs
    (no ~/.capturemock/config; caches such as our compiled native shim persist as they would for a user)."""
    dropped = ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CAPTUREMOCK_", "TEXTTEST_")) and k not in dropped}
    env["HOME"] = home
    return env


def warm_up(python: str, home: str) -> None:
    """Compile the implementation's bytecode once, so no timed start-up pays for it."""
    probe = "import os, capturemock; print(os.path.dirname(capturemock.__file__))"
    env = clean_environment(home)
    package = subprocess.run([python, "-c", probe], capture_output=True, text=True, env=env).stdout.strip()
    if package:
        subprocess.run([python, "-m", "compileall", "-q", package], stdout=subprocess.DEVNULL, env=env)


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def run_job(python: str, job: plan.Job, home: str) -> dict[str, Any]:
    """Run one workload in a fresh scratch directory; its process group is killed on timeout."""
    with tempfile.TemporaryDirectory(prefix=f"bench-{job.name}-") as work:
        argv = [python, os.path.join(BENCH_DIR, job.script), *job.args, "--dir", work]
        process = subprocess.Popen(argv, cwd=work, env=clean_environment(home), stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            out, err = process.communicate(timeout=job.timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            return {"skipped": f"took more than {job.timeout:.0f} s"}
    for line in reversed(out.splitlines()):
        if line.startswith(timing.RESULT_MARK):
            return {"result": json.loads(line[len(timing.RESULT_MARK):])}
    return {"error": last_line(err) or last_line(out) or f"exit status {process.returncode}"}


def combine(outcomes: list[dict[str, Any]]) -> dict[str, Any]:
    """Median of each figure over the repeats that worked (wrong answers: the worst repeat); else the first failure."""
    worked = [outcome["result"] for outcome in outcomes if "result" in outcome]
    if not worked:
        return outcomes[0]
    combined = dict(max(worked, key=lambda result: result.get("wrong", 0)))
    for key, value in combined.items():
        if isinstance(value, float):
            combined[key] = statistics.median(result[key] for result in worked)
    return {"result": combined}


def describe(python: str, home: str) -> str:
    """Python version and which capturemock the interpreter imports: proof that each column is who it says."""
    probe = "import sys, capturemock; print(sys.version.split()[0], capturemock.__file__)"
    done = subprocess.run([python, "-c", probe], capture_output=True, text=True, cwd=home,
                          env=clean_environment(home))
    return done.stdout.strip() or last_line(done.stderr)


def side_bench(python: str, home: str, script: str, *options: str) -> str:
    """One of the standalone benchmarks beside this one (bench_cmdline.py: native against Python shim;
    bench_http.py: the HTTP proxy with and without keep-alive; bench_startup.py: whole processes on
    TextTest's path, both implementations), run under ``python``; its report, or why it failed."""
    done = subprocess.run([python, os.path.join(BENCH_DIR, script), *options],
                          capture_output=True, text=True, cwd=home, env=clean_environment(home))
    return done.stdout.strip() or f"{script} failed: {last_line(done.stderr)}"


def measure(jobs: list[plan.Job], pythons: dict[str, str], home: str, repeats: int) -> dict[str, dict[str, Any]]:
    """Each job `repeats` times per implementation, in rounds: every round runs every job once under each
    implementation, so a burst of machine noise lands on one repeat of many jobs (and the median drops it)
    rather than on every repeat of one job. Progress on stderr."""
    outcomes: dict[tuple[str, str], list[dict[str, Any]]] = {
        (implementation, job.name): [] for job in jobs for implementation in pythons}
    for round_number in range(1, repeats + 1):
        for job in jobs:
            for implementation, python in pythons.items():
                runs = outcomes[implementation, job.name]
                if any("skipped" in outcome for outcome in runs):
                    continue  # too slow once: not worth waiting for again
                begin = time.perf_counter()
                outcome = run_job(python, job, home)
                runs.append(outcome)
                status = "ok" if "result" in outcome else next(iter(outcome.values()))
                print(f"[{implementation:8}] round {round_number}/{repeats} {job.name:28} "
                      f"{time.perf_counter() - begin:6.1f} s  {status}", file=sys.stderr, flush=True)
    results: dict[str, dict[str, Any]] = {implementation: {} for implementation in pythons}
    for (implementation, name), runs in outcomes.items():
        results[implementation][name] = combine(runs)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller workloads, < 2 min in all")
    parser.add_argument("--only", help="run only the jobs whose name contains this text")
    parser.add_argument("--impl", choices=["both", "ours", "original"], default="both")
    parser.add_argument("--ours", help="our interpreter (default: this checkout installed non-editable in "
                        f"{ours_venv.DEFAULT_VENV}, as the original is; e.g. .venv/bin/python for the editable one)")
    parser.add_argument("--original-venv", default=original_venv.DEFAULT_VENV)
    parser.add_argument("--json", help="also write all figures to this file")
    parser.add_argument("--reuse", help="figures of implementations not run now, from an earlier --json")
    args = parser.parse_args()

    sizes = plan.QUICK if args.quick else plan.FULL
    jobs = [job for job in plan.jobs(sizes) if not args.only or args.only in job.name]
    pythons = {}
    if args.impl in ("both", "original"):
        pythons["original"] = original_venv.ensure(args.original_venv, REPO)
    if args.impl in ("both", "ours"):
        pythons["ours"] = args.ours or ours_venv.ensure()
    results: dict[str, dict[str, Any]] = {"ours": {}, "original": {}}
    if args.reuse:
        with open(args.reuse) as handle:
            results.update(json.load(handle)["results"])
    with tempfile.TemporaryDirectory(prefix="bench-home-") as home:
        for python in pythons.values():
            warm_up(python, home)
        started = time.perf_counter()
        results.update(measure(jobs, pythons, home, sizes.repeats))
        print(f"{datetime.date.today()}, {'quick' if args.quick else 'full'} mode, {os.cpu_count()} CPUs, "
              f"{platform.platform()}; took {time.perf_counter() - started:.0f} s")
        for implementation, python in pythons.items():
            print(f"- {implementation}: {python} (Python {describe(python, home)})")
        print()
        print(table.render(plan.rows(sizes), results))
        if "ours" in pythons and not args.only:
            ours = pythons["ours"]
            print(f"\nOurs only, native against Python shim (bench_cmdline.py):\n\n```\n"
                  f"{side_bench(ours, home, 'bench_cmdline.py', '--calls', str(sizes.shim_runs))}\n```")
            print(f"\nOurs only, HTTP proxy throughput and keep-alive (bench_http.py):\n\n```\n"
                  f"{side_bench(ours, home, 'bench_http.py', '--requests', '200' if args.quick else '1000')}\n```")
            impl = "both" if "original" in pythons else "ours"
            startup = side_bench(ours, home, 'bench_startup.py', '--impl', impl, '--ours', ours,
                                 '--runs', '5' if args.quick else '21')
            print(f"\nWhole processes on TextTest's path, non-editable install (bench_startup.py):\n\n```\n"
                  f"{startup}\n```")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"date": str(datetime.date.today()), "quick": args.quick, "results": results}, handle, indent=1)


if __name__ == "__main__":
    main()
