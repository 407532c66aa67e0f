"""Putting one executable shim per intercepted program into the intercept directory (§7.2).

The native shim (``shim.c``) is compiled with ``cc`` on first use into a cache directory keyed by the
hash of its source, and hard-linked (or copied) under each program's name. Without a compiler the
shim is a tiny script running ``shim.py`` with ``python -IS``: no site, no PYTHONPATH needed, so the
SUT's own PYTHONPATH is left alone (we deliberately do not copy §12.20).
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from typing import Optional

from ..cachedir import first_private

HERE = os.path.dirname(os.path.abspath(__file__))
C_SOURCE = os.path.join(HERE, "shim.c")


def native_shim(compiler: Optional[str] = None) -> Optional[str]:
    """Path of the compiled shim for the current source, building it if needed; None if it cannot be built."""
    try:
        with open(C_SOURCE, "rb") as handle:
            source = handle.read()
    except OSError:
        return None
    digest = hashlib.sha256(source).hexdigest()[:16]

    def make(directory: str) -> Optional[str]:
        binary = os.path.join(directory, f"shim-{digest}")
        if os.access(binary, os.X_OK):
            return binary
        return binary if _compile(compiler or shutil.which("cc") or shutil.which("gcc"), directory, binary) else None

    return first_private(make)


def _compile(compiler: Optional[str], directory: str, binary: str) -> bool:
    """Compile into a temporary name and rename, so concurrent launchers never see a half-written binary."""
    if not compiler:
        return False
    try:
        partial = f"{binary}.{os.getpid()}.tmp"
        done = subprocess.run([compiler, "-O2", "-o", partial, C_SOURCE], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL).returncode == 0
        if done:
            os.replace(partial, binary)
        return done
    except OSError:
        return False


def python_shim_text() -> str:
    return (f"#!{sys.executable} -IS\n"
            f"import sys\nsys.path.insert(0, {HERE!r})\n"
            "from shim import interceptCommand\ninterceptCommand()\n")


def install_shims(programs: list[str], intercept_dir: str, native: Optional[str] = None) -> list[str]:
    """Create a shim per program in ``intercept_dir``; returns the paths created."""
    os.makedirs(intercept_dir, exist_ok=True)
    created = []
    for program in programs:
        path = os.path.join(intercept_dir, program)
        if os.path.lexists(path):
            os.remove(path)
        if native:
            _link_or_copy(native, path)
        else:
            with open(path, "w") as handle:
                handle.write(python_shim_text())
            os.chmod(path, 0o775)
        created.append(path)
    return created


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)
