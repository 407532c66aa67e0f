"""Fixtures shared by the test folders."""
from __future__ import annotations

import pytest


@pytest.fixture(params=["native", "python"])
def shim_kind(request, monkeypatch) -> str:
    """Run a test with the compiled shim and with the Python fallback shim."""
    from capturemock.cmdline import shims

    if request.param == "python":
        monkeypatch.setattr(shims, "native_shim", lambda compiler=None: None)
    elif shims.native_shim() is None:
        pytest.skip("no C compiler to build the native shim")
    return request.param
