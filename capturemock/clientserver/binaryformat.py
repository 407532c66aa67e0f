"""Binary messages as mock-file text and back, for ``server_protocol = tcp_header`` (§8.8).

A message is a header described by the rc section ``[tcp_header]`` (``format``: a Python ``struct``
format; ``fields``: names for its values) and a body whose section is named by the header's ``type``
(``[PING]``, with its own ``format``/``fields``; ``N$`` there is a string whose length is the integer
before it). The body length comes from the header's ``length``
(the body alone) or ``msg_size`` (header and body). Text form, as 2.10 writes it:

    PING {'channel': 6}
    {'seq': 5, 'status': b'ok'}

the type and the remaining header fields (``length``, ``msg_size`` and ``assume``d values left out),
then the body's fields pretty-printed in order, or the body decoded as text when its type has no
section; values beyond ``fields`` and the hex of bytes beyond the format are ``parameters``, a body
the format does not fit is ``{'unknown_format': '<hex>'}``. ``assume = name=value,...`` leaves values
equal to the assumption out of the text and puts them back when packing. Reading text back parses
Python literals only (``ast.literal_eval``), never code.

Not built (yet) of 2.10's format language: ``[...]`` lists, ``(...)`` unions, several alternative
formats, ``enforce``, ``incomplete`` chunks, footers, sub-types, ``[enums]``, ``[list_elements]``,
``Time`` and ``_leastsig`` fields: formats with lists or unions, ``enforce`` and ``incomplete`` are
refused at start-up; the other keys are not read.
"""
from __future__ import annotations

import ast
import pprint
import struct
from typing import Any, Optional

from ..config import RcConfig
from ..errors import ConfigError, MockFileError

HEADER = "tcp_header"
SIZES = ("length", "msg_size")  # recomputed when packing: never in the text
WIDTH = 200
_UNSUPPORTED = set("[](){}|=,;")


class Layout:
    """One rc section: a struct format, the names of its values and the assumed ones. The format may
    hold ``$`` strings: the integer before ``$`` is the length of the bytes that follow (negative: None,
    left out of the text), shown as text when they are UTF-8, else as ``0x`` and hex."""

    def __init__(self, config: RcConfig, section: str):
        where = config.where("format", [section])
        text = (config.get("format", [section]) or "").strip()
        if not text:
            raise ConfigError(f"tcp_header: section [{section}] needs a format", *where)
        if _UNSUPPORTED & set(text):
            raise ConfigError(f"tcp_header: [{section}] format {text!r} uses 2.10 format extensions "
                              "(lists, unions, several formats) that are not supported yet", *where)
        try:
            self.pieces, self.slots = _pieces(text)
        except (struct.error, ValueError) as err:
            raise ConfigError(f"tcp_header: [{section}] format {text!r}: {err}", *where) from None
        self.size = sum(piece.size for piece, _ in self.pieces)  # the fixed part: all of it without strings
        self.fields = config.getlist("fields", [section])
        self.assume = {name.strip(): value.strip() for name, _, value in
                       (part.partition("=") for part in config.getlist("assume", [section]))}
        for name in ("enforce", "incomplete"):
            if config.get(name, [section]):
                raise ConfigError(f"tcp_header: [{section}] {name} is not supported yet",
                                  *config.where(name, [section]))

    @property
    def has_strings(self) -> bool:
        return "$" in self.slots

    def unpack(self, data: bytes) -> Optional[dict[str, Any]]:
        """The named values (None values left out), or None if ``data`` does not fit the format. As 2.10:
        values beyond ``fields``, and the hex of bytes beyond the format, are listed as ``parameters``."""
        values: list[Any] = []
        offset = 0
        try:
            for piece, is_string in self.pieces:
                got = list(piece.unpack_from(data, offset))
                offset += piece.size
                if is_string:
                    length = got.pop()
                    if length > len(data) - offset:
                        return None
                    got.append(None if length < 0 else _string(data[offset:offset + max(length, 0)]))
                    offset += max(length, 0)
                values += got
        except struct.error:
            return None
        named = {name: value for name, value in zip(self.fields, values) if value is not None}
        surplus = values[len(self.fields):] + ([data[offset:].hex()] if offset < len(data) else [])
        if surplus:
            named["parameters"] = surplus
        return named

    def shown(self, values: dict[str, Any], hidden: tuple[str, ...] = ()) -> dict[str, Any]:
        """The values written in the text: not ``hidden``, not equal to their assumption."""
        return {name: value for name, value in values.items()
                if name not in hidden and not (name in self.assume and _same(value, self.assume[name]))}

    def pack(self, shown: dict[str, Any], computed: Optional[dict[str, Any]] = None) -> bytes:
        values = {name: _literal(text) for name, text in self.assume.items()}
        values.update(shown)
        values.update(computed or {})
        parameters = list(values.get("parameters", []))
        ordered = [values.get(name, None if code == "$" else _zero(code))
                   for name, code in zip(self.fields, self.slots)]
        extra = len(self.slots) - len(ordered)
        ordered += parameters[:extra]
        data = b""
        for piece, is_string in self.pieces:
            count = len(_codes(piece.format))  # a string piece: its length code stands for the string
            taken, ordered = ordered[:count], ordered[count:]
            if is_string:
                raw = taken.pop()
                body = b"" if raw is None else _string_bytes(raw)
                data += piece.pack(*taken, -1 if raw is None else len(body)) + body
            else:
                data += piece.pack(*taken)
        return data + b"".join(bytes.fromhex(part) for part in parameters[extra:])


class BinaryCodec:
    """The message layouts of one session's rc files: framing, and bytes <-> text."""

    def __init__(self, config: RcConfig):
        if not config.has_section(HEADER):
            raise ConfigError("server_protocol = tcp_header needs a [tcp_header] section with format and fields",
                              ",".join(config.files) or None)
        self.header = Layout(config, HEADER)
        if self.header.has_strings:
            raise ConfigError("tcp_header: the [tcp_header] format must have a fixed size ($ strings only in bodies)",
                              *config.where("format", [HEADER]))
        self.bodies = {section: Layout(config, section) for section in config.sections()
                       if section not in (HEADER, "general") and config.get("format", [section])}
        _refuse_not_built(config, self.bodies)

    def _type_code(self) -> Optional[str]:
        fields = self.header.fields
        return self.header.slots[fields.index("type")] if "type" in fields else None

    def body_size(self, header: dict[str, Any]) -> int:
        if "length" in header:
            return int(header["length"])
        if "msg_size" in header:
            return int(header["msg_size"]) - self.header.size
        return 0

    def to_text(self, header: dict[str, Any], body: bytes) -> str:
        type_ = _as_text(header.get("type", ""))
        first = f"{type_} {self.header.shown(header, ('type', *SIZES))!r}"
        layout = self.bodies.get(type_)
        if layout is None:
            return first + ("\n" + body.decode("utf-8", "surrogateescape") if body else "")
        values = layout.unpack(body)
        shown = {"unknown_format": body.hex()} if values is None else layout.shown(values)
        return first + "\n" + pprint.pformat(shown, width=WIDTH, sort_dicts=False)

    def to_bytes(self, text: str) -> bytes:
        """A recorded message back to bytes (MockFileError when its text cannot be read)."""
        first, _, rest = text.partition("\n")
        type_, _, header_text = first.partition(" ")
        header = _parse_dict(header_text or "{}", first)
        layout = self.bodies.get(type_)
        if layout is not None:
            values = _parse_dict(rest, rest)
            unknown = values.get("unknown_format")
            body = bytes.fromhex(unknown) if isinstance(unknown, str) else layout.pack(values)
        else:
            body = rest.encode("utf-8", "surrogateescape")
        header_type = type_.encode() if self._type_code() == "s" else _literal(type_)
        computed = {"type": header_type, "length": len(body), "msg_size": self.header.size + len(body)}
        return self.header.pack(header, computed) + body


NOT_BUILT_SECTIONS = ("tcp_footer", "enums", "list_elements")
NOT_BUILT_SETTINGS = ("tcp_padding", "client_passive")


def _refuse_not_built(config: RcConfig, bodies: dict[str, Layout]) -> None:
    """2.10 features that change the bytes or the text, not built yet: refused, never silently ignored
    (a mock recorded by 2.10 with them would replay wrong)."""
    for name in NOT_BUILT_SETTINGS:
        if config.setting("general", name):
            raise ConfigError(f"tcp_header: {name} is not supported yet", *config.where(name, ["general"]))
    for section in [*NOT_BUILT_SECTIONS, *bodies]:
        if config.has_section(section) and (section in NOT_BUILT_SECTIONS or
                                            section.endswith(("_header", "_intermediate")) or "." in section):
            raise ConfigError(f"tcp_header: [{section}] (footers, sub-types, chunks, enums, list elements) "
                              "is not supported yet", *config.where("format", [section]))


def _pieces(text: str) -> tuple[list[tuple[struct.Struct, bool]], list[str]]:
    """The format as consecutive structs (each flagged when its last value is the length of a string
    that follows) and one code per value ('$' for a string)."""
    order = text[0] if text[0] in "@=<>!" else ""
    parts = text[len(order):].split("$")
    pieces, slots = [], []
    for index, part in enumerate(parts):
        is_string = index < len(parts) - 1
        codes = _codes(part)
        if is_string and (not codes or codes[-1] not in "bBhHiIlLqQ"):
            raise ValueError("'$' must follow an integer code (the string's length)")
        if part:
            pieces.append((struct.Struct(order + part), is_string))
        slots += codes[:-1] + ["$"] if is_string else codes
    return pieces, slots


def _string(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return "0x" + data.hex()


def _string_bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    text = str(value)
    if text.startswith("0x"):
        try:
            return bytes.fromhex(text[2:])
        except ValueError:
            pass
    return text.encode("utf-8")


def _parse_dict(text: str, shown: str) -> dict[str, Any]:
    try:
        value = ast.literal_eval(text.strip() or "{}")
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        value = None
    if not isinstance(value, dict):
        raise MockFileError(f"tcp_header: cannot read {shown[:80]!r} as a dict of values")
    return value


def _codes(fmt: str) -> list[str]:
    """The value codes of a struct format, one per value ('4s' is one 's'; '2i' is two 'i')."""
    codes, count = [], ""
    for char in fmt.lstrip("@=<>!"):
        if char.isdigit():
            count += char
            continue
        if char in "sp":
            codes.append(char)
        elif char != "x":
            codes.extend(char * int(count or 1))
        count = ""
    return codes


def _zero(code: str) -> Any:
    return b"" if code in "sp" else (False if code == "?" else 0)


def _same(value: Any, assumed: str) -> bool:
    return value == _literal(assumed) or _as_text(value) == assumed


def _literal(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text.encode() if text else text


def _as_text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.rstrip(b"\0").decode("utf-8", "surrogateescape")
    return str(value)
