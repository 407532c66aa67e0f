"""``python -m capturemock.demo``: record the bundled example, then replay it with the real things gone.

The example (``example/``) is a small program that calls a Python module (``weather``) and an external
program (``fortune``), both returning different answers on every run. The demo records one run
through the ``capturemock`` command, shows the mock file, deletes the real module and program, and
replays: the output must be the same as recorded, and so must the new transcript.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parent / "example"


def run(step: str, args: list[str], work: Path, env: dict[str, str]) -> str:
    print(f"\n$ {' '.join(args)}    # {step}")
    proc = subprocess.run(args, cwd=work, env=env, capture_output=True, text=True)
    print(proc.stdout + proc.stderr, end="")
    if proc.returncode != 0:
        sys.exit(f"demo failed: {step} exited with status {proc.returncode}")
    return proc.stdout


def main() -> int:
    capturemock = [sys.executable, "-m", "capturemock"]
    with tempfile.TemporaryDirectory(prefix="capturemock-demo-") as tmp:
        work = Path(tmp) / "example"
        shutil.copytree(EXAMPLE, work)
        env = dict(os.environ, PATH=f"{work / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}")
        recorded = run("record: the real module and program run",
                       [*capturemock, "--mode", "1", "--rcfiles", "capturemockrc", "--record", "example.mock",
                        sys.executable, "sut.py"], work, env)
        print("\n--- example.mock (the recorded interaction) ---")
        print((work / "example.mock").read_text(), end="")
        (work / "weather.py").unlink()
        (work / "bin" / "fortune").unlink()
        print("\n(weather.py and bin/fortune are now deleted: replay cannot use them)")
        replayed = run("replay: answers come from example.mock",
                       [*capturemock, "--replay", "example.mock", "--rcfiles", "capturemockrc",
                        "--record", "replayed.mock", sys.executable, "sut.py"], work, env)
        same_output = replayed == recorded
        same_mock = (work / "replayed.mock").read_text() == (work / "example.mock").read_text()
        print(f"\nreplayed output identical to recorded output: {same_output}")
        print(f"replay transcript identical to the mock file:   {same_mock}")
        return 0 if same_output and same_mock else 1


if __name__ == "__main__":
    sys.exit(main())
