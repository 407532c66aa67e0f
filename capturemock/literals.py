"""Plain Python literals read without ``ast`` (§4.2): what a realistic replay answers with at start-up.

Importing ``ast`` (with ``enum`` and ``re``) costs an intercepted process ~7 ms, more than reading all of
its mock. This reader takes the forms ``values.render`` writes: numbers, strings and bytes with the escapes
``repr`` uses (implicitly joined too), None/True/False, lists, tuples, dicts, sets, ``Instance(...)`` and
``Callback(...)``, and ``raise`` of a builtin exception with literal arguments. On anything else it gives
up (``values._NOT_SIMPLE``) and ``evaluation`` parses the text with ``ast`` as before, so it only ever
accepts text ``evaluation`` reads to the same value, and errors keep their one wording. Nothing is run:
the text is scanned character by character.
"""
from __future__ import annotations

import builtins

from .accelerator import load_speedups
from .errors import CaptureMockError, CaptureMockReplayError
from .values import _NOT_SIMPLE, MAX_CODE_CHARS, MAX_INT_BITS, Raised

TYPE_CHECKING = False  # typing is not imported at run time (start-up)
if TYPE_CHECKING:
    from typing import Any, Optional

    from .values import Namespace

_MAX_DEPTH = 100  # deeper nesting goes to ``evaluation``, which knows the interpreter's own limits
_DIGITS = frozenset("0123456789")
_HEX = frozenset("0123456789abcdefABCDEF")
_NUMBER_START = frozenset("0123456789.-+")
_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "r": "\r", "t": "\t"}
_CODE_ESCAPES = {"x": 2, "u": 4, "U": 8}  # \xhh, \uhhhh, \Uhhhhhhhh: hex digits that follow
_CONSTANTS = {"None": None, "True": True, "False": False}
_FORMS = {"Instance": 2, "Callback": 1}  # string arguments each takes
_speedups = load_speedups()  # its read_plain reads the common plain literals to the same values, in C


class _GiveUp(Exception):
    """Not a plain literal: ``evaluation`` decides what the text is."""


class _Form:
    """``Instance(...)``/``Callback(...)`` as read: made only once the whole text has read, so a text
    ``evaluation`` refuses never makes an instance, and in source order as ``evaluation`` makes them."""

    __slots__ = ("kind", "args")

    def __init__(self, kind: str, args: list):
        self.kind, self.args = kind, args


def read_literal(text: str, namespace: Namespace) -> Any:
    """The value of stripped mock text (``Raised`` for ``raise ...``), else ``_NOT_SIMPLE``."""
    if len(text) > MAX_CODE_CHARS or "\x00" in text:  # evaluation's limits and its error messages
        return _NOT_SIMPLE
    if not text.isascii():
        try:
            text.encode()
        except UnicodeEncodeError:  # a lone surrogate: ast refuses the text
            return _NOT_SIMPLE
    if _speedups is not None:
        value = _speedups.read_plain(text)
        if value is not NotImplemented:
            return value
    value = _instance_form(text)  # a call's answer that is a new object: no character scan
    if value is None:
        reader = _Reader(text)
        try:
            if text.startswith("raise "):
                return _raised(reader, namespace)
            value = reader.value(0)
            reader.end()
        except (_GiveUp, ValueError, TypeError, IndexError, RecursionError):  # TypeError: an unhashable key
            return _NOT_SIMPLE
        if not reader.forms:
            return value
    try:
        return _made(value, namespace)
    except (CaptureMockError, CaptureMockReplayError):
        raise  # says where and what already, as evaluation lets it through
    except Exception:  # evaluation makes it again and words the error (made instances are kept by name)
        return _NOT_SIMPLE


def _instance_form(text: str) -> Optional[_Form]:
    """The form of ``Instance('Description', 'name')`` as the recorder writes it, both strings plain (no quote,
    backslash or line break), read without the character scanner; None for any other text."""
    if not (text.startswith("Instance('") and text.endswith("')")):
        return None
    description, comma, name = text[10:-2].partition("', '")
    if not comma or "'" in description or "'" in name or "\\" in text or "\n" in text or "\r" in text:
        return None
    return _Form("Instance", [description, name])


def _raised(reader: _Reader, namespace: Namespace) -> Any:
    """``raise Name(literals)``, Name a builtin exception the namespace does not know by that name."""
    reader.pos = len("raise ")
    reader.skip(0)
    name = reader.identifier()
    cls = getattr(builtins, name, None)
    if not (isinstance(cls, type) and issubclass(cls, Exception)):
        raise _GiveUp  # dotted names, KeyboardInterrupt...: evaluation knows the namespace's classes
    args = reader.items(0, ")", reader.forms) if reader.skip(0) == "(" else []
    reader.end()
    if reader.forms or any(type(arg) is int and arg.bit_length() > MAX_INT_BITS for arg in args):
        raise _GiveUp
    try:
        namespace.lookup_name(name)
    except KeyError:
        pass
    except Exception:
        raise _GiveUp from None  # evaluation asks again and says what went wrong
    else:
        raise _GiveUp  # the session's own object of that name comes first
    try:
        return Raised(cls(*args))
    except Exception:  # a constructor wanting other arguments: evaluation stands in for it
        raise _GiveUp from None


def _made(value: Any, namespace: Namespace) -> Any:
    """``value`` with its forms made, in source order (sets and dict keys hold none: see ``_Reader``)."""
    kind = type(value)
    if kind is _Form:
        if value.kind == "Instance":
            return namespace.make_instance(*value.args)
        return namespace.make_callback(*value.args)
    if kind is list:
        return [_made(element, namespace) for element in value]
    if kind is tuple:
        return tuple(_made(element, namespace) for element in value)
    if kind is dict:
        return {key: _made(element, namespace) for key, element in value.items()}
    return value


class _Reader:
    """One pass over one text; ``pos`` is where it is, ``forms`` how many forms it has read."""

    __slots__ = ("text", "pos", "forms")

    def __init__(self, text: str):
        self.text = text
        self.pos = 0
        self.forms = 0

    def skip(self, depth: int) -> str:
        """The next character after blanks ('' at the end); line breaks are blanks inside brackets only."""
        text, pos = self.text, self.pos
        end = len(text)
        while pos < end:
            char = text[pos]
            if char == " " or char == "\t" or (depth and (char == "\n" or char == "\r")):
                pos += 1
            else:
                self.pos = pos
                return char
        self.pos = pos
        return ""

    def end(self) -> None:
        if self.skip(0):
            raise _GiveUp

    def value(self, depth: int) -> Any:
        char = self.skip(depth)
        if char == "'" or char == '"':
            return self.strings(depth)
        if char == "[":
            return self.items(depth, "]", self.forms)
        if char == "(":
            return self.parenthesised(depth)
        if char == "{":
            return self.braces(depth)
        if char in _NUMBER_START:
            return self.number(depth)
        name = self.identifier()
        if name in _CONSTANTS:
            return _CONSTANTS[name]
        if name == "b" and self.text[self.pos:self.pos + 1] in ("'", '"'):
            self.pos -= 1
            return self.strings(depth)
        if name in _FORMS and self.skip(depth) == "(":
            args = self.items(depth, ")", self.forms)
            if len(args) != _FORMS[name] or any(type(arg) is not str for arg in args):
                raise _GiveUp
            self.forms += 1
            return _Form(name, args)
        raise _GiveUp

    def identifier(self) -> str:
        text, start = self.text, self.pos
        pos, end = start, len(text)
        while pos < end and (text[pos].isalnum() or text[pos] == "_"):
            pos += 1
        self.pos = pos
        return text[start:pos]

    # -- containers --
    def items(self, depth: int, close: str, forms: int, first: Any = _NOT_SIMPLE) -> list:
        """Values up to ``close`` (the opener is at ``pos`` unless ``first`` was read already), a trailing
        comma allowed. ``forms``: the count before the opener, to tell whether any were read inside."""
        depth += 1
        if depth > _MAX_DEPTH:
            raise _GiveUp
        values = []
        if first is _NOT_SIMPLE:
            self.pos += 1
        else:
            values.append(first)
            if self.skip(depth) == ",":
                self.pos += 1
            elif self.skip(depth) != close:
                raise _GiveUp
        while True:
            char = self.skip(depth)
            if char == close:
                self.pos += 1
                return values
            values.append(self.value(depth))
            char = self.skip(depth)
            if char == ",":
                self.pos += 1
            elif char != close:
                raise _GiveUp

    def parenthesised(self, depth: int) -> Any:
        """``(x)`` is x; ``()``, ``(x,)`` and ``(x, y)`` are tuples."""
        if depth + 1 > _MAX_DEPTH:
            raise _GiveUp
        self.pos += 1
        if self.skip(depth + 1) == ")":
            self.pos += 1
            return ()
        first = self.value(depth + 1)
        if self.skip(depth + 1) == ")":
            self.pos += 1
            return first
        if self.text[self.pos] != ",":
            raise _GiveUp
        return tuple(self.items(depth, ")", self.forms, first))

    def braces(self, depth: int) -> Any:
        """A dict or a set. Its keys and elements hold no forms (their order of making would differ), and a
        dict repeats no key (``evaluation`` would make the forms of the values it overwrites)."""
        inner = depth + 1
        if inner > _MAX_DEPTH:
            raise _GiveUp
        self.pos += 1
        if self.skip(inner) == "}":
            self.pos += 1
            return {}
        forms = self.forms
        first = self.value(inner)
        if self.skip(inner) != ":":
            elements = self.items(depth, "}", forms, first)
            if self.forms != forms:
                raise _GiveUp
            return set(elements)
        result, pairs, key = {}, 0, first
        while True:
            if self.forms != forms:
                raise _GiveUp
            self.pos += 1  # the colon
            result[key] = self.value(inner)
            pairs += 1
            forms = self.forms
            char = self.skip(inner)
            if char == ",":
                self.pos += 1
                char = self.skip(inner)
            elif char != "}":
                raise _GiveUp
            if char == "}":
                self.pos += 1
                if len(result) != pairs:
                    raise _GiveUp
                return result
            key = self.value(inner)
            if self.skip(inner) != ":":
                raise _GiveUp

    # -- scalars --
    def number(self, depth: int) -> Any:
        """An int (decimal or hex) or float, with at most one sign in front."""
        text = self.text
        sign = text[self.pos]
        if sign == "-" or sign == "+":
            self.pos += 1
            if self.skip(depth) not in _NUMBER_START or text[self.pos] in "-+":
                raise _GiveUp
            value = self.unsigned()
            return -value if sign == "-" else value
        return self.unsigned()

    def unsigned(self) -> Any:
        text, start = self.text, self.pos
        token = self.identifier_or_number()
        if token[-1:] in ("e", "E") and text[self.pos:self.pos + 1] in ("-", "+"):
            self.pos += 1
            token = text[start:self.pos] + self.identifier_or_number()
        if not token.isascii():
            raise _GiveUp
        if token.isdigit():
            if token[0] == "0" and token.strip("0"):
                raise _GiveUp  # 01: not a Python literal
            return int(token)  # ValueError beyond int()'s digits: evaluation words it
        if token[:2] in ("0x", "0X") and len(token) > 2 and all(char in _HEX for char in token[2:]):
            return int(token[2:], 16)
        mantissa, e, exponent = token.replace("E", "e").partition("e")
        digits = mantissa.replace(".", "", 1)
        if not digits.isdigit() or (e and not exponent.lstrip("+-").isdigit()) or exponent[1:2] in ("-", "+"):
            raise _GiveUp
        return float(token)

    def identifier_or_number(self) -> str:
        """The run of letters, digits, ``_`` and ``.`` at ``pos``: a number token, checked by the caller."""
        text, start = self.text, self.pos
        pos, end = start, len(text)
        while pos < end and (text[pos].isalnum() or text[pos] == "_" or text[pos] == "."):
            pos += 1
        self.pos = pos
        return text[start:pos]

    def strings(self, depth: int) -> Any:
        """One string or bytes literal, or several joined (``('ab'\\n 'cd')`` as pprint wraps long ones)."""
        pieces, is_bytes = [], None
        while True:
            char = self.skip(depth) if pieces else self.text[self.pos]
            prefixed = char == "b" and self.text[self.pos + 1:self.pos + 2] in ("'", '"')
            if not (prefixed or char == "'" or char == '"'):
                break
            if is_bytes is None:
                is_bytes = prefixed
            elif is_bytes != prefixed:
                raise _GiveUp  # str and bytes joined: a SyntaxError evaluation reports
            self.pos += prefixed
            pieces.append(self.string(prefixed))
        text = "".join(pieces)
        return text.encode("latin-1") if is_bytes else text

    def string(self, is_bytes: bool) -> str:
        """The body of one quoted literal at ``pos`` (bytes as latin-1 text), escapes decoded."""
        text, quote = self.text, self.text[self.pos]
        if text.startswith(quote * 3, self.pos):
            raise _GiveUp  # triple-quoted
        start = pos = self.pos + 1
        pieces, end = [], start - 1
        while True:
            if end < pos:  # an escaped quote passed it: search on (each character is searched once)
                end = text.find(quote, pos)
                if end < 0:
                    raise _GiveUp
            slash = text.find("\\", pos, end)
            if slash < 0:
                pieces.append(text[pos:end])
                break
            pieces.append(text[pos:slash])
            pos = self.escape(slash, pieces, is_bytes)
        if text.find("\n", start, end) >= 0 or text.find("\r", start, end) >= 0:
            raise _GiveUp  # a line break in a one-line literal
        if is_bytes and not text[start:end].isascii():
            raise _GiveUp
        self.pos = end + 1
        return "".join(pieces)

    def escape(self, slash: int, pieces: list, is_bytes: bool) -> int:
        """Decode the escape at ``slash`` into ``pieces``; where the text goes on after it."""
        text = self.text
        code = text[slash + 1]
        simple = _ESCAPES.get(code)
        if simple is not None:
            pieces.append(simple)
            return slash + 2
        width = _CODE_ESCAPES.get(code)
        if width is None or (is_bytes and code != "x"):
            raise _GiveUp  # \a, \0, \N{...}, a line continuation, an unknown escape...
        digits = text[slash + 2:slash + 2 + width]
        if len(digits) != width or not all(char in _HEX for char in digits) or int(digits, 16) > 0x10FFFF:
            raise _GiveUp
        pieces.append(chr(int(digits, 16)))
        return slash + 2 + width
