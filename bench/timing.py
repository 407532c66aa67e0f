"""Measuring helpers shared by the workload scripts.

The workloads run under either implementation's interpreter (ours or the original 2.10.0 in its
throwaway venv), so this module uses only the standard library plus psutil and never imports
capturemock: the numbers must come from the same harness code on both sides.
"""
from __future__ import annotations

import json
import os
import resource
import statistics
import sys
import time
from typing import Any, Callable, Iterable, Sequence

RESULT_MARK = "BENCH-RESULT "


def chunks(values: Sequence[Any], count: int) -> list[Sequence[Any]]:
    """Split into `count` nearly equal batches, so a median over batches smooths out GC and noise."""
    count = max(1, min(count, len(values)))
    size, extra = divmod(len(values), count)
    result, start = [], 0
    for index in range(count):
        end = start + size + (1 if index < extra else 0)
        result.append(values[start:end])
        start = end
    return result


def median_per_call_us(call: Callable[[Any], Any], args: Sequence[Any], batches: int = 5) -> float:
    """Median over batches of the wall time per call, in microseconds (loop overhead included)."""
    samples = []
    for batch in chunks(args, batches):
        start = time.perf_counter()
        for arg in batch:
            call(arg)
        samples.append((time.perf_counter() - start) / len(batch) * 1e6)
    return statistics.median(samples)


def timed_us(call: Callable[[Any], Any], args: Iterable[Any]) -> list[float]:
    """Wall time of each call separately, in microseconds (for medians and percentiles)."""
    samples = []
    for arg in args:
        start = time.perf_counter()
        call(arg)
        samples.append((time.perf_counter() - start) * 1e6)
    return samples


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile: simple and good enough for p95 of a few hundred samples."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def check(outcomes: Iterable[tuple[Any, Any]]) -> dict[str, Any]:
    """Count (got, expected) pairs that differ: a figure from a run that gave wrong answers means nothing."""
    wrong = [(got, want) for got, want in outcomes if got != want]
    result: dict[str, Any] = {"wrong": len(wrong)}
    if wrong:
        result["first_wrong"] = f"got {wrong[0][0]!r}, expected {wrong[0][1]!r}"[:300]
    return result


def current_rss() -> int:
    """Resident set size now, in bytes."""
    import psutil

    return psutil.Process().memory_info().rss


def peak_rss() -> int:
    """High-water mark of the resident set size of this process, in bytes (Linux reports KiB)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def emit(result: dict[str, Any]) -> None:
    """Hand the figures to run_all.py: one marked JSON line, whatever else the workload printed."""
    sys.stdout.flush()
    os.write(1, f"\n{RESULT_MARK}{json.dumps(result)}\n".encode())
