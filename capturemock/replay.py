"""The replay index (§5): which recorded responses answer a request, and in what order.

Exact hits are one dict lookup. Only on a miss (and only when exact matching is off) does the
best-match scoring of §5.4 run, over keys of the same type found through a word index, evaluating
candidates in order of an upper bound on their score so most are never scored at all.

Replay files can hold millions of items, so the index keeps the file text once and, per request,
only offsets into it (flat arrays, no object per item); a response group is parsed into ``Item``s
when it is first replayed.
"""
from __future__ import annotations

import bisect
import difflib
import logging
import re
from array import array
from collections import Counter, defaultdict
from typing import Iterator, Optional, Sequence, Union

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


class ReplayIndex:
    """Recorded requests keyed by their exact description, with their response groups (§5.1).

    A key's *occurrences* are the places it was recorded; occurrence k owns the response group that
    followed it: responses at its level and requests one level deeper (callback invocations), up to
    the next request at its level or shallower.
    """

    def __init__(self, source: Union[str, Sequence[Item]], *, exact: bool = False,
                 collapse_server_keys: bool = False, preserve_cr: bool = False, preserve_lf: bool = False):
        if not isinstance(source, str):
            source = "".join(mockfile.format_item(item.prefix, item.type, item.text) for item in source)
        self.text = source
        self.path: Optional[str] = None
        self.exact = exact
        self.collapse_server_keys = collapse_server_keys
        self._preserve = {"preserve_cr": preserve_cr, "preserve_lf": preserve_lf}
        self._key_ids: dict[str, int] = {}
        self._key_level = array("b")
        self._first_occurrence = array("i")
        self._last_occurrence = array("i")
        self._occurrence_count = array("i")
        self._uses = array("i")
        # per occurrence: span of text (its request item up to the end of its group), line, next
        self._span_start = array("q")
        self._span_end = array("q")
        self._line = array("i")
        self._next_occurrence = array("i")
        self._groups: dict[int, list[Item]] = {}  # parsed response groups, by occurrence
        self._cursor: dict[int, tuple[int, int]] = {}  # key -> (group index, occurrence) last reached
        self._current: dict[int, int] = {}  # python attributes: key -> occurrence index now answering
        self._recurrences: dict[int, list[int]] = {}  # python attributes: key -> end of calls seen, per recurrence
        self._calls_in_order = array("i")  # key ids of python call keys, by first appearance
        self._word_index: Optional[dict[str, dict[str, list]]] = None
        self._build()

    @classmethod
    def from_file(cls, path: str, **kwargs) -> ReplayIndex:
        """Index a mock file; unreadable files are a MockFileError naming the path."""
        try:
            with open(path, encoding=mockfile.ENCODING, errors=mockfile.ERRORS) as handle:
                text = handle.read()
        except OSError as err:
            raise mockfile.MockFileError(f"cannot read mock file: {err.strerror or err}", path) from None
        index = cls(text, **kwargs)
        index.path = path
        return index

    # -- building (§5.1) -----------------------------------------------------------------------------
    def _key(self, description: str) -> str:
        key = description.strip()
        if self.collapse_server_keys and key.startswith(SERVER_KEY):
            return SERVER_KEY
        return key

    def _build(self) -> None:
        text = self.text
        kinds: dict[str, tuple[int, bool]] = {}  # item head -> (level, is_request)
        open_at_level: dict[int, int] = {}  # level -> occurrence whose group is open
        decode = any(self._preserve.values())
        line, counted_to = 1, 0
        pending: Optional[tuple[int, str, int]] = None  # a request item whose end is the next item start

        for match in mockfile.ITEM_START.finditer(text):
            begin = match.start()
            if pending is not None:
                self._add_request(*pending, begin, open_at_level, decode)
                pending = None
            head = match.group()
            kind = kinds.get(head)
            if kind is None:
                prefix, type_ = mockfile.split_prefix(head[:-1])
                item = Item(prefix, type_, "")
                kind = kinds[head] = (item.level, item.is_request)
            if kind[1]:
                line += text.count("\n", counted_to, begin)
                counted_to = begin
                pending = (begin, line, kind[0])
        if pending is not None:
            self._add_request(*pending, len(text), open_at_level, decode)
        for occurrence in open_at_level.values():
            self._span_end[occurrence] = len(text)

    def _add_request(self, begin: int, line: int, level: int, end: int, open_at_level: dict[int, int],
                     decode: bool) -> None:
        """Close the groups this request ends (same level or deeper) and open its own."""
        if open_at_level and max(open_at_level) >= level:
            for open_level in [lvl for lvl in open_at_level if lvl >= level]:
                self._span_end[open_at_level.pop(open_level)] = begin
        description = self.text[begin:end].rstrip("\n")
        if decode:
            description = mockfile.decode_breaks(description, **self._preserve)
        open_at_level[level] = self._add_occurrence(self._key(description), level, begin, line)

    def _add_occurrence(self, key: str, level: int, begin: int, line: int) -> int:
        occurrence = len(self._span_start)
        self._span_start.append(begin)
        self._span_end.append(len(self.text))
        self._line.append(line)
        self._next_occurrence.append(-1)
        key_id = self._key_ids.get(key)
        if key_id is None:
            key_id = self._key_ids[key] = len(self._first_occurrence)
            self._key_level.append(level)
            self._first_occurrence.append(occurrence)
            self._last_occurrence.append(occurrence)
            self._occurrence_count.append(1)
            self._uses.append(0)
            if "(" in key:
                self._calls_in_order.append(key_id)
        else:
            self._next_occurrence[self._last_occurrence[key_id]] = occurrence
            self._last_occurrence[key_id] = occurrence
            self._occurrence_count[key_id] += 1
            if "(" not in key:
                self._recurrences.setdefault(key_id, []).append(len(self._calls_in_order))
        return occurrence

    # -- groups -------------------------------------------------------------------------------------
    def _occurrence(self, key_id: int, index: int) -> int:
        """The occurrence of group ``index``: groups are used in order, so continue from the last one."""
        reached, occurrence = self._cursor.get(key_id, (0, self._first_occurrence[key_id]))
        if index < reached:
            reached, occurrence = 0, self._first_occurrence[key_id]
        for _ in range(index - reached):
            occurrence = self._next_occurrence[occurrence]
        self._cursor[key_id] = (index, occurrence)
        return occurrence

    def _group(self, key_id: int, index: int) -> list[Item]:
        occurrence = self._occurrence(key_id, index)
        group = self._groups.get(occurrence)
        if group is None:
            span = self.text[self._span_start[occurrence]:self._span_end[occurrence]]
            first_line = self._line[occurrence] - 1
            level = self._key_level[key_id]
            group = []
            for item in mockfile.parse(span, **self._preserve)[1:]:
                item_level = item.level
                if item_level == level + 1 and item.is_request or item_level == level and not item.is_request:
                    group.append(item._replace(line=item.line + first_line))
            self._groups[occurrence] = group
        return group

    def _next_group(self, key_id: int) -> list[Item]:
        """§5.5: the k-th use answers with group k; once exhausted, group 0 again (not the last)."""
        uses = self._uses[key_id]
        self._uses[key_id] = uses + 1
        return self._group(key_id, uses if uses < self._occurrence_count[key_id] else 0)

    # -- queries ------------------------------------------------------------------------------------
    def __contains__(self, description: str) -> bool:
        return self._key(description) in self._key_ids

    def __len__(self) -> int:
        return len(self._key_ids)

    def keys(self) -> Iterator[str]:
        return iter(self._key_ids)

    def mentions(self, pattern: re.Pattern) -> bool:
        """Whether a line of the replay file matches ``pattern`` (how intercepts are filtered, §5.2).

        ``^`` anchors at the start of each line."""
        return re.compile(pattern.pattern, pattern.flags | re.M).search(self.text) is not None

    def lookup_exact(self, description: str) -> Optional[list[Item]]:
        key_id = self._key_ids.get(self._key(description))
        return self._next_group(key_id) if key_id is not None else None

    def lookup(self, description: str) -> Optional[list[Item]]:
        """The next response group for ``description``: exact key, else the best match (§5.3)."""
        key = self._key(description)
        key_id = self._key_ids.get(key)
        if key_id is None:
            if self.exact:
                raise CaptureMockReplayError(f"Could not find any replay request matching '{key}'")
            key_id = self._best_match_id(key)
            if key_id is None:
                return None
        return self._next_group(key_id)

    def lookup_attribute(self, description: str) -> Optional[list[Item]]:
        """§5.5: an attribute keeps its current value until the calls first recorded after its first
        occurrence and before its next recurrence have all been replayed at least once."""
        key_id = self._key_ids.get(self._key(description))
        if key_id is None:
            return None
        current = self._current.get(key_id, 0)
        if self._uses[key_id] and current + 1 < self._occurrence_count[key_id]:
            end = self._recurrences[key_id][current]
            first = bisect.bisect_right(self._calls_in_order, key_id, 0, end)
            if all(self._uses[call] for call in self._calls_in_order[first:end]):
                current = self._current[key_id] = current + 1
        self._uses[key_id] += 1
        return self._group(key_id, current)

    def unused_keys(self) -> list[str]:
        """Recorded requests that were never replayed (reported at the end of a session)."""
        return [key for key, key_id in self._key_ids.items() if not self._uses[key_id]]

    # -- best match (§5.4) --------------------------------------------------------------------------
    def best_match(self, description: str) -> Optional[str]:
        """The recorded key of the same type that §5.4 scores highest, or None if none shares a word."""
        key_id = self._best_match_id(self._key(description))
        return None if key_id is None else self._key_list()[key_id]

    def _best_match_id(self, description: str) -> Optional[int]:
        """Candidates come from a word index in decreasing order of an upper bound on their words in
        common, so scoring stops as soon as no remaining candidate can beat the best. difflib only
        sees which candidate words occur in the request, so candidates of the same "shape" share one
        scoring."""
        request_words = words(description)
        request_vocabulary = set(request_words)
        debug = log.isEnabledFor(logging.DEBUG)
        if debug:
            log.debug(f"Trying to match '{description}'")
        shape_scores: dict[tuple, tuple[int, int]] = {}
        best: Optional[tuple] = None
        best_id: Optional[int] = None
        for bound, key_id, candidate_words in self._candidates(description, request_words):
            if best is not None and bound < best[0]:
                break  # no remaining candidate can have more words in common
            shape = tuple(word if word in request_vocabulary else None for word in candidate_words)
            common_and_gaps = shape_scores.get(shape)
            if common_and_gaps is None:
                common_and_gaps = shape_scores[shape] = _common_and_gaps(list(shape), request_words)
            score = (*common_and_gaps, self._occurrence_count[key_id] - self._uses[key_id], -key_id)
            if debug:
                log.debug(f"Comparing with '{self._key_list()[key_id]}'")
                log.debug(f"Words in common {score[0]} vs {best[0] if best else 0}")
            if best is None or score > best:
                best, best_id = score, key_id
        if debug and best_id is not None:
            log.debug(f"Best match chosen as '{self._key_list()[best_id]}'")
        return best_id

    def _candidates(self, description: str, request_words: list[str]) -> Iterator[tuple[int, int, tuple]]:
        """Same-type keys sharing a word with the request, highest bound on common words first,
        file order within a bound."""
        postings = self._words_by_type().get(_type_of(description), {})
        bounds: dict[int, list] = {}
        for word, wanted in Counter(request_words).items():
            for key_id, recorded, candidate_words in postings.get(word, ()):
                entry = bounds.get(key_id)
                if entry is None:
                    entry = bounds[key_id] = [0, key_id, candidate_words]
                entry[0] += min(wanted, recorded)
        by_bound: dict[int, list] = defaultdict(list)
        for entry in bounds.values():
            by_bound[entry[0]].append(entry)
        for bound in sorted(by_bound, reverse=True):
            for _, key_id, candidate_words in sorted(by_bound[bound], key=lambda entry: entry[1]):
                yield bound, key_id, candidate_words

    def _key_list(self) -> list[str]:
        return list(self._key_ids)

    def _words_by_type(self) -> dict[str, dict[str, list]]:
        """Built on the first miss only: type id -> word -> (key id, times it holds the word, its words)."""
        if self._word_index is None:
            index: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
            for key, key_id in self._key_ids.items():
                key_words = tuple(words(key))
                by_word = index[_type_of(key)]
                for word, count in Counter(key_words).items():
                    by_word[word].append((key_id, count, key_words))
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
