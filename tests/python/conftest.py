"""A sandbox of stand-in modules on sys.path, and in-process interception that is always undone."""
from __future__ import annotations

import contextlib
import importlib
import sys
import textwrap
from pathlib import Path

import pytest

from capturemock.python.api import interceptPython


class Sandbox:
    def __init__(self, root: Path):
        self.root = root
        self.record = root / "record.mock"
        self.replay = root / "replay.mock"

    def module(self, name: str, source: str) -> Path:
        """Write a module (``pkg.sub`` makes a package) and let the import system see it."""
        parts = name.split(".")
        directory = self.root.joinpath(*parts[:-1])
        directory.mkdir(parents=True, exist_ok=True)
        for depth in range(1, len(parts)):
            init = self.root.joinpath(*parts[:depth], "__init__.py")
            if not init.exists():
                init.write_text("")
        path = directory / f"{parts[-1]}.py"
        path.write_text(textwrap.dedent(source))
        importlib.invalidate_caches()
        return path

    def remove(self, name: str) -> None:
        """Make a module unavailable, as in a replay run where the real dependency is absent."""
        self.root.joinpath(*name.split(".")).with_suffix(".py").unlink()
        for key in [key for key in sys.modules if key == name or key.startswith(f"{name}.")]:
            del sys.modules[key]
        importlib.invalidate_caches()

    def rc(self, text: str) -> str:
        path = self.root / "capturemockrc"
        path.write_text(textwrap.dedent(text))
        return str(path)

    def mock(self, text: str) -> str:
        self.replay.write_text(textwrap.dedent(text).lstrip("\n"))
        return str(self.replay)

    @staticmethod
    def lines(text: str) -> str:
        """Expected mock text written indented in a test."""
        return textwrap.dedent(text).lstrip("\n")

    def recorded(self) -> str:
        return self.record.read_text() if self.record.exists() else ""

    @contextlib.contextmanager
    def intercept(self, mode: int, names=(), rc: str | None = None, replay: str | None = None):
        if self.record.exists():
            self.record.unlink()
        handler = interceptPython(mode, str(self.record), replay, [rc or self.rc("")], list(names))
        try:
            yield handler
        finally:
            handler.resetIntercepts()
            for key in [key for key, module in sys.modules.items()
                        if str(getattr(module, "__file__", "") or "").startswith(str(self.root))]:
                del sys.modules[key]


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    before = set(sys.modules)
    yield Sandbox(tmp_path)
    for name in set(sys.modules) - before:
        del sys.modules[name]

