"""Best-match scoring (§5.4): which recorded request of the same type is closest to a new one.

Scores are compared in order: most words in common, fewest separate non-matching gaps, most unconsumed
responses, earliest key. Finding the best must not mean scoring every key (a replay file can hold
10^5 requests of one function), so:

* keys are found through their words; a candidate can have no more words in common than the words it
  shares with the request, so candidates are scored best-bound first and scoring stops when no bound
  can beat the best score;
* words held by many keys (typically the function or program name) are *frequent*: keys sharing
  nothing but frequent words with a request are not visited one by one. They are grouped once by
  their *skeleton* (their words with the infrequent ones blanked), every key of a group scores the
  same on words and gaps, and only the group's first key with the most unconsumed responses can win;
* difflib only sees which candidate words occur in the request, so equal shapes are scored once.
"""
from __future__ import annotations

import difflib
import re
from array import array
from collections import Counter, defaultdict
from functools import partial
from typing import Callable, Iterable, Optional

SEPARATOR, NOT_SEPARATOR = r"[/()\\\s]", r"[^/()\\\s]"  # §5.4's word separators, as regex classes
_WORD_SEPARATORS = re.compile(f"{SEPARATOR}+")
FREQUENT = 32  # a word the keys hold more times than this is handled through skeleton groups


def words(description: str) -> list[str]:
    """§5.4 tokenising: split on '/', '(', ')', '\\' and whitespace, dropping empty strings."""
    return list(filter(None, _WORD_SEPARATORS.split(description)))


class _Group:
    """Keys with one skeleton, in file order, and where the search for the next one to answer stands."""

    __slots__ = ("skeleton", "members", "most", "cursor")

    def __init__(self, skeleton: tuple):
        self.skeleton = skeleton
        self.members = array("i")
        # unconsumed responses only ever fall: no member has more than ``most`` of them, and no member
        # before ``cursor`` has that many
        self.most = 0
        self.cursor = 0


class WordIndex:
    """The keys of one type id, by word. ``counts`` and ``uses`` are the replay index's live arrays;
    ``key_at(key_id)`` reads a key back (from the file text): its words are not kept, only postings."""

    def __init__(self, keys: Iterable[tuple[int, str]], key_at: Callable[[int], str], counts: array, uses: array):
        self.key_at = key_at
        self.counts = counts
        self.uses = uses
        self.key_ids = array("i")
        # word -> the keys holding it, a key once per time it holds the word: built over every key of a
        # type, so one append per word and nothing else; arrays, not lists of int objects (issue #16)
        self.postings: dict[str, array] = defaultdict(partial(array, "i"))
        postings = self.postings
        for key_id, key in keys:
            self.key_ids.append(key_id)
            for word in words(key):
                postings[word].append(key_id)
        self.frequent = {word for word, posting in self.postings.items() if len(posting) > FREQUENT}
        self._groups_by_word: Optional[dict[str, list[_Group]]] = None

    def best(self, request: str) -> Optional[int]:
        """The key id §5.4 chooses for ``request``, or None when no key shares a word with it."""
        request_words = words(request)
        wanted = Counter(request_words)
        frequent_wanted = {word: count for word, count in wanted.items() if word in self.frequent}
        scorer = Scorer(request_words)
        best: Optional[tuple] = None
        bounds = self._rare_bounds(wanted, frequent_wanted)
        for key_id in sorted(bounds, key=lambda key: (-bounds[key], key)):
            if best is not None and bounds[key_id] < best[0]:
                break  # no remaining candidate can have more words in common
            score = (*scorer.score(self._words(key_id)), self.counts[key_id] - self.uses[key_id], -key_id)
            if best is None or score > best:
                best = score
        if frequent_wanted and (best is None or best[0] <= sum(frequent_wanted.values())):
            best = self._best_of_frequent_only(frequent_wanted, scorer, bounds, best)
        return None if best is None else -best[3]

    def _rare_bounds(self, wanted: Counter, frequent_wanted: dict[str, int]) -> dict[int, int]:
        """Keys sharing an infrequent word with the request, with a bound on their words in common."""
        bounds: dict[int, int] = defaultdict(int)
        for word, count in wanted.items():
            if word not in frequent_wanted:
                for key_id, recorded in Counter(self.postings.get(word, ())).items():
                    bounds[key_id] += min(count, recorded)
        for key_id in bounds:
            key_words = self._words(key_id)
            bounds[key_id] += sum(min(count, key_words.count(word)) for word, count in frequent_wanted.items())
        return bounds

    def _best_of_frequent_only(self, frequent_wanted: dict[str, int], scorer: Scorer, scored: dict[int, int],
                               best: Optional[tuple]) -> Optional[tuple]:
        """Keys that share only frequent words with the request, a skeleton group at a time."""
        groups = {id(group): group for word in frequent_wanted for group in self._groups()[word]}
        for group in groups.values():
            words_and_gaps = scorer.score(group.skeleton)
            if best is not None and words_and_gaps < best[:2]:
                continue
            member = self._first_most_unconsumed(group, scored)
            if member is not None:
                score = (*words_and_gaps, self.counts[member] - self.uses[member], -member)
                if best is None or score > best:
                    best = score
        return best

    def _first_most_unconsumed(self, group: _Group, skip: dict[int, int]) -> Optional[int]:
        """The group's first member (not in ``skip``) with the most unconsumed responses. The search
        resumes where it stopped and starts again only when no member has ``most`` left: a long replay
        of one function whose every key was used answers further misses in O(1), not O(keys)."""
        members, counts, uses = group.members, self.counts, self.uses
        for _ in range(2):  # the second pass only after ``most`` has fallen
            position = group.cursor
            while position < len(members):
                member = members[position]
                if counts[member] - uses[member] >= group.most:
                    if member not in skip:
                        return member
                elif position == group.cursor:
                    group.cursor += 1  # nobody up to here has ``most`` left, now or later
                position += 1
            if group.cursor < len(members):
                break  # the members with the most were all scored already for this request
            group.most = max(counts[member] - uses[member] for member in members)
            group.cursor = 0
        others = [member for member in members if member not in skip]
        return max(others, key=lambda member: (counts[member] - uses[member], -member), default=None)

    def _words(self, key_id: int) -> tuple[str, ...]:
        return tuple(words(self.key_at(key_id)))

    def _groups(self) -> dict[str, list[_Group]]:
        """Built on the first request that needs them: frequent word -> skeleton groups holding it."""
        if self._groups_by_word is None:
            groups: dict[tuple, _Group] = {}
            for key_id in self.key_ids:
                key_words = self._words(key_id)
                skeleton = tuple(word if word in self.frequent else None for word in key_words)
                if any(skeleton):
                    group = groups.get(skeleton)
                    if group is None:
                        group = groups[skeleton] = _Group(skeleton)
                    group.members.append(key_id)
                    group.most = max(group.most, self.counts[key_id] - self.uses[key_id])
            by_word: dict[str, list[_Group]] = defaultdict(list)
            for group in groups.values():
                for word in set(group.skeleton) - {None}:
                    by_word[word].append(group)
            self._groups_by_word = by_word
        return self._groups_by_word


class Scorer:
    """§5.4 criteria 1 and 2 for one request, cached per candidate shape."""

    def __init__(self, request_words: list[str]):
        self.request_words = request_words
        self.vocabulary = set(request_words)
        self.cache: dict[tuple, tuple[int, int]] = {}

    def score(self, candidate_words: tuple) -> tuple[int, int]:
        """(words in common, minus the number of separate non-matching gaps)."""
        shape = tuple(word if word in self.vocabulary else None for word in candidate_words)
        result = self.cache.get(shape)
        if result is None:
            result = self.cache[shape] = _common_and_gaps(list(shape), self.request_words)
        return result


def similarity(candidate: str, request: str) -> tuple[int, int]:
    """§5.4 criteria 1 and 2 for one pair (words in common, minus separate gaps): for explaining a
    miss, where every candidate is scored, not for finding the best one."""
    return _common_and_gaps(words(candidate), words(request))


def _common_and_gaps(candidate: list, request: list[str]) -> tuple[int, int]:
    blocks = difflib.SequenceMatcher(None, candidate, request).get_matching_blocks()
    real = blocks[:-1]
    gaps = len(real)
    if real:
        last = real[-1]
        if last.a + last.size == len(candidate) and last.b + last.size == len(request):
            gaps -= 1  # a match running to the end of both is not a separate gap
    return sum(block.size for block in real), -gaps
