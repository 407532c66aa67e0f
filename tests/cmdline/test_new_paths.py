"""Paths a recorded command creates where its arguments say (issue 13, item 8): ``touch new``,
``mkdir -p new/dir``, ``mkdir -p /abs/new`` are recorded, and replay creates them again, outside the
working directory only with ``allow_edits_outside``. Native and Python fallback shim (``sut`` fixture)."""
from __future__ import annotations

import shutil

import pytest

import capturemock

RC = "[command line]\nintercepts = touch, mkdir\n"


@pytest.fixture
def outside(tmp_path):
    """A directory outside the SUT's working directory (``tmp_path``)."""
    path = tmp_path.parent / f"{tmp_path.name}-outside"
    yield path
    shutil.rmtree(path, ignore_errors=True)


def record_new_paths(sut, outside) -> str:
    """Record ``touch``/``mkdir`` making new paths; the paths are removed again afterwards, as a fresh
    test directory would not have them. The script, to run again on replay."""
    script = f"touch newfile && mkdir -p newdir/sub && mkdir -p {outside}/new && ls -d newfile newdir/sub"
    assert sut.start(capturemock.RECORD, rc=sut.rc(RC), recordEditDir=str(sut.root / "edits"))
    assert sut.run("sh", "-c", script).stdout == "newdir/sub\nnewfile\n"
    capturemock.terminate()
    (sut.root / "rec.mock").rename(sut.root / "stored.mock")
    for path in (sut.root / "newfile", sut.root / "newdir", outside):
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    return script


def replay(sut, script: str, rc: str):
    assert sut.start(capturemock.REPLAY, rc=sut.rc(rc), replay="stored.mock", real_programs=False,
                     replayEditDir=str(sut.root / "edits"))
    result = sut.run("sh", "-c", script)
    capturemock.terminate()
    return result


def test_new_paths_named_in_arguments_are_recorded(sut, outside):
    record_new_paths(sut, outside)
    assert sut.text("stored.mock") == ("<-CMD:touch newfile\n->FIL:newfile\n<-CMD:mkdir -p newdir/sub\n->FIL:sub\n"
                                       f"<-CMD:mkdir -p {outside}/new\n->FIL:new\n")
    edits = sut.root / "edits"
    assert sorted(path.name for path in edits.iterdir()) == ["new", "newfile", "sub"]
    assert (edits / "newfile").read_bytes() == b""
    assert [list((edits / name).iterdir()) for name in ("sub", "new")] == [[], []]


def test_replay_creates_them_inside_the_working_directory_only(sut, outside):
    script = record_new_paths(sut, outside)
    result = replay(sut, script, RC)
    assert (result.returncode, result.stdout) == (0, "newdir/sub\nnewfile\n")
    assert (sut.root / "newfile").read_bytes() == b"" and (sut.root / "newdir" / "sub").is_dir()
    assert not outside.exists()
    assert sut.text("rec.mock") == sut.text("stored.mock")  # a refused edit's item is kept


def test_replay_creates_them_outside_too_when_the_rc_allows_it(sut, outside):
    script = record_new_paths(sut, outside)
    assert replay(sut, script, RC + "allow_edits_outside = true\n").returncode == 0
    assert (outside / "new").is_dir() and not any((outside / "new").iterdir())
    assert (sut.root / "newdir" / "sub").is_dir()
