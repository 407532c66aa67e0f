"""Our tests start worker threads (concurrent writers, answering servers): an assert failing in one must
fail the test that started it, which pytest only does when its unhandled-thread warning is an error."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_a_failing_assert_in_a_worker_thread_fails_its_test(tmp_path):
    (tmp_path / "test_worker.py").write_text(
        "import threading\n\n"
        "def test_worker():\n"
        "    thread = threading.Thread(target=lambda: (_ for _ in ()).throw(AssertionError('in the worker')))\n"
        "    thread.start()\n"
        "    thread.join()\n")
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-c", str(REPO / "pyproject.toml"),
                             "--rootdir", str(tmp_path), str(tmp_path / "test_worker.py")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stdout
    assert "1 failed" in result.stdout and "in the worker" in result.stdout
