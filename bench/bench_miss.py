"""CPU time of best-match misses (issue #16 item 3), ours only: steadier than the wall times of
`workload_python.py replay --misses` on a shared machine.

    python bench/bench_miss.py [--items N] [--repeated] [--reps R]

Indexes the bench's hand-written mock (`benchmod.compute(n)` for n < N/2; `--repeated`: one call
recorded twice, so not every key is recorded once), marks the first 20000 calls replayed, then times
misses `benchmod.compute(-k)` with `time.process_time`: "first" with the text searches made afresh
(as on a replay's first miss), "later" with them kept. Prints the minimum and the median of R each.
"""
from __future__ import annotations

import argparse
import statistics
import time
from array import array

from capturemock.replay import ReplayIndex


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--repeated", action="store_true", help="record one call twice")
    parser.add_argument("--reps", type=int, default=15)
    args = parser.parse_args()
    text = "".join(f"<-PYT:benchmod.compute({n})\n->RET:{2 * n + 1}\n" for n in range(args.items // 2))
    if args.repeated:
        text += "<-PYT:benchmod.compute(5)\n->RET:11\n"
    index = ReplayIndex(text)
    index.lookup_import("<-PYT:import benchmod")  # the bench's first miss, during its load
    replayed = min(20_000, len(index) - 1)
    index._uses[:replayed] = array("i", [1]) * replayed
    first, later = [], []
    for rep in range(1, args.reps + 1):
        index._quick_match = None
        start = time.process_time()
        index.best_match(f"<-PYT:benchmod.compute(-{rep})")
        first.append((time.process_time() - start) * 1000)
        start = time.process_time()
        index.best_match(f"<-PYT:benchmod.compute(-{rep + 1000})")
        later.append((time.process_time() - start) * 1000)
    print(f"{args.items} items{' (one call repeated)' if args.repeated else ''}: "
          f"first miss {min(first):.3f} ms (median {statistics.median(first):.3f}), "
          f"later {min(later):.3f} ms (median {statistics.median(later):.3f})")


if __name__ == "__main__":
    main()
