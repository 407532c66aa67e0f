"""Names of instances, classes and callbacks in python traffic (§4.2).

Names must come out exactly as the original writes them, because recorded mock files are compared
byte for byte: ``item_apple``, ``item_apple1``, ``item1``, ``item__9lives``, ``events_news_callback``.
"""
from __future__ import annotations

from ..accelerator import load_speedups
from ..lazyregex import LazyRegex

TYPE_CHECKING = False  # typing is not imported at run time: it costs every intercepted process ~3 ms
if TYPE_CHECKING:
    from typing import Callable, Iterable, Iterator, Optional

_speedups = load_speedups()
_NON_WORD = LazyRegex(r"\W")
MAX_HINT_LENGTH = 20


def hint_from(args: Iterable, kwargs: dict) -> Optional[str]:
    """The naming hint of a call: its first short one-line str argument, else such a keyword value."""
    for value in args:
        if type(value) is str and 0 < len(value) < MAX_HINT_LENGTH and "\n" not in value:
            return sanitise(value)
    for key in sorted(kwargs) if kwargs else ():
        value = kwargs[key]
        if type(value) is str and 0 < len(value) < MAX_HINT_LENGTH and "\n" not in value:
            return sanitise(value)
    return None


def sanitise(hint: str) -> str:
    """Lower-case, every non-word character becomes '_', and a leading digit gets a '_' in front."""
    text = hint.lower()
    if not text.replace("_", "").isalnum():  # what \W finds: the regex (and ``re``) only where it has work
        text = _NON_WORD.sub("_", text)
    return f"_{text}" if text[:1].isdigit() else text


class NameRegistry:
    """The names in use in one process; hands out free ones by the original's suffix rules."""

    def __init__(self) -> None:
        self.used: set[str] = set()
        # stem -> a number below which every ``stem<number>`` is in use (names are only added to ``used``
        # but by ``release``), so the n-th unhinted instance of a class costs one look-up, not n
        self._in_use_below: dict[str, int] = {}

    def take(self, base: str, hint: Optional[str], *, bare_suffix: bool) -> tuple[str, bool]:
        """A free name from ``base`` and ``hint``, now in use; also whether it carries a numeric suffix."""
        name, suffixed = self.free(base, hint, bare_suffix=bare_suffix)
        self.used.add(name)
        return name, suffixed

    def free(self, base: str, hint: Optional[str], *, bare_suffix: bool) -> tuple[str, bool]:
        """The name ``take`` would give, left free (a rename asks before it knows it may rename).

        With a hint: ``base_hint`` if free, else ``base_hint1``, ``base_hint2``, ... With no hint:
        ``base1``, ``base2``, ... when ``bare_suffix`` (instances), else ``base`` first (callbacks).
        """
        stem = f"{base}_{hint}" if hint else base
        if (hint or not bare_suffix) and stem not in self.used:
            return stem, False
        number = self._in_use_below.get(stem, 1)
        while f"{stem}{number}" in self.used:
            number += 1
        self._in_use_below[stem] = number
        return f"{stem}{number}", True

    def release(self, name: str) -> None:
        self.used.discard(name)
        self._in_use_below.clear()  # rare (a rename frees a name): counted from 1 again


def class_description(cls: type, is_intercepted: Callable[[type], bool]) -> str:
    """``Name`` or ``Name(Base1, Base2)``: intercepted bases by bare name, then the first other base
    by full dotted name (builtins bare), ``object`` omitted (§4.2)."""
    bases = []
    for base in cls.__mro__[1:]:
        if base is object:
            break
        if is_intercepted(base):
            bases.append(base.__name__)
            continue
        bases.append(dotted_class_name(base))
        break
    return f"{cls.__name__}({', '.join(bases)})" if bases else cls.__name__


def dotted_class_name(cls: type) -> str:
    if cls.__module__ == "builtins":
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


def split_description(description: str) -> tuple[str, list[str]]:
    """``'Dog(Animal, x.Base)'`` -> ``('Dog', ['Animal', 'x.Base'])``."""
    name, _, rest = description.partition("(")
    bases = [base.strip() for base in rest.rstrip(")").split(",") if base.strip()]
    return name.strip(), bases


def described_classes(text: str) -> Iterator[str]:
    r"""Every class description ``Instance('<description>', ...)`` in mock text, in order: what the regex
    ``Instance\('([^']*)'`` finds, found with ``str.find`` (a replaying process's start-up imports no ``re``)."""
    opener = "Instance('"
    position = text.find(opener)
    while position >= 0:
        start = position + len(opener)
        end = text.find("'", start)
        if end < 0:
            return
        yield text[start:end]
        position = text.find(opener, end + 1)


def named_instances(text: str) -> Iterator[tuple[str, str]]:
    r"""(class, instance name) of every ``Instance('Class...', 'name')`` in mock text: what the regex
    ``Instance\('(\w+)[^']*', '([^']+)'\)`` finds, found with str methods."""
    opener = "Instance('"
    position = text.find(opener)
    while position >= 0:
        start = position + len(opener)
        quote = text.find("'", start)
        word = _word_run(text, start, quote)
        if word and text.startswith("', '", quote):
            end = text.find("'", quote + 4)
            if end > quote + 4 and text.startswith("')", end):
                yield word, text[quote + 4:end]
                position = text.find(opener, end + 2)
                continue
        position = text.find(opener, position + 1)


def request_callees(text: str) -> list[str]:
    """What precedes the first ``(`` of every request line's text (after ``<-PYT:``, ``<---PYT:``...; ''
    where there is none), in order: one scan for ``special_calls`` and ``instance_calls`` both."""
    if _speedups is not None:
        return _speedups.request_callees(text)
    return _request_callees_in_python(text)


def special_calls(callees: Iterable[str]) -> Iterator[tuple[str, str]]:
    r"""(owner, method) of every request line calling a special method (``<-PYT:point1.__eq__(...)``), from
    its ``request_callees``: what ``(?m)^<-+PYT:(?:await )?([\w.]+)\.(__\w+__)\(`` finds."""
    for callee in callees:
        if "__" not in callee:
            continue
        if callee.startswith("await "):
            callee = callee[len("await "):]
        owner, dot, method = callee.rpartition(".")
        if (owner and dot and len(method) > 4 and method[:2] == "__" == method[-2:]
                and method.replace("_", "a").isalnum() and owner.replace(".", "a").replace("_", "a").isalnum()):
            yield owner, method


def instance_calls(callees: Iterable[str]) -> Iterator[str]:
    r"""Every name a request line calls bare (``<-PYT:scale1(2)``), from its ``request_callees``: what
    ``(?m)^<-+PYT:(\w+)\(`` finds."""
    for callee in callees:
        if callee and "." not in callee and callee.replace("_", "a").isalnum():
            yield callee


def _request_callees_in_python(text: str) -> list[str]:
    """``request_callees`` without the C accelerator (the reference)."""
    callees = []
    position = text.find("PYT:")
    while position >= 0:
        line_start = text.rfind("\n", 0, position) + 1
        dashes = position - line_start - 1
        if dashes > 0 and text[line_start] == "<" and text.count("-", line_start + 1, position) == dashes:
            callees.append(_callee(text, position + 4))
        position = text.find("PYT:", position + 4)
    return callees


def _callee(text: str, start: int) -> str:
    """The text from ``start`` to the first ``(`` of its line ('' if there is none)."""
    end = text.find("\n", start)
    paren = text.find("(", start, len(text) if end < 0 else end)
    return text[start:paren] if paren >= 0 else ""


def _word_run(text: str, start: int, end: int) -> str:
    """The characters \\w matches from ``start`` on, before ``end`` (a quote; -1: none)."""
    if end < 0:
        return ""
    stop = start
    while stop < end and (text[stop].isalnum() or text[stop] == "_"):
        stop += 1
    return text[start:stop]
