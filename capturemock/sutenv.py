"""The SUT's environment as callers hand it over: a dict, ``os.environ``, or TextTest's TestEnvironment.

A TestEnvironment holds only the test's own variables: ``env[k]`` falls back to ``os.environ`` but
``pop`` does not reach an inherited variable, and ``env[k] = None`` is how it unsets one
(../shared/texttest/README.md).
"""
from __future__ import annotations

TYPE_CHECKING = False  # typing is not imported at run time: ~3 ms of every capturemock command
if TYPE_CHECKING:
    from typing import MutableMapping


def lookup(environment: MutableMapping[str, str], name: str) -> str:
    """``env[name]`` as the SUT will see it, '' if unset."""
    try:
        return environment[name] or ""
    except KeyError:
        return ""


def unset(environment: MutableMapping[str, str], name: str) -> None:
    """Make sure the SUT does not see ``name``, even inherited from the caller's own environment."""
    environment.pop(name, None)
    if lookup(environment, name):
        environment[name] = None  # type: ignore[assignment] - TestEnvironment's way of unsetting
