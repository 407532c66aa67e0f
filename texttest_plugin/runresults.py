"""What a finished TextTest run changed, read from the run directory TextTest keeps in batch mode.

TextTest's own verdict on each test is in its sandbox, ``framework_tmp/teststate``: which results
differ, are new, or are no longer produced, after the suite's ``run_dependent_text`` filters (so a change
the filters hide is no change here either). Mock files are then summarised per interaction from the
files TextTest compared: the filtered copies it leaves in ``framework_tmp`` where a filter applied.
"""
from __future__ import annotations

import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path

FIXED_MOCK_STEMS = ("pythonmocks", "externalmocks", "traffic")
CLIENT_SERVER_STEM_KEY = "capturemock_clientserver_mock_name"
FILE_EDITS = "file_edits"


def mock_change_summary(old_path: str, new_path: str) -> str:
    """``capturemock diff`` of two mock files without its heading line: one line per changed interaction
    and the counts. A file that is not a mock file (a filter left something else) says so instead."""
    from capturemock.diff import report
    from capturemock.errors import CaptureMockError

    try:
        text, _ = report(old_path, new_path)
    except CaptureMockError as err:
        return f"no summary: {err}\n"
    return text.split("\n", 1)[1]


@dataclass(frozen=True)
class ResultChange:
    name: str  # the result file as stored in the test, e.g. "pythonmocks.cm", or "file_edits"
    kind: str  # "changed", "new" or "missing" (stored, no longer produced)
    is_mock: bool
    summary: str = ""  # per interaction for mock files, the differing paths for file_edits
    recorded: str = ""  # the new result's name in the sandbox ("" when none)


@dataclass
class TestOutcome:
    path: str  # relative to the suite, e.g. "Python/Quotes"
    sandbox: Path
    test_dir: Path
    compared: bool  # False: TextTest compared nothing (the test could not run)
    version: str = ""  # the run's TextTest version (-v), "" for none
    changes: list[ResultChange] = field(default_factory=list)

    @property
    def mock_changes(self) -> list[ResultChange]:
        return [change for change in self.changes if change.is_mock]


def mock_stems(suite: Path, app: str) -> tuple[str, ...]:
    """The fixed stems and the suite's client/server stem (``config.<app>``, else TextTest's default)."""
    stem = "httpmocks"
    config = suite / f"config.{app}"
    if config.is_file():
        for line in config.read_text(errors="replace").splitlines():
            key, sep, value = line.partition(":")
            if sep and key.strip() == CLIENT_SERVER_STEM_KEY and value.strip():
                stem = value.strip()
    return (*FIXED_MOCK_STEMS, stem)


def collect(run_dir: Path, app: str, suite: Path) -> list[TestOutcome]:
    """Every test TextTest ran in ``run_dir`` (``$TEXTTEST_TMP/<app>.<stamp>``), in path order."""
    stems = mock_stems(suite, app)
    outcomes = []
    app_dirs = [d for d in run_dir.iterdir() if d.is_dir() and (d.name == app or d.name.startswith(app + "."))]
    for app_dir in sorted(app_dirs):
        version = app_dir.name[len(app) + 1:]  # TextTest names it <app>.<version>
        for sandbox in _sandboxes(app_dir):
            relative = sandbox.relative_to(app_dir)
            outcomes.append(_outcome(str(relative), sandbox, suite / relative, stems, version))
    return outcomes


def file_edits_name(version: str) -> str:
    """The stored file edits of a version, as TextTest names them when it approves."""
    return f"{FILE_EDITS}.{version}" if version else FILE_EDITS


def _sandboxes(app_dir: Path) -> list[Path]:
    """Test sandboxes hold ``framework_tmp``; what a test writes inside its own sandbox (even a TextTest
    run of its own) is not searched."""
    found = []
    for directory, subdirs, _ in os.walk(app_dir):
        if "framework_tmp" in subdirs:
            found.append(Path(directory))
            subdirs.clear()
        subdirs.sort()
    return found


def _outcome(path: str, sandbox: Path, test_dir: Path, stems: tuple[str, ...], version: str) -> TestOutcome:
    state = _test_state(sandbox / "framework_tmp" / "teststate")
    outcome = TestOutcome(path, sandbox, test_dir, compared=hasattr(state, "allResults"), version=version)
    if not outcome.compared:
        return outcome
    kinds = (("changed", state.changedResults), ("new", state.newResults), ("missing", state.missingResults))
    for kind, comparisons in kinds:
        for comparison in comparisons:
            outcome.changes.append(_change(kind, comparison, sandbox, test_dir, comparison.stem in stems))
    outcome.changes.sort(key=lambda change: change.name)
    versioned_edits = test_dir / file_edits_name(version)
    stored_edits = versioned_edits if versioned_edits.is_dir() else test_dir / FILE_EDITS
    edits = _file_edits_change(stored_edits, sandbox / FILE_EDITS)
    if edits:
        outcome.changes.append(edits)
    return outcome


def _test_state(path: Path) -> object:
    """TextTest's verdict on one test, pickled by TextTest itself (its ``-reconnect`` reads the same file)."""
    try:
        with open(path, "rb") as state:
            return pickle.load(state)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        return None


def _change(kind: str, comparison, sandbox: Path, test_dir: Path, is_mock: bool) -> ResultChange:
    """Paths by name only: the run directory and the suite may have moved since TextTest pickled them."""
    stored = test_dir / os.path.basename(comparison.stdFile) if comparison.stdFile else None
    recorded = os.path.basename(comparison.tmpFile) if comparison.tmpFile else ""
    name = stored.name if stored else recorded
    if not is_mock or kind == "missing":
        return ResultChange(name, kind, is_mock, recorded=recorded)
    new = _compared(sandbox, comparison.tmpCmpFile, sandbox / recorded)
    old = str(_compared(sandbox, comparison.stdCmpFile, stored)) if kind == "changed" else os.devnull
    return ResultChange(name, kind, is_mock, mock_change_summary(old, str(new)), recorded)


def _compared(sandbox: Path, cmp_file: str | None, raw: Path) -> Path:
    """The file TextTest compared: its filtered copy in ``framework_tmp``, or the raw file if no filter applied."""
    filtered = sandbox / "framework_tmp" / os.path.basename(cmp_file or "")
    return filtered if cmp_file and filtered.is_file() else raw


def _file_edits_change(stored: Path, recorded: Path) -> ResultChange | None:
    """Recorded file edits are part of the mocks, though TextTest does not compare them."""
    old, new = _tree(stored), _tree(recorded)
    differing = sorted(path for path in old.keys() | new.keys() if old.get(path) != new.get(path))
    if not differing:
        return None
    kind = "new" if not old else "missing" if not new else "changed"
    return ResultChange(FILE_EDITS, kind, True, "".join(f"  {_edit_kind(p, old, new)} {p}\n" for p in differing))


def _edit_kind(path: str, old: dict, new: dict) -> str:
    return "added  " if path not in old else "removed" if path not in new else "changed"


def _tree(root: Path) -> dict[str, bytes]:
    if not root.is_dir():
        return {}
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}
