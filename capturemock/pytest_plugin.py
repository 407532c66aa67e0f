"""pytest plugin: record and replay a test's Python traffic, the pytest way of ``@capturemock`` (§6.10).

    def test_weather(capturemock):
        capturemock.intercept("weather")        # or (["a", "b"], rcFiles=["weather.rc"], mode="record")
        import weather
        assert weather.forecast("Lund") == ["sun"]

    @pytest.mark.capturemock("weather", rcFiles=["weather.rc"], mode="record")
    def test_marked():                          # intercepts from the start; no fixture argument needed
        ...

- Mock file: ``<test file dir>/mocks/<test file stem>/<test name>.mock``; the test name keeps its
  ``test_`` prefix and is ``Class.test_name[params]`` for methods and parametrised tests (characters a
  file name cannot hold are %-escaped).
- Mode: the marker's or ``intercept``'s ``mode=``, else ``--capturemock-mode``, else ``CAPTUREMOCK_MODE``,
  else replay; each takes ``replay``/``record``/``mixed``, 0/1/2 or the ``capturemock`` constants and
  their names (``modes.parse_mode``).
- Replay with no mock file intercepts nothing (§2.2). A replay whose transcript differs from the mock
  fails the test with the §14 message and a diff, and leaves the transcript in ``<mock>.tmp``. Record
  and mixed mode store the transcript as the mock if anything was recorded.
- Relative rc files are found beside the test file; with neither names nor rc files,
  ``<rootdir>/.capturemockrc`` is used if it exists. ``CAPTUREMOCK_*`` variables are restored after
  each test. This fixture intercepts Python only: given rc files that set ``server_protocol``, it warns
  that no traffic server runs.

Network traffic of a test (``serverfixture``)::

    def test_client(capturemock_server):    # or @pytest.mark.capturemock_server(rcFiles=..., forward_to=...)
        capturemock_server.rules.add(path="/items", response={"body": {"items": []}})
        assert my_client.items(capturemock_server.url) == []

Its mock is ``mocks/<test file stem>/<mock name>.server.mock``; the mode is found as above. During
the test ``CAPTUREMOCK_SERVER`` and ``CAPTUREMOCK_TOKEN`` name the server.
"""
from __future__ import annotations

import difflib
import os
import re
import warnings
from typing import Any, Iterator, Optional

import pytest

from .decorator import (
    DEFAULT_RC_NAME,
    ENVIRONMENT_MODE,
    MISMATCH_MESSAGE,
    MOCK_DIR_NAME,
    MockRun,
    Names,
    as_name_list,
    mode_from_environment,
)
from .errors import CaptureMockError, CaptureMockReplayError, ConfigError, MissingMockError
from .modes import TEST_MODES, describe_modes, parse_mode

_UNSAFE = re.compile(r"[^\w.,=+\-\[\]]")
_MAX_DIFF_LINES = 40
_FIXTURE = pytest.StashKey["CaptureMockFixture"]()
_SERVER = pytest.StashKey[Any]()  # the capturemock_server fixture's TestServer


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("capturemock").addoption(
        "--capturemock-mode", default=None,
        help="record, replay or mix the traffic of tests using the capturemock fixture or marker: "
             f"{describe_modes(TEST_MODES)} (default: CAPTUREMOCK_MODE, else replay)")


_ENVIRONMENT_MODE = pytest.StashKey[Any]()


def pytest_configure(config: pytest.Config) -> None:
    # read now: set-ups during the run (the decorator's setUpPython) leave CAPTUREMOCK_MODE behind
    config.stash[_ENVIRONMENT_MODE] = mode_from_environment()
    option = config.getoption("capturemock_mode")
    if option is not None:
        try:
            config.option.capturemock_mode = parse_mode(option, "--capturemock-mode", TEST_MODES)
        except ConfigError as err:
            raise pytest.UsageError(str(err)) from None
    config.addinivalue_line(
        "markers", "capturemock(pythonAttrs=None, rcFiles=None, mode=None): record/replay the test's "
                   "python traffic with capturemock into mocks/<test file stem>/<test name>.mock")
    config.addinivalue_line(
        "markers", "capturemock_server(rcFiles=None, mode=None, forward_to=None): how the capturemock_server "
                   "fixture starts the test's traffic server")


def mock_name(item: pytest.Item) -> str:
    """``test_x``, ``TestA.test_x`` or ``test_x[1-a]``: unique within the test file and safe as a file name.
    Characters a file name cannot hold are %-escaped, so that two ids never share a mock."""
    cls = getattr(item, "cls", None)
    name = f"{cls.__name__}.{item.name}" if cls is not None else item.name
    return _UNSAFE.sub(lambda match: "".join(f"%{byte:02X}" for byte in match.group().encode()), name)


def mock_path(item: pytest.Item) -> str:
    """``<test file dir>/mocks/<test file stem>/<mock name>.mock``: tests of the same name in two files
    of one directory get a mock each."""
    return os.path.join(str(item.path.parent), MOCK_DIR_NAME, item.path.stem, f"{mock_name(item)}.mock")


class CaptureMockFixture:
    """The ``capturemock`` fixture of one test: ``intercept(...)`` starts recording or replaying."""

    def __init__(self, item: pytest.Item):
        self.item = item
        self.mock_path = mock_path(item)
        self.run: Optional[MockRun] = None

    def intercept(self, pythonAttrs: Optional[Names] = None, rcFiles: Optional[Names] = None,
                  mode: Any = None) -> None:
        """Intercept these modules/attributes (and those of the rc files) for the rest of the test."""
        if self.run is not None:
            raise CaptureMockError(f"capturemock is already intercepting in {self.item.nodeid}")
        names = as_name_list(pythonAttrs, "pythonAttrs")
        rc_files = [os.path.join(str(self.item.path.parent), path) for path in as_name_list(rcFiles, "rcFiles")]
        if not names and not rc_files:
            default_rc = os.path.join(str(self.item.config.rootpath), DEFAULT_RC_NAME)
            rc_files = [default_rc] if os.path.isfile(default_rc) else []
        _warn_if_for_a_server(rc_files)
        self.run = MockRun(self._resolve_mode(mode), self.mock_path, names, rc_files)
        try:
            self.run.start()
        except MissingMockError as err:
            self.run, refused = None, str(err)
        else:
            return
        pytest.fail(refused, pytrace=False)  # outside the handler: no chained traceback

    @property
    def mode(self) -> int:
        """The mode ``intercept`` uses when given none."""
        return self._resolve_mode(None)

    def _resolve_mode(self, mode: Any) -> int:
        return mode_for(self.item, mode)

    def finish(self) -> None:
        """The test passed: compare or store; a replay mismatch fails the test with a diff."""
        __tracebackhide__ = True
        run, self.run = self.run, None
        if run is None:
            return
        try:
            run.finish()
        except CaptureMockReplayError as err:
            explanation = err.explanation
        else:
            return
        # failed outside the handler: pytest would show the replay error and this one chained
        pytest.fail(f"{MISMATCH_MESSAGE}\n{explanation}\n{_diff(self.mock_path, f'{self.mock_path}.tmp')}",
                    pytrace=False)

    def abandon(self) -> None:
        run, self.run = self.run, None
        if run is not None:
            run.abandon()


def mode_for(item: pytest.Item, mode: Any) -> int:
    """``mode`` if given, else ``--capturemock-mode``, else ``CAPTUREMOCK_MODE``, else replay."""
    if mode is not None:
        return parse_mode(mode, f"the capturemock mode of {item.nodeid}", TEST_MODES)
    option = item.config.getoption("capturemock_mode")  # parsed by pytest_configure
    if option is not None:
        return option
    return parse_mode(item.config.stash[_ENVIRONMENT_MODE], ENVIRONMENT_MODE, TEST_MODES)


def _warn_if_for_a_server(rc_files: list[str]) -> None:
    """Rc files for network traffic given to the Python fixture: say that no server runs (once 2.10's
    decorator silently left ``CAPTUREMOCK_SERVER`` unset), and what to use instead."""
    if not rc_files:
        return
    from .config import GENERAL, RcConfig

    try:
        protocol = RcConfig(rc_files, warn=lambda message: None).get("server_protocol", [GENERAL])
    except ConfigError:
        return  # MockRun reports a broken rc file
    if protocol:
        warnings.warn(f"capturemock: {', '.join(rc_files)} set server_protocol = {protocol}, but the capturemock "
                      "fixture intercepts Python only: no traffic server runs and CAPTUREMOCK_SERVER is not set "
                      "(use the capturemock_server fixture)", UserWarning, stacklevel=3)


def _explain(error: BaseException) -> None:
    """A replay error raised inside the test (``use_exact_matching``): pytest shows its notes, so the
    explanation (closest recorded requests, word by word) joins the one-line text there."""
    explanation = getattr(error, "explanation", "")
    if explanation and hasattr(error, "add_note") and explanation not in str(error):
        error.add_note(explanation)


def _diff(stored: str, new: str) -> str:
    with open(stored, encoding="utf-8", errors="replace") as old_file, \
            open(new, encoding="utf-8", errors="replace") as new_file:
        lines = list(difflib.unified_diff(old_file.readlines(), new_file.readlines(), stored, new))
    if len(lines) > _MAX_DIFF_LINES:
        lines = lines[:_MAX_DIFF_LINES] + [f"... ({len(lines) - _MAX_DIFF_LINES} more diff lines)\n"]
    return "".join(line if line.endswith("\n") else f"{line}\n" for line in lines)


def _capturemock_environment() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key.startswith("CAPTUREMOCK_")}


@pytest.fixture
def capturemock(request: pytest.FixtureRequest) -> Iterator[CaptureMockFixture]:
    """Record/replay this test's python traffic; see the module docstring."""
    saved = _capturemock_environment()
    fixture = CaptureMockFixture(request.node)
    request.node.stash[_FIXTURE] = fixture
    try:
        marker = request.node.get_closest_marker("capturemock")
        if marker is not None:
            fixture.intercept(*marker.args, **marker.kwargs)
        yield fixture
    finally:
        try:
            fixture.abandon()  # only still running if the call phase never finished it
        finally:
            del request.node.stash[_FIXTURE]
            for key in set(_capturemock_environment()) - set(saved):
                del os.environ[key]
            os.environ.update(saved)


@pytest.fixture
def capturemock_server(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A traffic server for this test: ``url``, ``rules``, ``forward_to``; see the module docstring."""
    from .serverfixture import MOCK_SUFFIX, TestServer

    item = request.node
    marker = item.get_closest_marker("capturemock_server")
    options = dict(marker.kwargs) if marker is not None else {}
    rc_files = [os.path.join(str(item.path.parent), path) for path in as_name_list(options.get("rcFiles"), "rcFiles")]
    mode = mode_for(item, options.get("mode"))
    saved = _capturemock_environment()
    try:
        server = TestServer(mode, mock_path(item)[:-len(".mock")] + MOCK_SUFFIX, rc_files, options.get("forward_to"))
    except CaptureMockError as err:  # no mock (on_missing_mock = error), a bad rc file: one line
        refused = str(err)
    else:
        refused = ""
    if refused:
        pytest.fail(refused, pytrace=False)  # outside the handler: no chained traceback
    item.stash[_SERVER] = server
    os.environ.update(CAPTUREMOCK_SERVER=server.url, CAPTUREMOCK_TOKEN=server.token)
    try:
        yield server
    finally:
        try:
            server.abandon()  # only still running if the call phase never finished it
        finally:
            del item.stash[_SERVER]
            for key in set(_capturemock_environment()) - set(saved):
                del os.environ[key]
            os.environ.update(saved)


@pytest.fixture(autouse=True)
def _capturemock_marker(request: pytest.FixtureRequest) -> None:
    """A test with the ``capturemock`` marker gets the fixture without asking for it."""
    if request.node.get_closest_marker("capturemock") is not None:
        request.getfixturevalue("capturemock")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Finish the run inside the call phase, so a replay mismatch is a test failure, not a teardown error."""
    __tracebackhide__ = True
    fixture = item.stash.get(_FIXTURE, None)
    server = item.stash.get(_SERVER, None)
    try:
        result = yield
    except BaseException as err:
        for running in (fixture, server):
            if running is not None:
                running.abandon()
        _explain(err)
        raise
    failed = bool(getattr(item, "_excinfo", None))  # a unittest.TestCase failed or skipped: pytest raises it later
    for running in (server, fixture):
        if running is not None and failed:
            running.abandon()
        elif running is not None:
            running.finish()
    return result
