"""The black-box conformance suite recorded from the original (../shared/conformance), as pytest cases.

Only the cases listed in ``conformance_cases.txt`` are asserted: an area is listed once it is built.
The runner is started once per session for the listed areas (two cases at a time) and each listed
case becomes one test that fails with the runner's own explanation.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
RUNNER = Path(os.environ.get("CAPTUREMOCK_CONFORMANCE", HERE.parent.parent / "shared" / "conformance")) / "run"
LISTED = [line.strip() for line in (HERE / "conformance_cases.txt").read_text().splitlines()
          if line.strip() and not line.startswith("#")]


@pytest.fixture(scope="session")
def conformance_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    if not RUNNER.exists():
        pytest.skip(f"conformance suite not found at {RUNNER}")
    areas = sorted({name.split("/")[0] for name in LISTED})
    proc = subprocess.run([sys.executable, str(RUNNER), "--python", sys.executable, "--area", ",".join(areas),
                           "-j", "2"], capture_output=True, text=True, timeout=1800,
                          # the shared harness leaves a scratch directory per case: keep them in pytest's
                          env={**os.environ, "TMPDIR": str(tmp_path_factory.mktemp("conformance"))})
    results: dict[str, str] = {}
    current = None
    for line in proc.stdout.splitlines():
        match = re.match(r"^(ok|FAIL) +(\S+)", line)
        if match:
            current = match.group(2)
            results[current] = "" if match.group(1) == "ok" else line + "\n"
        elif current and results.get(current) and line.startswith("     "):
            results[current] += line + "\n"
    return results


@pytest.mark.parametrize("case", LISTED)
def test_conformance_case(case, conformance_results):
    assert case in conformance_results, f"{case} did not run"
    assert conformance_results[case] == "", conformance_results[case]
