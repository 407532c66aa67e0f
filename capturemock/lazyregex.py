"""Regular expressions compiled on first use, not when their module is imported (issue #16).

Importing ``re`` costs an intercepted process ~4 ms and each compile ~0.5 ms, while most patterns serve
rare cases (escaped items, binary output, rc comments): a process that never uses one pays for neither.
Flags go inline (``(?m)``), since ``re.M`` would need ``re`` at import.
"""
from __future__ import annotations


class LazyRegex:
    """Stands in for ``re.compile(pattern)``. The first use of an attribute (``match``, ``finditer``...)
    compiles the pattern and keeps that attribute on the instance, so later uses cost what the compiled
    pattern's own do (``__getattr__`` runs only for attributes not found)."""

    def __init__(self, pattern: str):
        self.pattern = pattern

    def __getattr__(self, name: str) -> object:
        import re

        value = getattr(re.compile(self.pattern), name)
        setattr(self, name, value)
        return value
