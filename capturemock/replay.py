"""The replay index (§5): which recorded responses answer a request, and in what order.

Exact hits are one dict lookup. Only on a miss (and only when exact matching is off) does the
best-match scoring of §5.4 run, over keys of the same type found through a word index, evaluating
candidates in order of an upper bound on their score so most are never scored at all.
"""
from __future__ import annotations

import bisect
import difflib
import logging
import re
from collections import Counter, defaultdict
from typing import Iterator, Optional, Sequence

from . import mockfile
from .errors import CaptureMockReplayError
from .mockfile import Item

log = logging.getLogger("Replay")
_WORD_SEPARATORS = re.compile(r"[/()\\\s]+")
SERVER_KEY = "<-SRV"


def words(description: str) -> list[str]:
    """§5.4 tokenising: split on '/', '(', ')', '\\' and whitespace, dropping empty strings."""
    return [word for word in _WORD_SEPARATORS.split(description) if word]


def _type_of(description: str) -> str:
    return description[2:5]


class _Handler:
    """The recorded occurrences of one request key and how often it has been replayed."""

    __slots__ = ("key", "order", "groups", "uses", "current", "recurrences")

    def __init__(self, key: str, order: int):
        self.key = key
        self.order = order
        self.groups: list[list[Item]] = []
        self.uses = 0
        self.current = 0
        # for python attributes: per recurrence, the position range of calls first seen meanwhile
        self.recurrences: list[tuple[int, int]] = []

    def next_group(self) -> list[Item]:
        """§5.5: the k-th use answers with group k; once exhausted, group 0 again (not the last)."""
        index = self.uses if self.uses < len(self.groups) else 0
        self.uses += 1
        return self.groups[index] if self.groups else []


class ReplayIndex:
    """Recorded requests keyed by their exact description, with their response groups."""

    def __init__(self, items: Sequence[Item], *, exact: bool = False, collapse_server_keys: bool = False):
        self.items = items
        self.exact = exact
        self.collapse_server_keys = collapse_server_keys
        self._handlers: dict[str, _Handler] = {}
        self._calls_in_order: list[_Handler] = []  # python call keys by first appearance
        self._word_index: Optional[dict[str, dict[str, list]]] = None
        self._build(items)
        self._call_orders = [handler.order for handler in self._calls_in_order]

    @classmethod
    def from_file(cls, path: str, *, preserve_cr: bool = False, preserve_lf: bool = False,
                  **kwargs) -> ReplayIndex:
        return cls(mockfile.read(path, preserve_cr=preserve_cr, preserve_lf=preserve_lf), **kwargs)

    # -- building (§5.1) -----------------------------------------------------------------------------
    def _key(self, description: str) -> str:
        key = description.strip()
        if self.collapse_server_keys and key.startswith(SERVER_KEY):
            return SERVER_KEY
        return key

    def _build(self, items: Sequence[Item]) -> None:
        open_at_level: dict[int, _Handler] = {}
        kinds: dict[tuple[str, str], tuple[int, bool]] = {}  # (prefix, type) -> (level, is_request)
        for item in items:
            kind = kinds.get((item.prefix, item.type))
            if kind is None:
                kind = kinds[(item.prefix, item.type)] = (item.level, item.is_request)
            level, is_request = kind
            if is_request:
                handler = self._handler_for(self._key(item.description))
                parent = open_at_level.get(level - 1) if level else None
                if parent is not None and parent.groups:
                    parent.groups[-1].append(item)  # a callback invocation answers its caller
                if handler.groups and "(" not in handler.key:
                    handler.recurrences.append((handler.order, len(self._calls_in_order)))
                handler.groups.append([])
                if max(open_at_level, default=-1) > level:
                    for deeper in [lvl for lvl in open_at_level if lvl > level]:
                        del open_at_level[deeper]
                open_at_level[level] = handler
            else:
                handler = open_at_level.get(level)
                if handler is not None:
                    handler.groups[-1].append(item)

    def _handler_for(self, key: str) -> _Handler:
        handler = self._handlers.get(key)
        if handler is None:
            handler = _Handler(key, len(self._handlers))
            self._handlers[key] = handler
            if "(" in key:
                self._calls_in_order.append(handler)
        return handler

    # -- queries ------------------------------------------------------------------------------------
    def __contains__(self, description: str) -> bool:
        return self._key(description) in self._handlers

    def __len__(self) -> int:
        return len(self._handlers)

    def keys(self) -> Iterator[str]:
        return iter(self._handlers)

    def mentions(self, pattern: re.Pattern) -> bool:
        """Whether any recorded item's description matches ``pattern`` (used to filter intercepts, §5.2)."""
        return any(pattern.search(item.description) for item in self.items)

    def lookup_exact(self, description: str) -> Optional[list[Item]]:
        handler = self._handlers.get(self._key(description))
        return handler.next_group() if handler is not None else None

    def lookup(self, description: str) -> Optional[list[Item]]:
        """The next response group for ``description``: exact key, else the best match (§5.3)."""
        key = self._key(description)
        handler = self._handlers.get(key)
        if handler is None:
            if self.exact:
                raise CaptureMockReplayError(f"Could not find any replay request matching '{key}'")
            handler = self.best_match(key)
            if handler is None:
                return None
        return handler.next_group()

    def lookup_attribute(self, description: str) -> Optional[list[Item]]:
        """§5.5: an attribute keeps its current value until the calls recorded before its next
        recurrence have all been replayed at least once; then it advances to the next value."""
        handler = self._handlers.get(self._key(description))
        if handler is None or not handler.groups:
            return None
        if handler.uses and handler.current + 1 < len(handler.groups):
            start, end = handler.recurrences[handler.current]
            first = bisect.bisect_right(self._call_orders, start, 0, end)
            if all(call.uses for call in self._calls_in_order[first:end]):
                handler.current += 1
        handler.uses += 1
        return handler.groups[handler.current]

    def unused_keys(self) -> list[str]:
        """Recorded requests that were never replayed (reported at the end of a session)."""
        return [key for key, handler in self._handlers.items() if not handler.uses]

    # -- best match (§5.4) --------------------------------------------------------------------------
    def best_match(self, description: str) -> Optional[_Handler]:
        """The recorded key of the same type that §5.4 scores highest, or None if none shares a word.

        Candidates come from a word index in decreasing order of an upper bound on their words in
        common, so scoring stops as soon as no remaining candidate can beat the best. difflib only
        sees which candidate words occur in the request, so candidates of the same "shape" share one
        scoring.
        """
        request_words = words(description)
        request_vocabulary = set(request_words)
        debug = log.isEnabledFor(logging.DEBUG)
        if debug:
            log.debug(f"Trying to match '{description}'")
        shape_scores: dict[tuple, tuple[int, int]] = {}
        best: Optional[tuple] = None
        best_handler: Optional[_Handler] = None
        for bound, handler, candidate_words in self._candidates(description, request_words):
            if best is not None and bound < best[0]:
                break  # no remaining candidate can have more words in common
            shape = tuple(word if word in request_vocabulary else None for word in candidate_words)
            common_and_gaps = shape_scores.get(shape)
            if common_and_gaps is None:
                common_and_gaps = shape_scores[shape] = _common_and_gaps(list(shape), request_words)
            score = (*common_and_gaps, len(handler.groups) - handler.uses, -handler.order)
            if debug:
                log.debug(f"Comparing with '{handler.key}'")
                log.debug(f"Words in common {score[0]} vs {best[0] if best else 0}")
            if best is None or score > best:
                best, best_handler = score, handler
        if debug and best_handler is not None:
            log.debug(f"Best match chosen as '{best_handler.key}'")
        return best_handler

    def _candidates(self, description: str, request_words: list[str]
                    ) -> Iterator[tuple[int, _Handler, tuple[str, ...]]]:
        """Same-type keys sharing a word with the request, highest bound on common words first,
        file order within a bound."""
        postings = self._words_by_type().get(_type_of(description), {})
        bounds: dict[int, list] = {}
        for word, wanted in Counter(request_words).items():
            for handler, recorded, candidate_words in postings.get(word, ()):
                entry = bounds.get(handler.order)
                if entry is None:
                    entry = bounds[handler.order] = [0, handler, candidate_words]
                entry[0] += min(wanted, recorded)
        by_bound: dict[int, list] = defaultdict(list)
        for entry in bounds.values():
            by_bound[entry[0]].append(entry)
        for bound in sorted(by_bound, reverse=True):
            for _, handler, candidate_words in sorted(by_bound[bound], key=lambda entry: entry[1].order):
                yield bound, handler, candidate_words

    def _words_by_type(self) -> dict[str, dict[str, list[tuple[_Handler, int, tuple[str, ...]]]]]:
        """Built on the first miss only: type id -> word -> (key, times it holds the word, its words)."""
        if self._word_index is None:
            index: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
            for key, handler in self._handlers.items():
                key_words = tuple(words(key))
                by_word = index[_type_of(key)]
                for word, count in Counter(key_words).items():
                    by_word[word].append((handler, count, key_words))
            self._word_index = index
        return self._word_index


def _common_and_gaps(candidate: list, request: list[str]) -> tuple[int, int]:
    """§5.4 criteria 1 and 2: words in common, and the negated number of separate non-matching gaps."""
    blocks = difflib.SequenceMatcher(None, candidate, request).get_matching_blocks()
    real = blocks[:-1]
    gaps = len(real)
    if real:
        last = real[-1]
        if last.a + last.size == len(candidate) and last.b + last.size == len(request):
            gaps -= 1  # a match running to the end of both is not a separate gap
    return sum(block.size for block in real), -gaps
