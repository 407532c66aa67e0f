from __future__ import annotations

import pytest
from harness import Sut

import capturemock


@pytest.fixture
def sut(tmp_path):
    harness = Sut(tmp_path)
    yield harness
    capturemock.terminate()
