"""Hypothesis settings of the reliability suite: fast in CI, ``CAPTUREMOCK_FUZZ=long`` for 10^4 inputs per property."""
from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

LONG = os.environ.get("CAPTUREMOCK_FUZZ") == "long"
# long mode: 10^4 inputs per property (7 minutes for this and the reliability suite on 2 cores,
# see the README); CAPTUREMOCK_FUZZ_EXAMPLES sets another count
EXAMPLES = int(os.environ.get("CAPTUREMOCK_FUZZ_EXAMPLES", 10_000 if LONG else 200))
FUZZ = settings(max_examples=EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
