"""Benchmark of the replay core: loading a mock file, exact lookups, best-match misses, memory.

Prints measured figures next to the targets of ../shared/spec/README.md §3. Measures only; asserts nothing.

    .venv/bin/python bench/bench_replay.py [--sizes 1000,100000,1000000]
"""
from __future__ import annotations

import argparse
import gc
import itertools
import os
import random
import statistics
import tempfile
import time

import psutil

from capturemock import mockfile
from capturemock.replay import ReplayIndex


def write_mock(path: str, count: int) -> None:
    with open(path, "w") as handle:
        for i in range(count // 2):
            handle.write(f"<-PYT:service.lookup('customer{i}', region={i % 7})\n->RET:{{'id': {i}, 'ok': True}}\n")


def median_us(func, repeats: int) -> float:
    samples = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(repeats):
            func()
        samples.append((time.perf_counter() - start) / repeats * 1e6)
    return statistics.median(samples)


def bench(count: int, directory: str) -> None:
    path = os.path.join(directory, f"bench{count}.mock")
    write_mock(path, count)
    size = os.path.getsize(path)
    process = psutil.Process()
    gc.collect()
    rss_before = process.memory_info().rss
    start = time.perf_counter()
    index = ReplayIndex.from_file(path)
    built = time.perf_counter()
    rss_after = process.memory_info().rss
    parse_start = time.perf_counter()
    mockfile.read(path)  # parsing every item eagerly, for comparison (replay itself never does this)
    parsed = time.perf_counter() - parse_start
    sample = random.sample(range(count // 2), min(1000, count // 2))
    keys = [f"<-PYT:service.lookup('customer{i}', region={i % 7})" for i in sample]
    cycle = itertools.cycle(keys)
    hit = median_us(lambda: index.lookup(next(cycle)), 1000)
    index.best_match("<-PYT:warm-up")  # builds the word index, a one-off cost of the first miss
    misses = (f"<-PYT:service.lookup('customer{random.randrange(count)}', region=99)" for _ in itertools.count())
    miss = median_us(lambda: index.lookup(next(misses)), 3 if count >= 10**5 else 50)
    load_us = (built - start) / count * 1e6
    print(f"{count:>9} items  eager parse {parsed / count * 1e6:5.2f} us/item  "
          f"load total {load_us:5.2f} us/item (target <= 2)  exact hit {hit:6.2f} us (target <= 5)  "
          f"best-match miss {miss / 1000:8.2f} ms (target <= 1 ms at 10^5)  "
          f"memory {(rss_after - rss_before) / size:4.1f}x file size (target <= 3x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,100000,1000000")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        for size in args.sizes.split(","):
            bench(int(size), directory)


if __name__ == "__main__":
    main()
