"""The replay index (§5): which recorded responses answer a request, and in what order.

Exact hits are one hash-table probe. Only on a miss (and only when exact matching is off) does the
best-match scoring of §5.4 run over keys of the same type: from searches of the file text
(``quickmatch``), else from a word index of those keys (``bestmatch``).

Replay files can hold millions of items, so the index keeps the file text once and, per request,
only offsets into it (flat arrays, no object per item or per key: keys are looked up through a
``KeyTable`` that reads them back from the text); a response group is parsed into ``Item``s each time
it is replayed, and not kept. All told the index costs about 1-1.5 times the file (issue #6).
"""
from __future__ import annotations

import sys

from . import mockfile
from .accelerator import load_speedups
from .errors import CaptureMockReplayError, MockFileError
from .keytable import KeyTable, cut, fixed_numbers
from .mockfile import KNOWN_TYPES, Item
from .replaypolicy import ERROR, SILENT, WARN

TYPE_CHECKING = False  # typing is not imported at run time: it costs every intercepted process ~3 ms
if TYPE_CHECKING:
    from typing import Any, Callable, Collection, Iterator, Optional, Sequence, Union

    from .bestmatch import WordIndex
    from .keytable import Numbers
    from .quickmatch import QuickMatch

SERVER_KEY = "<-SRV"
_NEXT = (".__next__()", ".__anext__()")  # an iteration step: answered by its own recordings only
# numbers per occurrence in ReplayIndex._spans: request start, body (the items after the request), group end, line
_SPAN, _BODY, _END, _LINE = 4, 1, 2, 3


# characters below which the index's numbers are gathered in lists while the file is read (see _build)
_LISTS_BELOW = 1 << 19
# a group from this many characters is scanned for its items line by line first (``mockfile.item_heads_between``)
_FEW_LONG_LINES_FROM = 1 << 16

_new_item = tuple.__new__  # Item(...) without its generated __new__ (a Python frame on the hot path)


def _type_of(description: str) -> str:
    return description[2:5]


class ReplayIndex:
    """Recorded requests keyed by their exact description, with their response groups (§5.1).

    A key's *occurrences* are the places it was recorded; occurrence k owns the response group that
    followed it: responses at its level and requests one level deeper (callback invocations), up to
    the next request at its level or shallower.
    """

    def __init__(self, source: Union[str, Sequence[Item]], *, exact: bool = False, on_best_match: str = SILENT,
                 report_unused: bool = False, collapse_server_keys: bool = False, preserve_cr: bool = False,
                 preserve_lf: bool = False, describe: bool = True):
        if not isinstance(source, str):
            source = "".join(mockfile.format_item(item.prefix, item.type, item.text) for item in source)
        self.text = source
        self.path: Optional[str] = None
        self.exact = exact
        self.on_best_match = on_best_match  # replaypolicy: silent (2.10), warn or error; read on a miss only
        self.report_unused = report_unused
        self._borrowed: list[str] = []  # on_best_match = warn: one line per request answered by best match
        self.collapse_server_keys = collapse_server_keys
        # a request's key: its stripped description (a C call on the hot path unless keys collapse)
        self._key = self._collapsed_key if collapse_server_keys else str.strip
        self._breaks = (preserve_cr, preserve_lf)  # how <CR>/<LF> are decoded (mockfile.decode_breaks)
        self._decode = any(self._breaks)
        self._kinds: dict[str, tuple[str, str, int, bool]] = {}  # item head -> (prefix, type, level, request)
        self._cursor: dict[int, tuple[int, int]] = {}  # key -> (group index, occurrence) last reached
        self._current: dict[int, int] = {}  # python attributes: key -> occurrence index now answering
        self._recurrences: dict[int, list[int]] = {}  # python attributes: key -> end of calls seen, per recurrence
        self._word_indexes: dict[str, WordIndex] = {}  # by type id, built on a miss text searches left open
        self._quick_match: Union[QuickMatch, bool, None] = None  # the text searches, made on the first miss
        self._build()
        # a python call's lookup: ``lookup`` itself, unless the C accelerator answers the usual call whole
        # (``_accelerate``): then a plain value comes back read, with its line, instead of a group to play
        self.answer = self.lookup
        if _speedups is not None and not collapse_server_keys and not self._decode:
            self._accelerate(_speedups)
        self.logged = _replay_logged()  # decided once: whoever replays from here may log more (python reads)
        if self.logged:
            self._log_matching(describe)

    @classmethod
    def from_file(cls, path: str, **kwargs) -> ReplayIndex:
        """Index a mock file; unreadable files are a MockFileError naming the path."""
        index = cls(mockfile.read_text(path), **kwargs)
        index.path = path
        return index

    # -- building (§5.1) -----------------------------------------------------------------------------
    @staticmethod
    def _collapsed_key(description: str) -> str:
        key = description.strip()
        return SERVER_KEY if key.startswith(SERVER_KEY) else key

    def _build(self) -> None:
        """The key table (key text -> key id; ids are plain indexes into the arrays, in order of first
        appearance) and the arrays, by the C accelerator where it settles the file, else in Python."""
        if _speedups is None or self.collapse_server_keys or self._decode or not self._build_in_c(_speedups):
            self._build_in_python()

    def _build_in_c(self, speedups) -> bool:
        """``_build_in_python`` in one C call (``_speedups.index_items``), ~20x fewer instructions: the
        arrays made at their largest (a request it settles starts a line with '<-', so there are no more
        requests, nor keys, than such lines), filled, then cut to size. False if it gave up: nothing kept."""
        text = self.text
        lines, request_lines = speedups.count_lines(text)  # one memchr pass: a recorded body is one long line
        most = request_lines + 1
        # as sparse as the Python build's table (a slot a line: lookups probe as few slots), and never more
        # than 2/3 full, so that it never grows
        key_ids = KeyTable(self._is_key, expected=max(lines + 1, most + most // 2 + 1), bulk=most)
        slots, hashes = key_ids.probe_arrays
        spans = fixed_numbers("i" if len(text) < 2**31 else "q", _SPAN * most)
        next_occurrence, first, counts, calls = (fixed_numbers("i", most) for _ in range(4))
        levels = fixed_numbers("b", most)
        built = speedups.index_items(text, self._kinds, _kind, slots, hashes, spans, next_occurrence, levels,
                                     first, counts, calls)
        if built is None:
            return False
        occurrences, keys, call_count, recurrences = built
        key_ids.keep(keys)
        self._key_ids, self._spans = key_ids, cut(spans, _SPAN * occurrences)
        self._next_occurrence, self._key_level = cut(next_occurrence, occurrences), cut(levels, keys)
        self._first_occurrence, self._occurrence_count = cut(first, keys), cut(counts, keys)
        self._calls_in_order = cut(calls, call_count)
        for key_id, calls_before in recurrences:
            self._recurrences.setdefault(key_id, []).append(calls_before)
        self._uses = fixed_numbers("i", keys)  # key -> times replayed
        return True

    def _build_in_python(self) -> None:
        """One pass over the item starts: a request item ends where the next item starts, so each request
        is added when the item after it is reached."""
        from array import array  # here: the C accelerator's build makes its numbers without it (start-up)

        text = self.text
        self._key_ids = KeyTable(self._is_key, expected=text.count("\n") + 1)  # a key takes a line or more
        self._calls_in_order: Numbers = array("i")  # key ids of python call keys, by first appearance
        kinds = self._kinds
        # lists while a small file is read (an append or a store is no call there), made arrays at the end;
        # a large file's go straight into arrays, whose size the index's memory is (issue #6)
        small = len(text) < _LISTS_BELOW
        spans_type = "i" if len(text) < 2**31 else "q"
        # per occurrence, side by side so that a lookup in a huge file touches one cache line:
        # where its request item starts, where the items after it start, where its group ends, its line
        self._spans = [] if small else array(spans_type)
        self._next_occurrence = [] if small else array("i")
        self._key_level = [] if small else array("b")
        self._first_occurrence = [] if small else array("i")
        self._occurrence_count = [] if small else array("i")
        last_occurrence = [] if small else array("i")  # only needed to chain the occurrences of a key
        open_at_level: dict[int, int] = {}  # level -> occurrence whose group is open
        line, counted_to = 1, 0
        pending = None  # (start, line, level) of a request item: it ends where the next item starts
        for begin, head in mockfile.item_heads(text):
            if pending is not None:
                self._add_request(*pending, begin, open_at_level, last_occurrence)
                pending = None
            kind = kinds.get(head)
            if kind is None:
                kind = kinds[head] = _kind(head)
            if kind[3]:
                line += text.count("\n", counted_to, begin)
                counted_to = begin
                pending = (begin, line, kind[2])
        if pending is not None:
            self._add_request(*pending, len(text), open_at_level, last_occurrence)
        if small:
            self._spans = array(spans_type, self._spans)
            self._next_occurrence = array("i", self._next_occurrence)
            self._key_level = array("b", self._key_level)
            self._first_occurrence = array("i", self._first_occurrence)
            self._occurrence_count = array("i", self._occurrence_count)
        self._uses: Numbers = array("i", [0]) * len(self._first_occurrence)  # key -> times replayed

    def _add_request(self, begin: int, line: int, level: int, body: int, open_at_level: dict[int, int],
                     last_occurrence: list[int]) -> None:
        """Close the groups this request ends (same level or deeper), then index it and open its group.
        Run once per request of a file that may hold millions: hence one method, not several."""
        spans = self._spans
        if len(open_at_level) == 1 and level in open_at_level:  # the usual: a request after another
            spans[_SPAN * open_at_level[level] + _END] = begin
        elif open_at_level and max(open_at_level) >= level:
            for open_level in [lvl for lvl in open_at_level if lvl >= level]:
                spans[_SPAN * open_at_level.pop(open_level) + _END] = begin
        occurrence = open_at_level[level] = len(self._next_occurrence)
        spans.extend((begin, body, len(self.text), line))
        self._next_occurrence.append(-1)
        description = self.text[begin:body].rstrip("\n")
        if self._decode or description.endswith(mockfile.ESCAPE):
            description = self._description(begin, body)
        key = self._key(description)
        key_id = self._key_ids.add(key)
        if key_id == len(self._first_occurrence):  # a new key
            self._key_level.append(level)
            self._first_occurrence.append(occurrence)
            last_occurrence.append(occurrence)
            self._occurrence_count.append(1)
            if "(" in key:
                self._calls_in_order.append(key_id)
        else:
            self._next_occurrence[last_occurrence[key_id]] = occurrence
            last_occurrence[key_id] = occurrence
            self._occurrence_count[key_id] += 1
            if "(" not in key:
                self._recurrences.setdefault(key_id, []).append(len(self._calls_in_order))

    def _description(self, begin: int, end: int) -> str:
        """The request item in ``text[begin:end]`` as a description (escapes and line breaks decoded)."""
        description = self.text[begin:end].rstrip("\n")
        if description.endswith(mockfile.ESCAPE):
            head, colon, body = description.partition(":")
            description = f"{head}{colon}{mockfile.unescape(body)}"
        if self._decode:
            description = mockfile.decode_breaks(description, *self._breaks)
        return description

    def _is_key(self, key_id: int, key: str) -> bool:
        """Whether ``key`` is the key of ``key_id``: compared in place in the text when its request is
        written plainly (the usual case, no copy), else against the decoded description."""
        span = _SPAN * self._first_occurrence[key_id]
        begin, body = self._spans[span], self._spans[span + 1]
        key_end = begin + len(key)
        if self.text.startswith(key, begin) and (key_end == body or self.text[key_end:body].isspace()):
            return True
        return self._key_at(key_id) == key

    def _key_id_of(self, occurrence: int) -> Optional[int]:
        """The key id of an occurrence's request."""
        span = _SPAN * occurrence
        return self._key_ids.find(self._key(self._description(self._spans[span], self._spans[span + 1])))

    def _key_at(self, key_id: int) -> str:
        """A key's text, read back from its first occurrence (the key table keeps no strings)."""
        span = _SPAN * self._first_occurrence[key_id]
        return self._key(self._description(self._spans[span], self._spans[span + 1]))

    def _accelerate(self, speedups) -> None:
        """Answer ``lookup``/``lookup_exact`` with the C accelerator: it settles the usual exact hit (the
        first group, one response on one line) and hands every other request to the methods below.
        The arrays are complete now; it holds their buffers, so resizing one would raise BufferError."""
        slots, hashes = self._key_ids.probe_arrays
        accelerated = speedups.Lookup(self.text, slots, hashes, self._first_occurrence, self._spans, self._uses,
                                      self._occurrence_count, self._key_level, self._kinds, Item, self.lookup,
                                      self.lookup_exact)
        self.lookup, self.lookup_exact, self.answer = accelerated.lookup, accelerated.lookup_exact, accelerated.answer

    def call_replayer(self, fallback: Callable, session: Any, handle_type: type, missing: Any,
                      full_floats: bool) -> Optional[Callable]:
        """The session's ``call`` settling the usual replayed python call whole in C (``Lookup.call_replayer``,
        ``fallback`` answering every other call), or None where ``answer`` is not the C accelerator's (pure
        Python, the debug log): what it settles is what ``answer`` settles."""
        lookup = getattr(self.answer, "__self__", None)
        if _speedups is None or type(lookup) is not _speedups.Lookup:
            return None
        return lookup.call_replayer(fallback, session, handle_type, missing, full_floats)

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
        """Parsed afresh on each use, not kept: most groups answer once, and a million kept groups
        would cost more memory than the file itself (a re-read one-line group costs ~1 µs)."""
        occurrence = self._first_occurrence[key_id] if index == 0 else self._occurrence(key_id, index)
        return self._read_group(occurrence, self._key_level[key_id])

    def _read_group(self, occurrence: int, level: int) -> list[Item]:
        """The items answering one occurrence: its responses and the callback requests one level down."""
        text, spans, at = self.text, self._spans, _SPAN * occurrence
        begin, end = spans[at + _BODY], spans[at + _END]
        if begin >= end:
            return []  # recorded with no response at all
        newline = text.find("\n", begin, end - 1)
        # one one-line item (the usual group), or one whose value runs on over plain lines (an HTTP response
        # and its headers): sliced, no scan
        if newline < 0 or mockfile.plain_continuation(text, newline, end):
            body = text.index(":", begin) + 1  # an item head holds no other ':'
            prefix, type_, item_level, is_request = self._kinds[text[begin:body]]
            if item_level == level and not is_request:
                value = text[body:end - 1] if text[end - 1] == "\n" else text[body:end]  # never escaped
                if self._decode:
                    value = mockfile.decode_breaks(value, *self._breaks)
                line = spans[at + _LINE] + text.count("\n", spans[at], begin)
                return [_new_item(Item, (prefix, type_, value, line))]
        return self._read_items(occurrence, level)

    def _read_items(self, occurrence: int, level: int) -> list[Item]:
        """``_read_group`` for any group: its items found by the item-start scan."""
        text, group = self.text, []
        # the request's start and line (newlines are counted on from there), the group's body and end
        counted_to, begin, end, line = self._spans[_SPAN * occurrence:_SPAN * occurrence + _SPAN]
        kinds, breaks = self._kinds, self._breaks
        if end - begin < _FEW_LONG_LINES_FROM:  # the usual: a regex scan of a short group
            bounds = [match.start(1) for match in mockfile.item_starts(text, begin, end)] + [end]
        else:  # a recorded large body is usually one line: found without scanning it
            bounds = [start for start, _ in mockfile.item_heads_between(text, begin, end)] + [end]
        for position in range(len(bounds) - 1):  # each item ends where the next begins
            start, stop = bounds[position], bounds[position + 1]
            body = text.index(":", start) + 1  # an item head holds no other ':'
            prefix, type_, item_level, is_request = kinds[text[start:body]]
            if type_ not in KNOWN_TYPES:
                line += text.count("\n", counted_to, start)
                raise MockFileError(f"unknown item type '{prefix}{type_}' (known: {', '.join(sorted(KNOWN_TYPES))})",
                                    self.path, line)
            if (item_level == level and not is_request) or (item_level == level + 1 and is_request):
                line += text.count("\n", counted_to, start)
                counted_to = start
                group.append(Item(prefix, type_, mockfile.item_value(text, body, stop, *breaks), line))
        return group

    def _next_group(self, key_id: int) -> list[Item]:
        """§5.5: the k-th use answers with group k; once exhausted, group 0 again (not the last)."""
        uses = self._uses[key_id]
        self._uses[key_id] = uses + 1
        if 0 < uses < self._occurrence_count[key_id]:
            return self._group(key_id, uses)
        return self._read_group(self._first_occurrence[key_id], self._key_level[key_id])  # the usual case

    # -- queries ------------------------------------------------------------------------------------
    def __contains__(self, description: str) -> bool:
        return self._key_ids.find(self._key(description)) is not None

    def __len__(self) -> int:
        return len(self._key_ids)

    def keys(self) -> Iterator[str]:
        """Every recorded key, in order of first appearance."""
        return map(self._key_at, range(len(self._key_ids)))

    def has_item_head(self, head: str) -> bool:
        """Whether an item of the file starts with ``head`` (``->CLI:``): known from building the index,
        where a substring search of a large file costs a scan of it (14 ms for 14 MB)."""
        return head in self._kinds

    def lookup_exact(self, description: str) -> Optional[list[Item]]:
        key_id = self._key_ids.find(self._key(description))
        return self._next_group(key_id) if key_id is not None else None

    def lookup(self, description: str) -> Optional[list[Item]]:
        """The next response group for ``description``: exact key, else the best match (§5.3)."""
        key = self._key(description)
        key_id = self._key_ids.find(key)
        if key_id is None:
            key_id = self._miss(key)
            if key_id is None:
                return None
        return self._next_group(key_id)

    def borrow(self, description: str) -> tuple[Optional[str], Optional[list[Item]]]:
        """For a request already known to have no exact match (HTTP tries its equivalent requests in
        between): the recorded key best match chose and its next response group, under
        ``on_best_match`` as ``lookup`` would; (None, None) if nothing resembles it."""
        key_id = self._miss(self._key(description))
        if key_id is None:
            return None, None
        return self._key_at(key_id), self._next_group(key_id)

    def _miss(self, key: str) -> Optional[int]:
        """The key id answering a request with no exact match (§5.3, §5.4), if any; exact matching and
        ``on_best_match = error`` raise instead."""
        if self.exact:
            from . import explain
            raise CaptureMockReplayError(f"Could not find any replay request matching '{key}'",
                                         explain.miss(self, key))
        if key.endswith(_NEXT):
            return None  # another request's answer to a __next__ would replay the iterator for ever
        key_id = self._best_match_id(key)
        if self.on_best_match != SILENT:
            self._borrow(key, key_id)
        return key_id

    def lookup_import(self, description: str) -> Optional[list[Item]]:
        """A python ``import`` line's own group (a failed import fails again). On a miss with exact
        matching off, the best match is chosen and counted as used, as 2.10 did (later matches weigh
        unconsumed responses, and the debug log shows the scan), but its group is not played: 2.10 made
        ``import pkg.sub`` fail because another import had failed. Never an error (exact matching,
        ``on_best_match``): an import is the one request a hand-written mock may leave out."""
        key = self._key(description)
        key_id = self._key_ids.find(key)
        if key_id is not None:
            return self._next_group(key_id)
        borrowed = None if self.exact else self._best_match_id(key)
        if borrowed is not None:
            self._uses[borrowed] += 1
        return None

    def lookup_attribute(self, description: str) -> Optional[list[Item]]:
        """§5.5: an attribute keeps its current value until the calls first recorded after its first
        occurrence and before its next recurrence have all been replayed at least once."""
        key_id = self._key_ids.find(self._key(description))
        if key_id is None:
            return None
        current = self._current.get(key_id, 0)
        if self._uses[key_id] and current + 1 < self._occurrence_count[key_id]:
            end = self._recurrences[key_id][current]
            import bisect  # here: an attribute's recurrence is rare, start-up is every process

            first = bisect.bisect_right(self._calls_in_order, key_id, 0, end)
            if all(self._uses[call] for call in self._calls_in_order[first:end]):
                current = self._current[key_id] = current + 1
        self._uses[key_id] += 1
        return self._group(key_id, current)

    # -- answers borrowed by best match, and requests never replayed (replaypolicy) -----------------
    def _borrow(self, key: str, key_id: Optional[int]) -> None:
        """A miss under ``on_best_match = warn`` or ``error``: noted for ``report``, or refused."""
        from . import explain

        if self.on_best_match == ERROR:
            raise CaptureMockReplayError(explain.best_match_error(self, key))
        if key_id is None:
            self._borrowed.append(explain.best_match_warning(key, None, None))
            return
        uses = self._uses[key_id]
        answering = uses if uses < self._occurrence_count[key_id] else 0  # §5.5: group 0 once exhausted
        self._borrowed.append(explain.best_match_warning(key, self.location(key_id, answering), self._key_at(key_id)))

    @property
    def reports(self) -> bool:
        """Whether ``report`` can say anything: decided once, so that nobody reports otherwise."""
        return self.on_best_match == WARN or self.report_unused

    def report(self, types: Collection[str]) -> list[str]:
        """The end-of-replay lines, once: answers borrowed by best match, then unused requests of
        ``types`` (the family's own: one mock file may also hold other families' traffic, which
        other processes or handlers replay)."""
        from . import explain

        lines, self._borrowed = self._borrowed, []
        if self.report_unused:
            self.report_unused = False
            lines += [explain.unused(self.location(key_id), self._key_at(key_id))
                      for key_id in range(len(self._key_ids)) if self._unused(key_id, types)]
        return lines

    def _unused(self, key_id: int, types: Collection[str]) -> bool:
        """A top-level request of ``types`` nothing looked up. Python imports are not requests in mixed
        mode (the real module is imported), so an unused one says nothing."""
        if self._uses[key_id] or self._key_level[key_id] != 0:
            return False
        key = self._key_at(key_id)
        return _type_of(key) in types and not key.startswith("<-PYT:import ")

    def location(self, key_id: int, group: int = 0) -> str:
        """``path:line`` of a key's request ``group`` (its first by default)."""
        occurrence = self._first_occurrence[key_id] if group == 0 else self._occurrence(key_id, group)
        return f"{self.path or 'replay file'}:{self._spans[_SPAN * occurrence + _LINE]}"

    # -- best match (§5.4) --------------------------------------------------------------------------
    def best_match(self, description: str) -> Optional[str]:
        """The recorded key of the same type that §5.4 scores highest, or None if none shares a word."""
        key_id = self._best_match_id(self._key(description))
        return None if key_id is None else self._key_at(key_id)

    def _best_match_id(self, description: str) -> Optional[int]:
        type_id = _type_of(description)
        index = self._word_indexes.get(type_id)
        if index is None:
            from .bestmatch import WordIndex  # here: a replay without misses never needs it (difflib)
            from .quickmatch import UNSURE

            search = self._text_search()
            key_id = search.best(description) if search else UNSURE
            if key_id is not UNSURE:
                return key_id
            keys = ((key_id, key) for key_id, key in enumerate(self.keys()) if _type_of(key) == type_id)
            index = self._word_indexes[type_id] = WordIndex(keys, self._key_at, self._occurrence_count, self._uses)
        return index.best(description)

    def _text_search(self) -> Union[QuickMatch, bool]:
        """Best match by searching the text (``quickmatch``), made on the first miss; False when keys
        are not the text as written (escaped or with decoded line breaks)."""
        if self._quick_match is None:
            from .quickmatch import QuickMatch

            if self._decode or ("|" in self.text and mockfile.ESCAPE in self.text):  # memchr first
                self._quick_match = False
            else:
                self._quick_match = QuickMatch(self.text, self._spans, _SPAN, self._occurrence_count, self._uses,
                                               self._key_id_of, self._key_at)
        return self._quick_match

    # -- the debug log (logger "Replay") -----------------------------------------------------------
    def _log_matching(self, describe: bool) -> None:
        """Log the recorded requests (``describe``: the traffic server's second index of the same file,
        for client/server traffic, does not repeat them), then route lookups through logged versions:
        decided here, once, so that the unlogged lookups (the hot path) carry no check at all."""
        from . import replaylog

        if describe:
            replaylog.log.debug(replaylog.replay_info(self.text))
        plain_lookup, plain_exact, plain_import = self.lookup, self.lookup_exact, self.lookup_import
        plain_attribute = self.lookup_attribute

        def logged(plain):
            def lookup(description: str) -> Optional[list[Item]]:
                key = self._key(description)
                replaylog.trying(key)
                if self._key_ids.find(key) is not None:
                    replaylog.found()
                return plain(description)
            return lookup

        def best_match_id(description: str) -> Optional[int]:
            type_id = _type_of(description)
            candidates = [(key_id, key) for key_id, key in enumerate(self.keys()) if _type_of(key) == type_id]
            return replaylog.best_match(description, candidates,
                                        lambda key_id: self._occurrence_count[key_id] - self._uses[key_id])

        self.lookup, self.lookup_exact = logged(plain_lookup), logged(plain_exact)
        self.lookup_import, self.lookup_attribute = logged(plain_import), logged(plain_attribute)
        self.answer = self.lookup  # groups only: the logged lookup is the one answering
        self._best_match_id = best_match_id


_speedups = load_speedups()


def _replay_logged() -> bool:
    """Whether the ``Replay`` logger shows DEBUG. A process that never imported ``logging`` configured
    none, and importing it just to find that out would cost every replaying process ~7 ms."""
    logging = sys.modules.get("logging")
    return logging is not None and logging.getLogger("Replay").isEnabledFor(logging.DEBUG)


def _kind(head: str) -> tuple[str, str, int, bool]:
    """(prefix, type, level, is_request) of an item head such as ``'<-PYT:'``. A response of an unknown
    type gets level -1, which no group has, so the one-item fast path of ``_read_group`` leaves it to
    ``_read_items`` to report (requests keep their level: it shapes the groups)."""
    prefix, type_ = mockfile.split_prefix(head[:-1])
    item = Item(prefix, type_, "")
    known = type_ in KNOWN_TYPES or item.is_request
    return prefix, type_, item.level if known else -1, item.is_request
