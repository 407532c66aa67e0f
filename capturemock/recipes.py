"""Ready-made rc recipes shipped with the package (``capturemock --recipe [NAME]``).

They live in ``capturemock/rc/``, package data, so an installed capturemock can hand them out; in a
checkout that directory is a link to ``rc/`` at the top, where they are kept and browsed.
"""
from __future__ import annotations

import os
import sys

RECIPE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "rc")
SUFFIX = ".rc"


def names() -> list[str]:
    """The recipe names, sorted: the file names without ``.rc``."""
    return sorted(name[:-len(SUFFIX)] for name in os.listdir(RECIPE_DIR) if name.endswith(SUFFIX))


def path(name: str) -> str:
    return os.path.join(RECIPE_DIR, name + SUFFIX)


def summary(name: str) -> str:
    """The recipe's first comment line: what it is for."""
    with open(path(name), encoding="utf-8") as handle:
        first = handle.readline()
    return first.lstrip("#").strip()


def main(name: str) -> int:
    """Print recipe ``name`` (to redirect into a capturemockrc file), or list them all if ``name`` is empty."""
    known = names()
    if not name:
        width = max(map(len, known))
        sys.stdout.write("".join(f"{recipe:<{width}}  {summary(recipe)}\n" for recipe in known))
        return 0
    if name not in known:
        sys.stderr.write(f"capturemock: no recipe named '{name}' (there are: {', '.join(known)})\n")
        return 2
    with open(path(name), encoding="utf-8") as handle:
        sys.stdout.write(handle.read())
    return 0
