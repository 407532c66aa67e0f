"""Partial interception by patching dotted names (§6.2, §6.4), undone by ``restore``.

``mod.func``, ``mod.CONST``, ``mod.Class``, ``mod.Class.attr`` and ``pkg.Class.method`` (bound methods,
which the original cannot intercept) are replaced on their real owner by what a proxy of the owner
returns for them. Builtin types refuse ``setattr``: such an owner (``datetime.date``) is replaced in
*its* owner by a forwarding subclass carrying the intercepted attribute.
"""
from __future__ import annotations

import importlib
from types import FunctionType, ModuleType

from .proxies import CLASS, FUNCTION, MISSING, MODULE, Handle, function_proxy, is_coroutine_function

TYPE_CHECKING = False  # typing is not imported at run time: it costs every intercepted process ~3 ms
if TYPE_CHECKING:
    from typing import Any, Optional

    from .deferred import PatchOnImport


def import_prefix(dotted: str) -> Optional[tuple[ModuleType, str, list[str]]]:
    """The longest importable module prefix of ``dotted``, its name and the remaining attribute path."""
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        name = ".".join(parts[:split])
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        return module, name, parts[split:]
    return None


class MethodInterceptor:
    """Class attribute standing for a method: each instance's bound method is a recorded function."""

    def __init__(self, owner: Handle, attr: str, function: FunctionType):
        self.owner = owner
        self.attr = attr
        self.function = function
        self.awaited = is_coroutine_function(function)

    def __get__(self, obj: Any, cls: Optional[type] = None) -> Any:
        target = self.function if obj is None else self.function.__get__(obj, cls)
        return function_proxy(Handle(self.owner.session, None, target, FUNCTION, owner=self.owner, attr=self.attr),
                              self.awaited)


class Patcher:
    """Installs and undoes the patches of one session."""

    def __init__(self, session: Any):
        self.session = session
        self._undo: list[tuple[Any, str, Any]] = []
        self._on_import: Optional[PatchOnImport] = None  # made for the first name that waits for an import

    def intercept_now_or_on_import(self, dotted: str) -> None:
        """Patch ``dotted`` now, or as soon as the application imports what makes it exist."""
        if not self.intercept(dotted):
            if self._on_import is None:
                from .deferred import PatchOnImport  # here: most intercepts are modules, patched at once

                self._on_import = PatchOnImport(self.intercept, self.session.objects.is_intercepted_module)
            self._on_import.add(dotted)

    def intercept(self, dotted: str) -> bool:
        """Patch ``dotted``; False (silently, like the original) when it does not exist."""
        found = import_prefix(dotted)
        if found is None or not found[2]:
            return False
        module, owner_name, path = found
        chain = [(module, owner_name)]
        for attr in path[:-1]:
            owner = getattr(chain[-1][0], attr, MISSING)
            if owner is MISSING:
                return False
            chain.append((owner, f"{chain[-1][1]}.{attr}"))
        owner, owner_name = chain[-1]
        attr = path[-1]
        if not hasattr(owner, attr):
            return False
        value = self._replacement(owner, owner_name, attr)
        return self._install(chain, path, attr, value)

    def _replacement(self, owner: Any, owner_name: str, attr: str) -> Any:
        kind = MODULE if isinstance(owner, ModuleType) else CLASS if isinstance(owner, type) else FUNCTION
        handle = Handle(self.session, owner_name, owner, kind)
        real = getattr(owner, attr)
        if isinstance(real, type):
            self.session.objects.add_partial_class(real)
        if kind == CLASS:
            import inspect  # here: only partial interception of a class's attribute needs it

            if isinstance(inspect.getattr_static(owner, attr), FunctionType):
                return MethodInterceptor(handle, attr, inspect.getattr_static(owner, attr))
        # non-callables are fetched (recorded or replayed) once, now (§6.4)
        return self.session.get_attribute(None, handle, attr, check_callers=False)

    def _install(self, chain: list, path: list[str], attr: str, value: Any) -> bool:
        owner = chain[-1][0]
        original = vars(owner).get(attr, MISSING) if hasattr(owner, "__dict__") else MISSING
        try:
            setattr(owner, attr, value)
        except (TypeError, AttributeError):
            if len(chain) < 2 or not isinstance(owner, type):
                return False
            parent, owner_attr = chain[-2][0], path[-2]
            setattr(parent, owner_attr, forwarding_class(owner, {attr: value}))
            self._undo.append((parent, owner_attr, owner))
            return True
        self._undo.append((owner, attr, original))
        return True

    def restore(self) -> None:
        if self._on_import is not None:
            self._on_import.uninstall()
        while self._undo:
            owner, attr, original = self._undo.pop()
            if original is MISSING:
                delattr(owner, attr)
            else:
                setattr(owner, attr, original)


def forwarding_class(real: type, overrides: dict) -> type:
    """A subclass of a builtin type with some attributes replaced; ``isinstance`` still sees ``real``."""
    meta = type(f"{type(real).__name__}Forwarder", (type(real),), {
        "__instancecheck__": lambda cls, obj: isinstance(obj, real),
        "__subclasscheck__": lambda cls, sub: issubclass(sub, real),
    })
    namespace = dict(overrides, __module__=real.__module__, __qualname__=real.__qualname__)
    return meta(real.__name__, (real,), namespace)
