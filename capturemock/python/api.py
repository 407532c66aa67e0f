"""Entry points of python interception (§6.1): interceptPython, setUpPython, process_startup.

Everything that depends on configuration is resolved here, once, so the per-call path only touches
the session's own state (product spec §3, "Fast replay").
"""
from __future__ import annotations

import atexit
import importlib
import importlib.util
import os
import sys

from ..config import RcConfig, refuse_live_run
from ..errors import CaptureMockError, for_the_caller
from ..mockfile import MockWriter
from ..modes import RECORD, REPLAY, is_active, parse_mode
from .importhook import ImportHook
from .session import Session
from .settings import PythonSettings

TYPE_CHECKING = False  # typing is not imported at run time: it costs every intercepted process ~3 ms
if TYPE_CHECKING:
    from typing import Callable, Iterable, MutableMapping, Optional, Sequence

    from ..replay import ReplayIndex
    from .patching import Patcher
    from .replayer import Replayer

ENV_MODE = "CAPTUREMOCK_MODE"
ENV_RECORD = "CAPTUREMOCK_RECORD_FILE"
ENV_REPLAY = "CAPTUREMOCK_REPLAY_FILE"
ENV_START = "CAPTUREMOCK_PROCESS_START"
ENV_PYTHON = "CAPTUREMOCK_PYTHON"

_SITECUSTOMIZE = """\
# Written by capturemock: intercept python in every process started with this directory on PYTHONPATH.
try:
    import capturemock
    capturemock.process_startup()
except Exception as err:
    import sys
    sys.stderr.write(f"capturemock: python interception not set up in this process: {err}\\n")
"""


class InterceptHandler:
    """What ``interceptPython`` installed; ``resetIntercepts`` puts everything back."""

    def __init__(self, session: Optional[Session] = None, hook: Optional[ImportHook] = None,
                 patcher: Optional[Patcher] = None, index: Optional[ReplayIndex] = None):
        self.session = session
        self.hook = hook
        self.patcher = patcher
        self.index = index if index is not None and index.reports else None
        if self.index is not None:  # a process intercepted by sitecustomize is never reset: report at exit
            atexit.register(self._report)

    def resetIntercepts(self) -> None:  # noqa: N802 - the original's public name
        _active.pop(id(self), None)
        if self.hook is not None:
            self.hook.uninstall()
        if self.patcher is not None:
            self.patcher.restore()
        if self.session is not None:
            self.session.close()
        if self.index is not None:
            atexit.unregister(self._report)
            self._report()
        self.session = self.hook = self.patcher = self.index = None

    def _report(self) -> None:
        """``on_best_match = warn`` and ``report_unused``: the replay's end-of-run lines, on stderr."""
        lines = self.index.report(("PYT",))  # the mock may hold command-line traffic too (TextTest)
        if lines:
            sys.stderr.write("".join(f"{line}\n" for line in lines))
            sys.stderr.flush()


def interceptPython(mode: int, recordFile: str, replayFile: Optional[str], rcFiles: Sequence[str],  # noqa: N802,N803
                    pythonAttrs: Sequence[str]) -> InterceptHandler:  # noqa: N803
    """Install the intercepts of ``pythonAttrs`` plus rc ``[python] intercepts`` (§6.1, §6.2)."""
    mode = parse_mode(mode)
    if not is_active(mode, replayFile):
        return InterceptHandler()
    config = RcConfig(list(rcFiles or []))
    replay_path = replayFile if mode != RECORD and replayFile and os.path.isfile(replayFile) else None
    index, sealed_replay = _replay_of(replay_path, mode, config) if replay_path else (None, False)
    names = _intercept_names(pythonAttrs or [], _rc_intercepts(config),
                             index if mode == REPLAY and not sealed_replay else None)
    if not names:
        return InterceptHandler()
    _refuse_nested(names)
    modules, partial = _classify(names)
    settings = PythonSettings(config, mode if index is not None else RECORD, names)
    session = Session(settings, MockWriter(recordFile), modules,
                      _replayer_factory(index, replay_path, sealed_replay) if index is not None else None)
    hook = ImportHook(session)
    session.importer = hook
    session.bypass.real_import = hook.real_import
    handler = InterceptHandler(session, hook, _patcher(session) if partial else None, index)
    hook.install()
    _active[id(handler)] = names
    try:
        for name in partial:
            handler.patcher.intercept_now_or_on_import(name)
    except BaseException:
        handler.resetIntercepts()  # e.g. a replayed constant refused by the parser: leave nothing behind
        raise
    return handler


# The replay modules (the index, its key table and ``array``, the python replayer, the replay policy) are
# imported only where a replay file is read: a recording process never needs them (~4 M instructions).
def _replay_of(replay_path: str, mode: int, config: RcConfig) -> tuple[ReplayIndex, bool]:
    """The index of the replay file, and whether the replay is sealed."""
    from ..replay import ReplayIndex
    from ..replaypolicy import index_options, sealed

    return ReplayIndex.from_file(replay_path, **index_options(config)), mode == REPLAY and sealed(config)


def _patcher(session: Session) -> Patcher:
    from .patching import Patcher  # only dotted names are patched: whole modules never load it

    return Patcher(session)


def _replayer_factory(index: ReplayIndex, replay_path: Optional[str], sealed_replay: bool
                      ) -> Callable[[Session], Replayer]:
    from .replayer import Replayer

    return lambda owner: Replayer(owner, index, replay_path, sealed=sealed_replay)


def _rc_intercepts(config: RcConfig) -> list[str]:
    return config.getnames("intercepts", ["python"], _is_dotted_name, "a module or dotted name")


def _is_dotted_name(name: str) -> bool:
    return all(part.isidentifier() for part in name.split("."))


# names intercepted by handlers not reset yet: a second interception of one of them (a decorator and a
# fixture on one test, a forgotten resetIntercepts) would leave sys.modules wrong whichever is undone first
_active: dict[int, list[str]] = {}


def _refuse_nested(names: list[str]) -> None:
    def overlap(one: str, other: str) -> bool:
        return one == other or one.startswith(f"{other}.") or other.startswith(f"{one}.")

    for active in _active.values():
        clash = next((name for name in names for held in active if overlap(name, held)), None)
        if clash is not None:
            raise CaptureMockError(f"'{clash}' is intercepted already in this process: reset the earlier "
                                   "interception first (e.g. @capturemock and the capturemock fixture on one test)")


def _intercept_names(explicit: Iterable[str], from_rc: Iterable[str], index: Optional[ReplayIndex]) -> list[str]:
    """Explicit names always; in pure replay (``index`` given: not when sealed), rc names only if the
    replay file mentions them (§5.2): as
    traffic, or (beyond the original) as the class of a replayed instance, so that ``except
    urllib.error.HTTPError`` catches a replayed ``Instance('HTTPError(...)', ...)``."""
    names = dict.fromkeys(explicit)  # a dict: ordered, and membership is not a scan of a list
    for name in from_rc:
        if name in names:
            continue
        if index is None or _mentions(index.text, name):
            names[name] = None
    return list(names)


def _mentions(text: str, name: str) -> bool:
    """Whether a line of the replay file starts ``<-PYT:name`` or ``<-PYT:import name``, or the file has
    ``Instance('Last(`` or ``Instance('Last'`` (``Last``: the name's last part). Substring searches, not
    a regex: ``re`` would cost every replaying process ~4 ms at start-up."""
    lines = (f"<-PYT:{name}", f"<-PYT:import {name}")
    if any(text.startswith(line) or f"\n{line}" in text for line in lines):
        return True
    instance = f"Instance('{name.rsplit('.', 1)[-1]}"
    return f"{instance}(" in text or f"{instance}'" in text


def _classify(names: Iterable[str]) -> tuple[list[str], list[str]]:
    """Whole modules (no dot, or a dotted module) versus attributes to patch (§6.2).

    A module is looked for, not imported: imported now, it would count as imported by the application
    before interception. A name found neither way yet (the program's own, under sitecustomize) is both:
    the import hook takes it if it is imported as a module, the patcher if it turns out an attribute."""
    modules, partial = [], []
    for name in names:
        if "." not in name:
            modules.append(name)
            continue
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):  # a parent is no package, or not importable (yet)
            found = False
        if found:
            modules.append(name)
        else:
            from .patching import import_prefix

            partial.append(name)
            if import_prefix(name) is None:
                modules.append(name)
    return modules, partial


def setUpPython(mode: int, recordFile: str, replayFile: Optional[str] = None, rcFiles: Sequence[str] = (),  # noqa: N802,N803
                pythonAttrs: Sequence[str] = (), environment: MutableMapping[str, str] = os.environ  # noqa: N803
                ) -> bool:
    """Export what ``process_startup`` needs to intercept the SUT's processes; intercepts nothing here.
    The rc files are checked now, so that a bad value stops the test before the SUT runs."""
    from ..sutenv import unset  # here, as set-up code: not in every intercepted process
    from ..writable import check_writable

    try:
        if not is_active(mode, replayFile):
            refuse_live_run(rcFiles or [], parse_mode(mode), replayFile)
            return False
        mode = parse_mode(mode)
        config = RcConfig(list(rcFiles or []), warn=lambda message: None)  # setUpServer warned already
        config.warn_unknown_settings()
        PythonSettings(config, mode, [*_rc_intercepts(config), *(pythonAttrs or [])])
        from ..replaypolicy import index_options, sealed  # set-up code: here, as above

        index_options(config)
        sealed(config)
        if recordFile:
            check_writable(recordFile, "record to", directory=False)
    except CaptureMockError as err:
        raise for_the_caller(err) from None
    environment[ENV_MODE] = str(mode)
    if replayFile and mode != RECORD:
        environment[ENV_REPLAY] = replayFile
    else:
        unset(environment, ENV_REPLAY)  # even if inherited: a replay file of the caller's is not ours
    environment[ENV_RECORD] = recordFile
    environment[ENV_START] = ",".join(rcFiles or [])
    environment[ENV_PYTHON] = ",".join(pythonAttrs or [])
    _make_importable(environment)
    return True


def _make_importable(environment: MutableMapping[str, str]) -> None:
    """Let any Python the SUT starts import capturemock, so that its processes are intercepted.

    The original replaced the SUT's PYTHONPATH (§12.20); we append a directory that holds nothing but
    a link to this package, so the SUT's own path keeps precedence and nothing else leaks in.
    """
    import tempfile

    from ..cachedir import import_path  # here: set-up code, never run in an intercepted process

    path_dir = import_path()
    if path_dir is None:
        sys.stderr.write("capturemock: WARNING: no private cache directory (~/.cache/capturemock or "
                         f"{tempfile.gettempdir()}/capturemock-<uid>) could be made: Python processes the "
                         "system under test starts are intercepted only if their Python has capturemock "
                         "installed\n")
        return
    try:
        current = environment["PYTHONPATH"]  # TextTest's environment falls back to os.environ here
    except KeyError:
        current = ""
    entries = [entry for entry in current.split(os.pathsep) if entry]
    if path_dir not in entries:
        environment["PYTHONPATH"] = os.pathsep.join([*entries, path_dir])


_handler: Optional[InterceptHandler] = None


def process_startup() -> Optional[InterceptHandler]:
    """Intercept this process as ``setUpPython`` described in the environment (§2.7).

    A malformed rc or mock file ends the process at once with one line and status 1: running on
    without interception would send a replayed test to the real dependencies and pass."""
    global _handler
    rc_files = os.environ.get(ENV_START)
    if not rc_files:
        return None
    if _handler is not None and _handler.session is not None:
        return _handler  # called again (sitecustomize did, then the program): one interception per process
    names = [name for name in os.environ.get(ENV_PYTHON, "").split(",") if name]
    try:
        _handler = interceptPython(os.environ.get(ENV_MODE, "0"), os.environ.get(ENV_RECORD, ""),
                                   os.environ.get(ENV_REPLAY), rc_files.split(","), names)
    except CaptureMockError as err:  # sitecustomize would swallow an exception, SystemExit is fatal there
        sys.stderr.write(f"capturemock: {err}\n")
        sys.stderr.flush()
        os._exit(1)
    return _handler


def write_sitecustomize(directory: str) -> str:
    """A ``sitecustomize.py`` in ``directory`` that intercepts every python started with it on the path."""
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, "sitecustomize.py")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(_SITECUSTOMIZE)
    return path


__all__ = ["interceptPython", "setUpPython", "process_startup", "write_sitecustomize", "InterceptHandler"]
