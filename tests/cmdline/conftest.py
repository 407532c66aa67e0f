"""A SUT harness for command-line interception tests: real traffic server, real shims, real programs."""
from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path
from typing import Optional

import pytest

import capturemock


class Sut:
    """Sets up interception like TextTest does and runs programs as the SUT would."""

    def __init__(self, root: Path):
        self.root = root
        self.bin = root / "bin"  # stand-in programs, only on PATH when a test says so
        self.bin.mkdir()
        self.env: dict[str, str] = {}

    def program(self, name: str, script: str) -> Path:
        path = self.bin / name
        path.write_text("#!/bin/sh\n" + textwrap.dedent(script))
        path.chmod(0o755)
        return path

    def rc(self, text: str, name: str = "capturemockrc") -> str:
        path = self.root / name
        path.write_text(textwrap.dedent(text))
        return str(path)

    def start(self, mode: int, *, rc: str, record: str = "rec.mock", replay: Optional[str] = None,
              real_programs: bool = True, **kwargs) -> bool:
        """Start interception; PATH has our stand-ins only when ``real_programs`` (else they are absent)."""
        system_path = "/usr/bin:/bin"
        self.env = {"PATH": f"{self.bin}:{system_path}" if real_programs else system_path,
                    "HOME": os.environ.get("HOME", str(self.root)), "LANG": "C.UTF-8"}
        return capturemock.setUpServer(mode, str(self.root / record), replay and str(self.root / replay),
                                       rcFiles=[rc], interceptDir=str(self.root / "intercepts"),
                                       sutDirectory=str(self.root), environment=self.env, **kwargs)

    def run(self, *argv: str, **kwargs) -> subprocess.CompletedProcess:
        kwargs.setdefault("capture_output", True)
        kwargs.setdefault("env", self.env)
        return subprocess.run(list(argv), cwd=kwargs.pop("cwd", self.root), text=True, timeout=30, **kwargs)

    def replay_async_edit(self, stored: str) -> None:
        """Replay ``stored``, where the asynchronous ``daemon d`` later left ``d/late.txt`` (§7.7)."""
        self.write("stored.mock", stored)
        (self.root / "edits" / "d").mkdir(parents=True)
        (self.root / "edits" / "d" / "late.txt").write_text("later\n")
        (self.root / "d").mkdir()
        rc = self.rc("[command line]\nintercepts = daemon, check\n\n[daemon]\nasynchronous = true\n")
        assert self.start(capturemock.REPLAY, rc=rc, replay="stored.mock", real_programs=False,
                          replayEditDir=str(self.root / "edits"))

    def text(self, name: str) -> str:
        return (self.root / name).read_text()

    def write(self, name: str, text: str) -> None:
        (self.root / name).write_text(textwrap.dedent(text))


@pytest.fixture
def sut(tmp_path: Path, shim_kind: str):
    harness = Sut(tmp_path)
    yield harness
    capturemock.terminate()
