"""The two implementations under comparison; the original's venv is made by ``bench/original_venv.py``."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from .runner import Implementation

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def implementations() -> dict[str, Implementation]:
    """Ours (this venv) and CaptureMock 2.10.0 from PyPI; skipped when the original cannot be installed."""
    sys.path.insert(0, str(REPO / "bench"))
    try:
        import original_venv
        original = original_venv.ensure(repo=str(REPO))
    except (Exception, SystemExit) as error:  # no network, no pip: nothing to compare with
        pytest.skip(f"CaptureMock 2.10.0 could not be installed in a throwaway venv: {error}")
    finally:
        sys.path.remove(str(REPO / "bench"))
    return {"ours": Implementation("ours", sys.executable, str(REPO)), "original": Implementation("original", original)}
