"""2.10's binary format language (§8.8): a Python ``struct`` format extended with strings, lists and
unions, parsed into a tree that unpacks bytes into values and packs them back. No I/O, no names: the
rc sections' ``fields`` and the value conveniences live in ``binaryformat``.

    i$          a string whose length is the integer before it (negative: None, 0: '')
    H[Ib]       a list of H elements, each an ``Ib`` (one value: the value, else a tuple)
    H*[I]       the same, H counting the elements' bytes
    H[]         H empty elements: ``()`` each
    B(|I|HH)    a union: the B value picks the alternative (empty: None); written (B, value)
    B(1=I|2=H)  bit flags: the templates of the set bits, concatenated; written (B, values)

A whole format may list alternatives separated by ``,``; ``Format.fits`` yields those that fit, in order.
Every count is bounded by the bytes there are (``MAX_EMPTY_ITEMS`` for elements of no bytes), so a
hostile length field costs no more than the message it came in.
"""
from __future__ import annotations

import struct
from typing import Any, Iterator, Optional

ORDERS = "@=<>!"
INTEGERS = "bBhHiIlLqQnN"
MAX_EMPTY_ITEMS = 1 << 16  # elements of no bytes (``H[]``) one list may hold


class LayoutError(ValueError):
    """A format string the language does not describe."""


class Misfit(Exception):
    """The bytes do not fit the format (too short, a count beyond them, an unknown union choice)."""


class Node:
    """One part of a sequence; ``arity`` values at its level."""

    arity = 1
    min_size = 0

    def unpack(self, data: bytes, offset: int, out: list) -> int:
        raise NotImplementedError

    def pack(self, values: Iterator[Any]) -> bytes:
        raise NotImplementedError


class Codes(Node):
    """Plain struct codes."""

    def __init__(self, order: str, fmt: str):
        self.struct = struct.Struct(order + fmt)
        self.codes = value_codes(fmt)
        self.arity = len(self.codes)
        self.min_size = self.struct.size

    def unpack(self, data: bytes, offset: int, out: list) -> int:
        try:
            out += self.struct.unpack_from(data, offset)
        except struct.error:
            raise Misfit from None
        return offset + self.struct.size

    def pack(self, values: Iterator[Any]) -> bytes:
        return self.struct.pack(*(_packable(code, next(values)) for code in self.codes))


class _Counted(Node):
    """A node led by an integer (a length, a count, a choice)."""

    def __init__(self, order: str, code: str):
        self.lead = struct.Struct(order + code)
        self.min_size = self.lead.size

    def read_lead(self, data: bytes, offset: int) -> tuple[int, int]:
        try:
            return self.lead.unpack_from(data, offset)[0], offset + self.lead.size
        except struct.error:
            raise Misfit from None


class String(_Counted):
    def unpack(self, data: bytes, offset: int, out: list) -> int:
        length, offset = self.read_lead(data, offset)
        if length > len(data) - offset:
            raise Misfit
        out.append(None if length < 0 else decode_string(data[offset:offset + length]))
        return offset + max(length, 0)

    def pack(self, values: Iterator[Any]) -> bytes:
        value = next(values)
        raw = b"" if value is None else string_bytes(value)
        return self.lead.pack(-1 if value is None else len(raw)) + raw


class List(_Counted):
    """``N[...]``, ``N*[...]`` (``by_bytes``) and ``N[]`` (no element: empty tuples)."""

    def __init__(self, order: str, code: str, element: Optional[Sequence], by_bytes: bool):
        super().__init__(order, code)
        self.element, self.by_bytes = element, by_bytes

    def unpack(self, data: bytes, offset: int, out: list) -> int:
        count, offset = self.read_lead(data, offset)
        if self.element is None:
            if not 0 <= count <= MAX_EMPTY_ITEMS:
                raise Misfit
            out.append([()] * count)
            return offset
        if self.by_bytes:
            end = offset + count
            if count < 0 or end > len(data):
                raise Misfit
            items = []
            while offset < end:
                offset = self.element.unpack_one(data[:end], offset, items)
            out.append(items)
            return offset
        if count < 0 or count * self.element.min_size > len(data) - offset:
            raise Misfit  # every element takes bytes (an empty one is ``N[]``): the count is bounded by them
        items = []
        for _ in range(count):
            offset = self.element.unpack_one(data, offset, items)
        out.append(items)
        return offset

    def pack(self, values: Iterator[Any]) -> bytes:
        items = list(next(values) or [])
        if self.element is None:
            return self.lead.pack(len(items))
        body = b"".join(self.element.pack_one(item) for item in items)
        return self.lead.pack(len(body) if self.by_bytes else len(items)) + body


class Union(_Counted):
    """``N(a|b|...)``: the value picks one alternative; ``N(1=a|2=b)``: each set bit adds its template."""

    def __init__(self, order: str, code: str, choices: list[Sequence], bits: Optional[list[int]]):
        super().__init__(order, code)
        self.choices, self.bits = choices, bits

    def _chosen(self, lead: int) -> list[Sequence]:
        if self.bits is None:
            if not 0 <= lead < len(self.choices):
                raise Misfit
            return [self.choices[lead]]
        return [choice for bit, choice in zip(self.bits, self.choices) if lead & bit]

    def unpack(self, data: bytes, offset: int, out: list) -> int:
        lead, offset = self.read_lead(data, offset)
        values: list = []
        for choice in self._chosen(lead):
            offset = choice.unpack(data, offset, values)
        if self.bits is None and not values:
            out.append((lead, None))
        else:
            out.append((lead, values[0] if len(values) == 1 else tuple(values)))
        return offset

    def pack(self, values: Iterator[Any]) -> bytes:
        lead, value = _pair(next(values))
        chosen = self._chosen(lead)
        arity = sum(choice.arity for choice in chosen)
        inner = iter([value] if arity == 1 else list(value or ()))
        return self.lead.pack(lead) + b"".join(choice.pack(inner) for choice in chosen)


class Sequence:
    """Nodes one after the other: one format, a list element or a union alternative."""

    def __init__(self, nodes: list[Node]):
        self.nodes = nodes
        self.arity = sum(node.arity for node in nodes)
        self.min_size = sum(node.min_size for node in nodes)

    def unpack(self, data: bytes, offset: int, out: list) -> int:
        for node in self.nodes:
            offset = node.unpack(data, offset, out)
        return offset

    def unpack_one(self, data: bytes, offset: int, items: list) -> int:
        """One list element: its value, or the tuple of its values."""
        values: list = []
        end = self.unpack(data, offset, values)
        if end == offset and not self.min_size:
            raise Misfit  # an element of no bytes counted by bytes would never end
        items.append(values[0] if len(values) == 1 else tuple(values))
        return end

    def pack(self, values: Iterator[Any]) -> bytes:
        return b"".join(node.pack(values) for node in self.nodes)

    def pack_one(self, item: Any) -> bytes:
        return self.pack(iter([item] if self.arity == 1 else list(item)))


class Format:
    """One ``format`` value: its alternatives, each a Sequence."""

    def __init__(self, text: str):
        self.alternatives = [_Parser(part.strip()).sequence_all() for part in _split_top(text, ",")]
        self.size = self.alternatives[0].min_size

    @property
    def fixed(self) -> bool:
        """Whether every message has the same size (a header must)."""
        return len(self.alternatives) == 1 and all(isinstance(node, Codes) for node in self.alternatives[0].nodes)

    def fits(self, data: bytes) -> Iterator[tuple[int, list, bytes]]:
        """Each alternative that fits, in order: its index, its values and the bytes beyond it."""
        for index, alternative in enumerate(self.alternatives):
            values: list = []
            try:
                end = alternative.unpack(data, 0, values)
            except Misfit:
                continue
            yield index, values, data[end:]

    def pack(self, values: list, alternative: int = 0) -> bytes:
        """Raises ValueError, TypeError, StopIteration or ``struct.error`` when the values do not fit."""
        return self.alternatives[alternative].pack(iter(values))


class _Parser:
    def __init__(self, text: str):
        self.order = text[0] if text[:1] and text[0] in ORDERS else ""
        self.text, self.pos = text, len(self.order)

    def sequence_all(self) -> Sequence:
        sequence = self.sequence()
        if self.pos < len(self.text):
            raise LayoutError(f"unexpected {self.text[self.pos]!r} at position {self.pos}")
        return sequence

    def sequence(self) -> Sequence:
        nodes: list[Node] = []
        plain = ""
        while self.pos < len(self.text) and self.text[self.pos] not in "])|":
            count = self._digits()
            code = self._take()
            if not code or not (code.isalpha() or code == "?"):
                raise LayoutError(f"unexpected {code or 'end'!r} at position {self.pos - 1}")
            follows = self.text[self.pos:self.pos + 1]
            if follows in ("$", "[", "*", "("):
                if count or code not in INTEGERS:
                    raise LayoutError(f"{follows!r} must follow one integer code (its length, count or choice)")
                if plain:
                    nodes.append(Codes(self.order, plain))
                    plain = ""
                nodes.append(self._counted(code))
            else:
                plain += count + code
        if plain:
            nodes.append(Codes(self.order, plain))
        return Sequence(nodes)

    def _counted(self, code: str) -> Node:
        lead = self._take()
        if lead == "$":
            return String(self.order, code)
        if lead == "(":
            return self._union(code)
        by_bytes = lead == "*"
        if by_bytes and self._take() != "[":
            raise LayoutError("'*' must be followed by '['")
        if self.text[self.pos:self.pos + 1] == "]":
            self.pos += 1
            return List(self.order, code, None, by_bytes)
        element = self.sequence()
        self._expect("]")
        return List(self.order, code, element, by_bytes)

    def _union(self, code: str) -> Union:
        choices: list[Sequence] = []
        bits: list[int] = []
        while True:
            bit = self._bit()
            if bit is not None:
                bits.append(bit)
            choices.append(self.sequence())
            end = self._take()
            if end == ")":
                break
            if end != "|":
                raise LayoutError("a union '(' must end with ')'")
        if bits and len(bits) != len(choices):
            raise LayoutError("bit flags: every alternative needs its bit ('1=I|2=H')")
        return Union(self.order, code, choices, bits or None)

    def _bit(self) -> Optional[int]:
        start = self.pos
        digits = self._digits()
        if digits and self.text[self.pos:self.pos + 1] == "=":
            self.pos += 1
            return int(digits)
        self.pos = start
        return None

    def _digits(self) -> str:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos].isdigit():
            self.pos += 1
        return self.text[start:self.pos]

    def _take(self) -> str:
        char = self.text[self.pos:self.pos + 1]
        self.pos += len(char)
        return char

    def _expect(self, char: str) -> None:
        if self._take() != char:
            raise LayoutError(f"missing {char!r}")


def _split_top(text: str, sep: str) -> list[str]:
    """``text`` split at ``sep`` outside brackets and parentheses."""
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        depth += char in "[(" and 1 or (-1 if char in "])" else 0)
        if char == sep and depth == 0:
            parts.append(text[start:index])
            start = index + 1
    return parts + [text[start:]]


def _packable(code: str, value: Any) -> Any:
    """A value left out of the text (None) packs as zero; a text as bytes where the code wants them."""
    if code in "sp":
        return b"" if value is None else string_bytes(value)
    if value is None:
        return False if code == "?" else 0
    return value


def _pair(value: Any) -> tuple[int, Any]:
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise ValueError(f"a union value is (choice, value), not {value!r}")
    return int(value[0]), value[1]


def value_codes(fmt: str) -> list[str]:
    """The value codes of a plain struct format, one per value ('4s' is one 's'; '2i' is two 'i')."""
    codes, count = [], ""
    for char in fmt.lstrip(ORDERS):
        if char.isdigit():
            count += char
            continue
        if char in "sp":
            codes.append(char)
        elif char != "x":
            codes.extend(char * int(count or 1))
        count = ""
    return codes


def decode_string(data: bytes) -> str:
    """A ``$`` string as 2.10 shows it: text when UTF-8, else ``0x`` and hex."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return "0x" + data.hex()


def string_bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    text = str(value)
    if text.startswith("0x"):
        try:
            return bytes.fromhex(text[2:])
        except ValueError:
            pass
    return text.encode("utf-8")
