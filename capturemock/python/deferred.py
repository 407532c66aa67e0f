"""Dotted intercepts whose module cannot be imported yet (§6.2), patched once the application imports it.

``process_startup`` runs from sitecustomize, before Python puts the program's own directory on
``sys.path``: ``myapp.client.Client.fetch`` is not importable then. The original ignored such names
silently, so intercepting the program's own wrapper around an external service did nothing. Here a
finder watches the imports of the name's module prefixes and tries the patch again right after each
of those modules has run.
"""
from __future__ import annotations

import importlib.machinery
import sys

TYPE_CHECKING = False  # typing is not imported at run time: it costs every intercepted process ~3 ms
if TYPE_CHECKING:
    from typing import Any, Callable, Optional


class PatchOnImport:  # a meta path finder; no importlib.abc base (see ImportHook)
    """Retries ``patch(name)`` for each pending name after a module named by one of its prefixes is
    imported; steps out of ``sys.meta_path`` once every name is patched (or on ``uninstall``)."""

    def __init__(self, patch: Callable[[str], bool], claimed: Callable[[str], bool]):
        self.patch = patch
        self.claimed = claimed  # modules the import hook answers with proxies: not ours to load
        self.pending: list[str] = []
        self._watched: set[str] = set()
        self._retrying = False

    def add(self, dotted: str) -> None:
        parts = dotted.split(".")
        self._watched.update(".".join(parts[:end]) for end in range(1, len(parts)))
        self.pending.append(dotted)
        if self not in sys.meta_path:
            sys.meta_path.insert(0, self)

    def uninstall(self) -> None:
        if self in sys.meta_path:
            sys.meta_path.remove(self)

    def find_spec(self, fullname: str, path: Any = None, target: Any = None
                  ) -> Optional[importlib.machinery.ModuleSpec]:
        """The ordinary path-based spec of a watched module, its loader set to retry after running it.
        Anything else (not watched, builtin or frozen, not found on the path) is left to the others."""
        if fullname not in self._watched or self.claimed(fullname):
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        loader = spec.loader if spec is not None else None
        if loader is None or isinstance(loader, type) or not hasattr(loader, "exec_module"):
            return None
        run = loader.exec_module

        def exec_module(module: Any) -> None:
            run(module)
            self._retry()

        loader.exec_module = exec_module
        return spec

    def _retry(self) -> None:
        if self._retrying:
            return  # a patch importing a deeper prefix: the outer retry goes on with the same names
        self._retrying = True
        try:
            self.pending = [name for name in self.pending if not self.patch(name)]
        finally:
            self._retrying = False
        if not self.pending:
            self.uninstall()
