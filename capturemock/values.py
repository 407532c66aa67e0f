"""Python values as mock-file text and back (§4.2), without ever evaluating mock text as code.

``render`` writes values the way the original does (repr, floats to 2 decimals unless ``full_floats``,
dicts pretty-printed at 130 columns, long strings as implicit concatenations). ``ValueParser`` rebuilds
them by walking the ``ast`` of the text and evaluating only a whitelist: literals and containers,
``Instance``/``Callback`` forms, names the replay session knows, and calls of *classes* from the
intercepted modules, a small set of value modules and the rc key ``[python] replay_constructors``.
Anything else is a MockFileError naming file, line and the refused expression (product spec §3,
"Safe replay").
"""
from __future__ import annotations

import ast
import builtins
import codecs
import enum
import importlib
import re
import sys
import types
import warnings
from typing import Any, Callable, Optional, Protocol

from .errors import CaptureMockError, CaptureMockReplayError, MockFileError

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
# Mock text is parsed under this name, so the compiler's warnings about odd literals ("1if") are
# silenced for mock text only, never for the application's own code.
_SOURCE_NAME = "<capturemock value>"
warnings.filterwarnings("ignore", category=SyntaxWarning, module=re.escape(_SOURCE_NAME))
SPECIAL_NAMES = {"nan": float("nan"), "inf": float("inf"), "NotImplemented": NotImplemented,
                 "Ellipsis": Ellipsis}

Hook = Callable[[Any], Optional[str]]


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
    if hook is not None:
        text = hook(value)
        if text is not None:
            return text
    if kind is list:
        return f"[{', '.join(render(element, hook, full_floats) for element in value)}]"
    if kind is tuple:
        inner = ", ".join(render(element, hook, full_floats) for element in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if kind is dict:
        nested = {key: _nested(value[key], hook, full_floats) for key in _sorted_keys(value)}
        return _pformat(nested)
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
class Namespace(Protocol):
    """What the replay session lends the parser: its names, and how to build its objects."""

    def lookup_name(self, name: str) -> Any: ...  # KeyError when unknown

    def make_instance(self, description: str, name: str) -> Any: ...

    def make_callback(self, name: str) -> Any: ...

    def resolve_class(self, dotted: str) -> Optional[type]: ...  # intercepted/configured classes

    def exception_class(self, dotted: str) -> Optional[type]: ...  # raise mod.Name(...), mod intercepted


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
        if stripped.startswith("raise "):
            return Raised(self._exception(stripped[len("raise "):], path, line))
        return _Evaluation(self, stripped, path, line).run()

    def parse_call(self, text: str, path: Optional[str] = None, line: int = 0
                   ) -> tuple[str, list, dict]:
        """A callback invocation ``name(args)`` or ``inst.method(args)``: callee name and values."""
        evaluation = _Evaluation(self, text.strip(), path, line)
        node = evaluation.tree("callback")
        callee = _dotted(node.func) if isinstance(node, ast.Call) else None
        if callee is None or any(isinstance(a, ast.Starred) for a in node.args) or any(
                k.arg is None for k in node.keywords):
            raise evaluation.refuse(node, "not a callback invocation")
        return callee, *evaluation.bounded(lambda: (
            [evaluation.rebuild(arg) for arg in node.args],
            {keyword.arg: evaluation.rebuild(keyword.value) for keyword in node.keywords}))

    def _exception(self, text: str, path: Optional[str], line: int) -> BaseException:
        evaluation = _Evaluation(self, text, path, line, raising=True)
        value = evaluation.run()
        if isinstance(value, type) and issubclass(value, BaseException):
            value = evaluation.bounded(value)  # ``raise X``: X(), which may want arguments
        if not isinstance(value, BaseException):
            raise MockFileError(f"refused to raise {_Evaluation._first_line(text)!r}: not an exception",
                                path, line or None)
        if isinstance(value, (KeyboardInterrupt, GeneratorExit)):  # a Ctrl-C while recording is no answer
            raise MockFileError(f"refused to raise {_Evaluation._first_line(text)!r}: it would interrupt the "
                                "test run itself, not the code under test", path, line or None)
        return value


class _Evaluation:
    """One walk over one expression; remembers where it is for error messages."""

    def __init__(self, parser: ValueParser, text: str, path: Optional[str], line: int, *,
                 raising: bool = False):
        self.parser = parser
        self.ns = parser.namespace
        self.text = text
        self.path = path
        self.line = line
        self.raising = raising
        self.budget = MAX_REBUILT_SIZE  # elements constructor calls may still materialise

    def run(self) -> Any:
        body = self.tree("value")
        return self.bounded(lambda: self.rebuild(body))

    def tree(self, what: str) -> ast.expr:
        """The parsed expression; ast's own limits (nesting, digits of an int) are clean errors too, and
        so is text whose expressions would cost more than ``MAX_CODE_CHARS`` characters' worth of nodes."""
        if len(self.text) > MAX_CODE_CHARS and _code_chars(self.text) > MAX_CODE_CHARS:
            raise MockFileError(f"refused {what} {self._first_line(self.text)!r}: more than {MAX_CODE_CHARS} "
                                "characters outside string literals (only plain literals may be that large)",
                                self.path, self._line_of(None))
        try:
            return ast.parse(self.text, _SOURCE_NAME, mode="eval").body
        except SyntaxError as err:
            readable = _enum_reprs_as_names(self.text)
            if readable is not None:  # <AddressFamily.AF_INET: 2>, as repr writes enum members
                self.text = readable
                return self.tree(what)
            raise MockFileError(f"cannot parse {what} {self._first_line(self.text)!r}: {err.msg}",
                                self.path, self._line_of(err.lineno)) from None
        except (ValueError, RecursionError, MemoryError) as err:
            raise MockFileError(f"cannot parse {what} {self._first_line(self.text)!r}: "
                                f"{str(err) or 'nested too deeply'}", self.path, self._line_of(None)) from None

    def bounded(self, evaluate: Callable[[], Any]) -> Any:
        """Evaluate, turning a walk too deep for the interpreter's stack, or anything a constructor or the
        namespace raises over odd mock text (``Instance('X(type)', 'x')``), into a clean error."""
        try:
            return evaluate()
        except (CaptureMockError, CaptureMockReplayError):
            raise  # already says where and what
        except RecursionError:
            raise MockFileError(f"refused value {self._first_line(self.text)!r}: nested too deeply",
                                self.path, self._line_of(None)) from None
        except Exception as err:
            raise MockFileError(f"cannot rebuild {self._first_line(self.text)!r}: {type(err).__name__}: "
                                f"{self._first_line(str(err))}", self.path, self._line_of(None)) from None

    # -- helpers --
    def _line_of(self, lineno: Optional[int]) -> Optional[int]:
        if not self.line:
            return None
        return self.line + (lineno or 1) - 1

    @staticmethod
    def _first_line(text: str) -> str:
        """What an error message quotes: the first line, cut short (a hostile value may be huge)."""
        line = text.splitlines()[0] if text else text
        return f"{line[:_QUOTED]}..." if len(line) > _QUOTED else line

    def source(self, node: ast.AST) -> str:
        """The first line of ``node``'s text, cut short (``ast.get_source_segment`` takes seconds on one
        long line: it splits lines in Python)."""
        line = _LINE_BREAK.split(self.text, node.lineno)[node.lineno - 1].encode()  # offsets count bytes
        end = node.end_col_offset if node.end_lineno == node.lineno else None
        return self._first_line(line[node.col_offset:end].decode(errors="replace"))

    def refuse(self, node: ast.AST, why: str = "not a value replay may rebuild") -> MockFileError:
        return MockFileError(f"refused expression {self.source(node)!r}: {why}", self.path,
                             self._line_of(node.lineno))

    # -- the whitelist: one rebuild_<node type> method per kind of expression replay accepts --
    def rebuild(self, node: ast.AST) -> Any:
        method = getattr(self, f"rebuild_{type(node).__name__}", None)
        if method is None:
            raise self.refuse(node)
        return method(node)

    def rebuild_Constant(self, node: ast.Constant) -> Any:
        return node.value

    def rebuild_List(self, node: ast.List) -> list:
        return [self.rebuild(element) for element in node.elts]

    def rebuild_Tuple(self, node: ast.Tuple) -> tuple:
        return tuple(self.rebuild(element) for element in node.elts)

    def rebuild_Set(self, node: ast.Set) -> set:
        return {self.rebuild(element) for element in node.elts}

    def rebuild_Dict(self, node: ast.Dict) -> dict:
        if any(key is None for key in node.keys):
            raise self.refuse(node, "dict unpacking")
        return {self.rebuild(key): self.rebuild(value) for key, value in zip(node.keys, node.values)}

    def rebuild_UnaryOp(self, node: ast.UnaryOp) -> Any:
        operand = self.rebuild(node.operand)
        if isinstance(node.op, (ast.USub, ast.UAdd)) and _is_number(operand):
            return -operand if isinstance(node.op, ast.USub) else operand
        raise self.refuse(node)

    def rebuild_BinOp(self, node: ast.BinOp) -> Any:
        # only complex literals such as (1+2j)
        left, right = self.rebuild(node.left), self.rebuild(node.right)
        if isinstance(node.op, (ast.Add, ast.Sub)) and _is_number(left) and isinstance(right, complex):
            return left + right if isinstance(node.op, ast.Add) else left - right
        raise self.refuse(node)

    def rebuild_Name(self, node: ast.Name) -> Any:
        name = node.id
        try:
            return self.ns.lookup_name(name)
        except KeyError:
            pass
        if name in SPECIAL_NAMES:
            return SPECIAL_NAMES[name]
        value = getattr(builtins, name, None)
        if isinstance(value, type) and (name in SAFE_BUILTIN_CALLS or issubclass(value, BaseException)):
            return value
        cls = _value_module_class(name)
        if cls is not None:
            return cls
        if self.raising:
            return _placeholder_exception(name)
        raise self.refuse(node, "unknown name")

    def rebuild_Attribute(self, node: ast.Attribute) -> Any:
        dotted = _dotted(node)
        if dotted is None:
            raise self.refuse(node)
        if "__" in dotted:
            raise self.refuse(node, "special attributes are never followed")
        value = self._resolve_dotted(dotted)
        if value is None:
            raise self.refuse(node, "not a class of an intercepted or value module")
        return value

    def rebuild_Call(self, node: ast.Call) -> Any:
        func = node.func
        if isinstance(func, ast.Name) and func.id in ("Instance", "Callback"):
            return self._special_form(node, func.id)
        try:
            callee = self.rebuild(func)
        except MockFileError:
            raise self.refuse(node, "only classes of intercepted or value modules may be called") from None
        if not isinstance(callee, type):
            raise self.refuse(node, "only classes may be called")
        if (callee.__module__ == "builtins" and callee.__name__ not in SAFE_BUILTIN_CALLS
                and not issubclass(callee, BaseException)):
            raise self.refuse(node, "only classes may be called")
        if any(isinstance(arg, ast.Starred) for arg in node.args) or any(k.arg is None for k in node.keywords):
            raise self.refuse(node, "argument unpacking")
        args = [self.rebuild(arg) for arg in node.args]
        kwargs = {keyword.arg: self.rebuild(keyword.value) for keyword in node.keywords}
        self._check_cost(node, callee, [*args, *kwargs.values()])
        try:
            return callee(*args, **kwargs)
        except Exception as err:  # a data constructor refusing its arguments is bad mock data
            if self.raising and issubclass(callee, BaseException) and not kwargs:
                stand_in = _exception_saying(callee, args)
                if stand_in is not None:
                    return stand_in
            raise MockFileError(f"cannot rebuild {self.source(node)!r}:"
                                f" {err}", self.path, self._line_of(node.lineno)) from None

    def _check_cost(self, node: ast.Call, callee: type, args: list) -> None:
        """Refuse a call whose result would be far larger or slower to build than its text, charging what
        it materialises to the budget of the whole value (40 ``list(range(10**6))`` in one list)."""
        cost = 0
        counts = issubclass(callee, (bytes, bytearray))  # an int argument is a count of zero bytes
        for position, arg in enumerate(args):
            kind = type(arg)
            if kind in _INERT_ARGUMENTS or (kind is int and not counts and arg.bit_length() <= MAX_INT_BITS):
                continue
            why = _too_costly(callee, arg, position)
            if why is not None:
                raise self.refuse(node, why)
            cost += _materialised(callee, arg)
        if cost > self.budget:
            raise self.refuse(node, f"would build more than {MAX_REBUILT_SIZE} elements in one value")
        self.budget -= cost

    def _special_form(self, node: ast.Call, form: str) -> Any:
        args = [self.rebuild(arg) for arg in node.args]
        if node.keywords or not all(isinstance(arg, str) for arg in args):
            raise self.refuse(node, f"{form}() takes string arguments")
        if form == "Instance" and len(args) == 2:
            return self.ns.make_instance(args[0], args[1])
        if form == "Callback" and len(args) == 1:
            return self.ns.make_callback(args[0])
        raise self.refuse(node, f"wrong number of arguments to {form}()")

    def _resolve_dotted(self, dotted: str) -> Any:
        """A class (or enum member) reachable by dotted name from an allowed place, else None."""
        cls = self.ns.resolve_class(dotted)
        if cls is not None:
            return cls
        root = dotted.split(".", 1)[0]
        if root in VALUE_MODULES or dotted in self.parser.constructors:
            value = _walk_to_class(dotted, importlib.import_module, constants=root in VALUE_MODULES)
            return None if value is _NO_MODULE else value
        loaded = _walk_to_class(dotted, sys.modules.__getitem__)  # modules already imported only
        if isinstance(loaded, enum.Enum):
            return loaded  # an enum member: a constant
        if self.raising:
            cls = self.ns.exception_class(dotted)
            if cls is not None:
                return cls
            if isinstance(loaded, type) and issubclass(loaded, BaseException):
                return loaded
            if loaded is _NO_MODULE:
                return _placeholder_exception(dotted.rsplit(".", 1)[-1])
        return None


_NOT_SIMPLE = object()
_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # the line ends ast counts lines by
_PLAIN_STR = re.compile(r"'([^'\\\n]*)'\Z")
_KEYWORDS = {"None": None, "True": True, "False": False}


def _simple_literal(text: str) -> Any:
    """Keywords and plain quoted strings without the cost of ``ast`` (ints: ``ValueParser.parse``)."""
    match = _PLAIN_STR.match(text)
    if match:
        return match.group(1)
    return _KEYWORDS.get(text, _NOT_SIMPLE)


_INERT_ARGUMENTS = frozenset({float, bool, type(None), complex, bytes})  # cost what their text cost


def _materialised(callee: type, arg: Any) -> int:
    """How many elements ``callee(arg)`` may build that ``arg``'s own text did not: the zero bytes of
    ``bytes(n)``, or those of a lazy range or ip network it lists."""
    if isinstance(arg, int):
        return max(arg, 0) if issubclass(callee, (bytes, bytearray)) else 0
    if isinstance(arg, (str, bytes)):  # a container of its characters: a few times the text as objects
        return len(arg) if _is_container(callee) else 0
    if isinstance(arg, range) and callee is not range and callee is not slice:
        try:
            return len(arg)
        except OverflowError:  # longer than sys.maxsize
            return MAX_REBUILT_SIZE + 1
    network = _loaded_class("ipaddress", "_BaseNetwork")
    if network is not None and isinstance(arg, network) and callee.__module__ != "ipaddress":
        return arg.num_addresses
    return 0


_NUMBER_STRING = re.compile(r"\s*[-+]?[\d_]*\.?[\d_]*[eE]([-+]?[\d_]+)\s*\Z")


def _loaded_class(module: str, name: str) -> Any:
    """A class of a value module only if the module is loaded (no value of it can exist otherwise):
    importing decimal and ipaddress would cost every replaying process ~4 ms at start-up."""
    return getattr(sys.modules.get(module), name, None)


def _is_class(cls: type, module: str, name: str) -> bool:
    loaded = _loaded_class(module, name)
    return loaded is not None and cls is loaded


def _too_costly(callee: type, arg: Any, position: int) -> Optional[str]:
    """Why an argument would take long to expand or convert, else None: a huge int, a number with a
    huge exponent or too many digits (the C conversions are quadratic: ``int(Decimal('9'*10**6))``
    takes half a minute), or an exotic codec (``punycode`` is quadratic too)."""
    if isinstance(arg, int):
        return f"an int argument of more than {MAX_INT_BITS} bits" if arg.bit_length() > MAX_INT_BITS else None
    keeps_exponent = _is_class(callee, "decimal", "Decimal")  # a Decimal stores it, never expands it
    if isinstance(arg, str):
        if position and issubclass(callee, (str, bytes, bytearray)):
            return _codec_refusal(arg) if position == 1 else None
        if _is_number_class(callee):
            if len(arg) > MAX_NUMBER_CHARS:
                return f"a number of more than {MAX_NUMBER_CHARS} characters"
            if not keeps_exponent and _exponent_too_large(arg):
                return f"a number exponent beyond {MAX_EXPONENT}"
    elif _is_class(type(arg), "decimal", "Decimal") and arg.is_finite():
        if len(arg.as_tuple().digits) > MAX_NUMBER_CHARS:
            return f"a number of more than {MAX_NUMBER_CHARS} digits"
        if not keeps_exponent and abs(arg.as_tuple().exponent) > MAX_EXPONENT:
            return f"a number exponent beyond {MAX_EXPONENT}"
    return None


def _exponent_too_large(text: str) -> bool:
    match = _NUMBER_STRING.match(text) if "e" in text or "E" in text else None
    digits = match.group(1).replace("_", "").lstrip("+-") if match else ""
    return len(digits) > 6 or bool(digits and int(digits) > MAX_EXPONENT)


def _is_number_class(callee: type) -> bool:
    return (issubclass(callee, (int, float, complex)) or _is_class(callee, "decimal", "Decimal")
            or _is_class(callee, "fractions", "Fraction"))


def _is_container(callee: type) -> bool:
    deque = _loaded_class("collections", "deque")
    return issubclass(callee, (list, tuple, set, frozenset, dict)) or (deque is not None and issubclass(callee, deque))


# codecs text in mock files was recorded with; others may be slow or odd (punycode is quadratic)
_PLAIN_CODECS = frozenset({"utf-8", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be",
                           "ascii", "latin-1", "iso8859-1", "cp1252", "iso8859-15", "utf-8-sig"})


def _codec_refusal(encoding: str) -> Optional[str]:
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        return None  # the constructor says so itself
    return None if name in _PLAIN_CODECS else f"the codec {encoding!r} (only plain text codecs rebuild values)"


_PLAIN_OUTSIDE = re.compile(r"[\[\]{},:0-9.eE+\- \t\n']*")  # json punctuation and numbers (' joins)
_SHARED_ESCAPE = re.compile(r"\\[\\nrt]")  # escapes json and Python read alike
_SURROGATE = re.compile("[\ud800-\udfff]")


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


# the "unrolled loop" form: a run of plain characters is one step, so a 20 MB literal costs no more
# than its scan (one alternative per character kept a backtracking state each: gigabytes)
_STRING_LITERAL = re.compile(r"""(?<!\w)[rRbBuU]{0,2}(?:'[^'\\\n]*(?:\\.[^'\\\n]*)*'|"[^"\\\n]*(?:\\.[^"\\\n]*)*")""")


def _code_chars(text: str) -> int:
    """Characters of ``text`` outside one-line string literals (f-strings count: they hold code): what the
    ast parser makes nodes of, since a string is one node whatever its length."""
    return len(_STRING_LITERAL.sub("", text))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, complex)) and not isinstance(value, bool)


def _dotted(node: ast.AST) -> Optional[str]:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


_NO_MODULE = object()
_ENUM_REPR = re.compile(r"<(\w+)\.(\w+): [^<>\n]*>")


def _enum_reprs_as_names(text: str) -> Optional[str]:
    """``text`` with every ``<Class.MEMBER: value>`` (an enum member's repr, which is what the recorder
    writes for it, as the original did) turned into the member's dotted name, if each names a member of
    an enum class in a module already imported; else None."""
    found = False

    def dotted(match: re.Match) -> str:
        nonlocal found
        cls = _loaded_enum_class(match.group(1), match.group(2))
        if cls is None:
            return match.group()
        found = True
        return f"{cls.__module__}.{cls.__qualname__}.{match.group(2)}"

    readable = _ENUM_REPR.sub(dotted, text)
    return readable if found else None


_ENUM_CLASSES: dict[tuple[str, str], type] = {}  # found once: a replay may answer with it many times


def _loaded_enum_class(name: str, member: str) -> Optional[type]:
    cls = _ENUM_CLASSES.get((name, member))
    if cls is not None:
        return cls
    for module_name in sorted(sys.modules):  # sorted: the same answer whatever the import order
        module = sys.modules[module_name]
        if not isinstance(module, types.ModuleType):
            continue  # a module proxy: reading from it would be traffic
        cls = vars(module).get(name)  # not getattr: a module's own __getattr__ may import or compute
        if (isinstance(cls, type) and issubclass(cls, enum.Enum) and member in cls.__members__
                and cls.__module__ == module_name and "." not in cls.__qualname__):
            _ENUM_CLASSES[(name, member)] = cls
            return cls
    return None


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
            if isinstance(value, (type, enum.Enum)):
                continue
            last = position == len(parts) - 1
            if constants and last and value is not None and type(value).__module__ == module.__name__:
                return value
            return None
        return value
    return _NO_MODULE


_VALUE_CLASSES: Optional[dict[str, type]] = None


def _value_module_class(name: str) -> Optional[type]:
    """Bare class names of the value modules, as their reprs write them (``Decimal('1.5')``)."""
    global _VALUE_CLASSES
    if _VALUE_CLASSES is not None:
        return _VALUE_CLASSES.get(name)
    modules = [importlib.import_module(module_name) for module_name in VALUE_MODULES]
    real = [module for module in modules if isinstance(module, types.ModuleType)]  # a proxy is not read
    classes: dict[str, type] = {}
    for module in real:
        for attr, value in vars(module).items():
            if isinstance(value, type) and not attr.startswith("_"):
                classes.setdefault(attr, value)
    if len(real) == len(modules):
        _VALUE_CLASSES = classes  # kept for good only when no value module was an intercepted one's proxy
    return classes.get(name)


def _exception_saying(cls: type, args: list) -> Optional[BaseException]:
    """``raise X('message')`` where X's constructor wants more than the one message recorded (JSONDecodeError,
    CalledProcessError, HTTPError): an instance of a subclass of X, made without X's ``__init__``, whose
    ``str`` is the recorded message. ``except X`` and ``isinstance`` hold; attributes X's ``__init__``
    would have set are absent, since the mock never held them. None if even that cannot be built."""
    message = str(args[0]) if len(args) == 1 else str(tuple(args))
    namespace = {"__module__": cls.__module__, "__qualname__": cls.__qualname__, "__str__": lambda self: message,
                 "__repr__": lambda self: f"{cls.__name__}({message!r})",
                 "__getattr__": _no_such_attribute}  # X's own __getattr__ may expect what __init__ sets
    try:
        stand_in = type(cls.__name__, (cls,), namespace)
        exception = stand_in.__new__(stand_in, *args)
        BaseException.__init__(exception, *args)
    except Exception:
        return None
    return exception


def _no_such_attribute(self: BaseException, name: str) -> Any:
    raise AttributeError(f"{type(self).__name__!r} replayed from its message has no attribute {name!r}")


_PLACEHOLDERS: dict[str, type] = {}


def _placeholder_exception(name: str) -> type:
    """An exception class standing in for one that cannot be imported during replay."""
    cls = _PLACEHOLDERS.get(name)
    if cls is None:
        cls = _PLACEHOLDERS[name] = type(name, (Exception,), {})
    return cls
