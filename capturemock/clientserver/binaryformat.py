"""Binary messages as mock-file text and back, for ``server_protocol = tcp_header`` (§8.8).

A message is a header described by the rc section ``[tcp_header]`` (``format``: a Python ``struct``
format; ``fields``: names for its values) and a body whose section is named by the header's ``type``
(``[PING]``, with its own ``format``/``fields``). The body length comes from the header's ``length``
(the body alone) or ``msg_size`` (header and body). Text form, as 2.10 writes it:

    PING {'channel': 6}
    {'seq': 5, 'status': b'ok'}

the type and the remaining header fields (``length``, ``msg_size`` and ``assume``d values left out),
then the body's fields pretty-printed in order, or the body decoded as text when its type has no
section. ``assume = name=value,...`` leaves values equal to the assumption out of the text and puts
them back when packing. Reading text back parses Python literals only (``ast.literal_eval``), never code.

Not built (yet) of 2.10's format language: ``N$`` strings, ``[...]`` lists, ``(...)`` unions, several
alternative formats, ``enforce``, ``incomplete`` chunks, footers, sub-types, ``[enums]``,
``[list_elements]``, ``Time`` and ``_leastsig`` fields; a section using them is refused at start-up.
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
_UNSUPPORTED = set("$[]()|=")


class Layout:
    """One rc section: a struct format, the names of its values and the assumed ones."""

    def __init__(self, config: RcConfig, section: str):
        where = config.where("format", [section])
        text = (config.get("format", [section]) or "").strip()
        if not text:
            raise ConfigError(f"tcp_header: section [{section}] needs a format", *where)
        if _UNSUPPORTED & set(text):
            raise ConfigError(f"tcp_header: [{section}] format {text!r} uses 2.10 format extensions "
                              "($ strings, lists, unions) that are not supported yet", *where)
        try:
            self.struct = struct.Struct(text)
        except struct.error as err:
            raise ConfigError(f"tcp_header: [{section}] format {text!r}: {err}", *where) from None
        self.fields = config.getlist("fields", [section])
        self.assume = {name.strip(): value.strip() for name, _, value in
                       (part.partition("=") for part in config.getlist("assume", [section]))}
        for name in ("enforce", "incomplete"):
            if config.get(name, [section]):
                raise ConfigError(f"tcp_header: [{section}] {name} is not supported yet",
                                  *config.where(name, [section]))

    @property
    def size(self) -> int:
        return self.struct.size

    def unpack(self, data: bytes) -> dict[str, Any]:
        """The named values; values beyond ``fields`` are named ``parameters``, as 2.10."""
        values = list(self.struct.unpack(data[:self.size]))
        named = dict(zip(self.fields, values))
        if len(values) > len(self.fields):
            named["parameters"] = values[len(self.fields):]
        return named

    def shown(self, values: dict[str, Any], hidden: tuple[str, ...] = ()) -> dict[str, Any]:
        """The values written in the text: not ``hidden``, not equal to their assumption."""
        return {name: value for name, value in values.items()
                if name not in hidden and not (name in self.assume and _same(value, self.assume[name]))}

    def pack(self, shown: dict[str, Any], computed: Optional[dict[str, Any]] = None) -> bytes:
        values = {name: _literal(text) for name, text in self.assume.items()}
        values.update(shown)
        values.update(computed or {})
        ordered = [values.get(name, _zero(code)) for name, code in zip(self.fields, _codes(self.struct.format))]
        ordered += list(values.get("parameters", []))
        return self.struct.pack(*ordered)


class BinaryCodec:
    """The message layouts of one session's rc files: framing, and bytes <-> text."""

    def __init__(self, config: RcConfig):
        if not config.has_section(HEADER):
            raise ConfigError("server_protocol = tcp_header needs a [tcp_header] section with format and fields",
                              ",".join(config.files) or None)
        self.header = Layout(config, HEADER)
        self.bodies = {section: Layout(config, section) for section in config.sections()
                       if section not in (HEADER, "general") and config.get("format", [section])}

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
        if layout is not None and len(body) >= layout.size:
            values = layout.unpack(body)
            rest = body[layout.size:]
            if rest:
                values["additional_data"] = rest.hex()
            return first + "\n" + pprint.pformat(layout.shown(values), width=WIDTH, sort_dicts=False)
        return first + ("\n" + body.decode("utf-8", "surrogateescape") if body else "")

    def to_bytes(self, text: str) -> bytes:
        """A recorded message back to bytes (MockFileError when its text cannot be read)."""
        first, _, rest = text.partition("\n")
        type_, _, header_text = first.partition(" ")
        header = _parse_dict(header_text or "{}", first)
        layout = self.bodies.get(type_)
        if layout is not None:
            values = _parse_dict(rest, rest)
            extra = bytes.fromhex(values.pop("additional_data", ""))
            body = layout.pack(values) + extra
        else:
            body = rest.encode("utf-8", "surrogateescape")
        header_type = type_.encode() if _codes(self.header.struct.format)[0:1] == ["s"] else _literal(type_)
        computed = {"type": header_type, "length": len(body), "msg_size": self.header.size + len(body)}
        return self.header.pack(header, computed) + body


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
