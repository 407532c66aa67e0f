"""Whole-module interception through an import hook (§6.3).

A finder at the front of ``sys.meta_path`` answers imports of intercepted (sub)modules with module
proxies. Real modules are imported with the hook stepped aside and kept out of ``sys.modules``, so
the application only ever sees proxies while intercepted code keeps its real modules. Modules imported
before interception started are taken over, and everything is put back by ``uninstall``.
"""
from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from types import ModuleType

from ..modes import REPLAY
from .callstack import is_stdlib_path
from .proxies import MISSING, OWN_ERRORS, handle_of, surfaced

TYPE_CHECKING = False  # typing is not imported at run time: it costs every intercepted process ~3 ms
if TYPE_CHECKING:
    from importlib.machinery import ModuleSpec
    from typing import Any, Optional

_ABSENT = object()
_LATE_WARNING = (
    "WARNING: having to reset the variable '{holder}.{variable}'.\n"
    "This implies you are intercepting the module '{module}' after importing it.\n"
    "While this might work, it may well be very slow and is not recommended.\n"
)
# stdout keeps 2.10's text, which suites compare; the advice goes to stderr
_LATE_HINT = ("capturemock: hint: import {modules} inside the test (or after interceptPython/setUpPython), not at "
              "the top of {holders}, so that no variable needs resetting\n")


class ImportHook:
    """Finder and loader for the intercepted module names of one session (the import protocol needs no
    ``importlib.abc`` base classes, whose import costs ~5 ms of pathlib and importlib.resources)."""

    def __init__(self, session: Any):
        self.session = session
        self.objects = session.objects
        self.real_modules: dict[str, ModuleType] = {}
        self._replaced: dict[str, Any] = {}  # sys.modules entries found at install time
        self._rebound: list[tuple[ModuleType, str, ModuleType]] = []

    # -- the import protocol --
    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Optional[ModuleSpec]:
        if self.session.state.guard or not self.objects.is_intercepted_module(fullname):
            return None  # intercepted code importing for real, or not ours
        return importlib.util.spec_from_loader(fullname, self)  # util, not machinery: loaded at start-up already

    def create_module(self, spec: ModuleSpec) -> Any:
        try:
            return self.session.import_module(spec.name)
        except OWN_ERRORS as error:  # as at every entry point (proxies.py): no frames of ours
            raise surfaced(self.session, error) from None

    def exec_module(self, module: Any) -> None:
        """Nothing to run: the proxy's target (if any) was imported in ``create_module``."""

    # -- real modules --
    def real_import(self, name: str) -> ModuleType:
        """Import the real module with real modules (not proxies) in ``sys.modules`` meanwhile."""
        module = self.real_modules.get(name)
        if module is not None:
            return module
        claims = self.objects.is_intercepted_module
        saved = {key: sys.modules.pop(key) for key in list(sys.modules) if claims(key)}
        sys.modules.update(self.real_modules)
        state = self.session.state
        state.guard += 1
        try:
            importlib.import_module(name)
            return sys.modules[name]
        finally:
            state.guard -= 1
            for key in [key for key in sys.modules if claims(key)]:
                loaded = sys.modules.pop(key)
                if isinstance(loaded, ModuleType):
                    self.real_modules.setdefault(key, loaded)
            sys.modules.update(saved)

    def import_with_submodules(self, name: str) -> ModuleType:
        """``real_import`` for the application's import of ``name``: the intercepted sub-modules it loads
        (a package's ``from . import sub``) go into ``sys.modules`` as proxies, so a later
        ``import pkg.sub`` is no traffic, as in the original."""
        before = set(self.real_modules)
        module = self.real_import(name)
        prefix = f"{name}."
        for key in self.real_modules.keys() - before:
            if key.startswith(prefix) and key not in sys.modules:
                sys.modules[key] = _with_spec(self.objects.module_proxy(key, self.real_modules[key]),
                                              self.real_modules[key])
        return module

    # -- installing --
    def install(self) -> None:
        self._take_over_loaded()
        sys.meta_path.insert(0, self)

    def uninstall(self) -> None:
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        for key in [key for key in sys.modules if self.objects.is_intercepted_module(key)]:
            del sys.modules[key]
        sys.modules.update(self._replaced)
        for holder, variable, module in self._rebound:
            if handle_of(vars(holder).get(variable)) is not None:
                setattr(holder, variable, module)

    def _take_over_loaded(self) -> None:
        """§6.3: intercepted modules already imported are dropped, or proxied where something holds them."""
        for name in sorted(self.objects.intercepted_modules_in(list(sys.modules))):
            module = sys.modules[name]
            if not isinstance(module, ModuleType):
                continue
            self._replaced[name] = module
            self.real_modules[name] = module
            entry = self.objects.intercepted_entry(name)
            # as in the original, a sub-module named in the intercepts is dropped, never taken over
            holders = [] if "." in entry else list(self._holders(module))
            if not holders:
                del sys.modules[name]
                continue
            # in pure replay the module answers from the mock, as one imported from now on would
            self.objects.module_proxy(name, MISSING if self.session.mode == REPLAY else module)
            proxy = sys.modules[name] = _with_spec(self.session.import_module(name), module)  # recorded as an import
            warned = set()
            for holder, variable in holders:
                if holder.__name__ not in warned:  # once per holder, naming the intercepted name, as the original
                    warned.add(holder.__name__)
                    sys.stdout.write(_LATE_WARNING.format(holder=holder.__name__, variable=variable, module=entry)
                                     + "\n")
                setattr(holder, variable, proxy)
                self._rebound.append((holder, variable, module))
        sys.stdout.flush()
        self._hint_late_imports()

    def _hint_late_imports(self) -> None:
        """What to do about the warnings just printed: one line for all of them."""
        if not self._rebound:
            return
        modules = sorted({self.objects.intercepted_entry(module.__name__) for _, _, module in self._rebound})
        holders = sorted({holder.__name__ for holder, _, _ in self._rebound})
        sys.stderr.write(_LATE_HINT.format(modules=" and ".join(repr(name) for name in modules),
                                           holders=" and ".join(repr(name) for name in holders)))
        sys.stderr.flush()

    def _holders(self, module: ModuleType):
        """(loaded application module, global name) pairs referring to ``module``."""
        for name, other in list(sys.modules.items()):
            if (not isinstance(other, ModuleType) or other is module or name.split(".")[0] == "capturemock"
                    or self.objects.is_intercepted_module(name) or _is_stdlib(other)):
                continue
            for variable, value in list(vars(other).items()):
                if value is module:
                    yield other, variable


def _with_spec(proxy: Any, module: ModuleType) -> Any:
    """A module proxy put in ``sys.modules`` by hand carries the import machinery's attributes, as set on import."""
    for spec_attr in ("__spec__", "__loader__", "__package__"):
        object.__setattr__(proxy, spec_attr, getattr(module, spec_attr, None))
    return proxy


def _is_stdlib(module: ModuleType) -> bool:
    path = getattr(module, "__file__", None)
    if not path:
        return True  # builtin or frozen
    return is_stdlib_path(os.path.realpath(path))
