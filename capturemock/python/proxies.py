"""The objects the application holds instead of intercepted ones (§6.3-§6.6, §6.9).

Every proxy carries a ``Handle`` (its recorded name, real target, kind) in the attribute ``_cm`` and
sends attribute reads, assignments, calls and special methods to the session, which records or replays
them. Module, function and unknown-attribute proxies are ``Proxy`` objects; intercepted classes become
generated classes (``build_class``) so that subclassing, ``isinstance`` and ``except`` keep working.
"""
from __future__ import annotations

from types import BuiltinFunctionType, FunctionType

from ..errors import CaptureMockError, CaptureMockReplayError, MockFileError

TYPE_CHECKING = False  # typing is not imported at run time: it costs every intercepted process ~3 ms
if TYPE_CHECKING:
    from typing import Any, Iterable, Optional

# Raised by capturemock itself (a malformed mock value, no match under exact matching): they reach the
# application from the intercepted call, without the frames of capturemock's internals, so what the
# user sees is their own code and one line naming the mock file and line. Every entry point below
# re-raises them so (inline: a wrapper would add a call to every intercepted call).
OWN_ERRORS = (CaptureMockError, CaptureMockReplayError)


def surfaced(session: Any, error: Exception) -> Exception:
    """``error`` on its way out to the application, without capturemock's frames. The session notes
    a malformed mock: the application may catch the error, and a decorator or fixture must then not
    store a transcript that silently lacks what the mock held."""
    if isinstance(error, MockFileError) and session.mock_error is None:
        session.mock_error = error
    return error.with_traceback(None)

MISSING = object()  # a handle without a real target (replay)

MODULE, FUNCTION, CLASS, INSTANCE = "module", "function", "class", "instance"
ALIAS = "alias"  # an intercepted object (not a function) read back from the attribute it was assigned to

# Special methods recorded as calls on instances (§4.2); __bool__ has its own fallback rules.
# The awaited ones (asyncsupport) answer with something to await.
AWAITED_SPECIALS = ("__anext__", "__aenter__", "__aexit__")
AWAIT = "await "  # the marker of an awaited call's request text
SPECIAL_METHODS = ("__str__", "__repr__", "__len__", "__getitem__", "__setitem__", "__delitem__",
                   "__contains__", "__iter__", "__next__", "__call__", "__enter__", "__exit__",
                   "__aiter__") + AWAITED_SPECIALS
ITERATOR_METHODS = ("__iter__", "__next__")


class Handle:
    """What the session knows about one proxy: name (live, for renames), target, kind."""

    __slots__ = ("own_name", "owner", "attr", "target", "kind", "described", "renamable", "offset",
                 "session", "base", "description", "fixed_name")

    def __init__(self, session: Any, name: Optional[str], target: Any = MISSING, kind: str = FUNCTION,
                 owner: Optional[Handle] = None, attr: Optional[str] = None):
        self.session = session
        self.own_name = name
        self.owner = owner
        self.attr = attr
        self.target = target
        self.kind = kind
        self.described = False  # an Instance(...) text has been written for it
        self.renamable = False  # named with a numeric suffix, so a set* call may rename it
        self.offset = 0  # record-file offset before its first description (for renames)
        self.base = ""  # instances: the lower-cased class name their names are made from
        self.description = ""  # classes: 'Name(Base, ...)' as written in Instance(...)
        # a module's own attributes are never renamed (instances and classes may be): named once
        self.fixed_name = f"{owner.own_name}.{attr}" if owner is not None and owner.kind == MODULE else None

    @property
    def name(self) -> str:
        if self.fixed_name is not None:
            return self.fixed_name
        if self.owner is not None:
            return f"{self.owner.name}.{self.attr}"
        return self.own_name

    @property
    def has_target(self) -> bool:
        return self.target is not MISSING


def handle_of(obj: Any) -> Optional[Handle]:
    """The handle of a proxy, proxy class or proxy instance; None for anything else."""
    try:
        handle = object.__getattribute__(obj, "_cm") if not isinstance(obj, type) else obj.__dict__.get("_cm")
    except AttributeError:
        return None
    return handle if isinstance(handle, Handle) else None


class ForwardsAttributes:
    """Attribute reads and writes on a proxy are traffic: they go to its session."""

    def __getattr__(self, attr: str) -> Any:
        if attr == "_cm":
            raise AttributeError(attr)
        handle = object.__getattribute__(self, "_cm")
        try:
            return handle.session.get_attribute(self, handle, attr)
        except OWN_ERRORS as error:
            raise surfaced(handle.session, error) from None

    def __setattr__(self, attr: str, value: Any) -> None:
        handle = object.__getattribute__(self, "_cm")
        try:
            handle.session.set_attribute(self, handle, attr, value)
        except OWN_ERRORS as error:
            raise surfaced(handle.session, error) from None


class Proxy(ForwardsAttributes):
    """A module, a function, or (in replay) an attribute nothing is known about."""

    def __init__(self, handle: Handle):
        object.__setattr__(self, "_cm", handle)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        handle = self._cm  # in the instance dict: found without reaching __getattr__
        try:
            return handle.session.call(handle, args, kwargs)
        except OWN_ERRORS as error:
            raise surfaced(handle.session, error) from None

    def __repr__(self) -> str:
        return f"<capturemock proxy for {object.__getattribute__(self, '_cm').name}>"


class ClassProxyMeta(type):
    """Class-level attribute reads of intercepted classes (static methods, constants) are traffic."""

    def __getattr__(cls, attr: str) -> Any:
        handle = _class_handle(cls)
        if handle is None or attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        try:
            return handle.session.get_attribute(cls, handle, attr)
        except OWN_ERRORS as error:
            raise surfaced(handle.session, error) from None


def _class_handle(cls: type) -> Optional[Handle]:
    for klass in cls.__mro__:
        handle = klass.__dict__.get("_cm")
        if isinstance(handle, Handle):
            return handle
    return None


class InstanceProxy(ForwardsAttributes):
    """Base of every generated class: instances forward everything to the session."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        handle = _class_handle(cls)
        try:
            return handle.session.construct(cls, handle, args, kwargs)
        except OWN_ERRORS as error:
            raise surfaced(handle.session, error) from None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass  # construction is complete once __new__ has recorded or replayed it

    def __bool__(self) -> bool:
        handle = object.__getattribute__(self, "_cm")
        try:
            return handle.session.truth(self, handle)
        except OWN_ERRORS as error:
            raise surfaced(handle.session, error) from None


def raw_new(cls: type, contents: Any = MISSING) -> Any:
    """An uninitialised instance of a generated class, made by its first real (builtin) base.

    ``contents``: the real object it stands for while recording. The builtin part (a ``str``, ``int``,
    ``tuple``, ``dict``... the real class derives from) then holds what the real one holds, because the
    builtin's own methods (``h.get``, ``n.upper()``, ``c + 1``) never reach ``__getattr__``: recording
    must not change what the program sees. A real base's ``__new__`` written in Python is never called:
    it is real code, and the instance may be one that mock text describes."""
    for klass in cls.__mro__[1:]:
        if klass is object or issubclass(klass, InstanceProxy):
            continue
        if isinstance(klass.__dict__.get("__new__"), BuiltinFunctionType):
            if contents is not MISSING and klass in _IMMUTABLE_BUILTINS:
                return klass.__new__(cls, contents)
            obj = klass.__new__(cls)
            fill = _FILL.get(klass)
            if contents is not MISSING and fill is not None:
                fill(obj, contents)
            return obj
    return object.__new__(cls)


_IMMUTABLE_BUILTINS = frozenset({str, bytes, int, float, complex, tuple, frozenset})
_FILL = {dict: dict.update, list: list.extend, set: set.update, bytearray: bytearray.extend}


def add_specials(cls: type, specials: Iterable[str]) -> None:
    """Let a generated class forward more special methods (a replayed class that a real one joins)."""
    for special in specials:
        setattr(cls, special, _special(special))


class ForwardedAttribute:
    """An attribute a plain Python base of a generated class defines: found on the class before
    ``__getattr__`` would be asked, it reads as traffic all the same: the base is there for ``isinstance``,
    its methods are recorded or replayed as the generated class's own (its dunders run, as in the original)."""

    __slots__ = ("attr",)

    def __init__(self, attr: str):
        self.attr = attr

    def __get__(self, obj: Any, cls: Optional[type] = None) -> Any:
        if obj is None:
            return ClassProxyMeta.__getattr__(cls, self.attr)
        return ForwardsAttributes.__getattr__(obj, self.attr)


def forward_attributes(cls: type, names: Iterable[str]) -> None:
    """``names`` of ``cls``'s real bases read as traffic on ``cls`` and its instances."""
    for name in names:
        if name not in cls.__dict__:
            setattr(cls, name, ForwardedAttribute(name))


def _special(name: str):
    if name == "__call__":
        return _call_instance
    awaited = name in AWAITED_SPECIALS
    def method(self: Any, *args: Any) -> Any:
        handle = object.__getattribute__(self, "_cm")
        calls = handle.session.awaited if awaited else handle.session
        try:
            return calls.call_special(self, handle, name, args)
        except OWN_ERRORS as error:
            raise surfaced(handle.session, error) from None
    method.__name__ = name
    return method


def _call_instance(self: Any, *args: Any, **kwargs: Any) -> Any:
    """Calling an intercepted callable instance: recorded as ``scale1(2)``, as in the original."""
    handle = object.__getattribute__(self, "_cm")
    try:
        return handle.session.call(handle, args, kwargs, False)
    except OWN_ERRORS as error:
        raise surfaced(handle.session, error) from None


# Slots of an intercepted exception that are traffic, as in the original: ``error1.args``, and the
# ``__suppress_context__`` that printing a traceback reads (§4.2).
EXCEPTION_TRAFFIC = ("args", "__suppress_context__")


def _exception_attribute(attr: str) -> property:
    """``exc.<attr>`` of an intercepted exception is traffic, not the slot that ``BaseException`` keeps
    in C for the proxy itself; capturemock's own reads (and Python's own, in C) get that slot."""
    slot = getattr(BaseException, attr)

    def read(self: Any) -> Any:
        handle = object.__getattribute__(self, "_cm")
        try:
            value = handle.session.get_attribute(self, handle, attr)
        except AttributeError:
            return slot.__get__(self)
        # a mock without ``name.<attr>`` (recorded before it was traffic) answers with a stand-in: the slot
        return slot.__get__(self) if isinstance(value, Proxy) else value

    def write(self: Any, value: Any) -> None:
        handle = object.__getattribute__(self, "_cm")
        handle.session.set_attribute(self, handle, attr, value)

    return property(read, write)


def build_class(name: str, handle: Handle, bases: tuple, specials: tuple[str, ...],
                module: str = __name__) -> type:
    """A generated class ``name`` deriving from ``bases`` (proxy classes and builtin bases).

    Layout or metaclass conflicts between builtin bases are resolved by dropping the builtin bases
    from the end until the class can be built (§6.9).
    """
    namespace = {"_cm": handle, "__module__": module, "__qualname__": name}
    namespace.update((special, _special(special)) for special in specials)
    if any(issubclass(base, BaseException) for base in bases):
        namespace.update((attr, _exception_attribute(attr)) for attr in EXCEPTION_TRAFFIC)
    proxy_bases = [base for base in bases if issubclass(base, InstanceProxy)]
    real_bases = [base for base in bases if not issubclass(base, InstanceProxy)]
    if not proxy_bases:
        proxy_bases = [InstanceProxy]
    while True:
        all_bases = tuple(proxy_bases + real_bases)
        try:
            return _metaclass_for(all_bases)(name, all_bases, dict(namespace))
        except TypeError:
            if not real_bases:
                raise
            real_bases.pop()


def _metaclass_for(bases: tuple) -> type:
    meta: type = ClassProxyMeta
    for base in bases:
        base_meta = type(base)
        if not issubclass(meta, base_meta):
            meta = type(f"{base_meta.__name__}Proxy", (meta, base_meta), {})
    return meta


def plain_exception_class(cls: type) -> type:
    """A subclass of the generated exception class ``cls`` whose instances are plain exceptions: what a
    hand-written ``raise mod.Error('...')`` raises in mixed mode, where the program's ``mod.Error`` is
    ``cls``. ``except mod.Error`` catches it, yet making it runs no real code and nothing about it is
    traffic (it has no handle: its specials, ``args`` and attributes are the exception's own)."""
    namespace: dict[str, Any] = {"_cm": None, "__module__": cls.__module__, "__qualname__": cls.__qualname__,
                                 "__new__": _plain_new, "__getattr__": _no_such_attribute,
                                 "__setattr__": BaseException.__setattr__, "__bool__": _true}
    for klass in cls.__mro__:
        if issubclass(klass, InstanceProxy):  # what the generated classes forward: the exception's own again
            for attr in klass.__dict__:
                if attr in SPECIAL_METHODS or attr in EXCEPTION_TRAFFIC or attr == "__init__":
                    namespace.setdefault(attr, getattr(BaseException, attr, None))
    return type(cls)(cls.__name__, (cls,), namespace)


def _plain_new(cls: type, *args: Any, **kwargs: Any) -> Any:
    """Made by the first builtin base, as ``raw_new`` does, but with the written arguments."""
    for klass in cls.__mro__[1:]:
        if not issubclass(klass, InstanceProxy) and isinstance(klass.__dict__.get("__new__"), BuiltinFunctionType):
            return klass.__new__(cls, *args)
    return BaseException.__new__(cls, *args)


def _no_such_attribute(self: BaseException, attr: str) -> Any:
    raise AttributeError(f"{type(self).__name__!r} raised from mock text has no attribute {attr!r}")


def _true(self: Any) -> bool:
    return True


def function_proxy(handle: Handle, awaited: bool) -> Proxy:
    """The proxy of a function or method; ``awaited``: calling it gives something to await (decided once
    per function, so ordinary calls pay nothing for this)."""
    if not awaited:
        return Proxy(handle)
    from .asyncsupport import AwaitedFunctionProxy  # here: a program that awaits nothing never loads it

    return AwaitedFunctionProxy(handle)


_CO_COROUTINE = 0x80  # inspect.CO_COROUTINE


def is_coroutine_function(value: Any) -> bool:
    """``inspect.iscoroutinefunction``, answered from the code flags for a plain function without
    attributes (nothing can mark it): importing inspect costs a process ~5 ms of start-up."""
    if type(value) is FunctionType and not value.__dict__:
        return bool(value.__code__.co_flags & _CO_COROUTINE)
    import inspect

    return inspect.iscoroutinefunction(value)
