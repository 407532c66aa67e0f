"""The ``@capturemock`` decorator and ``set_defaults`` (§6.10), plus the per-test run they share with
the pytest plugin.

A decorated test records its Python traffic into ``mocks/<name>.mock`` beside the file that applied
the decorator, or replays that file and fails if the new transcript differs from it (§2.6).
"""
from __future__ import annotations

import functools
import os
import shutil
import sys
import tempfile
from typing import Any, Callable, Optional, Sequence, TypeVar, Union

from .errors import CaptureMockError, CaptureMockReplayError, ConfigError, MissingMockError
from .modes import RECORD, REPLAY, TEST_MODES, parse_mode

# §14: existing suites compare this text.
MISMATCH_MESSAGE = ("Replayed calls do not match those recorded. Either rerun with capturemock in record mode "
                    "or update the stored mock file by hand.")
ENVIRONMENT_MODE = "environment variable CAPTUREMOCK_MODE"
MOCK_DIR_NAME = "mocks"  # §6.10: renamed from "capturemock" in 2025
DEFAULT_RC_NAME = ".capturemockrc"

Names = Union[str, Sequence[str]]
F = TypeVar("F", bound=Callable[..., Any])


def mode_from_environment() -> Union[int, str]:
    """``CAPTUREMOCK_MODE`` as a mode code, or the raw text when it is not one (refused when used, §2.3)."""
    text = os.environ.get("CAPTUREMOCK_MODE", "0")
    try:
        return parse_mode(text, ENVIRONMENT_MODE, TEST_MODES)
    except ConfigError:
        return text


def as_name_list(names: Optional[Names], what: str) -> list[str]:
    """A single string becomes a one-item list (§6.10); anything but strings is a clean error."""
    if names is None:
        return []
    if isinstance(names, str):
        return [names]
    items = list(names)
    if not all(isinstance(name, str) for name in items):
        raise ConfigError(f"capturemock {what} must be a string or a list of strings, not {names!r}")
    return items


def _same_text(path_a: str, path_b: str) -> bool:
    """Universal-newline comparison of two transcripts (§2.6), independent of the text encoding."""
    def normalised(path: str) -> bytes:
        with open(path, "rb") as handle:
            return handle.read().replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return normalised(path_a) == normalised(path_b)


def _terminate_server() -> None:
    """Stop a traffic server the test may have started (§6.10); a no-op without one or without a launcher."""
    import capturemock
    try:
        terminate = capturemock.terminate
    except (ImportError, AttributeError):
        return
    terminate()


class MockRun:
    """One record/replay of a test against one mock file: ``start``, then ``finish`` or ``abandon``.

    ``finish`` (the test passed) compares the transcript with the mock in REPLAY and raises
    ``CaptureMockReplayError`` on a difference, leaving it in ``<mock>.tmp``; in RECORD and mixed mode it
    stores the transcript as the mock if anything was recorded. ``abandon`` (the test raised) only undoes
    the interception, so the test's own exception is what the user sees.
    """

    def __init__(self, mode: int, mock_path: str, python_attrs: Sequence[str] = (),
                 rc_files: Sequence[str] = ()):
        self.mode = mode
        self.mock_path = mock_path
        self.python_attrs = list(python_attrs)
        self.rc_files = list(rc_files)
        self._scratch: Optional[str] = None
        self._handler: Any = None

    @property
    def record_path(self) -> Optional[str]:
        return self._scratch and os.path.join(self._scratch, os.path.basename(self.mock_path))

    def replay_path(self) -> Optional[str]:
        """The mock to replay: none in RECORD, and none when absent, so mixed mode just records (fixes §12.19)."""
        if self.mode == RECORD or not os.path.isfile(self.mock_path):
            return None
        return self.mock_path

    def start(self) -> None:
        """Intercept the configured names, recording into a fresh temporary file (§6.10)."""
        __tracebackhide__ = True
        from .config import refuse_live_run
        from .python.api import interceptPython, setUpPython

        try:
            refuse_live_run(self.rc_files, self.mode, self.mock_path)
        except MissingMockError as err:
            raise err.with_traceback(None) from None  # the line says it all: no capturemock frames
        self._scratch = tempfile.mkdtemp(prefix="capturemock-")
        try:
            replay = self.replay_path()
            # §6.10: setUpPython leaves the CAPTUREMOCK_* variables in os.environ, for subprocesses
            if setUpPython(self.mode, self.record_path, replay, rcFiles=self.rc_files,
                           pythonAttrs=self.python_attrs):
                self._handler = interceptPython(self.mode, self.record_path, replay, self.rc_files,
                                                self.python_attrs)
        except BaseException:
            self.abandon()
            raise

    def finish(self) -> None:
        """The test passed: undo the interception, then compare (REPLAY) or store (RECORD, mixed)."""
        __tracebackhide__ = True
        try:
            mock_error = self._handler.session.mock_error if self._handler and self._handler.session else None
            self._reset()
            if mock_error is not None:  # the test caught it: the stored mock stays, the error is reported
                raise mock_error
            recorded = self.record_path
            if recorded and os.path.isfile(recorded) and os.path.getsize(recorded) > 0:
                if self.mode == REPLAY:
                    self._compare(recorded)
                else:
                    _move(recorded, self.mock_path)
                _remove_stale(f"{self.mock_path}.tmp")  # a failed replay's transcript, now out of date
        finally:
            self._clean_up()

    def abandon(self) -> None:
        """The test failed: undo the interception and keep the stored mock exactly as it was."""
        try:
            self._reset()
        finally:
            self._clean_up()

    def _compare(self, recorded: str) -> None:
        """§2.6: an equal transcript is dropped, a different one kept in ``<mock>.tmp`` and reported.
        (The error's text is the §14 line, as suites parse the last line of its traceback; where it
        differs travels as its ``explanation``.)"""
        __tracebackhide__ = True  # pytest shows the test, not capturemock's comparison
        if not _same_text(recorded, self.mock_path):
            from .explain import first_difference

            _move(recorded, f"{self.mock_path}.tmp")
            raise CaptureMockReplayError(MISMATCH_MESSAGE, first_difference(self.mock_path, f"{self.mock_path}.tmp"))

    def _reset(self) -> None:
        handler, self._handler = self._handler, None
        if handler is not None:
            handler.resetIntercepts()

    def _clean_up(self) -> None:
        scratch, self._scratch = self._scratch, None
        try:
            if scratch:
                shutil.rmtree(scratch, ignore_errors=True)
        finally:
            _terminate_server()


def _move(source: str, target: str) -> None:
    """Put ``source`` at ``target`` in one step, so an existing mock is never left half-written."""
    os.makedirs(os.path.dirname(target), exist_ok=True)
    try:
        os.replace(source, target)
    except OSError:  # another file system: copy beside the target first, then swap
        partial = f"{target}.partial"
        shutil.copyfile(source, partial)
        os.replace(partial, target)


def _remove_stale(path: str) -> None:
    """Remove a file left by an earlier run, if there is one."""
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


def _explain(error: CaptureMockReplayError) -> None:
    """Say on stderr where replay went wrong: the error's own text must stay the one §14 line."""
    if error.explanation:
        sys.stderr.write(f"capturemock: {error}\n{error.explanation}\n")
        sys.stderr.flush()


def _applying_file() -> str:
    """The file whose code applied the decorator: the first frame outside this module."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__") == __name__:
        frame = frame.f_back
    return frame.f_code.co_filename if frame is not None else "<unknown>"


def _default_rc_files() -> list[str]:
    """§3.1: ``.capturemockrc`` in the cwd *at import time* (kept absolute, so a later chdir is harmless)."""
    path = os.path.abspath(DEFAULT_RC_NAME)
    return [path] if os.path.isfile(path) else []


def _refuses_live_run(rc_files: Sequence[str], mock_path: str) -> bool:
    """Whether the rc files forbid running a test with no mock live (``MockRun.start`` then says why)."""
    from .config import refuse_live_run  # rc files are read only for a test that has no mock

    try:
        refuse_live_run(rc_files, REPLAY, mock_path)
    except CaptureMockError:
        return True
    return False


_MOCK_OWNERS: dict[str, str] = {}  # mock path -> the test (file::qualified name) decorated to use it


def _claim(mock_path: str, test: str) -> None:
    """Two tests named alike (in two files of a directory, or two classes) would share one mock, each
    re-record silently replacing the other's: the name stays 2.10's, so the second decoration is refused."""
    owner = _MOCK_OWNERS.setdefault(mock_path, test)
    if owner != test:
        raise ConfigError(f"{test} and {owner} would share the mock file {mock_path}: rename one of the "
                          "tests (the mock is named after the function, without 'test_')")


class CaptureMockDecorator:
    """``@capturemock(pythonAttrs=[], mode=None, rcFiles=[])``: anything not given comes from the class
    defaults, which are read once at import and changed by ``set_defaults`` (§2.3, §6.10)."""

    defaultMode: Union[int, str] = mode_from_environment()
    defaultPythonAttrs: list[str] = []
    defaultRcFiles: list[str] = _default_rc_files()

    def __init__(self, pythonAttrs: Optional[Names] = None, mode: Union[int, str, None] = None,
                 rcFiles: Optional[Names] = None):
        cls = type(self)
        self.pythonAttrs = as_name_list(pythonAttrs, "pythonAttrs") or list(cls.defaultPythonAttrs)
        self.rcFiles = as_name_list(rcFiles, "rcFiles") or list(cls.defaultRcFiles)
        if mode is not None:
            self.mode = parse_mode(mode, "the capturemock decorator", TEST_MODES)
        else:
            self.mode = parse_mode(cls.defaultMode, ENVIRONMENT_MODE, TEST_MODES)

    def __call__(self, func: F) -> F:
        applying_file = os.path.abspath(_applying_file())
        mock_dir = os.path.join(os.path.dirname(applying_file), MOCK_DIR_NAME)
        os.makedirs(mock_dir, exist_ok=True)
        mock_path = os.path.join(mock_dir, f"{func.__name__.replace('test_', '')}.mock")
        _claim(mock_path, f"{applying_file}::{func.__qualname__}")
        if self.mode == REPLAY and not os.path.isfile(mock_path) and not _refuses_live_run(self.rcFiles, mock_path):
            return func  # §6.10: nothing to replay, so the test talks to the real thing

        @functools.wraps(func)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            __tracebackhide__ = True
            run = MockRun(self.mode, mock_path, self.pythonAttrs, self.rcFiles)
            run.start()
            try:
                try:
                    result = func(*args, **kwargs)
                except BaseException:
                    run.abandon()
                    raise
                run.finish()
            except CaptureMockReplayError as err:
                _explain(err)
                raise
            return result

        return wrapped  # type: ignore[return-value]


def capturemock(pythonAttrsOrFunc: Union[Names, Callable[..., Any], None] = None, *args: Any,
                **kwargs: Any) -> Any:
    """``@capturemock`` bare, or ``@capturemock("mod")``, ``@capturemock(["a", "b"], mode=RECORD)``,
    ``@capturemock(rcFiles=["rc"])`` (§6.10, §9)."""
    if callable(pythonAttrsOrFunc):
        return CaptureMockDecorator(*args, **kwargs)(pythonAttrsOrFunc)
    return CaptureMockDecorator(pythonAttrsOrFunc, *args, **kwargs)


def set_defaults(pythonAttrs: Optional[Names] = None, mode: Union[int, str, None] = None,
                 rcFiles: Optional[Names] = None) -> None:
    """Change the class-wide defaults: names always replaced, rc files only if given, mode only if not None."""
    CaptureMockDecorator.defaultPythonAttrs = as_name_list(pythonAttrs, "pythonAttrs")
    rc_files = as_name_list(rcFiles, "rcFiles")
    if rc_files:
        CaptureMockDecorator.defaultRcFiles = rc_files
    if mode is not None:
        CaptureMockDecorator.defaultMode = parse_mode(mode, "set_defaults", TEST_MODES)
