"""What a finished TextTest run changed, read from the run directory TextTest keeps in batch mode.

TextTest leaves, in each test's sandbox, ``framework_tmp/<file>cmp`` (the new result after the suite's
``run_dependent_text`` filters) and ``framework_tmp/<file>origcmp`` (the stored result, filtered the same
way). Comparing those two is comparing what TextTest compared, so a change the filters hide is no
change here either: a result with only ``cmp`` is new, one with only ``origcmp`` is no longer produced.
"""
from __future__ import annotations

import filecmp
import os
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


@dataclass
class TestOutcome:
    path: str  # relative to the suite, e.g. "Python/Quotes"
    sandbox: Path
    test_dir: Path
    compared: bool  # False: TextTest compared nothing (the test could not run)
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
        for framework_tmp in sorted(app_dir.rglob("framework_tmp")):
            sandbox = framework_tmp.parent
            relative = sandbox.relative_to(app_dir)
            outcomes.append(_outcome(str(relative), sandbox, suite / relative, stems))
    return outcomes


def _outcome(path: str, sandbox: Path, test_dir: Path, stems: tuple[str, ...]) -> TestOutcome:
    framework_tmp = sandbox / "framework_tmp"
    new = {name[:-3] for name in os.listdir(framework_tmp) if name.endswith("cmp") and not name.endswith("origcmp")}
    old = {name[:-7] for name in os.listdir(framework_tmp) if name.endswith("origcmp")}
    outcome = TestOutcome(path, sandbox, test_dir, compared=bool(new | old))
    for name in sorted(new | old):
        is_mock = name.split(".", 1)[0] in stems
        new_file, old_file = framework_tmp / f"{name}cmp", framework_tmp / f"{name}origcmp"
        if name not in old:
            summary = mock_change_summary(os.devnull, str(new_file)) if is_mock else ""
            outcome.changes.append(ResultChange(name, "new", is_mock, summary))
        elif name not in new:
            outcome.changes.append(ResultChange(name, "missing", is_mock))
        elif not filecmp.cmp(old_file, new_file, shallow=False):
            summary = mock_change_summary(str(old_file), str(new_file)) if is_mock else ""
            outcome.changes.append(ResultChange(name, "changed", is_mock, summary))
    edits = _file_edits_change(test_dir / FILE_EDITS, sandbox / FILE_EDITS) if outcome.compared else None
    if edits:
        outcome.changes.append(edits)
    return outcome


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
