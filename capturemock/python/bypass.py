"""When an operation on a proxy is not traffic but goes straight to the real object, unrecorded (§6.8).

One rule for attribute reads and writes, calls, construction and truth tests:

* capturemock's own work, intercepted code running for real (the re-entrancy guard) and everything
  after ``resetIntercepts``: the proxy's target, if it has one;
* an excluded caller (the standard library, ``ignore_callers``): the real object in every mode, as in
  the original. In replay a module proxy has no target, so its real module is imported the first time
  an excluded caller needs it; where there is no real object (a replayed instance, a module that is
  not installed) the operation is traffic after all.
"""
from __future__ import annotations

import _thread  # not threading (start-up: see session)
import sys
from types import ModuleType

from .callstack import CallerFilter
from .proxies import MISSING, MODULE, Handle

TYPE_CHECKING = False  # typing is not imported at run time: it costs every intercepted process ~3 ms
if TYPE_CHECKING:
    from typing import Any, Callable, Optional

TRAFFIC = object()  # what ``Bypass.route`` answers when the operation is recorded or replayed


def is_installed(module: str) -> bool:
    """Whether the real (top-level) package of ``module`` could be imported; nothing is imported."""
    top = module.partition(".")[0]
    if top in sys.builtin_module_names:
        return True
    import importlib.machinery  # here: only a replay asks, once per replayed module (a recording loads none)

    try:
        return importlib.machinery.PathFinder.find_spec(top) is not None
    except (ImportError, ValueError):
        return False


class Bypass:
    """The routing rule of one session: its guard, its caller filter and, in replay, real modules."""

    def __init__(self, state: _thread._local, callers: CallerFilter, lock: Any):
        self.state = state
        self.callers = callers
        self.lock = lock
        self.closed = False
        # set by the import hook: imports a real module with the hook stepped aside
        self.real_import: Optional[Callable[[str], ModuleType]] = None
        # a proxy without a target may have a real object behind it: only then are callers of such
        # proxies looked at, so a replay whose modules are not installed pays nothing for this rule
        self.reaches_real = False
        self._absent: set[str] = set()

    def note_replayed_module(self, name: str, loaded: bool) -> None:
        """A module proxy without a real target: excluded callers will want the real ``name``."""
        if not self.reaches_real and (loaded or is_installed(name)):
            self.reaches_real = True

    def route(self, handle: Handle, check_callers: bool = True) -> Any:
        """``TRAFFIC``, or the real object the operation on ``handle``'s proxy goes to (``MISSING``:
        none, inside capturemock's own work on a replayed object or after ``resetIntercepts``)."""
        target = handle.target
        if self.state.guard or self.closed:
            return target
        if not check_callers:
            return TRAFFIC
        if target is not MISSING:
            return target if self.callers.excluded() else TRAFFIC
        if self.reaches_real and self.callers.excluded():
            real = self._real_of(handle)
            if real is not MISSING:
                return real
        return TRAFFIC

    def _real_of(self, handle: Handle) -> Any:
        if handle.target is not MISSING:
            return handle.target
        if handle.kind == MODULE:
            return self._real_module(handle.own_name)
        if handle.owner is None:
            return MISSING  # a replayed instance or class: nothing real stands behind it
        owner = self._real_of(handle.owner)
        try:
            return MISSING if owner is MISSING else getattr(owner, handle.attr, MISSING)
        except Exception:
            return MISSING

    def _real_module(self, name: str) -> Any:
        if name in self._absent or self.real_import is None:
            return MISSING
        with self.lock:  # the import juggles sys.modules, as recorded imports do under this lock
            try:
                return self.real_import(name)
            except Exception:
                self._absent.add(name)
                return MISSING
