"""Exception types shared by every family.

User-facing problems (a malformed rc or mock file, an unknown mode) are ``CaptureMockError``
subclasses whose ``str`` is one line naming the file and line, so entry points can print them
instead of a traceback.
"""
from __future__ import annotations

TYPE_CHECKING = False  # typing is not imported at run time: it is a third of the server's start-up
if TYPE_CHECKING:
    from typing import Optional



class CaptureMockError(Exception):
    """A problem the user can fix; its text is one clean line."""


def for_the_caller(error: CaptureMockError) -> Exception:
    """``error`` as the caller best shows it. TextTest (whose plugins module is then loaded) shows a
    ``TextTestError`` as one line, "not compared: <message>", and anything else as a traceback."""
    import sys

    plugins = sys.modules.get("texttestlib.plugins")
    if plugins is None:
        return error
    both = type(type(error).__name__, (plugins.TextTestError, type(error)), {"__module__": __name__})
    return both(str(error))


class CaptureMockReplayError(RuntimeError):
    """Replay could not answer a request, or the replayed traffic differed from the mock (§2.5, §2.6).

    ``str`` stays the one line existing suites compare; ``explanation`` (``explain``) says why, for
    the channels that may show more (the pytest plugin, the decorator's stderr)."""

    def __init__(self, message: str = "", explanation: str = ""):
        super().__init__(message)
        self.explanation = explanation


class SealedReplayError(CaptureMockReplayError):
    """With ``[general] sealed = true``, replay met a call the mock does not hold: nothing runs for real."""


class _LocatedError(CaptureMockError, ValueError):
    """An error about a particular place in a file: ``path:line: message``."""

    def __init__(self, message: str, path: Optional[str] = None, line: Optional[int] = None):
        self.message = message
        self.path = path
        self.line = line
        super().__init__(self._format())

    def _format(self) -> str:
        if self.path is None:
            return self.message
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"


class MockFileError(_LocatedError):
    """A mock file could not be read or contains something replay refuses to rebuild."""


class ConfigError(_LocatedError):
    """An rc file, mode or option value is malformed."""


class MissingMockError(ConfigError):
    """Replay mode found no mock file and ``[general] on_missing_mock = error`` forbids a live run."""
