"""The general parser of mock values (§4.2): a whitelist of ``ast`` nodes evaluated, never the text run.

``values.ValueParser`` reads plain literals itself and hands everything else here, so that ``ast`` (~5 ms
to import) is loaded only by a process that replays a value plain literals cannot express (a dict, an
``Instance``, a class call, a ``raise``). Anything outside the whitelist is a MockFileError naming file,
line and the refused expression (product spec §3, "Safe replay").
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

from .errors import CaptureMockError, CaptureMockReplayError, MockFileError
from .values import (
    _NO_MODULE,
    _QUOTED,
    MAX_CODE_CHARS,
    MAX_EXPONENT,
    MAX_INT_BITS,
    MAX_NUMBER_CHARS,
    MAX_REBUILT_SIZE,
    SAFE_BUILTIN_CALLS,
    VALUE_MODULES,
    _walk_to_class,
)

TYPE_CHECKING = False  # typing is not imported at run time: it costs every intercepted process ~3 ms
if TYPE_CHECKING:
    from typing import Any, Callable, Optional

    from .values import ValueParser

def parse_call(parser: ValueParser, text: str, path: Optional[str], line: int) -> tuple[str, list, dict]:
    """A callback invocation ``name(args)`` or ``inst.method(args)``: callee name and values."""
    evaluation = Evaluation(parser, text.strip(), path, line)
    node = evaluation.tree("callback")
    callee = _dotted(node.func) if isinstance(node, ast.Call) else None
    if callee is None or any(isinstance(a, ast.Starred) for a in node.args) or any(
            k.arg is None for k in node.keywords):
        raise evaluation.refuse(node, "not a callback invocation")
    return callee, *evaluation.bounded(lambda: (
        [evaluation.rebuild(arg) for arg in node.args],
        {keyword.arg: evaluation.rebuild(keyword.value) for keyword in node.keywords}))

def exception(parser: ValueParser, text: str, path: Optional[str], line: int) -> BaseException:
    """The exception a ``raise ...`` response raises (``text``: what follows ``raise``)."""
    evaluation = Evaluation(parser, text, path, line, raising=True)
    value = evaluation.run()
    if isinstance(value, type) and issubclass(value, BaseException):
        value = evaluation.bounded(value)  # ``raise X``: X(), which may want arguments
    if not isinstance(value, BaseException):
        raise MockFileError(f"refused to raise {Evaluation._first_line(text)!r}: not an exception",
                            path, line or None)
    if isinstance(value, (KeyboardInterrupt, GeneratorExit)):  # a Ctrl-C while recording is no answer
        raise MockFileError(f"refused to raise {Evaluation._first_line(text)!r}: it would interrupt the "
                            "test run itself, not the code under test", path, line or None)
    return value


# Mock text is parsed under this name, so the compiler's warnings about odd literals ("1if", "'\\ '") are
# silenced for mock text only, never for the application's own code.
_SOURCE_NAME = "<capturemock value>"
for _odd_literal in (SyntaxWarning, DeprecationWarning):  # an invalid escape: DeprecationWarning before 3.12
    warnings.filterwarnings("ignore", category=_odd_literal, module=re.escape(_SOURCE_NAME))
SPECIAL_NAMES = {"nan": float("nan"), "inf": float("inf"), "NotImplemented": NotImplemented,
                 "Ellipsis": Ellipsis}


class Evaluation:
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
            readable = _reprs_as_names(self.text)
            if readable is not None:  # <AddressFamily.AF_INET: 2>, <class 'list'>: as repr writes them
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


_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # the line ends ast counts lines by


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


# repr forms that are not Python: an enum member's ``<Color.RED: 1>`` and a class's ``<class 'list'>`` (a
# defaultdict's factory). String literals are matched too, and kept, so that such text inside one stays as it is.
_NON_PYTHON_REPR = re.compile(_STRING_LITERAL.pattern + r"|<(\w+)\.(\w+): [^<>\n]*>|<class '([\w.]+)'>")


def _reprs_as_names(text: str) -> Optional[str]:
    """``text`` with, outside string literals, every ``<Class.MEMBER: value>`` (an enum member's repr, which is
    what the recorder writes for it, as the original did) turned into the member's dotted name if it names a
    member of an enum class in a module already imported, and every ``<class 'mod.Name'>`` into the dotted name,
    for the whitelist to judge as any name; None if there was nothing to turn."""
    found = False

    def readable(match: re.Match) -> str:
        nonlocal found
        enum_name, member, class_name = match.groups()
        if class_name:
            found = True
            return class_name.removeprefix("builtins.")
        cls = _loaded_enum_class(enum_name, member) if enum_name else None
        if cls is None:
            return match.group()
        found = True
        return f"{cls.__module__}.{cls.__qualname__}.{member}"

    turned = _NON_PYTHON_REPR.sub(readable, text)
    return turned if found else None


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
