"""Which optional C accelerator this process uses: one switch for every module that has a C path."""
from __future__ import annotations

import os

TYPE_CHECKING = False  # typing is not imported at run time (start-up)
if TYPE_CHECKING:
    import types
    from typing import Optional


def load_speedups() -> Optional[types.ModuleType]:
    """``_speedups`` (``_speedups.c``, built where a compiler was), unless ``CAPTUREMOCK_PURE_PYTHON=1`` asks
    for the Python code alone (the reference, which gives the same answers)."""
    if os.environ.get("CAPTUREMOCK_PURE_PYTHON") == "1":
        return None
    try:
        from . import _speedups
    except ImportError:
        return None
    return _speedups
