"""Generated scenarios run under CaptureMock 2.10 and under ours must behave the same (issue 12).

Fast mode (default, CI): the seeds in ``FAST_SEEDS`` plus one minimal scenario per known bug.
Long mode: ``CAPTUREMOCK_DIFF=long .venv/bin/python -m pytest tests/differential`` runs
``CAPTUREMOCK_DIFF_SEEDS`` (default 150) seeds. A failure prints the seed, the scenario's files and a
diff per field; ``CAPTUREMOCK_DIFF_KEEP=1`` keeps the run directories under pytest's tmp dir.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from .comparer import DELIBERATE, KNOWN_BUGS, compare, explain
from .conftest import REPO
from .generator import SITE_EXTRA, Scenario, handmade_python, scenario
from .runner import Implementation, run_scenario

LONG = os.environ.get("CAPTUREMOCK_DIFF") == "long"
FAST_SEEDS = [6, 7, 9, 11, 13, 17, 20, 26, 27, 29, 31, 37]  # every feature but list(), every kind and mode
SEEDS = range(int(os.environ.get("CAPTUREMOCK_DIFF_SEEDS", "150"))) if LONG else FAST_SEEDS
BUG_NAMES = {known.name for known in KNOWN_BUGS}


def describe(case: Scenario) -> str:
    files = "".join(f"==> {path} <==\n{text}" for path, text in sorted(case.files.items()))
    return f"scenario {case.name}, features {case.features}\n{files}"


def check(case: Scenario, implementations: dict[str, Implementation], tmp_path: Path) -> None:
    """Fail on any difference not removed by named rows; xfail (naming them) if known bugs were needed."""
    outcomes = run_scenario(case, implementations, tmp_path)
    unexplained, bugs = [], set()
    for difference in compare(case, outcomes, implementations, str(tmp_path), str(REPO)):
        names = explain(case, difference, KNOWN_BUGS + DELIBERATE)
        if not names:
            unexplained.append(difference.render())
        bugs.update(BUG_NAMES.intersection(names))
    assert not unexplained, describe(case) + "\n" + "\n\n".join(unexplained)
    if bugs:
        pytest.xfail("known bugs of ours: " + ", ".join(sorted(bugs)))


@pytest.mark.parametrize("seed", SEEDS)
def test_generated_scenario(seed: int, implementations: dict[str, Implementation], tmp_path: Path) -> None:
    check(scenario(seed), implementations, tmp_path)


# the minimal reproduction of each row of KNOWN_BUGS: strict, so a fix shows up as XPASS and the row goes
BUG_SCENARIOS: dict[str, Scenario] = {}


@pytest.mark.parametrize("name", [pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=name))
                                  for name in sorted(BUG_SCENARIOS)])
def test_known_bug(name: str, implementations: dict[str, Implementation], tmp_path: Path) -> None:
    check(BUG_SCENARIOS[name], implementations, tmp_path)


def test_a_list_in_a_dict_wraps_as_in_2_10(implementations: dict[str, Implementation], tmp_path: Path) -> None:
    """Once a known bug (nested-sequence-wrap): a list inside a dict too wide for 130 columns, which 2.10's
    pprint writes one element a line under its bracket, was kept on one line; values are still read back."""
    check(handmade_python("nested-sequence-wrap", "def f(x):\n    return x\n\n" + SITE_EXTRA,
                          "print(M.f({'k': ['x' * 60, 'y' * 60, ('z' * 20, 1.2345, {'a': 'w' * 130})]}))\n"),
          implementations, tmp_path)


def test_an_iteration_the_mock_never_recorded_ends(implementations: dict[str, Implementation], tmp_path: Path) -> None:
    """Once a known bug: replaying 2.10's mock of ``list(gen())`` (2.10 stopped at ``__len__``) answered
    None to ``__next__`` for ever, so ``list()`` never ended; an unrecorded iteration step now ends it."""
    check(handmade_python("endless-next", "def gen(n):\n    yield from range(n)\n\n" + SITE_EXTRA,
                          "print(list(M.gen(2)))\n"), implementations, tmp_path)


def test_every_known_bug_has_a_reproduction() -> None:
    assert sorted(BUG_SCENARIOS) == sorted(BUG_NAMES)
