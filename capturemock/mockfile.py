"""The mock-file format (§4.1): items, directions, type codes, continuation lines.

This is the only module that knows the syntax. ``parse`` turns text into ``Item``s, ``format_item``
turns one item back into text, and ``MockWriter`` appends items to a record file so that every
completed item is on disk before the next begins and concurrent writers never interleave.

Where the original loses data we do not (product spec §3, "Nothing lost"), while every file stays
byte-identical to the original's for the same traffic:

* Trailing blank lines of a value (§4.1). The original writes each item as its text plus one newline
  but strips *all* newlines when reading; we strip only that one, so the blank lines it wrote are
  data again (a blank line typed between items by hand therefore belongs to the item before it).
* A line of a value that looks like an item start would split the item (§4.1). Only such values
  (and values with a line starting with ``ESCAPE``) are written *escaped*: each line that looks like
  an item start or starts with ``ESCAPE`` gets ``ESCAPE`` put in front, and a last line holding only
  ``ESCAPE`` marks the item as escaped::

      ->OUT:first line of the output
      |capturemock|<-CMD:a line of the output that looks like an item
      |capturemock|

  ``ESCAPE`` is longer than any item prefix and has no ':', so escaped lines are continuation lines
  even for the original's reader, which shows the marks as text. Reading undoes the escape only for an
  item whose last line is exactly ``ESCAPE`` (or one of the end lines below), so an item recorded by
  the original is never touched unless its last line is that unlikely text.
* Command output (§4.3) is bytes, recorded as text minus one final newline, which replay adds back.
  Output that would not come back byte for byte that way is escaped as above with a longer end line
  (``output_value``, ``escape_output``; plain text ending in a newline is written as the original
  writes it):

      ->OUT:output lacking its final newline
      |capturemock|no newline at end
      ->OUT:\\x1f\\x8b\\x08\\x00 the bytes of gzip -c ...
      |capturemock|bytes

  ``no newline at end``: the output ends where the value does. ``bytes``: the output holds NUL or bytes
  that are not UTF-8; these, the other control characters except tab and newline, and ``\\`` are written
  ``\\xhh`` / ``\\\\``. Both give ``|capturemock|bytes, no newline at end``. Read back, the value carries
  them as characters no text has: a non-UTF-8 byte as the lone surrogate ``surrogateescape`` makes of
  it, a missing final newline as ``NO_FINAL_NEWLINE`` at the value's end.
* Carriage returns. Values are split into lines only at ``\\n`` and files are read without newline
  translation, so a ``\\r`` is data (the original's reader turned it into ``\\n``).
* Torn items. Every complete item ends with a newline. A write cut off part way (a full disk, a
  killed process) is truncated away by the writer when it can be, else followed by a ``TORN`` line;
  the reader drops an item followed by that line, a last item without its newline in a file ending on
  a page boundary (where the kernel stops a killed write; elsewhere it was edited by hand) and an
  escaped last item without its end mark, with one warning line naming file:line each (``drop_torn``).
* Renames (§4.2) rewrite the file only when the rewrite cannot lose or rename anyone else's items:
  every writer holds a shared ``flock`` while its file is open, and ``MockWriter.rewrite_from`` runs
  only under an exclusive one (no other writer has the file open) over bytes this writer wrote.
"""
from __future__ import annotations

import _thread  # not threading: its import costs every intercepted process ~1 ms at start-up
import contextlib
import itertools
import os
import sys
import time
from _collections import _tuplegetter  # namedtuple's own field accessor
from _weakref import ref  # not weakref's WeakSet: _weakrefset costs start-up 0.7 M instructions

from .errors import MockFileError
from .lazyregex import LazyRegex

TYPE_CHECKING = False  # typing is not imported at run time: it costs every intercepted process ~3 ms
if TYPE_CHECKING:
    import re
    from typing import BinaryIO, Callable, Iterable, Iterator, NoReturn, Optional, Union

ENCODING = "utf-8"
# Undecodable bytes survive a write/read round trip as lone surrogates instead of being lost.
ERRORS = "surrogateescape"
_DIRECTION_CHARS = "<->"
ESCAPE = "|capturemock|"  # 13 characters, no ':': never part of an item start
# §4.1: an item starts a line with a prefix shorter than 10 characters before the first ':' that
# either starts with '<-' or ends with '->' plus a three-letter type.
_ITEM_HEAD = r"(?:<-[^:\n]{0,7}|[^:\n]{0,4}->[^:\n]{3}):"
ITEM_START = LazyRegex(f"(?m)^{_ITEM_HEAD}")
# The same starts found by the newline before them (``item_starts``): with a literal first character
# the regex engine skips from newline to newline instead of trying every position, which over a
# 10 MB one-line value (a recorded HTTP body) is 0.01 s instead of 0.16 s, and twice as fast over
# ordinary files.
_ITEM_AFTER_NEWLINE = LazyRegex(f"\\n({_ITEM_HEAD})")
_ITEM_HERE = LazyRegex(f"({_ITEM_HEAD})")
# the lines ``escape`` marks, and the marks ``unescape`` removes: one regex pass each, no line lists
_ESCAPE_PATTERN = r"\|capturemock\|"  # re.escape(ESCAPE), written out: no ``re`` at import
_LINE_TO_MARK = LazyRegex(f"(?m)^(?={_ESCAPE_PATTERN}|{_ITEM_HEAD})")
_LINE_MARK = LazyRegex(f"(?m)^{_ESCAPE_PATTERN}")
_LINE_TO_MARK_OR_END = LazyRegex(f"{_LINE_TO_MARK.pattern}|\\Z")
# The item types of every family (§4.1): an item start of any other type is a mistake in the file.
KNOWN_TYPES = frozenset({"PYT", "RET", "CMD", "OUT", "ERR", "EXC", "FIL", "CLI", "SRV", "LST", "CAL", "RMQ"})
# The line a writer puts after an item it could not write whole. Escaping marks every value line that
# starts with ESCAPE, so no complete item written by us ends with this line.
TORN = f"{ESCAPE}torn"
_TORN_LINE = f"\n{TORN}\n"
_TORN_BYTES = _TORN_LINE.encode()
# what an item head of ours can look like when the write stopped inside it: '<-PY', '--->', '->R'
_PARTIAL_HEAD = LazyRegex(r"(?:<-*|-+)>?[A-Z]{0,3}")


class Item(tuple):
    """One traffic item: ``<prefix><type>:<text>``, e.g. prefix ``<-``, type ``PYT``; ``line``: where it
    starts in its file (0 if it comes from no file).

    A tuple rather than a dataclass: replay files can hold millions of items, and tuples are the cheapest
    immutable records to build and keep. Written out rather than made by ``collections.namedtuple``, whose
    class is compiled from source at import (0.7 M instructions of every intercepted process's start-up);
    the fields are namedtuple's own accessors.
    """

    __slots__ = ()

    prefix = _tuplegetter(0, "direction and nesting, e.g. '<-'")
    type = _tuplegetter(1, "three letters, e.g. 'PYT'")
    text = _tuplegetter(2, "the value")
    line = _tuplegetter(3, "where the item starts in its file (1-based), 0 for none")

    def __new__(cls, prefix: str, type: str, text: str, line: int = 0) -> Item:
        return tuple.__new__(cls, (prefix, type, text, line))

    def __repr__(self) -> str:
        return f"Item(prefix={self[0]!r}, type={self[1]!r}, text={self[2]!r}, line={self[3]!r})"

    def _replace(self, **changes: object) -> Item:
        """A copy with some fields changed, as namedtuple's (client/server replay rewrites prefixes and texts)."""
        prefix, type_, text, line = self
        return Item(**{"prefix": prefix, "type": type_, "text": text, "line": line, **changes})

    def __getnewargs__(self) -> tuple:
        return tuple(self)  # as namedtuple's: copy and pickle call __new__ with the fields

    @property
    def description(self) -> str:
        return f"{self.prefix}{self.type}:{self.text}"

    @property
    def from_sut(self) -> bool:
        return self.prefix.startswith("<-")

    @property
    def level(self) -> int:
        """Callback nesting depth (§5.1): 0 for ``<-PYT``/``->RET``, 1 for ``--->PYT``/``<---RET``, ..."""
        return (len(self.prefix) + len(self.type)) // 2 - 2

    @property
    def is_request(self) -> bool:
        """Requests start a response group: SUT items at even depth, callback invocations at odd depth."""
        return self.from_sut == (self.level % 2 == 0)


def is_item_start(line: str) -> bool:
    """The original's rule (§4.1): short prefix before ':' starting '<-' or ending '->' + 3 letters."""
    colon = line.find(":")
    if colon < 0 or colon >= 10:
        return False
    prefix = line[:colon]
    return prefix.startswith("<-") or prefix[-5:-3] == "->"


_ESCAPED_END = f"\n{ESCAPE}"
# Ends the value of an output that lacks its final newline: a lone surrogate that decoding never makes
# (``surrogateescape`` only makes U+DC80..U+DCFF), so no output's text can hold it.
NO_FINAL_NEWLINE = "\ud800"
_BYTES, _NO_NEWLINE = "bytes", "no newline at end"
# the end line of an escaped item, after ESCAPE, by (bytes, no final newline)
_END_LINES = {(False, False): "", (True, False): _BYTES, (False, True): _NO_NEWLINE,
              (True, True): f"{_BYTES}, {_NO_NEWLINE}"}
_END_FLAGS = {line: flags for flags, line in _END_LINES.items()}
_LONGEST_END = len(ESCAPE) + max(map(len, _END_FLAGS))
_NOT_TEXT = LazyRegex("[\x00\udc80-\udcff]")  # what makes an output binary: NUL, a byte not UTF-8
_BYTE_TO_ESCAPE = LazyRegex("[\\\\\x00-\x08\x0b-\x1f\x7f\udc80-\udcff]")
_ESCAPED_BYTE = LazyRegex(r"\\(\\|x[0-9a-fA-F]{2})")


def needs_escape(text: str) -> bool:
    """Whether the original format would mis-split ``text``, or ``text`` could pass for escaped."""
    if text.startswith(ESCAPE):
        return True
    first_break = text.find("\n")
    if first_break < 0 or plain_continuation(text, first_break, len(text)):  # a replayed HTTP response: no scan
        return False
    # _ESCAPED_END starts with a newline: searched from the first one (a large body's line is not read twice)
    return text.find(_ESCAPED_END, first_break) >= 0 or next(item_starts(text, first_break + 1), None) is not None


def escape(text: str) -> str:
    """``text`` as an item body that reads back unchanged; unchanged itself when nothing would be lost."""
    if not needs_escape(text):
        return text
    return _LINE_TO_MARK_OR_END.sub(_mark_or_end, text)  # one pass, one copy: values can be huge


def _mark_or_end(match: re.Match) -> str:
    return _ESCAPED_END if match.start() == len(match.string) else ESCAPE


def plain_continuation(text: str, start: int, end: int) -> bool:
    """Whether the lines after the newline at ``start`` (up to ``end``) are sure to be plain value lines: no
    '->' and no line starting '<-' (so no item head, ``_ITEM_HEAD``), and no escape mark. Three searches
    in C, no regex: an HTTP response and its ``--HEA:`` lines are written and replayed this way.
    ``_speedups``' ``plain_continuation`` is its twin."""
    return text.find("->", start, end) < 0 and text.find("\n<-", start, end) < 0 and text.find(ESCAPE, start, end) < 0


def unescape(text: str) -> str:
    """Undo ``escape`` or ``escape_output`` for an item body read back (its terminating newline already
    removed)."""
    if ESCAPE not in text[-_LONGEST_END:]:  # the usual: not escaped, found without a scan
        return text
    end_line = text.rfind("\n") + 1
    flags = _END_FLAGS.get(text[end_line + len(ESCAPE):]) if text.startswith(ESCAPE, end_line) else None
    if not end_line or flags is None:
        return text
    value = _LINE_MARK.sub("", text[:end_line - 1])
    if flags[0]:
        value = _ESCAPED_BYTE.sub(_unescape_byte, value)
    return value + NO_FINAL_NEWLINE if flags[1] else value


def output_value(data: bytes, exact: bool = True) -> str:
    """The value a command's output (§4.3) is recorded as: its text minus one final newline, or ending
    with ``NO_FINAL_NEWLINE`` when it has none and ``exact`` (else it is read back with one, as 2.10
    records it); bytes that are not UTF-8 as surrogates."""
    final_newline = data.endswith(b"\n")
    text = str(memoryview(data)[:len(data) - final_newline], ENCODING, ERRORS)  # no copy of a large output
    return text if final_newline or not exact else text + NO_FINAL_NEWLINE


def split_output(value: str) -> tuple[str, str]:
    """``output_value`` undone: the output's text, and the newline to send after it ("" if none). A value
    recorded by the original never ends with ``NO_FINAL_NEWLINE``, so it gets the newline it lost."""
    if value.endswith(NO_FINAL_NEWLINE):
        return value[:-1], ""
    return value, "\n"


def escape_output(value: str) -> str:
    """``escape`` for an ``output_value``: plain text is written as the original writes it, anything
    else with the end line that says how it was escaped (module docstring)."""
    no_newline = value.endswith(NO_FINAL_NEWLINE)
    if no_newline:
        value = value[:-1]
    binary = "\0" in value or (not value.isascii() and _NOT_TEXT.search(value) is not None)
    if not (binary or no_newline):
        return escape(value)
    if binary:
        value = _BYTE_TO_ESCAPE.sub(_escape_byte, value)
    return f"{_LINE_TO_MARK.sub(ESCAPE, value)}{_ESCAPED_END}{_END_LINES[binary, no_newline]}"


def _escape_byte(match: re.Match) -> str:
    char = match.group()
    if char == "\\":
        return "\\\\"
    code = ord(char)
    return f"\\x{code - 0xDC00 if code > 0xFF else code:02x}"


def _unescape_byte(match: re.Match) -> str:
    escaped = match.group(1)
    if escaped == "\\":
        return escaped
    code = int(escaped[1:], 16)
    return chr(code + 0xDC00 if code >= 0x80 else code)


# python items' direction prefixes by callback nesting level (§4.1, §5.1), made once for the usual levels
_SUT_PREFIXES = ["<-" + "-" * (2 * level) for level in range(8)]
_MOCK_PREFIXES = ["-" * (2 * level) + "->" for level in range(8)]


def sut_prefix(level: int) -> str:
    """Items originated by the application side at ``level``: ``<-``, ``<---``, ``<-----``."""
    return _SUT_PREFIXES[level] if level < 8 else "<-" + "-" * (2 * level)


def mock_prefix(level: int) -> str:
    """Items originated by the intercepted side at ``level``: ``->``, ``--->``, ``----->``."""
    return _MOCK_PREFIXES[level] if level < 8 else "-" * (2 * level) + "->"


def split_prefix(head: str) -> tuple[str, str]:
    direction_end = 0
    while direction_end < len(head) and head[direction_end] in _DIRECTION_CHARS:
        direction_end += 1
    return sys.intern(head[:direction_end]), sys.intern(head[direction_end:])


def _encode_breaks(text: str, preserve_cr: bool, preserve_lf: bool) -> str:
    if preserve_cr:
        text = text.replace("\r", "<CR>")
    if preserve_lf:
        text = text.replace("\n", "<LF>")
    return text


def decode_breaks(text: str, preserve_cr: bool, preserve_lf: bool) -> str:
    if preserve_lf:
        text = text.replace("<LF>", "\n")
    if preserve_cr:
        text = text.replace("<CR>", "\r")
    return text


def parse(text: str, path: Optional[str] = None, *, preserve_cr: bool = False,
          preserve_lf: bool = False) -> list[Item]:
    """Split mock-file text into items. Lines before the first item are tolerated and skipped (§2.4).

    Each item's text loses only its terminating newline, so trailing blank lines are kept (module
    docstring). Parsing never fails: any text is a valid (possibly empty) sequence of items. ``path``
    is accepted for symmetry with ``read`` and callers that report positions.
    """
    items: list[Item] = []
    append = items.append
    starts = [(match.start(), match.end(), match.group()) for match in ITEM_START.finditer(text)]
    if not starts:
        return items
    split_prefixes: dict[str, tuple[str, str]] = {}
    line = 1 + text.count("\n", 0, starts[0][0])
    previous = starts[0][0]
    ends = [start for start, _, _ in starts[1:]] + [len(text)]
    for (begin, body_start, head), end in zip(starts, ends):
        line += text.count("\n", previous, begin)
        previous = begin
        prefix_and_type = split_prefixes.get(head)
        if prefix_and_type is None:
            prefix_and_type = split_prefixes[head] = split_prefix(head[:-1])
        append(Item(prefix_and_type[0], prefix_and_type[1], item_value(text, body_start, end, preserve_cr,
                                                                       preserve_lf), line))
    return items


def item_value(text: str, start: int, end: int, preserve_cr: bool = False, preserve_lf: bool = False) -> str:
    """The value of the item whose text runs from ``start`` (after ``TYPE:``) to ``end`` (the next item),
    minus the one newline that ends every item: further trailing newlines are the value's (§4.1).
    Sliced once: values can be hundreds of MB."""
    if end > start and text[end - 1] == "\n":
        end -= 1
    value = unescape(text[start:end])
    return decode_breaks(value, preserve_cr, preserve_lf) if preserve_cr or preserve_lf else value


def item_starts(text: str, begin: int = 0, end: Optional[int] = None) -> Iterator[re.Match]:
    """``ITEM_START.finditer(text, begin, end)``, faster: group 1 of each match is the item head
    (``start(1)``: where the item starts)."""
    end = len(text) if end is None else end
    first = _ITEM_HERE.match(text, begin, end) if begin == 0 or text[begin - 1:begin] == "\n" else None
    later = _ITEM_AFTER_NEWLINE.finditer(text, begin, end)
    return itertools.chain((first,), later) if first is not None else later


# characters from which ``item_heads`` scans with the regex: below, importing ``re`` and compiling the
# pattern (~5 ms, most of a small replay's start-up) costs more than its C scan saves over str methods
_REGEX_SCAN_FROM = 1 << 19


def item_heads(text: str) -> Iterable[tuple[int, str]]:
    """(start, head) of each item start in ``text``, as ``item_starts`` finds them (head: ``<-PYT:``):
    what loading a replay file scans for. A small file is scanned line by line with str methods, a large
    one by the regex."""
    if len(text) >= _REGEX_SCAN_FROM:
        return ((match.start(1), match.group(1)) for match in item_starts(text))
    return _item_heads_by_line(text)


def _item_heads_by_line(text: str, start: int = 0, end: Optional[int] = None) -> list[tuple[int, str]]:
    """``_ITEM_HEAD`` by hand at each line start of ``text[start:end]`` (``start`` one itself): a first
    ':' within 10 characters of the line, and ``<-`` first or ``->`` five characters before it. The lines
    are split and sliced by comprehensions, not walked in a loop: a replaying process's start-up reads
    every line of its mock once (a Python loop was ~8k instructions a line)."""
    lines = text[start:end].split("\n")
    starts = itertools.accumulate(map((1).__add__, map(len, lines)), initial=start)  # each line's, in C
    return [(at, head) for at, line in zip(starts, lines)  # head '' where no ':' is near the line start
            if (head := line[:line.find(":", 0, 10) + 1]) and (head[:2] == "<-" or head[-6:-4] == "->")]


_BOM = "\ufeff"


def read_text(path: str) -> str:
    """The whole file as text, carriage returns kept (no newline translation); an unreadable file is
    a MockFileError naming the path.

    Decoded straight from a memory map, not from a bytes copy: freeing a copy as big as the file makes
    glibc's malloc raise its mmap threshold, and the replay index's arrays then grow by copying inside
    the heap, leaving holes that cost half the file again in RSS (issue #6). A small file is read plainly:
    ``mmap`` is not imported at a replaying process's start-up for it."""
    try:
        with open(path, "rb") as handle:
            status = os.fstat(handle.fileno())
            size = status.st_size
            version = (path, status.st_dev, status.st_ino, size, status.st_mtime_ns)
            if _remembered is not None and version in _remembered:
                return _remembered[version]
            text = _decode_whole(handle) if size >= _MAPPED_SIZE else handle.read().decode(ENCODING, ERRORS)
    except OSError as err:
        raise MockFileError(f"cannot read mock file: {err.strerror or err}", path) from None
    text = text[1:] if text.startswith(_BOM) else text  # an editor's byte-order mark is not traffic
    text = drop_torn(text, path, killed_mid_write=size % os.sysconf("SC_PAGE_SIZE") == 0)  # mmap.PAGESIZE
    if _remembered is not None and time.time_ns() - status.st_mtime_ns > _RACY_NS:
        _remembered[version] = text
    return text


# the texts ``read_text`` has read, by file version, once ``remember_reads`` is called
_remembered: Optional[dict[tuple, str]] = None
# A file modified this recently is never remembered: a rewrite within the same timestamp tick, to the same
# size, would look unchanged (git's "racily clean" entries). An older one changes its mtime if rewritten.
_RACY_NS = 2_000_000_000


def remember_reads() -> None:
    """From now on, a file read again unchanged (same inode, size and modification time, and not modified
    in the two seconds before it was read) is the text read before: for a process that keeps every mock it
    reads for its life anyway (the traffic server indexes its replay file twice, for commands and for
    client/server traffic; 14 MB read twice took 10-20 ms each and held the text twice)."""
    global _remembered
    _remembered = {}


_MAPPED_SIZE = 128 << 10  # glibc's initial mmap threshold: freeing a smaller copy never raises it


def _decode_whole(handle: BinaryIO) -> str:
    import mmap

    try:
        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    except (ValueError, OSError):  # empty, or not mappable (a pipe): read it plainly
        return handle.read().decode(ENCODING, ERRORS)
    with mapped:
        return str(mapped, ENCODING, ERRORS)


def drop_torn(text: str, path: str, *, killed_mid_write: bool = True) -> str:
    """``text`` without the items whose write was cut off (module docstring), so a torn item is
    neither replayed as if whole nor merged with what follows; each one dropped is a warning line.

    A last item without its newline is torn only if ``killed_mid_write`` allows it: the kernel stops a
    killed process's write at a page boundary, so only a file whose size is a multiple of the page size
    can end in a torn write the writer could not undo (a full disk it undoes itself). Any other file
    lacking its final newline was edited by hand, and keeps its last item as CaptureMock 2.10 reads it."""
    kept, start = [], 0
    marker = text.find(_TORN_LINE)
    while marker >= 0:  # rare: only where a write failed and could not be undone
        torn = _torn_from(text, start, marker)
        _warn_torn(text, torn, path, "its recording was cut off")
        kept.append(text[start:torn])
        start = marker + len(_TORN_LINE)
        marker = text.find(_TORN_LINE, start)
    if kept:
        text = "".join(kept) + text[start:]
    torn = _torn_tail(text, killed_mid_write)
    if torn is None:
        return text
    reason = ("its recording was cut off" if text.endswith("\n") else
              "it lacks the newline that ends every recorded item, and ends on a page boundary where a "
              "killed recording stops (if it was edited by hand, end the file with a newline)")
    _warn_torn(text, torn, path, reason)
    return text[:torn]


def _torn_tail(text: str, killed_mid_write: bool) -> Optional[int]:
    """Where the last item starts if it is torn: it lacks the newline that ends every item, or it was
    escaped (a line starts with ESCAPE) and lacks its end mark."""
    if not text:
        return None
    if not text.endswith("\n"):
        return _torn_from(text, 0, len(text)) if killed_mid_write else None
    last = _last_item_start(text, 0, len(text) - 1)
    if last is None:
        return None
    return last if lacks_escape_end(text, text.index(":", last) + 1, len(text) - 1) else None


def lacks_escape_end(text: str, start: int = 0, end: Optional[int] = None) -> bool:
    """Whether the item text ``text[start:end]`` (as written: marks included, terminating newline not)
    has escaped lines but no end line to make them marks: a write cut off, or a hand edit. Bounds, not a
    slice: the last item of a file can be hundreds of MB."""
    end = len(text) if end is None else end
    if not (text.startswith(ESCAPE, start, end) or text.find(_ESCAPED_END, start, end) >= 0):
        return False
    end_line = text.rfind("\n", start, end) + 1
    return not (end_line > start and text.startswith(ESCAPE, end_line, end)
                and text[end_line + len(ESCAPE):end] in _END_FLAGS)


def _torn_from(text: str, low: int, cut: int) -> int:
    """Where the torn write that ends at ``cut`` left its unfinished item: the line a write stopped in
    the head of, else the last item start (else ``low``: no item to keep)."""
    line_start = text.rfind("\n", low, cut) + 1 or low
    if line_start < cut and _PARTIAL_HEAD.fullmatch(text, line_start, cut):
        return line_start
    last = _last_item_start(text, low, cut)
    return low if last is None else last


def _last_item_start(text: str, low: int, cut: int) -> Optional[int]:
    """The start of the last item beginning at a line start in ``text[low:cut + 1]``: line by line back
    from ``cut`` for a few lines (a last item is usually a line or two: every replaying process's start-up
    asks), then a growing stretch at a time (line by line took seconds over a value of a million lines),
    each stretch scanned only where the one before it was not (rescanning took 3 times as long over a
    10 MB value)."""
    line_start = text.rfind("\n", low, cut) + 1 or low
    for _ in range(_BACK_LINES):
        if _is_item_head_at(text, line_start):
            return line_start
        if line_start <= low:
            return None
        line_start = text.rfind("\n", low, line_start - 1) + 1 or low
    stretch = 512  # grown fourfold while no item start is found
    scanned = cut + 11  # heads are looked for before this: a head starting at ``cut`` ends within 10 characters
    while True:
        begin = max(low, cut - stretch)
        if begin > low:  # from a line start: an item head is never cut in two
            begin = text.rfind("\n", low, begin) + 1 or low
        last = None
        scan_from = begin if begin == 0 or text[begin - 1] == "\n" else text.find("\n", begin) + 1 or len(text)
        for start, _ in item_heads_between(text, scan_from, scanned):  # no regex: start-up
            if start > cut:
                break
            last = start
        if last is not None or begin <= low:
            return last
        scanned = min(scanned, scan_from)  # a line start: the scan before it ends with the line before
        stretch *= 4


_BACK_LINES = 16


def _is_item_head_at(text: str, at: int) -> bool:
    """Whether an item head starts a line at ``at``: ``_item_heads_by_line``'s rule for one line."""
    if at and text[at - 1] != "\n":
        return False
    line_end = text.find("\n", at, at + 10)
    colon = text.find(":", at, at + 10 if line_end < 0 else line_end)
    return colon >= 0 and (text.startswith("<-", at, colon) or (colon - 5 >= at and text.startswith("->", colon - 5)))


def item_heads_between(text: str, start: int, end: int) -> list[tuple[int, str]]:
    """``_item_heads_by_line`` over ``text[start:end]`` (``start`` a line start), fast where the stretch
    is a few long lines (a recorded 10 MB body is one): the first lines are found by ``find`` and only
    their first characters looked at, not every line copied and split (0.06 s) nor scanned by a regex
    or counted (7 ms each for 14 MB); from the 65th line on, the rest as ``item_heads`` scans it."""
    heads: list[tuple[int, str]] = []
    for _ in range(_FEW_LINES):
        if start >= end:
            return heads
        line_end = text.find("\n", start, end)
        line_end = end if line_end < 0 else line_end
        heads += _item_heads_by_line(text, start, min(line_end, start + 10))  # a head is within 10
        start = line_end + 1
    if start >= end:
        return heads
    if end - start >= _REGEX_SCAN_FROM:
        return heads + [(match.start(1), match.group(1)) for match in item_starts(text, start, end)]
    return heads + _item_heads_by_line(text, start, end)


_FEW_LINES = 64


def _warn_torn(text: str, start: int, path: str, reason: str) -> None:
    line = text.count("\n", 0, start) + 1
    sys.stderr.write(f"capturemock: WARNING: {path}:{line}: dropped an item: {reason}\n")
    sys.stderr.flush()


def read(path: str, *, preserve_cr: bool = False, preserve_lf: bool = False) -> list[Item]:
    """Read and parse a mock file; unreadable files are a MockFileError naming the path."""
    return parse(read_text(path), path, preserve_cr=preserve_cr, preserve_lf=preserve_lf)


def format_item(prefix: str, type_: str, text: str, *, preserve_cr: bool = False,
                preserve_lf: bool = False) -> str:
    """One item as file text with its terminating newline; empty items are never written (§4.1)."""
    if not text:
        return ""
    if preserve_cr or preserve_lf:
        text = _encode_breaks(text, preserve_cr, preserve_lf)
    if "\n" in text or text.startswith(ESCAPE):  # one-line texts (most of them) never need escaping
        text = escape(text)
    return f"{prefix}{type_}:{text}\n"


def item_parts(prefix: str, type_: str, text: str, *, preserve_cr: bool = False,
               preserve_lf: bool = False) -> list[str]:
    """``format_item``'s text in parts, where ``text`` is written as it is, holding ``text`` itself (a
    large reply is then never copied into its item: ``MockWriter.write_parts``); else the one text."""
    if text and not (preserve_cr or preserve_lf) and escape(text) is text:
        return [prefix, type_, ":", text, "\n"]
    return [format_item(prefix, type_, text, preserve_cr=preserve_cr, preserve_lf=preserve_lf)]


_LENT_FROM = 1 << 16  # characters of a part from which its ASCII characters are written as they are


def _file_bytes(part: str) -> Union[bytes, memoryview]:
    """``part`` as the record file holds it. A large ASCII part (a replayed body) is its own characters,
    lent by the C accelerator, not encoded into a copy: 14 MB of fresh memory cost ~10 ms of page faults."""
    if len(part) >= _LENT_FROM:
        from .accelerator import load_speedups  # only the traffic server writes parts this large

        speedups = load_speedups()
        lent = speedups.ascii_bytes(part) if speedups is not None else None
        if lent is not None:
            return lent
    return part.encode(ENCODING, ERRORS)


class MockWriter:
    """Appends items to a record file, one ``os.write`` per item.

    The file is created on the first item, so no traffic means no file. ``O_APPEND`` plus a single
    write per item keeps items from different threads and processes whole; the lock orders the
    threads of one process and guards ``rewrite_from``.

    Other processes may append to the same file at any time (python subprocesses share one file), so
    the file is changed in place only when that cannot lose or rename their items: the writer holds a
    shared ``flock`` while the file is open (one system call per process, none per item), and
    ``rewrite_from`` needs an exclusive one, which it gets only when no other writer has the file open
    (new writers wait for it in ``_open``). ``_size`` is what the file's size would be had only this
    writer appended since ``_own_from``: any other size means someone else wrote, so only the bytes
    from ``_own_from`` on are known to be this writer's.
    """

    def __init__(self, path: str, *, preserve_cr: bool = False, preserve_lf: bool = False):
        self.path = path
        self.preserve_cr = preserve_cr
        self.preserve_lf = preserve_lf
        self.lock = _thread.RLock()
        self._fd: Optional[int] = None
        self.written = False  # whether any item has been written (stays true after close)
        self._size = 0
        self._own_from = 0
        self._torn = False  # a cut-off write is in the file, not yet followed by the TORN line
        _remember(self)

    def write(self, prefix: str, type_: str, text: str) -> None:
        self.write_text(format_item(prefix, type_, text, preserve_cr=self.preserve_cr,
                                    preserve_lf=self.preserve_lf))

    def write_text(self, text: str) -> None:
        """Append already formatted item text (several items may be written in one go)."""
        if not text:
            return
        data = text.encode(ENCODING, ERRORS)
        with self.lock:
            fd = self._fd if self._fd is not None else self._open()
            if self._torn:  # the TORN line goes out with this item
                data = _TORN_BYTES + data
                self._torn = False
            try:
                written = os.write(fd, data)
            except OSError as err:
                self._failed(fd, data, 0, err)
            if written < len(data):  # a short write (rare): finish it
                self._finish(fd, data, written)
            self._size += len(data)
            self.written = True

    def write_parts(self, text: Union[str, list[str]]) -> None:
        """``write_text`` for a server's record text, which may come in parts (``Transcript.replayed``):
        they go out in one ``writev``, so a large part (a replayed 10 MB body) is never copied into a
        joined text first. Its own method: ``write_text`` is on the Python hot path."""
        if isinstance(text, str):
            self.write_text(text)
            return
        parts = [_file_bytes(part) for part in text]
        with self.lock:
            fd = self._fd if self._fd is not None else self._open()
            if self._torn:
                parts.insert(0, _TORN_BYTES)
                self._torn = False
            size = sum(map(len, parts))
            try:
                written = os.writev(fd, parts)
            except OSError as err:
                self._failed(fd, b"".join(parts), 0, err)
            if written < size:
                self._finish(fd, b"".join(parts), written)
            self._size += size
            self.written = True

    def tell(self) -> int:
        """The current size of the record file in bytes: where an item written next would start."""
        with self.lock:
            return self._sync()

    def rewrite_from(self, offset: int, change: Callable[[str], str]) -> bool:
        """Replace the file's text from ``offset`` (a ``tell()``) by ``change(text)``, if no other writer
        has the file open and every byte from ``offset`` on is this writer's; False if it was left alone.

        Nothing written yet means nothing to change: True."""
        with self.lock:
            if self._fd is None:
                return True
            with self._exclusive() as alone:
                size = self._sync()
                if not alone or not self._own_from <= offset <= size:
                    return False
                self._replace(offset, change)
                return True

    def close(self) -> None:
        with self.lock:
            if self._fd is not None:
                os.close(self._fd)  # also releases the shared lock
                self._fd = None

    def _open(self) -> int:
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT
        try:
            try:
                fd = os.open(self.path, flags, 0o644)
            except FileNotFoundError:  # its directory first (usually there: one open, no stat nor mkdir)
                directory = os.path.dirname(self.path)
                if not directory:
                    raise
                os.makedirs(directory, exist_ok=True)
                fd = os.open(self.path, flags, 0o644)
        except OSError as err:
            raise MockFileError(f"cannot write the record file: {err.strerror or err}", self.path) from None
        _lock_shared(fd)  # waits while another writer rewrites the file
        self._fd = fd
        self._sync()
        return fd

    def _sync(self) -> int:
        """The file's size now; if another writer changed it, only what follows is known to be ours."""
        size = os.fstat(self._fd).st_size if self._fd is not None else _size_of(self.path)
        if size != self._size:
            self._size = self._own_from = size
        return size

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[bool]:
        """Holds the exclusive lock if no other writer has the file open (yields whether it does);
        back to the shared lock afterwards."""
        import fcntl  # here: only a rewrite or a failed write needs more than the shared lock

        try:
            alone = _lock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # the shared lock is gone too (flock converts by unlocking first)
            alone = False
        try:
            yield alone
        finally:
            _lock_shared(self._fd)

    def _replace(self, offset: int, change: Callable[[str], str]) -> None:
        with open(self.path, "rb") as handle:
            handle.seek(offset)
            old = handle.read()
        new = change(old.decode(ENCODING, ERRORS)).encode(ENCODING, ERRORS)
        if new == old:
            return
        os.ftruncate(self._fd, offset)
        self._size = offset
        self.write_text(new.decode(ENCODING, ERRORS))

    def _finish(self, fd: int, data: bytes, written: int) -> None:
        try:
            while written < len(data):
                written += os.write(fd, data[written:])
        except OSError as err:
            self._failed(fd, data, written, err)

    def _failed(self, fd: int, data: bytes, written: int, err: OSError) -> NoReturn:
        """A full disk or an unwritable place: the part written dealt with, and the file named in one
        line rather than a traceback from here."""
        self._torn = data.startswith(_TORN_BYTES)  # still needed if that line did not go out
        self._cut_off(fd, written)
        raise MockFileError(f"cannot write the record file: {err.strerror or err}", self.path) from None

    def _cut_off(self, fd: int, written: int) -> None:
        """After a write failed part way: take its bytes back out if nobody wrote after them, else end
        them with the TORN line so that readers drop them and what others append stays whole: over their
        own last bytes (needing no room on a full disk), or if they are too few, now or before the next item."""
        if not written:
            return
        end = os.lseek(fd, 0, os.SEEK_CUR)  # O_APPEND: just after the bytes this write appended
        with self._exclusive() as alone:
            if alone and os.fstat(fd).st_size == end:
                os.ftruncate(fd, end - written)
                return
        self._size += written
        if written >= len(_TORN_BYTES) and _overwrite(self.path, end - len(_TORN_BYTES), _TORN_BYTES):
            self._torn = False
            return
        self._torn = True
        with contextlib.suppress(OSError):
            if os.write(fd, _TORN_BYTES) == len(_TORN_BYTES):
                self._size += len(_TORN_BYTES)
                self._torn = False


def _overwrite(path: str, offset: int, data: bytes) -> bool:
    """Write ``data`` over bytes already in the file (an ``O_APPEND`` descriptor can only append)."""
    try:
        fd = os.open(path, os.O_WRONLY)
        try:
            return os.pwrite(fd, data, offset) == len(data)
        finally:
            os.close(fd)
    except OSError:
        return False


def _lock(fd: int, operation: int) -> bool:
    """``flock``, where the file system has it (else nothing is locked, and True)."""
    import fcntl

    try:
        fcntl.flock(fd, operation)
    except OSError as err:
        if isinstance(err, BlockingIOError):
            raise
    return True


def _lock_shared(fd: int) -> None:
    """``_lock(fd, LOCK_SH)``, by the C accelerator where built: every writer takes it, and ``fcntl`` would
    cost each intercepted process's start-up ~0.4 M instructions to load."""
    from .accelerator import load_speedups

    speedups = load_speedups()
    if speedups is None:
        import fcntl

        _lock(fd, fcntl.LOCK_SH)
        return
    with contextlib.suppress(OSError):  # a file system without flock: nothing is locked, as in ``_lock``
        speedups.flock_shared(fd)


def _size_of(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


# the writers alive, each by id() as a weak reference that takes itself out when its writer goes
_WRITERS: dict[int, ref] = {}


def _remember(writer: MockWriter) -> None:
    key = id(writer)
    _WRITERS[key] = ref(writer, lambda _gone: _WRITERS.pop(key, None))


def _forget_inherited_files() -> None:
    """A forked child must not write through its parent's open file (and lock): it opens its own."""
    for writer in filter(None, (alive() for alive in list(_WRITERS.values()))):
        if writer._fd is not None:
            os.close(writer._fd)
            writer._fd = None


os.register_at_fork(after_in_child=_forget_inherited_files)
