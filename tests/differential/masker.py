"""Removes text that differs from run to run (directories, interpreters, addresses, ports, pids).

Masking is applied to both sides identically and only replaces values that are run-dependent by
nature; it never drops a line that either implementation chose to write, except traceback frames
inside the implementations themselves (their internals are not behaviour) and the interpreter's caret
lines under a traceback's source lines (2.10 runs on one Python, ours on the suite's: Python 3.13 leaves out
carets 3.11 draws, 3.9 and 3.10 draw none).
"""
from __future__ import annotations

import re
from collections.abc import Iterable

RUN_DEPENDENT = [
    (re.compile(r"\b0x[0-9a-fA-F]{4,}\b"), "0xADDR"),
    (re.compile(r"\b(localhost|127\.0\.0\.1|[\w.-]+):\d{2,5}\b"), r"\1:PORT"),
    (re.compile(r"\bpid[ =:]\d+"), "pid=PID"),
    # a recorded program's own messages name the run directory it was recorded in
    (re.compile(r"/runs/(?:ours|original)-[a-z-]+/"), "/runs/<RUN>/"),
]
OWN_FRAME = re.compile(r'^  File "[^"]*/capturemock/[^"]*", line \d+, in .*\n(    .*\n)*', re.MULTILINE)
CARETS = re.compile(r"^    [ ]*[~^]+\n", re.MULTILINE)


def mask(text: str, paths: Iterable[tuple[str, str]]) -> str:
    """``paths`` maps run-dependent directories to placeholders; longer (more specific) paths go first."""
    for path, placeholder in sorted(paths, key=lambda item: -len(item[0])):
        text = text.replace(path, placeholder)
    for pattern, replacement in RUN_DEPENDENT:
        text = pattern.sub(replacement, text)
    return CARETS.sub("", OWN_FRAME.sub("", text))
