"""Fixtures shared by the test folders."""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import textwrap

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(params=["native", "python"])
def shim_kind(request, monkeypatch) -> str:
    """Run a test with the compiled shim and with the Python fallback shim."""
    from capturemock.cmdline import shims

    if request.param == "python":
        monkeypatch.setattr(shims, "native_shim", lambda compiler=None: None)
    elif shims.native_shim() is None:
        pytest.skip("no C compiler to build the native shim")
    return request.param


def built_speedups():
    """The C accelerator of replay lookups; the test skips where it was not built, and fails in CI."""
    try:
        from capturemock import _speedups
    except ImportError:
        if os.environ.get("CAPTUREMOCK_REQUIRE_SPEEDUPS") == "1":  # CI: .ci/run installs gcc and headers
            pytest.fail("the C accelerator capturemock/_speedups.c was not built")
        pytest.skip("the C accelerator was not built (no C compiler or Python headers at install: "
                    "`pip install -e .` or `python setup.py build_ext --inplace` builds it)")
    return _speedups


@pytest.fixture(params=["c", "python"])
def replay_core(request, monkeypatch) -> str:
    """Run a test with replay lookups, plain values, best-match word searches, HTTP bodies' base64, the
    session's part of a recorded python call and the scan of replay text for request lines done by the C
    accelerator and by the Python code alone (the reference): what runs meanwhile in this process uses the
    one chosen, whatever ``CAPTUREMOCK_PURE_PYTHON`` says."""
    from capturemock import literals, quickmatch, replay
    from capturemock.clientserver import httptext
    from capturemock.python import naming, session

    speedups = built_speedups() if request.param == "c" else None
    for module in (replay, literals, quickmatch, httptext, session, naming):
        monkeypatch.setattr(module, "_speedups", speedups)
    return request.param


@contextlib.contextmanager
def on_a_full_disk(path):
    """The descriptors this process has open on ``path`` (a writer's record file) put on /dev/full meanwhile:
    their next write(2) fails with ENOSPC, as on a full disk."""
    full = os.open("/dev/full", os.O_WRONLY)
    try:
        for fd in map(int, os.listdir("/proc/self/fd")):
            with contextlib.suppress(OSError):
                if os.readlink(f"/proc/self/fd/{fd}") == str(path):
                    os.dup2(full, fd)
        yield
    finally:
        os.close(full)


def assert_blocks_stay_flat(code: str) -> None:
    """Run ``code``, which defines ``run()``, under ``-X dev`` (the debug allocator's hooks catch a double
    free): ``run()`` once to warm up, then again, and the allocated block count must stay flat (a C
    function leaking a reference grows it)."""
    script = textwrap.dedent(code) + ("\nimport sys\nrun()\nbefore = sys.getallocatedblocks()\nrun()\n"
                                      "print(sys.getallocatedblocks() - before)\n")
    result = subprocess.run([sys.executable, "-X", "dev", "-c", script], capture_output=True, text=True,
                            env=dict(os.environ, PYTHONPATH=REPO), check=True)
    assert abs(int(result.stdout)) < 50, result.stdout
    assert result.stderr == ""
