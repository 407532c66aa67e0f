"""The ``capturemock`` command's own file work without shutil and tempfile (issue #16 item 4): finding the
program, making and removing its scratch directory."""
from __future__ import annotations

import os

from capturemock import cli
from capturemock.executables import which
from capturemock.launcher import remove_dir_with_retry


def _tool(folder, name: str, mode: int = 0o755):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("#!/bin/sh\n")
    path.chmod(mode)
    return str(path)


def test_which_finds_the_first_executable_file_skipping_directories_and_unexecutable_files(tmp_path):
    (tmp_path / "a" / "tool").mkdir(parents=True)
    _tool(tmp_path / "b", "tool", 0o644)
    found = _tool(tmp_path / "c", "tool")
    _tool(tmp_path / "d", "tool")
    folders = [str(tmp_path / name) for name in "abcd"]
    assert which("tool", folders) == found
    assert which("other", folders) is None


def test_the_scratch_directory_is_private_and_in_the_temp_directory_the_environment_names(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    scratch = cli._scratch_dir()
    assert os.path.dirname(scratch) == str(tmp_path)
    assert os.path.basename(scratch).startswith("capturemock-")
    assert os.stat(scratch).st_mode & 0o777 == 0o700
    assert cli._scratch_dir() != scratch


def test_without_a_usable_temp_directory_tempfile_chooses(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path / "missing"))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    scratch = cli._scratch_dir()
    assert os.path.dirname(scratch) == str(tmp_path)


def test_removing_the_scratch_directory_removes_links_but_never_what_they_point_to(tmp_path):
    outside = tmp_path / "outside"
    _tool(outside, "kept")
    scratch = tmp_path / "scratch"
    _tool(scratch / "intercepts", "true")
    (scratch / "site").mkdir()
    (scratch / "site" / "sitecustomize.py").write_text("")
    (scratch / "linked-dir").symlink_to(outside)
    (scratch / "intercepts" / "linked-file").symlink_to(outside / "kept")
    remove_dir_with_retry(str(scratch))
    assert not scratch.exists()
    assert (outside / "kept").exists()
    remove_dir_with_retry(str(scratch))  # gone already: nothing to say

