"""The original CaptureMock 2.10.0, installed only to be measured, in a throwaway venv outside the repo.

It is never read, vendored or committed: the benchmarks only run their workload scripts with its
interpreter. Created on first use with the ordinary clients (`python -m venv`, `pip install`).
"""
from __future__ import annotations

import os
import subprocess
import sys

DEFAULT_VENV = "/tmp/capturemock-original-venv"
REQUIREMENTS = ["capturemock==2.10.0", "psutil"]
PROBE = ("import importlib.metadata as m, psutil; "
         "import sys; sys.exit(m.version('capturemock') != '2.10.0')")


def interpreter(venv: str) -> str:
    return os.path.join(venv, "bin", "python")


def is_ready(venv: str) -> bool:
    python = interpreter(venv)
    return os.path.exists(python) and subprocess.run([python, "-c", PROBE], capture_output=True).returncode == 0


def ensure(venv: str = DEFAULT_VENV, repo: str | None = None) -> str:
    """Interpreter of the throwaway venv, creating it if missing; refuses a location inside the repo."""
    venv = os.path.abspath(venv)
    if repo and os.path.commonpath([venv, os.path.abspath(repo)]) == os.path.abspath(repo):
        raise SystemExit(f"refusing to install the original CaptureMock inside the repository: {venv}")
    if not is_ready(venv):
        print(f"creating {venv} with {' '.join(REQUIREMENTS)} ...", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        subprocess.run([interpreter(venv), "-m", "pip", "install", "-q", *REQUIREMENTS], check=True)
    return interpreter(venv)
