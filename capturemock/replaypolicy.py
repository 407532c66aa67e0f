"""How strict replay is (issue 13): the ``[general]`` keys every family reads the same way, once per session.

The defaults are 2.10's: best match answers silently, unused requests go unmentioned, and a program
or module the mock never mentions runs for real. ``on_best_match``, ``report_unused`` and ``sealed``
each make one of these a warning or an error.
"""
from __future__ import annotations

from .config import GENERAL, RcConfig

SILENT, WARN, ERROR = "silent", "warn", "error"
ON_BEST_MATCH = (SILENT, WARN, ERROR)


def index_options(config: RcConfig) -> dict[str, object]:
    """The ``ReplayIndex`` keywords the rc files ask for (a bad ``on_best_match`` names its rc line)."""
    return {"exact": config.setting(GENERAL, "use_exact_matching"),
            "on_best_match": config.choice(GENERAL, "on_best_match", ON_BEST_MATCH),
            "report_unused": config.setting(GENERAL, "report_unused")}


def sealed(config: RcConfig) -> bool:
    """``sealed = true``: in replay (mode 0) nothing intercepted runs for real, mentioned or not."""
    return config.setting(GENERAL, "sealed")
