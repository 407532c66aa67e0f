"""Which objects are intercepted, the proxies standing for them, and what they are called (§4.2, §6.6).

Shared by record and replay: the identity map (a real object always gets the same proxy, a replayed
name always the same object), generated classes by real class and by name, instance and callback names,
and the rendering hook that writes proxies as ``Instance(...)`` the first time and by name afterwards.
"""
from __future__ import annotations

import builtins
from types import BuiltinFunctionType, FunctionType, ModuleType

from ..values import loaded_exception_class
from . import proxies
from .naming import NameRegistry, class_description, hint_from, split_description
from .proxies import (
    CLASS,
    FUNCTION,
    INSTANCE,
    ITERATOR_METHODS,
    MISSING,
    MODULE,
    SPECIAL_METHODS,
    Handle,
    InstanceProxy,
    Proxy,
    add_specials,
    build_class,
    forward_attributes,
    handle_of,
    raw_new,
)

TYPE_CHECKING = False  # typing is not imported at run time: it costs every intercepted process ~3 ms
if TYPE_CHECKING:
    from typing import Any, Callable, Iterable, Optional, Union

SCALARS = frozenset({str, int, float, bool, bytes, type(None), complex})
NO_CALL: tuple[str, tuple, dict] = ("", (), {})  # ObjectRegistry.call_context outside rendering a call
ALWAYS_SPECIAL = frozenset({"__str__", "__repr__"})


def is_iterator(value: Any) -> bool:
    """An iterator or an async iterator (an async generator): its steps are traffic."""
    cls = type(value)
    return (hasattr(cls, "__next__") and hasattr(cls, "__iter__")) or (hasattr(cls, "__anext__")
                                                                       and hasattr(cls, "__aiter__"))


def _specials_of(real: type) -> tuple[str, ...]:
    """The special methods a generated class for ``real`` forwards. str() and repr() are traffic even
    where only object defines them, as in the original: printing an instance (or a list holding one)
    records its text."""
    return tuple(special for special in SPECIAL_METHODS if special in ALWAYS_SPECIAL
                 or any(special in klass.__dict__ for klass in real.__mro__ if klass is not object))


_HEAPTYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE: a class made by a class statement (or type())


def _is_plain_python_class(cls: type) -> bool:
    """A class written in Python on top of object alone (no builtin part, no metaclass): kept as a real
    base of a generated class, it costs nothing but makes ``isinstance`` and ``issubclass`` hold."""
    return type(cls) is type and all(klass.__flags__ & _HEAPTYPE for klass in cls.__mro__[:-1])


def _python_base_attributes(bases: Iterable[type]) -> set[str]:
    """What the plain Python classes among real bases define, dunders aside."""
    names: set[str] = set()
    for base in bases:
        if issubclass(base, InstanceProxy) or not _is_plain_python_class(base):
            continue
        for klass in base.__mro__[:-1]:
            names.update(attr for attr in vars(klass) if not (attr.startswith("__") and attr.endswith("__")))
    return names


def proxy_class_of(cls: type) -> type:
    """The generated class in ``cls``'s MRO (``cls`` itself, or the base of an application subclass)."""
    for klass in cls.__mro__:
        if "_cm" in klass.__dict__:
            return klass
    return cls


class ObjectRegistry:
    """Proxies, generated classes and names of one intercepting process."""

    def __init__(self, session: Any, module_names: Iterable[str], partial_classes: Iterable[type] = ()):
        self.session = session
        self.module_names = tuple(module_names)
        self._module_set = frozenset(self.module_names)
        self._module_tops = frozenset(name.partition(".")[0] for name in self.module_names)
        self.partial_classes = set(partial_classes)
        self.names = NameRegistry()
        self.by_id: dict[int, tuple[Any, Any]] = {}  # id(real) -> (real, proxy): identity kept
        self.class_proxies: dict[type, type] = {}
        self.classes: dict[str, type] = {}  # bare class name -> generated class (replay namespace)
        self.instances: dict[str, Any] = {}  # replayed instance name -> object
        self.module_proxies: dict[str, Proxy] = {}
        self.described_classes: set[str] = set()
        self.callbacks: dict[str, Callable] = {}  # callback name -> the application's callable
        self._callback_names: dict[int, tuple[Any, str]] = {}
        self._passed_names: dict[int, str] = {}  # id(function proxy) -> the name it was last passed under
        self.passed_functions: dict[str, Any] = {}  # name an intercepted function was passed under -> its proxy
        self._intercepted: dict[type, bool] = {}
        self.call_context: tuple[str, tuple, dict] = NO_CALL  # (name, args, kwargs) of the call being rendered

    # -- what is intercepted --
    def is_intercepted_module(self, name: str) -> bool:
        """``name`` or a package above it is intercepted: a set lookup per dotted level, not a scan of
        every intercept (an rc file may list thousands)."""
        if name in self._module_set:
            return True
        dot = name.find(".")
        while dot >= 0:
            if name[:dot] in self._module_set:
                return True
            dot = name.find(".", dot + 1)
        return False

    def intercepted_modules_in(self, names: Iterable[str]) -> list[str]:
        """Those of ``names`` that ``is_intercepted_module``, in order: their top-level name is looked up
        first (``sys.modules`` holds ~100 names at start-up, few under an intercepted package)."""
        tops, intercepted = self._module_tops, self.is_intercepted_module
        return [name for name in names if name.partition(".")[0] in tops and intercepted(name)]

    def intercepted_entry(self, name: str) -> str:
        """The intercepted name that the intercepted module ``name`` falls under (``pkg`` for ``pkg.sub``)."""
        parts = name.split(".")
        return next(entry for entry in (".".join(parts[:end]) for end in range(1, len(parts) + 1))
                    if entry in self._module_set)

    def is_intercepted_class(self, cls: type) -> bool:
        verdict = self._intercepted.get(cls)
        if verdict is None:
            verdict = self._intercepted[cls] = (
                any(issubclass(cls, partial) for partial in self.partial_classes)
                or self.is_intercepted_module(getattr(cls, "__module__", "") or ""))
        return verdict

    def add_partial_class(self, cls: type) -> None:
        """A class intercepted by dotted name (``mod.Class``): its instances are proxied too."""
        self.partial_classes.add(cls)
        self._intercepted.clear()

    # -- proxies --
    def module_proxy(self, name: str, target: Any = MISSING) -> Proxy:
        proxy = self.module_proxies.get(name)
        if proxy is None:
            proxy = self.module_proxies[name] = Proxy(Handle(self.session, name, target, MODULE))
            object.__setattr__(proxy, "__file__", proxies.__file__)  # §4.2: our file, not the module's
        return proxy

    def class_proxy(self, real: type, name: Optional[str] = None) -> type:
        """The generated class standing for the real class ``real`` (built once).

        In mixed mode replay may have built a class of that name first (a replayed instance or raise):
        that class then stands for ``real`` too, so replayed and real objects are of the one class
        ``mod.Class`` gives the program, and ``isinstance`` and ``except`` hold for both."""
        cls = self.class_proxies.get(real)
        if cls is not None:
            return cls
        handle_name = name or f"{real.__module__}.{real.__qualname__}"
        cls = self._replayed_class(real)
        if cls is not None:
            return self._adopt(cls, real, handle_name)
        bases = self._proxy_bases(real)
        handle = Handle(self.session, handle_name, real, CLASS)
        handle.description = class_description(real, self.is_intercepted_class)
        cls = self.class_proxies[real] = build_class(real.__name__, handle, tuple(bases), _specials_of(real),
                                                     real.__module__)
        forward_attributes(cls, _python_base_attributes(bases))
        self.classes.setdefault(real.__name__, cls)
        return cls

    def _proxy_bases(self, real: type) -> list[type]:
        """Proxies of intercepted bases; builtin, exception and plain Python bases themselves (§6.4:
        ``isinstance(obj, mod.Base)`` holds for a base that is not intercepted)."""
        bases = []
        for base in real.__bases__:
            if base is object:
                continue
            if self.is_intercepted_class(base):
                bases.append(self.class_proxy(base))
            elif base.__module__ == "builtins" or issubclass(base, BaseException) or _is_plain_python_class(base):
                bases.append(base)
            else:  # IntEnum, a str-based enum...: the builtin it is built on (int(), str methods work)
                builtin = next((klass for klass in base.__mro__ if klass.__module__ == "builtins"
                                and klass is not object), None)
                if builtin is not None and builtin not in bases:
                    bases.append(builtin)
        return bases

    def _replayed_class(self, real: type) -> Optional[type]:
        """The class replay built under ``real``'s name, with no real class behind it yet."""
        cls = self.classes.get(real.__name__)
        handle = handle_of(cls) if cls is not None else None
        if handle is None or handle.has_target or cls.__module__ not in (real.__module__, proxies.__name__):
            return None
        return cls

    def _adopt(self, cls: type, real: type, name: str) -> type:
        """Let the replayed class ``cls`` stand for ``real`` from now on; nothing real is constructed."""
        handle = cls.__dict__["_cm"]
        handle.target, handle.own_name = real, name
        handle.description = class_description(real, self.is_intercepted_class)
        add_specials(cls, [special for special in _specials_of(real) if special not in cls.__dict__])
        self.class_proxies[real] = cls
        return cls

    def replay_class(self, description: str, module: Union[str, Callable[[], Optional[str]], None] = None) -> type:
        """The class of ``Instance(description, ...)`` in replay, built from its description (§6.9);
        ``module``: the intercepted module it comes from, where known (an uncaught replayed exception is
        then printed as ``mod.Error``, as while recording, not as one of capturemock's), or what works it
        out, asked only when the class is built (each replayed instance after the first finds it built)."""
        name, base_names = split_description(description)
        cls = self.classes.get(name)
        if cls is not None:
            return cls
        if callable(module):
            module = module()
        bases = []
        for base_name in base_names:
            if "." in base_name:
                # a class outside the intercepted modules is not rebuilt; an exception class among them
                # (already imported) is inherited, so the instance can be raised and caught as one
                external = loaded_exception_class(base_name)
                if external is not None:
                    bases.append(external)
                continue
            builtin = getattr(builtins, base_name, None)
            bases.append(builtin if isinstance(builtin, type) else self.replay_class(base_name, module))
        iterator = name == "generator" or name.endswith("iterator")
        if iterator:
            specials = ITERATOR_METHODS + ("__str__", "__repr__")
        else:
            recorded = self.session.replayer.recorded_specials(name)
            specials = tuple(special for special in SPECIAL_METHODS if special in recorded)
        handle = Handle(self.session, name, MISSING, CLASS)
        handle.description = description
        cls = self.classes[name] = build_class(name, handle, tuple(bases), specials, module or proxies.__name__)
        return cls

    def bind(self, obj: Any, real: Any, class_name: str, hint: Optional[str]) -> Handle:
        """Give a new proxy instance its name and real target."""
        base = class_name.lower()
        name, suffixed = self.names.take(base, hint, bare_suffix=True)
        handle = Handle(self.session, name, real, INSTANCE)
        handle.base = base
        handle.renamable = suffixed and hint is None
        object.__setattr__(obj, "_cm", handle)
        if real is not MISSING:
            self.by_id[id(real)] = (real, obj)
        return handle

    def bind_replayed(self, obj: Any, name: str) -> Any:
        """Register an object rebuilt from ``Instance(..., name)``: that name means that object from now on."""
        handle = Handle(self.session, name, MISSING, INSTANCE)
        handle.described = True
        object.__setattr__(obj, "_cm", handle)
        self.instances[name] = obj
        self.names.used.add(name)
        return obj

    def rename(self, handle: Handle, hint: str) -> str:
        """A suffixed instance renamed from a set* call's hint (§4.2); returns the old name."""
        old = handle.own_name
        handle.own_name, _ = self.names.take(handle.base, hint, bare_suffix=True)
        handle.renamable = False
        self.names.release(old)
        return old

    # -- values crossing the boundary --
    def wrap(self, value: Any, hint: Optional[str]) -> Any:
        """Real values from the intercepted side, with intercepted objects and iterators as proxies."""
        kind = type(value)
        if kind in SCALARS:
            return value
        if kind is list or kind is tuple:
            wrapped = [element if type(element) in SCALARS else self.wrap(element, hint) for element in value]
            if all(new is old for new, old in zip(wrapped, value)):
                return value
            return wrapped if kind is list else tuple(wrapped)
        if kind is dict:
            # one pass, no copy while nothing changes: a recorded call returning a small dict pays per value
            changed = None
            for key, element in value.items():
                new = element if type(element) in SCALARS else self.wrap(element, hint)
                if new is not element:
                    if changed is None:
                        changed = dict(value)
                    changed[key] = new
            return value if changed is None else changed
        known = self.by_id.get(id(value))
        if known is not None and known[0] is value:
            return known[1]
        if handle_of(value) is not None or isinstance(value, (type, ModuleType)):
            return value
        if self.is_intercepted_class(kind) or is_iterator(value) or self._is_intercepted_function(value):
            obj = raw_new(self.class_proxy(kind), value)
            self.bind(obj, value, proxy_class_of(type(obj)).__name__, hint)
            return obj
        return value

    def _is_intercepted_function(self, value: Any) -> bool:
        """A function of an intercepted module handed out by intercepted code (returned, or passed to a
        callback): an instance of ``function`` whose calls are traffic (``function1(3)``), as in the original."""
        return type(value) is FunctionType and self.is_intercepted_module(value.__module__ or "")

    def unwrap(self, value: Any, callback: Optional[Callable[[Any], Any]] = None) -> Any:
        """Proxies replaced by their real targets (containers walked); other callables via ``callback``."""
        kind = type(value)
        if kind in SCALARS:
            return value
        if kind is list:
            return [self.unwrap(element, callback) for element in value]
        if kind is tuple:
            return tuple(self.unwrap(element, callback) for element in value)
        if kind is dict:
            return {key: self.unwrap(element, callback) for key, element in value.items()}
        handle = handle_of(value)
        if handle is not None:
            if not handle.has_target:
                return value
            name = self._passed_names.get(id(value)) if callback is not None and handle.kind == FUNCTION else None
            return handle.target if name is None else self.session.callbacks.intercepted(name, handle.target)
        if callback is not None and callable(value) and not isinstance(value, (type, BuiltinFunctionType)):
            return callback(value)
        return value

    # -- names in text --
    def text_of(self, value: Any) -> Optional[str]:
        """The rendering hook: proxies by name (``Instance(...)`` the first time), builtins bare."""
        handle = handle_of(value)
        if handle is not None:
            if handle.kind == INSTANCE and not handle.described:
                return self._describe(value, handle)
            return handle.name
        if isinstance(value, type):
            return value.__name__ if value.__module__ == "builtins" else None
        if isinstance(value, BuiltinFunctionType):
            return value.__name__
        if type(value) is FunctionType:
            entry = self._callback_names.get(id(value))
            if entry is not None and entry[0] is value and hasattr(value, "handed_out"):
                value.handed_out = True  # a callback wrapper in a value: the application gets it
                return entry[1]
        return None

    def argument_text_of(self, value: Any) -> Optional[str]:
        """The hook for call arguments: also names callbacks (``Callback(...)`` the first time)."""
        handle = handle_of(value)
        if handle is not None and handle.kind == FUNCTION:
            return self._passed_name(value, handle)
        text = self.text_of(value)
        if text is None and callable(value) and not isinstance(value, type):
            return self._callback_text(value)
        return text

    def name_wrapper(self, wrapper: Any, name: str) -> None:
        """The callable real code got for the callback ``name`` is written as ``name`` too."""
        self._callback_names[id(wrapper)] = (wrapper, name)

    def _passed_name(self, proxy: Any, handle: Handle) -> str:
        """An intercepted function passed as an argument is a callback, named anew each time it is passed,
        as in the original: ``mod.ack``, then ``mod.ack1``, ``mod.ack2`` (even for the same object)."""
        name, _ = self.names.take(handle.name, None, bare_suffix=False)
        self._passed_names[id(proxy)] = name
        self.passed_functions[name] = proxy
        return name

    def _describe(self, obj: Any, handle: Handle) -> str:
        handle.described = True
        handle.offset = self.session.tell()
        cls = proxy_class_of(type(obj))
        name = cls.__name__
        if name in self.described_classes:
            description = name
        else:
            self.described_classes.add(name)
            description = cls.__dict__["_cm"].description or name
        return f"Instance({description!r}, {handle.name!r})"

    def callback_name(self, func: Any) -> Optional[str]:
        entry = self._callback_names.get(id(getattr(func, "__func__", func)))
        return entry[1] if entry is not None else None

    def _callback_text(self, func: Any) -> str:
        key = getattr(func, "__func__", func)  # bound methods are one callback per function (§6.7)
        entry = self._callback_names.get(id(key))
        if entry is not None and entry[0] is key:
            self.callbacks[entry[1]] = func
            return entry[1]
        call_name, args, kwargs = self.call_context
        hint = hint_from(args, kwargs)
        first = call_name.split(".", 1)[0]
        stem = f"{first}_{hint}_callback" if hint else f"{first}_callback"
        name, _ = self.names.take(stem, None, bare_suffix=False)
        self._callback_names[id(key)] = (key, name)
        self.callbacks[name] = func
        return f"Callback({name!r})"

