"""Which callers are not intercepted (§6.8): the standard library and ``ignore_callers``.

The original resolved file paths of the caller's frame on every call, which was most of its per-call
cost (product spec §3). Here the decision is made once per code object and cached, so the hot path is
a frame walk of one or two steps plus a dict lookup.
"""
from __future__ import annotations

import _thread  # not threading (start-up: see session)
import os
import sys
from types import CodeType, FrameType

from ..accelerator import load_speedups

TYPE_CHECKING = False  # typing is not imported at run time: it costs every intercepted process ~3 ms
if TYPE_CHECKING:
    from typing import Iterable, Optional

# .../capturemock/ as imported (a TextTest run imports it through a link in the cache directory): our own
# code's file names start so, and are told apart without resolving them (a realpath is an lstat a component)
_IMPORTED_PACKAGE_DIR = os.path.dirname(os.path.dirname(__file__)) + os.sep
OWN = "own"  # the verdict of capturemock's own frames (also read by _speedups.call_recorder)
_stdlib_dirs: tuple[str, ...] = ()


def stdlib_dirs() -> tuple[str, ...]:
    """``sysconfig``'s stdlib directories (see ``find_stdlib_dirs``), found on first use."""
    global _stdlib_dirs
    if not _stdlib_dirs:
        _stdlib_dirs = find_stdlib_dirs()
    return _stdlib_dirs


def find_stdlib_dirs() -> tuple[str, ...]:
    """``sysconfig.get_paths()``'s ``stdlib`` and ``platstdlib`` (real paths, each ending in a separator),
    without importing ``sysconfig`` (~2 ms of every intercepted process's start-up). ``stdlib`` is
    ``<sys.base_prefix>/<tail>``, where ``os`` was loaded from; ``platstdlib`` is the same tail under
    ``sys.exec_prefix`` (in a venv, the venv's own lib directory). An install laid out otherwise asks
    ``sysconfig``."""
    stdlib = os.path.dirname(getattr(os, "__file__", None) or "")
    base = sys.base_prefix.rstrip(os.sep)
    if stdlib.startswith(base + os.sep):
        dirs = {stdlib, sys.exec_prefix.rstrip(os.sep) + stdlib[len(base):]}
    else:
        import sysconfig

        paths = sysconfig.get_paths()
        dirs = {paths[key] for key in ("stdlib", "platstdlib") if key in paths}
    return tuple(sorted({os.path.realpath(directory) + os.sep for directory in dirs}))


def caller_verdict(cache: dict[int, tuple[CodeType, object]], own: object,
                   frame: Optional[FrameType] = None) -> object:
    """From ``frame`` (by default our caller's), the verdict ``cache`` holds for the first code object that is
    not ``own``, else the first frame whose code it has no verdict for, else None past the outermost frame.
    Keyed by ``id(code)`` (the entry keeps the code alive, so the id is not reused): hashing a code object
    walks its constants. ``_speedups.caller_verdict`` is this walk in C."""
    frame = frame or sys._getframe(1)
    while frame is not None:
        code = frame.f_code
        entry = cache.get(id(code))
        if entry is None or entry[0] is not code:
            return frame
        if entry[1] is not own:
            return entry[1]
        frame = frame.f_back
    return None


def is_stdlib_path(path: str) -> bool:
    """Whether the real path ``path`` is in the standard library (not its ``site-packages``)."""
    if "site-packages" in path or "dist-packages" in path:
        return False
    return path.startswith(stdlib_dirs())


_speedups = load_speedups()
_caller_verdict = caller_verdict if _speedups is None else _speedups.caller_verdict


class CallerFilter:
    """Decides, per calling code object, whether traffic from there goes straight to the real thing."""

    def __init__(self, ignore_callers: Iterable[str] = ()):
        self.ignore = frozenset(ignore_callers)
        self.cache: dict[int, tuple[CodeType, object]] = {}  # id(code) -> (code, verdict): see caller_verdict
        self._by_file: dict[str, object] = {}  # a file's verdict, for its other code objects
        self._classifying = _thread._local()

    def excluded(self) -> bool:
        """Whether the first frame outside capturemock (out from our caller) is excluded."""
        cache = self.cache
        found = _caller_verdict(cache, OWN)
        while type(found) is FrameType:  # a calling code object met for the first time: classified once
            if getattr(self._classifying, "active", False):
                return True  # classifying uses os.path, which may itself be intercepted
            self._classifying.active = True
            try:
                code = found.f_code
                verdict = self._by_file.get(code.co_filename)
                if verdict is None:
                    verdict = self._by_file[code.co_filename] = self._classify(code.co_filename)
                cache[id(code)] = (code, verdict)
            finally:
                self._classifying.active = False
            found = _caller_verdict(cache, OWN, found)
        return found is True

    def _classify(self, filename: str) -> object:
        if filename.startswith("<frozen "):
            # frozen stdlib modules are stdlib (the original missed them on 3.11+), but the import
            # machinery is not: its reads of __name__/__path__ are part of recorded imports (§4.2)
            return not filename[len("<frozen "):].startswith("importlib")
        if filename.startswith("<"):
            return False
        if filename.startswith(_IMPORTED_PACKAGE_DIR):
            return OWN
        path = os.path.realpath(filename)
        if is_stdlib_path(path):
            return True
        return bool(self.ignore) and self._ignored(path)

    def _ignored(self, path: str) -> bool:
        directory, base = os.path.split(path)
        stem = os.path.splitext(base)[0]
        module = os.path.basename(directory) if stem == "__init__" else stem
        return module in self.ignore or os.path.basename(directory) in self.ignore
