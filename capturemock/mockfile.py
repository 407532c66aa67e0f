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
  item whose last line is exactly ``ESCAPE``, so an item recorded by the original is never touched
  unless its last line is that unlikely text.
* Carriage returns. Values are split into lines only at ``\\n`` and files are read without newline
  translation, so a ``\\r`` is data (the original's reader turned it into ``\\n``).
"""
from __future__ import annotations

import mmap
import os
import re
import sys
import threading
from typing import BinaryIO, NamedTuple, Optional

from .errors import MockFileError

ENCODING = "utf-8"
# Undecodable bytes survive a write/read round trip as lone surrogates instead of being lost.
ERRORS = "surrogateescape"
_DIRECTION_CHARS = "<->"
ESCAPE = "|capturemock|"  # 13 characters, no ':': never part of an item start
# §4.1: an item starts a line with a prefix shorter than 10 characters before the first ':' that
# either starts with '<-' or ends with '->' plus a three-letter type.
_ITEM_HEAD = r"(?:<-[^:\n]{0,7}|[^:\n]{0,4}->[^:\n]{3}):"
ITEM_START = re.compile(f"^{_ITEM_HEAD}", re.M)
# the lines ``escape`` marks, and the marks ``unescape`` removes: one regex pass each, no line lists
_LINE_TO_MARK = re.compile(f"^(?={re.escape(ESCAPE)}|{_ITEM_HEAD})", re.M)
_MARK = re.compile(f"\n{re.escape(ESCAPE)}\\Z|^{re.escape(ESCAPE)}", re.M)  # the end line, then the marks
_LINE_TO_MARK_OR_END = re.compile(f"{_LINE_TO_MARK.pattern}|\\Z", re.M)


class Item(NamedTuple):
    """One traffic item: ``<prefix><type>:<text>``, e.g. prefix ``<-``, type ``PYT``.

    A named tuple rather than a dataclass: replay files can hold millions of items, and tuples are
    the cheapest immutable records to build and keep.
    """

    prefix: str
    type: str
    text: str
    line: int = 0

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


def needs_escape(text: str) -> bool:
    """Whether the original format would mis-split ``text``, or ``text`` could pass for escaped."""
    if text.startswith(ESCAPE):
        return True
    first_break = text.find("\n")
    if first_break < 0:
        return False
    return _ESCAPED_END in text or ITEM_START.search(text, first_break + 1) is not None


def escape(text: str) -> str:
    """``text`` as an item body that reads back unchanged; unchanged itself when nothing would be lost."""
    if not needs_escape(text):
        return text
    return _LINE_TO_MARK_OR_END.sub(_mark_or_end, text)  # one pass, one copy: values can be huge


def _mark_or_end(match: re.Match) -> str:
    return _ESCAPED_END if match.start() == len(match.string) else ESCAPE


def unescape(text: str) -> str:
    """Undo ``escape`` for an item body read back (its terminating newline already removed)."""
    if not text.endswith(_ESCAPED_END):
        return text
    return _MARK.sub("", text)


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


def mentions(text: str, pattern: re.Pattern) -> bool:
    """Whether a line of mock-file ``text`` matches ``pattern``, ``^`` anchoring at each line start:
    how intercepts are filtered in replay (§5.2), without indexing the file."""
    return re.compile(pattern.pattern, pattern.flags | re.M).search(text) is not None


_BOM = "\ufeff"


def read_text(path: str) -> str:
    """The whole file as text, carriage returns kept (no newline translation); an unreadable file is
    a MockFileError naming the path.

    Decoded straight from a memory map, not from a bytes copy: freeing a copy as big as the file makes
    glibc's malloc raise its mmap threshold, and the replay index's arrays then grow by copying inside
    the heap, leaving holes that cost half the file again in RSS (issue #6)."""
    try:
        with open(path, "rb") as handle:
            text = _decode_whole(handle)
    except OSError as err:
        raise MockFileError(f"cannot read mock file: {err.strerror or err}", path) from None
    return text[1:] if text.startswith(_BOM) else text  # an editor's byte-order mark is not traffic


def _decode_whole(handle: BinaryIO) -> str:
    try:
        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    except (ValueError, OSError):  # empty, or not mappable (a pipe): read it plainly
        return handle.read().decode(ENCODING, ERRORS)
    with mapped:
        return str(mapped, ENCODING, ERRORS)


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


class MockWriter:
    """Appends items to a record file, one ``os.write`` per item.

    The file is created on the first item, so no traffic means no file. ``O_APPEND`` plus a single
    write per item keeps items from different threads and processes whole; the lock orders the
    threads of one process and guards ``replace_from``.
    """

    def __init__(self, path: str, *, preserve_cr: bool = False, preserve_lf: bool = False):
        self.path = path
        self.preserve_cr = preserve_cr
        self.preserve_lf = preserve_lf
        self.lock = threading.RLock()
        self._fd: Optional[int] = None
        self.written = False  # whether any item has been written (stays true after close)

    def write(self, prefix: str, type_: str, text: str) -> None:
        self.write_text(format_item(prefix, type_, text, preserve_cr=self.preserve_cr,
                                    preserve_lf=self.preserve_lf))

    def write_text(self, text: str) -> None:
        """Append already formatted item text (several items may be written in one go)."""
        if not text:
            return
        data = text.encode(ENCODING, ERRORS)
        with self.lock:
            try:
                fd = self._fd if self._fd is not None else self._open()
                written = os.write(fd, data)
                if written < len(data):  # a short write (rare): finish it
                    _write_all(fd, data[written:])
            except OSError as err:  # unwritable place, full disk: the file named, not a traceback from here
                raise MockFileError(f"cannot write the record file: {err.strerror or err}", self.path) from None
            self.written = True

    def tell(self) -> int:
        """The current size of the record file in bytes (0 before the first item)."""
        with self.lock:
            return os.fstat(self._fd).st_size if self._fd is not None else 0

    def replace_from(self, offset: int, old: str, new: str) -> None:
        """Rewrite everything after ``offset`` with ``old`` replaced by ``new`` (python renames, §4.2)."""
        with self.lock:
            if self._fd is None:
                return
            with open(self.path, "rb") as handle:
                handle.seek(offset)
                tail = handle.read().decode(ENCODING, ERRORS)
            updated = tail.replace(old, new).encode(ENCODING, ERRORS)
            os.ftruncate(self._fd, offset)
            _write_all(self._fd, updated)

    def close(self) -> None:
        with self.lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def _open(self) -> int:
        if self._fd is None:
            directory = os.path.dirname(self.path)
            if directory:
                os.makedirs(directory, exist_ok=True)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        return self._fd


def _write_all(fd: int, data: bytes) -> None:
    while data:
        data = data[os.write(fd, data):]
