"""What the process-level reliability tests share: a SUT directory with stand-in programs and modules,
command-line interception through a real traffic server, Python interception through sitecustomize."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import capturemock
from capturemock import mockfile
from capturemock.launcher import _manager
from capturemock.python import api


class Sut:
    def __init__(self, root: Path):
        self.root = root
        self.bin = root / "bin"
        self.bin.mkdir()
        self.env: dict[str, str] = {}

    def program(self, name: str, script: str) -> None:
        path = self.bin / name
        path.write_text("#!/bin/sh\n" + textwrap.dedent(script))
        path.chmod(0o755)

    def write(self, name: str, text: str) -> str:
        path = self.root / name
        path.write_text(textwrap.dedent(text))
        return str(path)

    def start_server(self, mode: int, rc: str, *, record: str = "rec.mock", replay: str | None = None,
                     real_programs: bool = True) -> None:
        """Command-line interception as TextTest sets it up: shims on PATH, one traffic server."""
        system_path = "/usr/bin:/bin"
        self.env = {"PATH": f"{self.bin}:{system_path}" if real_programs else system_path,
                    "HOME": os.environ.get("HOME", str(self.root)), "LANG": "C.UTF-8"}
        assert capturemock.setUpServer(mode, str(self.root / record), replay and str(self.root / replay),
                                       rcFiles=[rc], interceptDir=str(self.root / "intercepts"),
                                       sutDirectory=str(self.root), environment=self.env)

    @staticmethod
    def server_pid() -> int:
        return _manager.process.pid

    def start_python(self, mode: int, rc: str, record: str = "pythonmocks.mock") -> None:
        """Python interception of every process started with ``self.env``: sitecustomize calls
        ``process_startup`` (§6.1)."""
        self.env = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", str(self.root)), "LANG": "C.UTF-8"}
        assert api.setUpPython(mode, str(self.root / record), rcFiles=[rc], environment=self.env)
        site = self.root / "site"
        api.write_sitecustomize(str(site))
        package = os.path.dirname(os.path.dirname(capturemock.__file__))
        self.env["PYTHONPATH"] = os.pathsep.join([str(site), str(self.root), package])

    def popen(self, *argv: str, **kwargs) -> subprocess.Popen:
        return subprocess.Popen(list(argv), cwd=self.root, env=self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, **kwargs)

    def run(self, *argv: str, timeout: float = 60, **kwargs) -> subprocess.CompletedProcess:
        kwargs.setdefault("capture_output", True)
        return subprocess.run(list(argv), cwd=self.root, env=self.env, timeout=timeout, **kwargs)

    def python(self, script: str, *args: str) -> list[str]:
        return [sys.executable, "-c", textwrap.dedent(script), *args]

    def items(self, name: str) -> list[mockfile.Item]:
        return mockfile.read(str(self.root / name))


class EmptyNamespace:
    """A value parser's namespace that knows nothing: only literals and value classes can be rebuilt."""

    def lookup_name(self, name):
        raise KeyError(name)

    def make_instance(self, description, name):
        return (description, name)

    def make_callback(self, name):
        return name

    def resolve_class(self, dotted):
        return None

    def exception_class(self, dotted):
        return None
