"""Binary messages as mock-file text and back, for ``server_protocol = tcp_header`` (§8.8).

A message is a header described by the rc section ``[tcp_header]`` (``format``: a Python ``struct``
format; ``fields``: names for its values) and a body whose section is named by the header's ``type``
(``[PING]``, with its own ``format``/``fields`` in the language of ``binarylayout``: ``$`` strings,
``[...]`` lists, ``(...)`` unions, alternatives). The body length comes from the header's ``length``
(the body alone) or ``msg_size`` (header and body); with ``tcp_padding`` an odd-sized message is
followed by a zero byte. A ``<type>_header`` section is a sub-header at the start of the body: its
fields join the header's, and its ``subtype`` names the body's section ``<type>.<subtype>``. Text
form, as 2.10 writes it:

    PING {'channel': 6}
    {'seq': 5, 'status': b'ok'}

the type and the remaining header fields (``length``, ``msg_size`` unless padding, ``assume``d and
``enforce``d values left out), then the body's fields pretty-printed in order (``binaryfields``
names them), or the body decoded as text when its type has no section; values beyond ``fields`` and
the hex of bytes beyond the format are ``parameters``, a body no format fits is
``{'unknown_format': '<hex>'}``. ``assume = name=value,...`` leaves values equal to the assumption
out of the text and puts them back when packing; ``enforce`` does too, and a message whose value
differs does not fit. Reading text back goes through ``values.ValueParser`` (literals), never code.
"""
from __future__ import annotations

import pprint
import struct
from typing import Any, Optional

from ..config import GENERAL, RcConfig
from ..errors import ConfigError, MockFileError
from ..values import ValueParser
from .binaryfields import FieldNames
from .binarylayout import Format, LayoutError, value_codes

HEADER = "tcp_header"
FOOTER = "tcp_footer"
INTERMEDIATE = "_intermediate"
WIDTH = 200
MAX_BODY = 1 << 26  # a body this large is refused, whatever a (hostile) length field says
CHUNK = 4096  # replay sends a chunked message's body in parts of this size, as 2.10
NOT_BODIES = (HEADER, FOOTER, GENERAL, "enums", "list_elements")


class Layout:
    """One rc section: its format, the names of its values, the assumed and enforced ones."""

    def __init__(self, config: RcConfig, section: str, names: FieldNames, header: bool = False):
        where = config.where("format", [section])
        text = (config.get("format", [section]) or "").strip()
        if not text:
            raise ConfigError(f"tcp_header: section [{section}] needs a format", *where)
        try:
            self.format = Format(text)
        except (struct.error, LayoutError) as err:
            raise ConfigError(f"tcp_header: [{section}] format {text!r}: {err}", *where) from None
        self.text = text
        self.section = section
        self.fields = config.getlist("fields", [section])
        self.assume = _settings(config, "assume", section)
        self.enforce = _settings(config, "enforce", section)
        # values left out of the text: as 2.10, enforced ones only in headers (a body shows them)
        self.implied = {**self.assume, **self.enforce} if header else self.assume
        self.names = names
        self.pairs = names.pairs(self.fields, config, section)

    @property
    def size(self) -> int:
        """The size of a fixed format (a header's)."""
        return self.format.size

    def code_of(self, field: str) -> Optional[str]:
        """The struct code of a field of a fixed format."""
        codes = value_codes(self.text)
        return codes[self.fields.index(field)] if field in self.fields[:len(codes)] else None

    def unpack(self, data: bytes) -> Optional[dict[str, Any]]:
        """The values as written (None values left out), or None if no format fits ``data``. As 2.10:
        values beyond ``fields``, and the hex of bytes beyond the format, are listed as ``parameters``."""
        for _, values, rest in self.format.fits(data):
            named = {name: value for name, value in zip(self.fields, values) if value is not None}
            if not all(_same(named.get(name), value) for name, value in self.enforce.items()):
                continue
            shown = self.names.shown(named, self.pairs)
            surplus = values[len(self.fields):] + ([rest.hex()] if rest else [])
            if surplus:
                shown["parameters"] = surplus
            return shown
        return None

    def shown(self, values: dict[str, Any], hidden: tuple[str, ...] = ()) -> dict[str, Any]:
        """The values written in the text: not ``hidden``, not equal to their assumption."""
        return {name: value for name, value in values.items()
                if name not in hidden and not (name in self.implied and _same(value, self.implied[name]))}

    def pack(self, shown: dict[str, Any], computed: Optional[dict[str, Any]] = None) -> bytes:
        """The bytes of written values (plus ``computed`` ones), in the first alternative format whose
        fields are just those given, else the first that holds them all. MockFileError if none does."""
        values: dict[str, Any] = {name: _literal(text) for name, text in self.implied.items()}
        values.update(shown)
        named = self.names.packed(values, self.pairs)
        named.update(computed or {})
        parameters = list(named.get("parameters", []))
        given = set(named) - {"parameters"}
        candidates = [(index, self.fields[:alternative.arity]) for index, alternative in
                      enumerate(self.format.alternatives)]
        exact = [(index, fields) for index, fields in candidates if given & set(self.fields) == set(fields)]
        for index, fields in exact + [(i, f) for i, f in candidates if given & set(self.fields) <= set(f)]:
            extra = self.format.alternatives[index].arity - len(fields)
            try:
                data = self.format.pack([named.get(name) for name in fields] + parameters[:extra], index)
                return data + b"".join(bytes.fromhex(part) for part in parameters[extra:])
            except (struct.error, ValueError, TypeError, StopIteration, AttributeError):
                continue
        raise MockFileError(f"tcp_header: {_short(shown)} does not fit the format of [{self.section}]")


class BinaryCodec:
    """The message layouts of one session's rc files: framing, and bytes <-> text.

    Chunks (``incomplete = field=value`` in ``[tcp_header]``): a frame whose field has that value is
    continued by the next. The text has one header line per chunk (the marker left out, as 2.10 leaves
    it out), the fields of a continuing chunk's ``[<type>_intermediate]`` sub-header on its line, then
    the joined body. 2.10 wrote only the first chunk's body; this form keeps the message."""

    def __init__(self, config: RcConfig):
        if not config.has_section(HEADER):
            raise ConfigError("server_protocol = tcp_header needs a [tcp_header] section with format and fields",
                              ",".join(config.files) or None)
        names = FieldNames(config)
        self.header = _fixed(Layout(config, HEADER, names, header=True), config)
        self.padding = bool(config.setting(GENERAL, "tcp_padding"))
        self.marker = _marker(config)
        self.footer = _fixed(Layout(config, FOOTER, names, header=True), config) if config.has_section(FOOTER) else None
        # a footer whose every value is enforced is those bytes: found by search, not tried at every offset
        self.footer_bytes = (self.footer.pack({}) if self.footer is not None and self.footer.fields
                             and set(self.footer.fields) <= set(self.footer.enforce) else None)
        sections = [section for section in config.sections()
                    if section not in NOT_BODIES and config.get("format", [section])]
        fixed = {section: _fixed(Layout(config, section, names, header=True), config) for section in sections
                 if section.endswith(("_header", INTERMEDIATE))}
        self.subheaders = {section[:-len("_header")]: layout for section, layout in fixed.items()
                           if section.endswith("_header")}
        self.intermediates = {section[:-len(INTERMEDIATE)]: layout for section, layout in fixed.items()
                              if section.endswith(INTERMEDIATE)}
        self.bodies = {section: Layout(config, section, names) for section in sections if section not in fixed}
        self.hidden = ("type", "length") + (() if self.padding else ("msg_size",))
        self.type_is_text = self.header.code_of("type") in ("s", "p")

    def continues(self, header: dict[str, Any]) -> bool:
        """Whether the next frame continues this one's message (``incomplete``)."""
        return self.marker is not None and _same(header.get(self.marker[0]), self.marker[1])

    def body_size(self, header: dict[str, Any]) -> int:
        """The bytes to read after the header: the body and any padding. ValueError if too many."""
        size = self._declared(header)
        return size + (self.header.size + size) % 2 if self.padding else size

    def _declared(self, header: dict[str, Any]) -> int:
        if "length" in header:
            size = int(header["length"])
        elif "msg_size" in header:
            size = int(header["msg_size"]) - self.header.size
        else:
            size = 0
        if size > MAX_BODY:
            raise ValueError(f"tcp_header: a message of {size} bytes is over the limit of {MAX_BODY}")
        return max(size, 0)

    def to_text(self, chunks: list[tuple[dict[str, Any], bytes]]) -> str:
        """A message's chunks (header values, the bytes after the header: padding included) as text."""
        lines: list[tuple[str, dict[str, Any]]] = []
        parts: list[bytes] = []
        for index, (header, body) in enumerate(chunks):
            if self.padding:
                body = body[:self._declared(header)]
            type_ = _as_text(header.get("type", ""))
            shown = self._shown(header)
            if self.continues(header):
                shown.pop(self.marker[0], None)
            inter = self.intermediates.get(type_) if index else None
            if inter is not None:
                values = inter.unpack(body[:inter.size])
                if values is not None:
                    shown.update(inter.shown(values))
                    body = body[inter.size:]
            lines.append((type_, shown))
            parts.append(body)
        body = b"".join(parts)
        type_, first = lines[0]
        section = type_
        sub = self.subheaders.get(type_)
        if sub is not None:
            values = sub.unpack(body[:sub.size])
            if values is not None:
                first.update(sub.shown(values))
                body = body[sub.size:]
                section = f"{type_}.{_as_text(values.get('subtype', ''))}"
        heads = "\n".join(f"{name} {shown!r}" for name, shown in lines)
        layout = self.bodies.get(section)
        if layout is None:
            return heads + ("\n" + body.decode("utf-8", "surrogateescape") if body else "")
        values = layout.unpack(body)
        written = {"unknown_format": body.hex()} if values is None else layout.shown(values)
        return heads + "\n" + pprint.pformat(written, width=WIDTH, sort_dicts=False)

    def _shown(self, header: dict[str, Any]) -> dict[str, Any]:
        """A frame's header (and footer) values as its header line shows them."""
        if self.footer is None:
            return self.header.shown(header, self.hidden)
        footer, header = _split_off(header, self.footer)
        return {**self.header.shown(header, self.hidden), **self.footer.shown(footer)}

    def to_bytes(self, text: str) -> bytes:
        """A recorded message back to bytes (MockFileError when its text cannot be read): its body in
        ``CHUNK``-sized parts when chunked, each with the header line of its place (the last line's for
        the last part)."""
        type_, heads, rest = self._heads(text)
        section, prefix = type_, b""
        sub = self.subheaders.get(type_)
        if sub is not None:
            own, heads[0] = _split_off(heads[0], sub)
            prefix = sub.pack(own)
            if "subtype" in own:
                section = f"{type_}.{_as_text(own['subtype'])}"
        layout = self.bodies.get(section)
        if layout is not None:
            values = _parse_dict(rest, rest)
            unknown = values.get("unknown_format")
            body = bytes.fromhex(unknown) if isinstance(unknown, str) else layout.pack(values)
        else:
            body = rest.encode("utf-8", "surrogateescape")
        body = prefix + body
        if self.marker is None:
            return self._frame(type_, heads[0], body, {})
        parts = [body[at:at + CHUNK] for at in range(0, len(body), CHUNK)] or [b""]
        inter = self.intermediates.get(type_)
        frames = []  # joined once: adding each frame to the bytes so far copied them all again
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            head = heads[-1 if last else min(index, max(len(heads) - 2, 0))]
            if inter is not None and index:
                own, head = _split_off(head, inter)
                part = inter.pack(own) + part
            frames.append(self._frame(type_, head, part, {} if last else {self.marker[0]: _literal(self.marker[1])}))
        return b"".join(frames)

    def _heads(self, text: str) -> tuple[str, list[dict[str, Any]], str]:
        """The type, the header line(s) as values and the body text. Lines after the first are further
        chunks' header lines only for chunked messages: another body may start with the type."""
        first, _, rest = text.partition("\n")
        type_, _, header_text = first.partition(" ")
        heads = [_parse_dict(header_text or "{}", first)]
        at, lead = 0, type_ + " {"  # where the rest begins: slicing it off per line copied it all again
        while self.marker is not None and rest.startswith(lead, at):
            end = rest.find("\n", at)
            end = len(rest) if end < 0 else end
            line = rest[at:end]
            try:
                heads.append(_parse_dict(line[len(type_) + 1:], line))
            except MockFileError:
                break  # a body that starts like a header line
            at = min(end + 1, len(rest))
        return type_, heads, rest[at:]

    def _frame(self, type_: str, head: dict[str, Any], body: bytes, computed: dict[str, Any]) -> bytes:
        """One frame's bytes: header, body, footer (recomputed from its line), padding."""
        end = b""
        if self.footer is not None:
            own, head = _split_off(head, self.footer)
            end = self.footer.pack(own)
        computed = {"type": self._type_value(type_), "length": len(body),
                    "msg_size": self.header.size + len(body) + len(end), **computed}
        data = self.header.pack(head, computed) + body + end
        return data + b"\0" * (len(data) % 2 if self.padding else 0)

    def _type_value(self, type_: str) -> Any:
        """The header's ``type`` for its text: bytes, an ``[enums]`` name's number, or a number."""
        if self.type_is_text:
            return type_.encode()
        value = self.header.names.packed({"type": type_}, {})["type"]
        return _literal(value) if isinstance(value, str) else value


def _marker(config: RcConfig) -> Optional[tuple[str, str]]:
    """``incomplete = field=value`` of ``[tcp_header]`` (2.10 reads it nowhere else)."""
    text = (config.get("incomplete", [HEADER]) or "").strip()
    if not text:
        return None
    name, equals, value = text.partition("=")
    if not equals or not name.strip():
        raise ConfigError(f"tcp_header: incomplete = {text!r} is not field=value",
                          *config.where("incomplete", [HEADER]))
    return name.strip(), value.strip()


def _split_off(head: dict[str, Any], layout: Layout) -> tuple[dict[str, Any], dict[str, Any]]:
    """A header line's values: those of the sub-header ``layout``, and the others."""
    mine = {name for name in head if name in layout.fields or name in layout.pairs}
    return ({name: value for name, value in head.items() if name in mine},
            {name: value for name, value in head.items() if name not in mine})


def _fixed(layout: Layout, config: RcConfig) -> Layout:
    if not layout.format.fixed:
        raise ConfigError(f"tcp_header: the [{layout.section}] format must have a fixed size "
                          "(strings, lists and unions only in bodies)", *config.where("format", [layout.section]))
    return layout


def _settings(config: RcConfig, key: str, section: str) -> dict[str, str]:
    """``assume``/``enforce``: ``name=value,...``"""
    return {name.strip(): value.strip() for name, _, value in
            (part.partition("=") for part in config.getlist(key, [section]))}


class _Literals:
    """The names mock text of binary messages may use: none, literals only."""

    def lookup_name(self, name: str) -> Any:
        raise KeyError(name)

    make_instance = make_callback = lookup_name

    def resolve_class(self, dotted: str) -> None:
        return None

    exception_class = resolve_class


PARSER = ValueParser(_Literals())


def _parse_dict(text: str, shown: str) -> dict[str, Any]:
    try:
        value = PARSER.parse(text.strip() or "{}")
    except MockFileError:
        value = None
    if not isinstance(value, dict):
        raise MockFileError(f"tcp_header: cannot read {shown[:80]!r} as a dict of values")
    return value


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _same(value: Any, assumed: str) -> bool:
    return value == _literal(assumed) or _as_text(value) == assumed


def _literal(text: str) -> Any:
    """An rc value (``assume``, ``enforce``) or a type name as the value it stands for."""
    try:
        return PARSER.parse(text)
    except MockFileError:
        return text.encode() if text else text


def _as_text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.rstrip(b"\0").decode("utf-8", "surrogateescape")
    return str(value)
