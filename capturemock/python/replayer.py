"""Answering python traffic from the replay file (§5.2, §5.5, §6.5, §6.7, §6.9).

The replayer finds the response group of a request in the index, rebuilds its values through the safe
parser (lending it the session's names as namespace), runs the application's callbacks that the group
invokes, and writes what it replayed to the record file so the new transcript can be compared.
"""
from __future__ import annotations

import sys

from ..errors import CaptureMockReplayError, SealedReplayError
from ..lazyregex import LazyRegex
from ..mockfile import Item, mock_prefix, sut_prefix
from ..replay import ReplayIndex
from ..values import Raised, ValueParser
from .naming import (
    described_classes,
    instance_calls,
    named_instances,
    request_callees,
    special_calls,
    split_description,
)
from .proxies import AWAIT, MISSING, MODULE, Handle, function_proxy, handle_of, plain_exception_class, raw_new

TYPE_CHECKING = False  # typing is not imported at run time: it costs every intercepted process ~3 ms
if TYPE_CHECKING:
    from typing import Any, Optional

_AWAITED_CALL = LazyRegex(r"(?m)^<-+PYT:(await [^(\n]+)\(")


def _replay_only(cls: Any) -> Optional[type]:
    """``cls`` unless it stands for a real class (mixed mode builds those while recording): a class
    replay answers for, or an exception class made for a ``raise``."""
    handle = handle_of(cls)
    return cls if cls is not None and (handle is None or not handle.has_target) else None


def _unanswered(description: str) -> None:
    """What a request nothing in the mock answers gets: None (§5.3), except an iteration step, which ends
    the iteration (a None for ever would make ``list(it)`` grow without end)."""
    if description.endswith(".__next__()"):
        raise StopIteration
    if description.endswith(".__anext__()"):
        raise StopAsyncIteration
    return None


def called_name(request: str) -> str:
    """The function a request text calls: ``mymod.fetch`` for ``await mymod.fetch(1)`` and ``mymod.fetch(1)``."""
    return request.split("(", 1)[0].removeprefix(AWAIT)


class Replayer:
    """Replays python traffic for one session; also the namespace the value parser resolves names in."""

    def __init__(self, session: Any, index: ReplayIndex, path: Optional[str], sealed: bool = False):
        self.session = session
        self.objects = session.objects
        self.index = index
        self.path = path
        self.parser = ValueParser(self, session.settings.constructors)
        self._functions: Optional[set[str]] = None
        self._described: Optional[dict[str, str]] = None
        self._specials: Optional[dict[str, frozenset[str]]] = None
        self._awaited: Optional[frozenset[str]] = None
        self._answering: list[str] = []  # the requests whose answers are being played, innermost last
        self._construct_target: Any = None
        self._plain_classes: dict[type, type] = {}  # generated exception class -> what mock text raises
        self._handed: dict[str, Any] = {}  # callback or passed function name -> what the application got
        if sealed:  # decided here, once: unsealed calls carry no check at all
            self.call = self._sealed_call

    def whole_calls(self, fallback: Any) -> Any:
        """``Session.call`` settling the usual replayed call in C (``ReplayIndex.call_replayer``), or None:
        only where ``call`` is this class's own (not sealed), as the C one replays what it would. (Not
        ``vars(self)``: making the instance's dict would slow every later attribute read of it.)"""
        if self.call.__func__ is not Replayer.call:
            return None
        return self.index.call_replayer(fallback, self.session, Handle, MISSING, self.session.full_floats)

    # -- what the replay file covers (§5.2) --------------------------------------------------------
    def knows(self, description: str) -> bool:
        return description in self.index

    def knows_function(self, name: str) -> bool:
        """Mixed mode replays a call when any call (or read) of the same name was recorded."""
        if self._functions is None:
            functions = set()
            for key in self.index.keys():
                prefix, _, body = key.partition(":")
                if prefix.startswith("<-") and prefix.endswith("PYT") and not body.startswith("import "):
                    functions.add(called_name(body))
            self._functions = functions
        return name in self._functions

    # -- the parser's namespace (values.Namespace) -------------------------------------------------
    def lookup_name(self, name: str) -> Any:
        if name in self.objects.instances:
            return self.objects.instances[name]
        if name in self.objects.callbacks:  # handed back (``->RET:calc_callback``): its calls are traffic
            return self._handed_out(name, lambda: self.session.callbacks.wrapper(self.objects.callbacks[name]))
        cls = _replay_only(self.objects.classes.get(name))
        if cls is None:
            raise KeyError(name)
        return cls

    def make_instance(self, description: str, name: str) -> Any:
        existing = self.objects.instances.get(name)
        if existing is not None:
            return existing  # identity of replayed instances is kept
        cls = self.objects.replay_class(description, self._answering_module)
        obj, self._construct_target = self._construct_target, None
        if obj is None or not isinstance(obj, cls):  # a constructor answering with another class
            obj = raw_new(cls)
        return self.objects.bind_replayed(obj, name)

    def make_callback(self, name: str) -> Any:
        return self.objects.callbacks.get(name)

    def resolve_class(self, dotted: str) -> Optional[type]:
        """A class of an intercepted module as a replay proxy only: never the real class (nor a proxy
        of it, which mixed mode would call for real), so ``mod.Class(...)`` in mock text runs nothing."""
        if dotted in self.objects.passed_functions:  # ``->RET:calc.ack``: the function passed in, handed back
            return self._handed_out(dotted, lambda: self._answering_function(dotted))
        module, _, attr = dotted.rpartition(".")
        if not self.objects.is_intercepted_module(module.split(".", 1)[0]):
            return None
        return _replay_only(self.objects.classes.get(attr))

    def _handed_out(self, name: str, make: Any) -> Any:
        """The one wrapper the application gets for ``name`` (made by ``make``), its calls traffic."""
        wrapper = self._handed.get(name)
        if wrapper is None:
            wrapper = self._handed[name] = make()
            wrapper.handed_out = True
        return wrapper

    def _answering_function(self, name: str) -> Any:
        """An intercepted function handed back to the application: its calls are written and answered as
        recorded (``--->PYT:calc.ack('x')``, ``<---RET:...``); nothing real runs."""
        session = self.session

        def function(*args: Any, **kwargs: Any) -> Any:
            with session.traffic:
                text = session.request_text(name, args, kwargs)
                session.write(mock_prefix(1), "PYT", text)
                result = None
                for item in self.index.lookup_exact(f"{mock_prefix(1)}PYT:{text}") or []:
                    if item.level == 1 and not item.is_request:
                        result = self._parse(item)
                        session.write(sut_prefix(1), item.type, item.text)
            if isinstance(result, Raised):
                raise result.exception
            return result
        session.objects.name_wrapper(function, name)
        return function

    def exception_class(self, dotted: str) -> Optional[type]:
        """``raise mod.Error('...')``, ``mod`` intercepted (written by hand) or ``mod.Error`` intercepted by
        name (as the original records an exception of that class): an exception class made once, which is
        also what the application's reads of ``mod.Error`` answer (``except mod.Error`` catches it, its
        message is the one written)."""
        module, _, attr = dotted.rpartition(".")
        if not module:
            return None
        if not self.objects.is_intercepted_module(module.split(".", 1)[0]):
            patched = vars(sys.modules[module]).get(attr) if module in sys.modules else None
            return self._plain_class(patched) if isinstance(patched, type) and "_cm" in vars(patched) else None
        real = getattr(self.session.importer.real_modules.get(module), attr, None)
        if isinstance(real, type) and issubclass(real, BaseException):  # the real module is loaded
            if not self.objects.is_intercepted_class(real):
                return real  # ``socket.gaierror``: its class, with its real bases
            return self._plain_class(self.objects.class_proxy(real))  # the program's ``mod.Error`` (mixed mode)
        cls = self.objects.classes.get(attr)
        if cls is None:
            cls = self.objects.classes[attr] = type(attr, (Exception,), {"__module__": module})
        return cls if isinstance(cls, type) and issubclass(cls, BaseException) else None

    def _plain_class(self, seen: type) -> Optional[type]:
        """What mock text raises where the program's ``mod.Error`` is the generated class ``seen``: an
        exception of that class made without running its real code, nothing about it traffic."""
        if not issubclass(seen, BaseException):
            return None
        plain = self._plain_classes.get(seen)
        if plain is None:
            plain = self._plain_classes[seen] = plain_exception_class(seen)
        return plain

    def _raised_by_name(self, text: str) -> bool:
        """Whether a response raises ``text`` (``raise mod.Error(...)``), so ``mod.Error`` is that class."""
        if f"->RET:raise {text}" not in self.index.text:  # the usual answer, without ``re`` (start-up)
            return False
        import re

        return re.search(rf"^->RET:raise {re.escape(text)}(\(|$)", self.index.text, re.M) is not None

    # -- calls -------------------------------------------------------------------------------------
    def call(self, description: str, level: int, record: bool) -> Any:
        found = self.index.answer(description)
        if type(found) is tuple:  # the C accelerator's usual answer: one plain value, and its line as written
            if record:
                self.session._pending.append(found[1])
            return found[0]
        return _unanswered(description) if found is None else self._play(description, found, level, record)

    def replay_import(self, description: str, level: int) -> None:
        """An ``import`` line is looked up, as in 2.10 (the debug log shows it), and its group played:
        a recorded failed import fails again."""
        group = self.index.lookup_import(description)
        if group:
            self._play(description, group, level, True)

    def _sealed_call(self, description: str, level: int, record: bool) -> Any:
        """``sealed = true``: a call of a function the mock never mentions fails, whatever best match
        would have found (a borrowed answer to ``time.time()`` is no better than a real one)."""
        called = description.partition(":")[2]
        if description not in self.index and not self.knows_function(called_name(called)):
            from ..explain import sealed

            raise SealedReplayError(sealed(called, self.path))
        return Replayer.call(self, description, level, record)

    def construct(self, description: str, level: int, record: bool, obj: Any, name: str) -> Any:
        group = self.index.lookup(description)
        if group is None:
            raise CaptureMockReplayError(f"Could not match sufficiently well to construct object of type '{name}'")
        self._construct_target = obj
        try:
            return self._play(description, group, level, record)
        finally:
            self._construct_target = None

    def _answering_module(self) -> Optional[str]:
        """The intercepted module called by the innermost request being answered that called one
        (``mod.sub.f(...)``: ``mod.sub``; an instance's ``obj1.f()`` names none)."""
        for description in reversed(self._answering):
            called = called_name(description.partition(":")[2]).split(".")
            modules = (".".join(called[:end]) for end in range(len(called) - 1, 0, -1))
            module = next((module for module in modules if self._is_intercepted_module(module)), None)
            if module is not None:
                return module
        return None

    def _is_intercepted_module(self, name: str) -> bool:
        """An intercepted name, or a sub-module of one the program imported (``shop.payments`` under
        ``intercepts = shop``: its classes are ``shop.payments.X``, as mixed mode's real ones)."""
        objects = self.objects
        return objects.is_intercepted_module(name) and (name in objects.module_proxies or name in objects.module_names)

    def _play(self, description: str, group: list[Item], level: int, record: bool) -> Any:
        """Run the response group answering ``description``: callbacks it invokes, then its (last) value
        (§6.6, §6.7). The request is noted meanwhile (``_answering_module``, worked out only when a new
        class appears: the hot path just notes it)."""
        result = None
        prefix = mock_prefix(level) if level else "->"
        self._answering.append(description)
        try:
            answered = False
            for item in group:
                # the index only groups our responses and callback invocations (one level deeper). Its items'
                # types are the known three-letter ones, so the prefix's length tells the level: an answer's
                # is ``prefix``'s, without ``Item.level``'s property call on the hot path
                if len(item.prefix) != len(prefix):
                    if not answered:  # after the answer: the application's calls of a function handed back
                        self._callback(item, level + 1)
                    continue
                answered = True
                result = self.parser.parse(item.text, self.path, item.line)
                if record:
                    self.session.write(prefix, item.type, item.text)
        finally:
            self._answering.pop()
        if isinstance(result, Raised):
            raise result.exception
        return result

    def _parse(self, item: Item) -> Any:
        return self.parser.parse(item.text, self.path, item.line)

    def _callback(self, item: Item, level: int) -> None:
        """A ``--->PYT`` item: call the application's callable for real with the recorded arguments."""
        callee, args, kwargs = self.parser.parse_call(item.text, self.path, item.line)
        self.session.write(mock_prefix(level), item.type, item.text)
        own_group = self.index.lookup_exact(item.description) or []
        func = self._callback_target(callee)
        if func is None:  # an intercepted method: its recorded answer stands (§6.7)
            for response in own_group:
                if response.level == level and not response.is_request:
                    self.session.write(sut_prefix(level), response.type, response.text)
            return
        result = self.session.callbacks.run_application(func, args, kwargs)
        if result is not None:
            self.session.write(sut_prefix(level), "RET", self.session.render(result))

    def _callback_target(self, callee: str) -> Any:
        owner_name, _, attr = callee.rpartition(".")
        if not owner_name:
            return self.objects.callbacks.get(callee)
        owner = self.objects.instances.get(owner_name)
        if owner is None:
            return None
        for klass in type(owner).__mro__:
            if "_cm" in klass.__dict__:
                return None  # reached the generated class: not an application method
            if attr in klass.__dict__:
                return getattr(owner, attr)
        return None

    # -- attribute reads ---------------------------------------------------------------------------
    def attribute(self, owner: Any, handle: Handle, attr: str, text: str) -> Any:
        session = self.session
        level = session.state.level
        group = self.index.lookup_attribute(f"{sut_prefix(level)}PYT:{text}")
        if group is None:
            return self._unknown_attribute(owner, handle, attr, text)
        responses = [item for item in group if item.level == level and not item.is_request]
        if not responses:
            session.record_attribute(text, "None")
            return None
        value = self._parse(responses[0])
        session.record_attribute(text, responses[0].text)
        if isinstance(value, Raised):
            raise value.exception
        return value

    def _unknown_attribute(self, owner: Any, handle: Handle, attr: str, text: str) -> Any:
        """§6.5: a real attribute's proxy, else a replayed class of that name, else a generic proxy."""
        if handle.has_target:
            real = getattr(handle.target, attr, MISSING)
            if real is not MISSING:
                return self.session.attribute_value(owner, handle, attr, text, real, record=False)
        if handle.kind == MODULE:
            cls = self.objects.classes.get(attr)
            if cls is None and attr in self._described_classes():
                cls = self.objects.replay_class(self._described_classes()[attr], handle.name)
            if cls is None and self._raised_by_name(text):
                cls = self.exception_class(text)
            if cls is not None:
                class_handle = cls.__dict__.get("_cm")  # none on an exception class made for a raise
                if class_handle is not None and class_handle.own_name == cls.__name__:
                    class_handle.own_name = text
                return self.session.cache_attribute(owner, attr, cls)  # as in 2.10: a class is read once
        proxy = function_proxy(Handle(self.session, None, owner=handle, attr=attr), text in self._awaited_functions())
        return self.session.keep_read_proxy(owner, attr, proxy)

    def recorded_specials(self, class_name: str) -> frozenset[str]:
        """The special methods recorded on instances of ``class_name`` (``point1.__repr__()``...).

        A replayed class offers just those (and ``__repr__``, which names it): Python then does what it
        did while recording - ``str()`` of a class with only ``__repr__`` calls ``__repr__``, ``list()``
        probes ``__len__`` only if there was one - so the new transcript says what the old one said."""
        if self._specials is None:
            class_of = {name: cls for cls, name in named_instances(self.index.text)}
            specials: dict[str, set[str]] = {}
            callees = request_callees(self.index.text)
            for owner, method in special_calls(callees):
                if owner in class_of:
                    specials.setdefault(class_of[owner], set()).add(method)
            for owner in instance_calls(callees):  # ``scale1(2)``: a callable instance called
                if owner in class_of:
                    specials.setdefault(class_of[owner], set()).add("__call__")
            self._specials = {cls: frozenset(methods) for cls, methods in specials.items()}
        return self._specials.get(class_name, frozenset()) | {"__repr__"}

    def _awaited_functions(self) -> frozenset[str]:
        """The functions the replay file has awaited calls of (``await mymod.fetch(1)``): their proxies
        answer with something to await."""
        if self._awaited is None:
            text = self.index.text
            awaited = _AWAITED_CALL.findall(text) if "PYT:await " in text else ()  # no ``re`` for no awaits
            self._awaited = frozenset(called_name(body) for body in awaited)
        return self._awaited

    def _described_classes(self) -> dict[str, str]:
        """Class name -> description, for every class the replay file describes in ``Instance(...)``.

        So ``mod.Error`` is the right class even before the first replayed instance of it appears
        (``except mod.Error`` evaluated early, ``isinstance`` checks)."""
        if self._described is None:
            described: dict[str, str] = {}
            text = self.index.text
            for description in described_classes(text):
                name, bases = split_description(description)
                if bases or name not in described:
                    described[name] = description
            self._described = described
        return self._described
