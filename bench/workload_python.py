"""Python interception workload, run under either implementation's interpreter.

    python bench/workload_python.py direct --dir D [--calls K] [--values int|dict]
    python bench/workload_python.py record --dir D [--calls K] [--instances] [--values int|dict]
    python bench/workload_python.py replay --dir D --items N [--calls K] [--order inorder|shuffled]
                                         [--instances] [--misses M] [--values int|dict]

Only the API that both implementations share is used (reference §6.1, §9):
`interceptPython(mode, recordFile, replayFile, rcFiles, pythonAttrs)` and the handler's
`resetIntercepts()`, on a generated pure-Python module `benchmod`. Replay runs with the module
absent from sys.path, as a replayed test would. ``--values dict`` times `benchmod.lookup(n)`, which returns
a small dict as realistic programs do (`{'i': n, 'name': 'item-n', 'sq': n*n}`).
Prints one BENCH-RESULT line (see timing.py).
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time
import types
from typing import Callable

import timing

MODULE_SOURCE = '''\
def compute(n):
    return n * 2 + 1


def lookup(n):
    return {"i": n, "sq": n * n, "name": "item-%d" % n}


class Counter:
    def __init__(self):
        self.total = 0

    def add(self, n):
        self.total += n
        return n * 2 + 1
'''


def expected(n: int) -> int:
    """What benchmod answers for n, so a replayed answer can be checked."""
    return n * 2 + 1


def expected_dict(n: int) -> dict:
    """What benchmod.lookup answers for n."""
    return {"i": n, "sq": n * n, "name": f"item-{n}"}


def answer(values: str) -> Callable[[int], object]:
    return expected_dict if values == "dict" else expected


def recorded_answer(n: int, values: str) -> str:
    """The answer's mock text as a recording writes it (dict keys sorted, §4.2)."""
    return f"{{'i': {n}, 'name': 'item-{n}', 'sq': {n * n}}}" if values == "dict" else str(expected(n))


def write_module(directory: str) -> str:
    source_dir = os.path.join(directory, "src")
    os.makedirs(source_dir, exist_ok=True)
    with open(os.path.join(source_dir, "benchmod.py"), "w") as handle:
        handle.write(MODULE_SOURCE)
    return source_dir


def write_mock(path: str, items: int, instances: bool, values: str = "int") -> int:
    """Hand-written replay file of `items` items (one call = request + response = 2 items); §4.2 syntax."""
    calls = items // 2
    with open(path, "w") as handle:
        if instances:
            handle.write("<-PYT:benchmod.Counter()\n->RET:Instance('Counter', 'counter1')\n")
            calls -= 1
        owner = "counter1.add" if instances else "benchmod.lookup" if values == "dict" else "benchmod.compute"
        for n in range(calls):
            handle.write(f"<-PYT:{owner}({n})\n->RET:{recorded_answer(n, values)}\n")
    return calls


def target_function(module: types.ModuleType, args: argparse.Namespace) -> Callable[[int], object]:
    """The callable each timed call goes through: a module function or an instance method."""
    if args.instances:
        return module.Counter().add
    return module.lookup if args.values == "dict" else module.compute


def run_direct(args: argparse.Namespace) -> dict:
    sys.path.insert(0, write_module(args.dir))
    import benchmod

    call = target_function(benchmod, args)
    return {"per_call_us": timing.median_per_call_us(call, range(args.calls))}


def run_record(args: argparse.Namespace) -> dict:
    import capturemock

    sys.path.insert(0, write_module(args.dir))
    record = os.path.join(args.dir, "record.mock")
    handler = capturemock.interceptPython(capturemock.RECORD, record, None, [], ["benchmod"])
    try:
        import benchmod

        call = target_function(benchmod, args)
        per_call = timing.median_per_call_us(call, range(args.calls))
        checked = timing.check((call(n), answer(args.values)(n)) for n in range(10))
    finally:
        handler.resetIntercepts()
    return {"per_call_us": per_call, **checked}


def run_replay(args: argparse.Namespace) -> dict:
    import capturemock

    replay = os.path.join(args.dir, "replay.mock")
    calls = write_mock(replay, args.items, args.instances, args.values)
    record = os.path.join(args.dir, "record.mock")
    file_size = os.path.getsize(replay)
    rss_before = timing.current_rss()
    start = time.perf_counter()
    handler = capturemock.interceptPython(capturemock.REPLAY, record, replay, [], ["benchmod"])
    try:
        import benchmod

        call = target_function(benchmod, args)
        call(calls - 1)  # the first call: whatever loading is left lazy happens by now
        load_s = time.perf_counter() - start
        keys = list(range(min(args.calls, calls - 1)))
        if args.order == "shuffled":
            keys = random.Random(1).sample(range(calls - 1), len(keys))
        per_call = timing.median_per_call_us(call, keys)
        result = {"per_call_us": per_call, "load_ms": load_s * 1000, "load_us_per_item": load_s / args.items * 1e6,
                  **timing.check((call(n), answer(args.values)(n)) for n in keys[:100])}
        if args.misses:
            misses = timing.timed_us(call, [-n - 1 for n in range(args.misses)])
            result["miss_ms"] = timing.percentile(misses, 0.5) / 1000
            result["miss_first_ms"] = misses[0] / 1000  # ours builds its word index here
        if args.misses and not args.first_misses_only:  # (only: memory right after them, measured below)
            for n in range(calls):  # the end of a long replay: every recorded call has answered
                call(n)
            misses = timing.timed_us(call, [-n - 1 for n in range(args.misses, 2 * args.misses)])
            result["miss_used_ms"] = timing.percentile(misses, 0.5) / 1000
    finally:
        handler.resetIntercepts()
    peak = timing.peak_rss()
    result.update(file_mb=file_size / 1e6, peak_rss_growth_mb=(peak - rss_before) / 1e6,
                  memory_ratio=(peak - rss_before) / file_size)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["direct", "record", "replay"])
    parser.add_argument("--dir", required=True, help="scratch directory for the module and mock files")
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--order", choices=["inorder", "shuffled"], default="inorder")
    parser.add_argument("--instances", action="store_true", help="time Counter().add(n) instead of compute(n)")
    parser.add_argument("--values", choices=["int", "dict"], default="int",
                        help="dict: time a function returning a small dict instead of an int")
    parser.add_argument("--misses", type=int, default=0, help="also time this many best-match misses")
    parser.add_argument("--first-misses-only", action="store_true",
                        help="only the misses on a fresh replay (not again once every recorded call has answered)")
    args = parser.parse_args()
    if args.instances and args.values != "int":
        parser.error("--instances times Counter().add, which returns ints: leave out --values")
    runner = {"direct": run_direct, "record": run_record, "replay": run_replay}[args.action]
    timing.emit(runner(args))


if __name__ == "__main__":
    main()
