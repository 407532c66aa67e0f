"""Python values as mock-file text and back (§4.2), without ever evaluating mock text as code.

``render`` writes values the way the original does (repr, floats to 2 decimals unless ``full_floats``,
dicts pretty-printed at 130 columns, long strings as implicit concatenations). ``ValueParser`` reads
plain literals itself (``literals``: no ``ast`` at start-up) and rebuilds anything else (``evaluation``)
by walking the ``ast`` of the text and evaluating only a whitelist: literals and containers,
``Instance``/``Callback`` forms, names the replay session knows, and calls of *classes* from the
intercepted modules, a small set of value modules and the rc key ``[python] replay_constructors``.
Anything else is a MockFileError naming file, line and the refused expression (product spec §3,
"Safe replay").
"""
from __future__ import annotations

import sys
import types

from .accelerator import load_speedups
from .lazyregex import LazyRegex

TYPE_CHECKING = False  # typing is not imported at run time: it costs every intercepted process ~3 ms
if TYPE_CHECKING:
    from typing import Any, Callable, Optional, Protocol

    Hook = Callable[[Any], Optional[str]]

    class Namespace(Protocol):
        """What the replay session lends the parser: its names, and how to build its objects."""

        def lookup_name(self, name: str) -> Any: ...  # KeyError when unknown

        def make_instance(self, description: str, name: str) -> Any: ...

        def make_callback(self, name: str) -> Any: ...

        def resolve_class(self, dotted: str) -> Optional[type]: ...  # intercepted/configured classes

        def exception_class(self, dotted: str) -> Optional[type]: ...  # raise mod.Name(...), mod intercepted


WIDTH = 130  # §4.2: pprint width and the length above which strings are split
# Modules whose classes may be called to rebuild values (product spec §3).
VALUE_MODULES = ("datetime", "decimal", "fractions", "collections", "uuid", "pathlib", "ipaddress")
# Builtin types that are plain data constructors: safe to call with literal arguments.
SAFE_BUILTIN_CALLS = frozenset({"set", "frozenset", "bytes", "bytearray", "complex", "range", "slice",
                                "int", "float", "str", "bool", "tuple", "list", "dict"})
# Rebuilt values stay proportional to their text. Limits per value (one RET, one argument list):
# elements (or zero bytes) constructor calls may materialise beyond their text, summed over the value
# (``list(range(...))``, ``bytes(n)``, an ip network listed): 10^6 ints are ~40 MB.
MAX_REBUILT_SIZE = 1 << 20
# characters outside string literals the general (``ast``) parser takes in one value: a node costs
# ~1 KB while parsing, so at worst ~0.5 GB and ~2.5 s (1 MB of ``[(),(),...]``, measured). Plain
# literals of any size take the json path instead.
MAX_CODE_CHARS = 1 << 20
# decimal exponent of a number string or Decimal given to a class other than Decimal (``Fraction``
# and ``int`` expand it: ``Fraction('1e9999999')`` takes seconds), and bits of an int argument
# (``Fraction(a, b)`` runs a gcd quadratic in them)
MAX_EXPONENT = 10_000
MAX_INT_BITS = 1 << 16
# characters of a number given as text, or digits of a Decimal (int() itself stops at 4300 digits)
MAX_NUMBER_CHARS = 5000
_LARGE = 512  # a longer list or dict text is tried as plain literals (json) before ``ast``
_QUOTED = 100  # characters of the refused text quoted in an error message


# -- rendering -------------------------------------------------------------------------------------
class _Verbatim:
    """Stands in for an object inside a pretty-printed dict so pprint writes its given text."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


def render(value: Any, hook: Optional[Hook] = None, full_floats: bool = False) -> str:
    """The §4.2 text of ``value``; ``hook`` names proxies, instances and callbacks (None = not mine).
    ``full_floats`` (``[python] float_precision = full``) keeps what 2 decimals lose (``time.time()``).

    As 2.10 writes it: lists and tuples element by element on one line, a dict pretty-printed with
    its own lists and tuples (``_nested``), anything else as ``pprint`` writes it alone."""
    kind = type(value)
    if kind is int:
        try:
            return repr(value)
        except ValueError:  # more digits than repr accepts (3.11+): hex reads back at any size
            return hex(value)
    if kind is str:
        text = repr(value)
        return text if len(text) <= WIDTH else _pformat(value)
    if kind is float:
        return repr(value) if full_floats else str(round(value, 2))
    if kind is bool or value is None:
        return repr(value)
    # a plain list, tuple or dict is never a proxy nor a callback: the hook is not asked (for a dict it
    # looked for a handle, an AttributeError raised and caught: ~8k instructions of a recorded call)
    if kind is list:
        return f"[{', '.join(render(element, hook, full_floats) for element in value)}]"
    if kind is tuple:
        inner = ", ".join(render(element, hook, full_floats) for element in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if kind is dict:
        line = _one_line(value, full_floats)
        if line is not None:
            return line
        nested = {key: _nested(value[key], hook, full_floats) for key in _sorted_keys(value)}
        return _pformat(nested)
    if hook is not None:
        text = hook(value)
        if text is not None:
            return text
    text = repr(value)
    if len(text) <= WIDTH and not isinstance(value, (dict, list, tuple)):
        return text  # what pformat writes for it: the hot path skips building a PrettyPrinter
    return _pformat(value)  # wraps sets, bytes, subclasses... and sorts set elements


def _nested(value: Any, hook: Optional[Hook], full_floats: bool) -> Any:
    """What 2.10 gives pprint for a dict's value: its lists and tuples as they are (so pprint wraps them
    one element a line, indented under their bracket) with floats rounded; anything else, nested dicts
    and strings included, as its own ``render`` text (wrapped from column 0, not under its key)."""
    kind = type(value)
    if kind is float:
        return value if full_floats else round(value, 2)
    if kind is list:
        return [_nested(element, hook, full_floats) for element in value]
    if kind is tuple:
        return tuple(_nested(element, hook, full_floats) for element in value)
    if kind is int:
        return _Verbatim(render(value)) if value.bit_length() > 14_000 else value  # ~4300 digits
    if kind is bool or value is None:
        return value
    return _Verbatim(render(value, hook, full_floats))


_ONE_LINE_SCALARS = (int, str, bool, type(None))


def _one_line_dict(mapping: dict, full_floats: bool) -> Optional[str]:
    """What ``pprint`` writes for a dict of str keys and scalar values that fits one line, without it:
    pprint costs a recorded call returning a small dict ~60k instructions. None for any other dict.
    On one line pprint writes the dict's repr with its keys sorted: ``repr`` of a sorted copy, in C."""
    if len(mapping) > WIDTH // 4:  # ``'': 0, `` each: longer than one line
        return None
    try:
        keys = sorted(mapping)
    except TypeError:
        return None
    ordered = {}
    for key in keys:
        element = mapping[key]
        kind = type(element)
        if type(key) is not str:
            return None
        if kind is float:
            element = element if full_floats else round(element, 2)
        elif kind not in _ONE_LINE_SCALARS:
            return None
        ordered[key] = element
    try:
        line = repr(ordered)
    except ValueError:  # an int with more digits than repr writes: render's own way, in hex
        return None
    return line if len(line) <= WIDTH else None


_speedups = load_speedups()
_one_line = _one_line_dict if _speedups is None else _speedups.one_line_dict  # the same text, in C


def _sorted_keys(mapping: dict) -> list:
    try:
        return sorted(mapping)
    except TypeError:
        return list(mapping)


def render_call(name: str, args: tuple, kwargs: dict, hook: Optional[Hook] = None,
                full_floats: bool = False) -> str:
    """``name(arg, ..., key=value)`` with keyword arguments sorted by name (§4.2)."""
    if len(args) == 1:  # the usual call: no list to join
        text = render(args[0], hook, full_floats)
    else:
        text = ", ".join([render(arg, hook, full_floats) for arg in args])
    if kwargs:  # every recorded call comes here: no sorting or second list when there is nothing to sort
        keywords = ", ".join([f"{key}={render(kwargs[key], hook, full_floats)}" for key in sorted(kwargs)])
        text = f"{text}, {keywords}" if text else keywords
    return f"{name}({text})"


def render_exception(exc: BaseException) -> str:
    """``raise X('message')``: builtins bare, others with their module path; only str(exc) survives."""
    cls = type(exc)
    name = cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
    return f"raise {name}({str(exc)!r})"


def _pformat(value: Any) -> str:
    """``pprint.pformat`` at our width, imported on first use: pprint imports dataclasses and inspect
    (~7 ms), which a process that renders only scalars never needs."""
    import pprint

    return pprint.pformat(value, width=WIDTH)


# -- parsing ---------------------------------------------------------------------------------------
class Raised:
    """A parsed ``raise ...`` response: the exception to raise in the application."""

    __slots__ = ("exception",)

    def __init__(self, exception: BaseException):
        self.exception = exception

    def __eq__(self, other: object) -> bool:
        if type(other) is not Raised:
            return NotImplemented
        return other.exception == self.exception

    def __repr__(self) -> str:
        return f"Raised(exception={self.exception!r})"


class ValueParser:
    """Rebuilds values from mock text by evaluating a whitelist of ``ast`` nodes."""

    def __init__(self, namespace: Namespace, constructors: tuple[str, ...] = ()):
        self.namespace = namespace
        self.constructors = frozenset(constructors)

    def parse(self, text: str, path: Optional[str] = None, line: int = 0) -> Any:
        """A value, or ``Raised`` for a ``raise ...`` text."""
        stripped = text.strip()
        # without the cost of ``ast`` (the replay hot path): ints inline, then plain strings and keywords
        if (stripped.isdigit() or stripped[:1] == "-" and stripped[1:].isdigit()) and stripped.isascii():
            # ASCII only: int() would also take other scripts' digits
            try:
                return int(stripped)
            except ValueError:  # more digits than int() accepts: ast gives the clean error
                pass
        else:
            simple = _simple_literal(stripped)
            if simple is not _NOT_SIMPLE:
                return simple
        if len(stripped) > _LARGE and stripped[0] in "[{":
            plain = _plain_literal(stripped)
            if plain is not _NOT_SIMPLE:
                return plain
        literal = (_read_literal or _import_read_literal())(stripped, self.namespace)
        if literal is not _NOT_SIMPLE:
            return literal
        from .evaluation import Evaluation, exception  # here: plain literals never need ``ast``

        if stripped.startswith("raise "):
            return Raised(exception(self, stripped[len("raise "):], path, line))
        return Evaluation(self, stripped, path, line).run()

    def parse_call(self, text: str, path: Optional[str] = None, line: int = 0
                   ) -> tuple[str, list, dict]:
        """A callback invocation ``name(args)`` or ``inst.method(args)``: callee name and values."""
        from .evaluation import parse_call

        return parse_call(self, text, path, line)


_NOT_SIMPLE = object()
# ``literals.read_literal`` once a value needed it: a replay of scalars only never imports ``literals``, and an
# import statement run per value costs ~10k instructions (importlib looks the module up by name each time)
_read_literal: Optional[Callable[[str, Namespace], Any]] = None


def _import_read_literal() -> Callable[[str, Namespace], Any]:
    global _read_literal
    from .literals import read_literal

    _read_literal = read_literal
    return read_literal
_KEYWORDS = {"None": None, "True": True, "False": False}


def _simple_literal(text: str) -> Any:
    """Keywords and plain quoted strings without the cost of ``ast`` (ints: ``ValueParser.parse``)."""
    if text[:1] == "'" and text[-1:] == "'" and len(text) > 1:  # '...' without ', \ or a line break in it
        inner = text[1:-1]
        if "'" not in inner and "\\" not in inner and "\n" not in inner:
            return inner
    return _KEYWORDS.get(text, _NOT_SIMPLE)


_PLAIN_OUTSIDE = LazyRegex(r"[\[\]{},:0-9.eE+\- \t\n']*")  # json punctuation and numbers (' joins)
_SHARED_ESCAPE = LazyRegex(r"\\[\\nrt]")  # escapes json and Python read alike
_SURROGATE = LazyRegex("[\ud800-\udfff]")


def _plain_literal(text: str) -> Any:
    """A list or dict of plain literals (numbers, None/True/False, strings in single quotes whose only
    escapes are \\ \n \r \t) read by json: C speed and no ``ast`` node per element (a 10^6-int list
    costs ~1 GB that way). Exactly the value ``ast`` gives, else ``_NOT_SIMPLE``.

    With no other escape, every ``'`` delimits a string: the pieces between them alternate outside and
    inside. Outside, only json punctuation, numbers and the three keywords may appear (a double-quoted
    string starts outside, so it sends the text to ``ast``); inside, ``"`` is escaped for json."""
    if "\\" in text and "\\" in _SHARED_ESCAPE.sub("", text):
        return _NOT_SIMPLE
    if not text.isascii() and _SURROGATE.search(text):  # ast refuses lone surrogates; json keeps them
        return _NOT_SIMPLE
    parts = text.split("'")
    if len(parts) % 2 == 0:
        return _NOT_SIMPLE
    outside = "'".join(parts[0::2])
    if not _PLAIN_OUTSIDE.fullmatch(outside.replace("None", "").replace("True", "").replace("False", "")):
        return _NOT_SIMPLE
    parts[0::2] = outside.replace("None", "null").replace("True", "true").replace("False", "false").split("'")
    if len(parts) > 1:
        parts[1::2] = "'".join(parts[1::2]).replace('"', '\\"').split("'")
    try:
        import json  # only values this large pay for it: it is not on a replaying process's start-up

        return json.loads('"'.join(parts))
    except (ValueError, RecursionError):  # not json after all (a set, a trailing comma...): ast decides
        return _NOT_SIMPLE


_NO_MODULE = object()

def loaded_exception_class(dotted: str) -> Optional[type]:
    """The exception class ``dotted`` names in a module already imported, else None: a mock never makes
    us import code."""
    value = _walk_to_class(dotted, sys.modules.__getitem__)
    return value if isinstance(value, type) and issubclass(value, BaseException) else None


def _walk_to_class(dotted: str, load: Callable[[str], Any], constants: bool = False) -> Any:
    """Load the longest real module prefix, then walk attributes that are classes (or an enum member).
    With ``constants`` (value modules only), the last step may also be an instance of one of that
    module's own classes, as their reprs write constants: ``datetime.timezone.utc``.

    None when the walk meets something else; ``_NO_MODULE`` when no prefix could be loaded.
    """
    parts = dotted.split(".")
    for split in range(len(parts) - 1, 0, -1):
        try:
            module = value = load(".".join(parts[:split]))
        except (ImportError, KeyError):
            continue
        if not isinstance(module, types.ModuleType):
            continue  # an intercepted module's proxy: reading from it is traffic, calling it may run it
        for position, attr in enumerate(parts[split:], start=split):
            value = getattr(value, attr, None)
            if isinstance(value, type) or _is_enum_member(value):
                continue
            last = position == len(parts) - 1
            if constants and last and value is not None and type(value).__module__ == module.__name__:
                return value
            return None
        return value
    return _NO_MODULE


def _is_enum_member(value: object) -> bool:
    """``isinstance(value, enum.Enum)`` without importing ``enum``: no member exists before it is imported."""
    enum = sys.modules.get("enum")
    return enum is not None and isinstance(value, enum.Enum)
