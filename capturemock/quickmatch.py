"""Best match (§5.4) without a word index, for the misses that allow it (issue #16).

``bestmatch.WordIndex`` tokenises every key of a type once: ~0.2-0.3 s at 10^5 items, which the
first miss of a replay would pay. Most misses can be answered from the file text instead:

* a request word found at most ``RARE`` times in the text is *rare*: every key holding it is found
  by searching the text for it, and scored;
* every other key shares only *frequent* words with the request (typically the function name), so
  its (words in common, gaps) score is at most a bound known from the request alone. The earliest
  key with the most unconsumed responses (of all keys) that reaches that bound beats every other such
  key, and only a few keys are tried, in key order, to find it.

When that cannot be shown after ``PROBES`` keys, ``UNSURE`` says so and the caller builds the index:
the choice is always the one scoring every key would make. So it does after ``ANSWERS`` misses, as a
replay that misses that often is better served by the index.
"""
from __future__ import annotations

import bisect
import heapq
import operator
import re
import sys
from array import array
from collections import Counter
from itertools import islice
from typing import Callable, Iterator, Optional, Union

from .accelerator import load_speedups
from .bestmatch import NOT_SEPARATOR, SEPARATOR, Scorer, words

RARE = 32  # a word found more often than this in the text is searched no further
STRAYS = 1024  # nor one that ends so many longer words (its hits are checked one by one)
PROBES = 64  # keys tried for the frequent-words-only bound before leaving the miss to the index
# each search reads the whole text (~1 ms at 10^5 items); the word index, once built (~50-300 ms at
# 10^5 items), answers in ~0.1 ms: so after this many misses the index answers the rest
ANSWERS = 64
AUTOJUNK = 200  # difflib junks popular words of requests this long: the bound would not hold
UNSURE = object()
_SEPARATOR = re.compile(SEPARATOR)
_ONLY_ONE = bytes(int(byte == 1) for byte in range(256))  # a bytes.translate table
_speedups = load_speedups()  # its find_word scans the text for a word in C


class QuickMatch:
    """The text searches of one replay index. ``key_id_of(occurrence)`` and ``key_at(key_id)`` are the
    index's; ``counts`` and ``uses`` its live arrays; ``spans`` its per-occurrence (start, body, ...)."""

    def __init__(self, text: str, spans: array, stride: int, counts: array, uses: array,
                 key_id_of: Callable[[int], Optional[int]], key_at: Callable[[int], str]):
        self.text = text
        # request item starts, ascending (which request holds an offset): a view, not a copy of 4-8 bytes
        # a request (the replay index appends no more spans)
        self.starts = memoryview(spans)[0::stride]
        self.spans, self.stride = spans, stride  # where each request item ends: spans[stride * occurrence + 1]
        self.counts, self.uses = counts, uses
        self.key_id_of, self.key_at = key_id_of, key_at
        self.answered = 0
        self.searched: dict[str, Optional[set[int]]] = {}  # word -> _keys_holding(word): the text stays
        # keys recorded more than once, usually few or none (a hand-written mock): every other key has
        # 1 - uses responses left; None when there are too many (unconsumed is then computed for all)
        self.repeated = _repeated(counts, len(spans) // stride, len(counts) // 4)
        self.unused_from = 0  # no key before it is unused (uses only grow): where the next search starts

    def best(self, request: str) -> Union[int, None, object]:
        """The key id §5.4 chooses for ``request``, None if no key shares a word, or ``UNSURE``."""
        request_words = words(request)
        if len(request_words) >= AUTOJUNK or self.answered == ANSWERS:
            return UNSURE
        type_id = request[2:5]
        scorer = Scorer(request_words)
        frequent: dict[str, int] = {}
        candidates: set[int] = set()
        for word, count in Counter(request_words).items():
            found = self.searched[word] if word in self.searched else self._keys_holding(word)
            self.searched[word] = found
            if found is None:
                frequent[word] = count
            else:
                candidates |= found
        best: Optional[tuple] = None
        for key_id in candidates:
            key = self.key_at(key_id)
            if key[2:5] == type_id:
                score = (*scorer.score(tuple(words(key))), self.counts[key_id] - self.uses[key_id], -key_id)
                if score[0] and (best is None or score > best):  # a text match may be no word match
                    best = score
        if frequent:
            bound = (sum(frequent.values()), 0 if request_words[-1] in frequent else -1)
            if best is None or best[:2] <= bound:
                key_id = self._first_at_bound(bound, type_id, scorer)
                if key_id is UNSURE:
                    return UNSURE
                score = (*bound, self.counts[key_id] - self.uses[key_id], -key_id)
                if best is None or score > best:
                    best = score
        self.answered += 1
        return None if best is None else -best[3]

    def _keys_holding(self, word: str) -> Optional[set[int]]:
        """The keys whose request text holds ``word`` as a word, or None when the text holds it as a word
        more than ``RARE`` times (or ends of words like it more than ``STRAYS`` times)."""
        text, hits, strays = self.text, [], 0
        for at in _ending_a_word(text, word):  # where it starts is checked here
            if at and not _SEPARATOR.match(text, at - 1):
                strays += 1
                if strays > STRAYS:
                    return None
            elif len(hits) == RARE:
                return None
            else:
                hits.append(at)
        keys = set()
        for at in hits:
            occurrence = bisect.bisect_right(self.starts, at) - 1
            if occurrence >= 0 and at < self.spans[self.stride * occurrence + 1]:
                key_id = self.key_id_of(occurrence)
                if key_id is not None:
                    keys.add(key_id)
        return keys

    def _first_at_bound(self, bound: tuple[int, int], type_id: str, scorer: Scorer) -> Union[int, object]:
        """The earliest key with the most unconsumed responses of all keys that is of ``type_id`` and
        scores ``bound`` (keys holding rare words may score more: they are passed over here)."""
        if not self.uses:
            return UNSURE
        for key_id in islice(self._most_unconsumed(), PROBES):
            key = self.key_at(key_id)
            if key[2:5] == type_id and scorer.score(tuple(words(key))) == bound:  # [2:5]: replay._type_of
                return key_id
        return UNSURE  # not among the first keys with the most unconsumed responses, if any

    def _most_unconsumed(self) -> Iterator[int]:
        """The keys with the most unconsumed responses of all keys, ascending: a key recorded once has
        1 - uses left, so usually these are the unused keys (found from where the last search stopped)
        and the few repeated keys with as much left."""
        counts, uses, repeated = self.counts, self.uses, self.repeated
        if repeated is None:
            left = array("i", map(operator.sub, counts, uses))
            return _positions(left, max(left))
        self.unused_from = next(_positions(uses, 0, self.unused_from), len(uses))
        left_of = {key_id: counts[key_id] - uses[key_id] for key_id in repeated}
        most = max(left_of.values(), default=0)
        if most > 1:
            return (key_id for key_id in repeated if left_of[key_id] == most)
        with_one = (key_id for key_id in repeated if left_of[key_id] == 1)
        if self.unused_from < len(uses):  # no repeated key is unused (it would have 2 or more left)
            return heapq.merge(_positions(uses, 0, self.unused_from), with_one)
        if most == 1:
            return with_one
        if repeated:  # nothing left anywhere, the end of a long replay
            left = array("i", map(operator.sub, counts, uses))
            return _positions(left, max(left))
        fewest = 1 if next(_positions(uses, 1), None) is not None else min(uses)
        return _positions(uses, fewest)


def _ending_a_word(text: str, word: str) -> Iterator[int]:
    """Where ``word`` occurs in ``text`` followed by a separator or the end, ascending. In C when built
    (``_speedups.find_word``, ~1 instruction a byte); else a regex with the word as literal prefix (~4),
    which scans fast only so: a look-behind for the separator before it would try every position."""
    if _speedups is None:
        for match in re.finditer(f"{re.escape(word)}(?!{NOT_SEPARATOR})", text):
            yield match.start()
        return
    find_word, size = _speedups.find_word, len(word)
    at = find_word(text, word, 0)
    while at >= 0:
        yield at
        at = find_word(text, word, at + size)


def _positions(values: array, value: int, start: int = 0) -> Iterator[int]:
    """Where ``values`` holds ``value`` from ``start`` on, ascending. Each item's low byte is searched (a
    chunk of items at a time: a memchr), and a hit checked as a whole: ``array.index`` compares an int
    object at a time (~10x slower), and a search for the item's bytes crawls through arrays of small
    numbers (their zero bytes keep almost matching)."""
    size = values.itemsize
    offset = 0 if sys.byteorder == "little" else size - 1
    low = bytes([value & 0xFF])
    chunk = 1024  # the usual answer is near ``start``: do not copy the whole array for it
    while start < len(values):
        lows = values[start:start + chunk].tobytes()[offset::size]
        at = lows.find(low)
        while at >= 0:
            if values[start + at] == value:
                yield start + at
            at = lows.find(low, at + 1)
        start += len(lows)
        chunk = min(2 * chunk, 1 << 16)


def _repeated(counts: array, occurrences: int, limit: int) -> Optional[array]:
    """The keys recorded more than once, ascending; None if more than ``limit``. The keys whose count's
    low byte is not 1 are found in C (``bytes.translate`` maps 1 to 1, any other byte to 0, memchr finds
    the zeros); the counts adding up to ``occurrences`` shows no other count ends in a 1 byte (257)."""
    size = counts.itemsize
    lows = counts.tobytes()[0 if sys.byteorder == "little" else size - 1::size]
    mask = lows.translate(_ONLY_ONE)
    keys = array("i")
    at = mask.find(0)
    while at >= 0:
        if len(keys) == limit:
            return None
        keys.append(at)
        at = mask.find(0, at + 1)
    if sum(map(counts.__getitem__, keys)) + len(counts) - len(keys) != occurrences:
        return None
    return keys
