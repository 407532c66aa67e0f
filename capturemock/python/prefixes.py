"""Direction prefixes of python items by callback nesting level (§4.1, §5.1)."""
from __future__ import annotations

_SUT_PREFIXES = ["<-" + "-" * (2 * level) for level in range(8)]
_MOCK_PREFIXES = ["-" * (2 * level) + "->" for level in range(8)]


def sut_prefix(level: int) -> str:
    """Items originated by the application side at ``level``: ``<-``, ``<---``, ``<-----``."""
    return _SUT_PREFIXES[level] if level < 8 else "<-" + "-" * (2 * level)


def mock_prefix(level: int) -> str:
    """Items originated by the intercepted side at ``level``: ``->``, ``--->``, ``----->``."""
    return _MOCK_PREFIXES[level] if level < 8 else "-" * (2 * level) + "->"
