"""Responses computed from the request (``httprules`` templates): a small expression language of our own.

Rules arrive over HTTP from anyone holding the session token, so nothing in them is ever ``eval``-ed:
a template is parsed once, when its rule is added (a mistake is refused then, with the reason), into a
tree that can only read the request and do whole-number arithmetic.

Text with placeholders in braces; ``{{`` and ``}}`` are literal braces. A placeholder is an expression:

- a name: ``method``, ``path``, ``match`` (named groups of ``path_regex``), ``query`` (each parameter's
  first value), ``headers`` (any case; ``_`` stands for ``-``), ``json`` (the request's JSON body),
  ``body`` (its text), ``data`` (the rule's own ``data``), then ``.key`` / ``.0`` steps, ``[i]`` indexes
  and ``[start:stop]`` slices;
- whole numbers, and text in single or double quotes;
- ``+ - * / %`` on whole numbers (``/`` rounds down; text holding a whole number counts as one);
- ``int(x)`` and ``len(x)``;
- ``a ?? b``: ``b`` when ``a`` is missing or null (a query parameter that may be absent).

A value that is a whole template (``"{data.items[0:2]}"``) keeps its JSON type; inside text it is
written as text (lists, objects and null as JSON).
"""
from __future__ import annotations

import json
import re
from collections import namedtuple

TYPE_CHECKING = False  # typing is not imported at run time: ~20 M instructions of the HTTP server's start-up
if TYPE_CHECKING:
    from typing import Any, Callable, Optional, Union

ROOTS = ("method", "path", "match", "query", "headers", "json", "body", "data")
FUNCTIONS: dict[str, Callable[[Any, str], int]] = {"int": lambda value, source: _whole(value, source),
                                                   "len": lambda value, source: _length(value, source)}
LIMIT = 10 ** 18  # larger numbers are refused: arithmetic must stay cheap whatever a rule says
MAX_DEPTH = 32  # nested parentheses, indexes and calls in one placeholder
_TOKEN = re.compile(r"\s*(?:(?P<number>\d+)|(?P<name>[A-Za-z_]\w*)|(?P<text>'[^']*'|\"[^\"]*\")"
                    r"|(?P<op>\?\?|[-+*/%()\[\]:.]))")
_WHOLE = re.compile(r"-?\d{1,19}")


class TemplateError(ValueError):
    """A template that cannot be parsed, or cannot answer this request (the text says why)."""


class Missing(TemplateError):
    """A name the request does not have: ``??`` gives the fallback."""


class Headers(dict):
    """Header values by name in any case, ``_`` for ``-`` (``headers.x_user`` is ``X-User``)."""

    def __init__(self, pairs):
        super().__init__((self.key(name), value) for name, value in pairs)

    @staticmethod
    def key(name: str) -> str:
        return name.lower().replace("_", "-")


# -- the tree ---------------------------------------------------------------------------------------------
class Node(namedtuple("Node", ("source", "run"))):
    """One expression: ``run`` computes it from the scope (root name -> value); ``source`` for messages."""

    __slots__ = ()

    def value(self, scope: dict) -> Any:
        return self.run(scope)


def _whole(value: Any, source: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _WHOLE.fullmatch(value.strip()):
        return int(value)
    raise TemplateError(f"{source} is {json.dumps(value)}, not a whole number")


def _length(value: Any, source: str) -> int:
    if isinstance(value, (str, list, dict)):
        return len(value)
    raise TemplateError(f"{source} is {json.dumps(value)}, which has no length")


def _checked(number: int) -> int:
    if abs(number) > LIMIT:
        raise TemplateError(f"the number {number} is too large (at most {LIMIT})")
    return number


def _arithmetic(op: str, left: int, right: int, source: str) -> int:
    if op in "/%" and right == 0:
        raise TemplateError(f"{source} divides by zero")
    results = {"+": lambda: left + right, "-": lambda: left - right, "*": lambda: left * right,
               "/": lambda: left // right, "%": lambda: left % right}
    return _checked(results[op]())


def _step(container: Any, key: Any, source: str) -> Any:
    """``container.key`` or ``container[key]``: Missing when it is not there."""
    if isinstance(container, Headers):
        key = Headers.key(str(key))
    if isinstance(container, dict):
        if str(key) in container:
            return container[str(key)]
    elif isinstance(container, (list, str)):
        index = _whole(key, source)
        if -len(container) <= index < len(container):
            return container[index]
    raise Missing(f"{source} is missing")


def _slice(container: Any, start: Optional[int], stop: Optional[int], source: str) -> Any:
    if not isinstance(container, (list, str)):
        raise TemplateError(f"{source}: only a list or text can be sliced")
    return container[start:stop]


# -- parsing --------------------------------------------------------------------------------------------
class _Parser:
    """Recursive descent over one placeholder's tokens (depth bounded by ``MAX_DEPTH``)."""

    def __init__(self, source: str):
        self.source = source
        self.tokens: list[tuple[str, str, int, int]] = []  # kind, text, start, end
        position = 0
        while source[position:].strip():
            found = _TOKEN.match(source, position)
            if not found:
                raise TemplateError(f"cannot read {source[position:].strip()!r} in {{{source}}}")
            kind = found.lastgroup
            self.tokens.append((kind, found.group(kind), found.start(kind), found.end()))
            position = found.end()
        self.at = 0
        self.depth = 0

    def parse(self) -> Node:
        if not self.tokens:
            raise TemplateError("an empty placeholder {}")
        node = self.fallback()
        if self.at < len(self.tokens):
            raise TemplateError(f"unexpected {self.tokens[self.at][1]!r} in {{{self.source}}}")
        return node

    def peek(self) -> str:
        return self.tokens[self.at][1] if self.at < len(self.tokens) and self.tokens[self.at][0] == "op" else ""

    def take(self, expected: str) -> None:
        if self.peek() != expected:
            found = repr(self.tokens[self.at][1]) if self.at < len(self.tokens) else "the end"
            raise TemplateError(f"expected {expected!r} but found {found} in {{{self.source}}}")
        self.at += 1

    def text(self, start: int) -> str:
        return self.source[self.tokens[start][2]:self.tokens[self.at - 1][3]].strip()

    def fallback(self) -> Node:
        start, node = self.at, self.sum()
        while self.peek() == "??":
            self.at += 1
            second = self.sum()
            node = _fallback(self.text(start), node, second)
        return node

    def sum(self) -> Node:
        start, node = self.at, self.product()
        while self.peek() in ("+", "-"):
            op = self.peek()
            self.at += 1
            right = self.product()
            node = _binary(self.text(start), op, node, right)
        return node

    def product(self) -> Node:
        start, node = self.at, self.unary()
        while self.peek() in ("*", "/", "%"):
            op = self.peek()
            self.at += 1
            right = self.unary()
            node = _binary(self.text(start), op, node, right)
        return node

    def unary(self) -> Node:
        start = self.at
        if self.peek() == "-":
            self.at += 1
            inner = self.nested(self.unary)
            return Node(self.text(start), lambda scope: _checked(-_whole(inner.value(scope), inner.source)))
        return self.postfix()

    def nested(self, parse: Callable[[], Node]) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise TemplateError(f"{{{self.source}}} is nested more than {MAX_DEPTH} levels")
        try:
            return parse()
        finally:
            self.depth -= 1

    def postfix(self) -> Node:
        start, node = self.at, self.primary()
        while self.peek() in (".", "["):
            if self.peek() == ".":
                self.at += 1
                if self.at >= len(self.tokens) or self.tokens[self.at][0] not in ("name", "number"):
                    raise TemplateError(f"a name or number must follow '.' in {{{self.source}}}")
                key = self.tokens[self.at][1]
                self.at += 1
                node = _get(self.text(start), node, Node(key, lambda scope, key=key: key))
            else:
                self.at += 1
                node = self.nested(lambda base=node: self.index(start, base))
        return node

    def index(self, start: int, base: Node) -> Node:
        """After ``[``: ``i]``, ``a:b]``, ``:b]``, ``a:]``."""
        first = None if self.peek() == ":" else self.fallback()
        if self.peek() != ":":
            self.take("]")
            return _get(self.text(start), base, first)
        self.at += 1
        last = None if self.peek() == "]" else self.fallback()
        self.take("]")
        return _sliced(self.text(start), base, first, last)

    def primary(self) -> Node:
        if self.at >= len(self.tokens):
            raise TemplateError(f"{{{self.source}}} ends too early")
        start, (kind, token, _, _) = self.at, self.tokens[self.at]
        self.at += 1
        if kind == "number":
            if len(token) > 19:
                raise TemplateError(f"the number {token} is too large (at most {LIMIT})")
            number = _checked(int(token))
            return Node(token, lambda scope: number)
        if kind == "text":
            return Node(token, lambda scope: token[1:-1])
        if kind == "name" and token in FUNCTIONS and self.peek() == "(":
            self.at += 1
            argument = self.nested(self.fallback)
            self.take(")")
            function = FUNCTIONS[token]
            return Node(self.text(start), lambda scope: function(argument.value(scope), argument.source))
        if kind == "name":
            if token not in ROOTS:
                raise TemplateError(f"unknown name {token!r} in {{{self.source}}} (use {', '.join(ROOTS)})")
            return Node(token, lambda scope: _root(scope, token))
        if token == "(":
            inner = self.nested(self.fallback)
            self.take(")")
            return inner
        raise TemplateError(f"unexpected {token!r} in {{{self.source}}}")


def _root(scope: dict, name: str) -> Any:
    value = scope.get(name)
    if value is None:
        raise Missing(f"{name} is missing")
    return value


def _fallback(source: str, first: Node, second: Node) -> Node:
    def run(scope: dict) -> Any:
        try:
            value = first.value(scope)
        except Missing:
            return second.value(scope)
        return second.value(scope) if value is None else value
    return Node(source, run)


def _binary(source: str, op: str, left: Node, right: Node) -> Node:
    return Node(source, lambda scope: _arithmetic(op, _whole(left.value(scope), left.source),
                                                  _whole(right.value(scope), right.source), source))


def _get(source: str, base: Node, key: Node) -> Node:
    return Node(source, lambda scope: _step(base.value(scope), key.value(scope), source))


def _sliced(source: str, base: Node, first: Optional[Node], last: Optional[Node]) -> Node:
    def run(scope: dict) -> Any:
        bounds = [None if part is None else _whole(part.value(scope), part.source) for part in (first, last)]
        return _slice(base.value(scope), bounds[0], bounds[1], source)
    return Node(source, run)


# -- templates ------------------------------------------------------------------------------------------
def as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


class Template:
    """One text with placeholders, parsed: ``text`` renders it, ``value`` keeps a lone placeholder's type."""

    def __init__(self, source: str):
        self.parts: list[Union[str, Node]] = []
        literal, position = [], 0
        while position < len(source):
            char = source[position]
            if char in "{}" and source[position:position + 2] == char * 2:
                literal.append(char)
                position += 2
            elif char == "}":
                raise TemplateError(f"a lone '}}' in {source!r} (write '}}}}' for a brace)")
            elif char == "{":
                end = _closing(source, position)
                if literal:
                    self.parts.append("".join(literal))
                    literal = []
                self.parts.append(_Parser(source[position + 1:end]).parse())
                position = end + 1
            else:
                literal.append(char)
                position += 1
        if literal:
            self.parts.append("".join(literal))

    def text(self, scope: dict) -> str:
        return "".join(part if isinstance(part, str) else as_text(part.value(scope)) for part in self.parts)

    def value(self, scope: dict) -> Any:
        if len(self.parts) == 1 and isinstance(self.parts[0], Node):
            return self.parts[0].value(scope)
        return self.text(scope)


def _closing(source: str, start: int) -> int:
    """Where the placeholder opened at ``start`` ends (braces inside quoted text do not count)."""
    quote = ""
    for position in range(start + 1, len(source)):
        char = source[position]
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "}":
            return position
    raise TemplateError(f"a '{{' without its '}}' in {source!r} (write '{{{{' for a brace)")


def compile_json(value: Any) -> Callable[[dict], Any]:
    """A JSON value whose strings are templates: a function of the scope giving the JSON value."""
    if isinstance(value, str):
        return Template(value).value
    if isinstance(value, list):
        items = [compile_json(item) for item in value]
        return lambda scope: [item(scope) for item in items]
    if isinstance(value, dict):
        fields = [(key, compile_json(item)) for key, item in value.items()]
        return lambda scope: {key: item(scope) for key, item in fields}
    return lambda scope: value
