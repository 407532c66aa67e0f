"""Hypothesis settings of the reliability suite: fast in CI, ``CAPTUREMOCK_FUZZ=long`` for 10^5 inputs."""
from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

LONG = os.environ.get("CAPTUREMOCK_FUZZ") == "long"
FUZZ = settings(max_examples=100_000 if LONG else 200, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
