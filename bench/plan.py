"""What run_all.py measures: the workload jobs to run per implementation, and the table rows built from them.

Targets are those of the product spec (../shared/spec/README.md §3). Each job is one subprocess of a
workload script; each row reads one figure from one job's result.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class Job:
    name: str
    script: str
    args: tuple[str, ...]
    timeout: float


@dataclass(frozen=True)
class Row:
    label: str
    job: str
    metric: str
    unit: str
    target: str = ""
    # (job, metric, value when the spec set the target): for a target the spec gives against a baseline it
    # names (a real server's exchange), the target also scaled to that baseline as measured in this run
    baseline: Optional[tuple[str, str, float]] = None


@dataclass(frozen=True)
class Sizes:
    """How big each workload is in one mode: quick (< 2 min for both implementations) or full."""
    replay_items: tuple[int, ...]
    python_calls: int
    misses: int
    shim_runs: int
    server_runs: int
    exchanges: int
    timeout: float
    repeats: int  # each job runs this many times per implementation; the table shows the median


QUICK = Sizes(replay_items=(10**3, 10**5), python_calls=2000, misses=1, shim_runs=30, server_runs=5,
              exchanges=200, timeout=60, repeats=1)
FULL = Sizes(replay_items=(10**3, 10**5, 10**6), python_calls=20000, misses=3, shim_runs=300, server_runs=20,
             exchanges=1000, timeout=300, repeats=3)


def power(items: int) -> str:
    return f"10^{len(str(items)) - 1}"


def jobs(sizes: Sizes) -> list[Job]:
    calls = str(sizes.python_calls)
    result = [
        Job("py-direct", "workload_python.py", ("direct", "--calls", calls), sizes.timeout),
        Job("py-direct-inst", "workload_python.py", ("direct", "--instances", "--calls", calls), sizes.timeout),
        Job("py-record", "workload_python.py", ("record", "--calls", calls), sizes.timeout),
        Job("py-record-inst", "workload_python.py", ("record", "--instances", "--calls", calls), sizes.timeout),
        Job("py-record-dict", "workload_python.py", ("record", "--values", "dict", "--calls", calls), sizes.timeout),
        Job("py-replay-dict", "workload_python.py", ("replay", "--values", "dict", "--items", str(10**4),
                                                     "--calls", calls), sizes.timeout),
    ]
    for items in sizes.replay_items:
        misses = str(sizes.misses if items == 10**5 else 0)
        for order in ("inorder", "shuffled"):
            result.append(Job(f"py-replay-{items}-{order}", "workload_python.py",
                              ("replay", "--items", str(items), "--order", order, "--calls", calls,
                               "--misses", misses if order == "inorder" else "0"), sizes.timeout))
    largest = max(sizes.replay_items)
    result.append(Job(f"py-replay-{largest}-miss", "workload_python.py",
                      ("replay", "--items", str(largest), "--calls", "2000", "--misses", "1", "--first-misses-only"),
                      sizes.timeout))
    result.append(Job("py-replay-inst", "workload_python.py",
                      ("replay", "--instances", "--items", str(10**5), "--calls", calls), sizes.timeout))
    runs = str(sizes.shim_runs)
    result += [Job(f"cmd-{action}", "workload_cmdline.py", (action, "--runs", runs), sizes.timeout)
               for action in ("direct", "record", "replay")]
    result += [Job(f"cmd-{action}", "workload_cmdline.py", (action, "--runs", str(sizes.server_runs)), sizes.timeout)
               for action in ("server", "startup")]
    exchanges = ("--runs", str(sizes.exchanges))
    for protocol in ("classic", "http"):
        for kind, extra in (("direct", ("--direct",)), ("replay", ())):
            result.append(Job(f"{protocol}-{kind}", "workload_servers.py", (protocol, *extra, *exchanges),
                              sizes.timeout))
    return result


def rows(sizes: Sizes) -> list[Row]:
    largest = max(sizes.replay_items)
    result = [
        Row("Python: direct call of compute(n) (baseline)", "py-direct", "per_call_us", "µs", "(0.4 µs)"),
        Row("Python: direct call of Counter().add(n)", "py-direct-inst", "per_call_us", "µs"),
        Row("Python call, record", "py-record", "per_call_us", "µs", "≤ 10 µs"),
        Row("Python instance method, record", "py-record-inst", "per_call_us", "µs", "≤ 10 µs"),
    ]
    for items in sizes.replay_items:
        for order in ("inorder", "shuffled"):
            result.append(Row(f"Python call, replay, {power(items)} items, {order.replace('inorder', 'in order')}",
                              f"py-replay-{items}-{order}", "per_call_us", "µs", "≤ 5 µs"))
    result.append(Row("Python instance method, replay, 10^5 items", "py-replay-inst", "per_call_us", "µs", "≤ 5 µs"))
    result += [Row("Python call returning a small dict, record", "py-record-dict", "per_call_us", "µs", "≤ 10 µs"),
               Row("Python call returning a small dict, replay, 10^4 items", "py-replay-dict", "per_call_us", "µs",
                   "≤ 5 µs")]
    smallest = min(sizes.replay_items)
    result.append(Row(f"Replay start-up, {power(smallest)} items (interceptPython to first reply)",
                      f"py-replay-{smallest}-inorder", "load_ms", "ms"))
    for items in sizes.replay_items[1:]:
        result.append(Row(f"Loading a mock file of {power(items)} items, per item", f"py-replay-{items}-inorder",
                          "load_us_per_item", "µs", "≤ 2 µs"))
    result += [
        Row("Replay miss (best match) at 10^5 items", f"py-replay-{10**5}-inorder", "miss_ms", "ms", "≤ 1 ms"),
        Row("Replay miss at 10^5 items, the first one", f"py-replay-{10**5}-inorder", "miss_first_ms", "ms", "≤ 1 ms"),
        Row("Replay miss at 10^5 items once every key was used", f"py-replay-{10**5}-inorder", "miss_used_ms", "ms",
            "≤ 1 ms"),
        Row(f"Memory replaying {power(largest)} items: peak RSS growth", f"py-replay-{largest}-inorder",
            "peak_rss_growth_mb", "MB"),
        Row(f"Memory replaying {power(largest)} items / mock file size", f"py-replay-{largest}-inorder",
            "memory_ratio", "×", "≤ 3×"),
        Row(f"Replay miss at {power(largest)} items, the first one", f"py-replay-{largest}-miss", "miss_first_ms",
            "ms"),
        Row(f"Memory replaying {power(largest)} items, after that miss / mock file size", f"py-replay-{largest}-miss",
            "memory_ratio", "×", "≤ 3×"),
        Row("Command: exec of the program directly (baseline)", "cmd-direct", "per_run_ms", "ms"),
        Row("Command shim, record", "cmd-record", "per_run_ms", "ms"),
        Row("Command shim, replay", "cmd-replay", "per_run_ms", "ms", "≤ 5 ms"),
        Row("Traffic server start (setUpServer)", "cmd-server", "start_ms", "ms", "≤ 30 ms"),
        Row("Traffic server stop (terminate)", "cmd-server", "stop_ms", "ms", "≤ 10 ms"),
        Row("`capturemock` command around `true`", "cmd-startup", "per_run_ms", "ms", "≤ 50 ms"),
        Row("`true` directly (baseline)", "cmd-startup", "direct_ms", "ms"),
        Row("Classic TCP exchange, real server (baseline)", "classic-direct", "median_us", "µs", "(132 µs)"),
        Row("Classic TCP exchange, real server, p95 (the machine's own tail)", "classic-direct", "p95_us", "µs"),
        Row("Classic TCP exchange, replay, median", "classic-replay", "median_us", "µs", "≤ 200 µs",
            ("classic-direct", "median_us", 132)),
        Row("Classic TCP exchange, replay, p95", "classic-replay", "p95_us", "µs", "≤ 500 µs",
            ("classic-direct", "median_us", 132)),
        Row("HTTP exchange, real server (baseline)", "http-direct", "median_us", "µs", "(327 µs)"),
        Row("HTTP exchange, real server, p95", "http-direct", "p95_us", "µs"),
        Row("HTTP exchange, replay, median", "http-replay", "median_us", "µs", "≤ 400 µs",
            ("http-direct", "median_us", 327)),
        Row("HTTP exchange, replay, p95", "http-replay", "p95_us", "µs"),
    ]
    return result
