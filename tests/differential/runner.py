"""Runs one phase (record, replay, mixed) of a scenario with one implementation, in a fresh directory.

Both implementations are driven through their public entry points only, so the original is a black
box: Python scenarios through ``setUpPython`` plus a ``sitecustomize`` calling ``process_startup``
(how TextTest does it; the original's ``capturemock`` command does not intercept Python), command-line
scenarios through the ``capturemock`` command. Every run gets its own copy of the files and a
minimal environment, so nothing but the implementation differs between the two sides.
"""
from __future__ import annotations

import os
import signal
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from .generator import Scenario

SYSTEM_PATH = "/usr/bin:/bin"
LAUNCHER = """\
import os, subprocess, sys
import capturemock
mode, record, replay = int(sys.argv[1]), sys.argv[2], sys.argv[3] or None
env = dict(os.environ)
capturemock.setUpPython(mode, record, replay, ['rc'], environment=env)
sys.exit(subprocess.call([sys.executable, 'prog.py'], env=env))
"""
MODES = {"record": 1, "replay": 0, "mixed": 2}


@dataclass(frozen=True)
class Implementation:
    """A CaptureMock installation, known by the interpreter of its venv; ``source``: a checkout put first on
    the programs' path, so the code under test is this checkout's even where the venv has another installed."""

    name: str
    python: str
    source: str = ""

    @property
    def command(self) -> str:
        return os.path.join(os.path.dirname(self.python), "capturemock")


@dataclass
class Outcome:
    """What a run shows: the program's streams and status, the mock file written, the file edits stored."""

    run_dir: Path
    stdout: str
    stderr: str
    status: str
    mock: str
    edits: dict[str, str]


def materialise(scenario: Scenario, directory: Path, mixed: bool) -> None:
    directory.mkdir(parents=True)
    files = {**scenario.files, **(scenario.mixed_files if mixed else {})}
    for relative, text in files.items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        if relative.startswith("bin/"):
            path.chmod(0o755)
    (directory / "site").mkdir()
    (directory / "site" / "sitecustomize.py").write_text("import capturemock\ncapturemock.process_startup()\n")
    (directory / "home").mkdir()


def read_tree(directory: Path) -> dict[str, str]:
    if not directory.is_dir():
        return {}
    return {str(path.relative_to(directory)): path.read_text(errors="replace")
            for path in sorted(directory.rglob("*")) if path.is_file()}


def run_phase(impl: Implementation, scenario: Scenario, root: Path, label: str, phase: str,
              replay: Optional[Path] = None) -> Outcome:
    """Run ``phase`` in ``root/runs/<label>``; the mock goes to ``root/mocks/<label>.mock`` (edits beside it).

    In replay the real modules/programs are absent unless the scenario needs them (partial interception).
    ``replay`` is the mock file of an earlier record run, its edits directory beside it.
    """
    run_dir = root / "runs" / label
    materialise(scenario, run_dir, mixed=phase == "mixed")
    (root / "mocks").mkdir(exist_ok=True)
    mock, edits = root / "mocks" / f"{label}.mock", root / "mocks" / f"{label}.edits"
    real = phase != "replay" or scenario.replay_keeps_real
    env = {"PATH": f"{run_dir / 'bin'}:{SYSTEM_PATH}" if real else SYSTEM_PATH, "HOME": str(run_dir / "home"),
           "LANG": "C.UTF-8", "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1"}
    mode = str(MODES[phase])
    if impl.source:
        env["PYTHONPATH"] = impl.source
    if scenario.kind == "python":
        env["PYTHONPATH"] = ":".join(filter(None, [str(run_dir / "site"), str(run_dir / "lib") if real else "",
                                                   impl.source]))
        argv = [impl.python, "-c", LAUNCHER, mode, str(mock), str(replay or "")]
    else:
        argv = [impl.command, "-m", mode, "-R", "rc", "-r", str(mock), "-F", str(edits)]
        if replay:
            argv += ["-p", str(replay), "-f", str(replay.with_suffix(".edits"))]
        argv += ["sh", "main.sh"]
    stdout, stderr, status = execute(argv, run_dir, env, scenario.timeout)
    return Outcome(run_dir, stdout, stderr, status, mock.read_text() if mock.exists() else "<no mock file>",
                   read_tree(edits))


def execute(argv: list[str], cwd: Path, env: dict[str, str], timeout: int) -> tuple[str, str, str]:
    """Run in a new session so a hang can be ended with everything it started."""
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, errors="replace", start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
        return stdout, stderr, str(proc.returncode)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate()
        return stdout, stderr, "timeout"


def run_scenario(scenario: Scenario, impls: dict[str, Implementation], root: Path) -> dict[str, Outcome]:
    """Record with each, replay each mock with each, then mixed mode on each one's own mock; two runs at a time.

    Labels are ``<impl>-record``, ``<impl>-replays-<impl whose mock>``, ``<impl>-mixed``.
    """
    def recorded(name: str) -> Path:
        return root / "mocks" / f"{name}-record.mock"

    steps = [[(name, f"{name}-record", "record", None) for name in impls],
             [(name, f"{name}-replays-{source}", "replay", recorded(source)) for name in impls for source in impls],
             [(name, f"{name}-mixed", "mixed", recorded(name)) for name in impls]]
    outcomes: dict[str, Outcome] = {}
    with ThreadPoolExecutor(2) as pool:
        for step in steps:
            runs = {label: pool.submit(run_phase, impls[name], scenario, root, label, phase, replay)
                    for name, label, phase, replay in step}
            outcomes.update({label: future.result() for label, future in runs.items()})
    return outcomes
