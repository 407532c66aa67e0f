"""Ours as a user installs it: this checkout built and installed non-editable in a throwaway venv.

The original is measured as pip installed it from a wheel; measuring ours from the editable `.venv`
would compare unlike things, since an editable install's import finder (pathlib, urllib.parse, ...)
adds ~15 ms to every interpreter start, which every process the benchmarks start (the traffic server,
the `capturemock` command, a test's program) would pay. Rebuilt on each run, so it is this tree.
"""
from __future__ import annotations

import os
import subprocess
import sys

DEFAULT_VENV = "/tmp/capturemock-ours-venv"
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def ensure(venv: str = DEFAULT_VENV) -> str:
    """Interpreter of the throwaway venv with this checkout freshly installed (C accelerator built when a
    compiler exists, as for a user); the runtime dependencies are installed once."""
    python = os.path.join(venv, "bin", "python")
    if not os.path.exists(python):
        print(f"creating {venv} with this checkout installed ...", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        subprocess.run([python, "-m", "pip", "install", "-q", "pyyaml", "psutil"], check=True)
    subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", REPO], check=True,
                   stdout=subprocess.DEVNULL)
    return python
