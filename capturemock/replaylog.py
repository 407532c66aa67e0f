"""The replay debug log (logger ``Replay``) in CaptureMock 2.10.0's words, which existing suites pin.

Only imported when that logger is enabled for DEBUG (``replay.ReplayIndex`` checks once per index),
so a replay that nobody logs pays nothing for it. With the log on, a miss is scored by the plain scan
the log describes (every key of the type, in file order), not through ``bestmatch.WordIndex``: the
lines name every comparison, and the scan is the reference the index must agree with.
"""
from __future__ import annotations

import logging
import pprint
from collections import OrderedDict
from typing import Callable, Iterable, Optional

from . import mockfile
from .bestmatch import _common_and_gaps, words

log = logging.getLogger("Replay")
_NOTHING_YET = 100000  # 2.10.0's unconsumed count of the empty "best so far": any shared word beats it


def enabled() -> bool:
    """Whether anyone configured the ``Replay`` logger to show the matching."""
    return log.isEnabledFor(logging.DEBUG)


def replay_info(text: str) -> str:
    """``Replay info <map>``: 2.10.0's map from request to response groups, pretty-printed as it was."""
    return f"Replay info {pprint.pformat(_response_map(mockfile.parse(text)))}"


def _response_map(items: Iterable[mockfile.Item]) -> OrderedDict:
    """The original's request -> [response group, ...] map, quirks included (observed from 2.10.0):
    per nesting level, an item from the SUT is always a request and so is any item with no open request
    at its level or the same direction as that request; a response goes to the open request at its
    level when the directions differ, else to the one a level up (never at level 0 for SUT items)."""
    groups: OrderedDict = OrderedDict()
    open_at: list[tuple[str, bool]] = []  # per level: (key, from_sut) of the open request
    for item in items:
        text = item.description.rstrip("\n")
        level, from_sut = item.level, item.from_sut
        del open_at[level + 1:]
        here = open_at[level] if level < len(open_at) else None
        differs = here is not None and here[1] != from_sut
        target = here if differs else (open_at[level - 1] if 0 < level <= len(open_at) else None)
        if target is not None and not (from_sut and level == 0):
            groups[target[0]][-1].append(text)
        if from_sut or not differs:
            key = "<-SRV" if text.startswith("<-SRV") else text.strip()
            groups.setdefault(key, _Groups()).append([])
            if level < len(open_at):
                open_at[level] = (key, from_sut)
            else:
                open_at.append((key, from_sut))
    return groups


class _Groups(list):
    """A key's response groups. Its own ``__repr__`` makes pprint print it on one line, however long,
    as 2.10.0 (whose groups were not plain lists) did."""

    def __repr__(self) -> str:
        return list.__repr__(self)


def trying(key: str) -> None:
    log.debug(f"Trying to match '{key}'")


def found() -> None:
    log.debug("Found exact match")


def best_match(request: str, candidates: Iterable[tuple[int, str]],
               unconsumed: Callable[[int], int]) -> Optional[int]:
    """§5.4 by scanning ``candidates`` (key id, key) in order, logging each comparison as 2.10.0 did."""
    request_words = words(request)
    best: Optional[tuple[int, str]] = None
    best_score = (0, 0, _NOTHING_YET)  # words in common, non-matching sequences, unconsumed responses
    for key_id, key in candidates:
        log.debug(f"Comparing with '{key}'")
        common, minus_gaps = _common_and_gaps(words(key), request_words)
        score = (common, -minus_gaps, unconsumed(key_id))
        if _beats(score, best_score):
            best, best_score = (key_id, key), score
    if best is None:
        return None
    log.debug(f"Best match chosen as '{best[1]}'")
    return best[0]


def _beats(score: tuple[int, int, int], best: tuple[int, int, int]) -> bool:
    log.debug(f"Words in common {score[0]} vs {best[0]}")
    if score[0] != best[0]:
        return score[0] > best[0]
    log.debug(f"Non matching sequences {score[1]} vs {best[1]}")
    if score[1] != best[1]:
        return score[1] < best[1]
    log.debug(f"Unmatched count difference {score[2]} vs {best[2]}")
    return score[2] > best[2]
