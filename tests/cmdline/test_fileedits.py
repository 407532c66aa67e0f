"""File edits of intercepted programs (§4.3, §7.6, §7.7): candidates, scanning, storing, restoring."""
from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from capturemock.cmdline.fileedits import AsyncWatch, Edit, EditStore, Snapshot, candidate_paths, restore

pytestmark = pytest.mark.skipif(os.name == "nt", reason="symlinks and modes are POSIX here")


@pytest.fixture(autouse=True)
def in_work_dir(tmp_path, monkeypatch):
    """Restoring replaces and removes only below the working directory (as the server's, by default)."""
    monkeypatch.chdir(tmp_path)


def tree(root: Path) -> dict[str, str]:
    """Every file (content) and symlink (``-> target``) under root, by relative path."""
    found = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            found[rel] = f"-> {os.readlink(path)}"
        elif path.is_file():
            found[rel] = path.read_text()
    return found


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# --- candidate paths (§7.6) ---------------------------------------------------------------------

def test_relative_arguments_count_when_they_exist_or_may_be_new_paths(tmp_path):
    """Unlike 2.10, a word naming nothing yet counts (``touch new``); an option then does not."""
    (tmp_path / "out").mkdir()
    (tmp_path / "-x").mkdir()
    found = candidate_paths(["writer", "-p", "out", "-x", "missing"], str(tmp_path), str(tmp_path), {}, None)
    assert found == [str(tmp_path / name) for name in ("missing", "-x", "out")]


def test_program_name_is_not_a_candidate(tmp_path):
    write(tmp_path / "writer", "")
    assert candidate_paths(["writer"], str(tmp_path), str(tmp_path), {}, None) == []


def test_absolute_words_always_count_and_arguments_split_on_whitespace(tmp_path):
    found = candidate_paths(["tool", "/nowhere/a /nowhere/b", "/nowhere/c"], str(tmp_path), str(tmp_path), {}, None)
    assert found == ["/nowhere/c", "/nowhere/b", "/nowhere/a"]  # last named first, as 2.10


def test_option_value_after_equals_is_a_candidate(tmp_path):
    (tmp_path / "out3").mkdir()
    found = candidate_paths(["writer", "--dest=out3", "-o=/abs/x"], str(tmp_path), str(tmp_path), {}, None)
    assert found == ["/abs/x", str(tmp_path / "out3")]


def test_changed_cwd_is_watched_and_relative_words_ignored(tmp_path):
    work = tmp_path / "work"
    (work / "inner").mkdir(parents=True)
    found = candidate_paths(["gen", "inner", "/abs/y"], str(work), str(tmp_path), {}, None)
    assert found == ["/abs/y", str(work)]


def test_absolute_words_of_changed_watched_variables(tmp_path):
    env = {"OUTPUT_DIR": f"{tmp_path}/envout", "FLAGS": "-v relative /opt/extra", "SEARCH": "/a:/b"}
    found = candidate_paths(["builder"], str(tmp_path), str(tmp_path), env, None)
    assert found == ["/opt/extra", f"{tmp_path}/envout"]


def test_nested_and_repeated_candidates_are_dropped_except_under_home(tmp_path):
    home = tmp_path / "home"
    argv = ["tool", f"{tmp_path}/a/b", f"{tmp_path}/a", f"{tmp_path}/a", str(home), f"{home}/proj"]
    found = candidate_paths(argv, str(tmp_path), str(tmp_path), {}, str(home))
    assert found == [f"{home}/proj", str(home), f"{tmp_path}/a"]


# --- scanning ---------------------------------------------------------------------------------------

def test_changes_list_new_and_changed_files_only(tmp_path):
    out = tmp_path / "out"
    write(out / "existing.txt", "old")
    write(out / "same.txt", "same")
    snapshot = Snapshot.take([str(out)])
    write(out / "existing.txt", "old and more")
    write(out / "sub" / "nested.txt", "nested")
    assert snapshot.changes() == [Edit(str(out), (str(out / "existing.txt"), str(out / "sub" / "nested.txt")))]
    assert snapshot.changes() == []  # the snapshot moved forward


def test_same_size_rewrite_is_seen_through_mtime(tmp_path):
    target = write(tmp_path / "data.txt", "aaaa")
    os.utime(target, ns=(1_000_000_000, 1_000_000_000))
    snapshot = Snapshot.take([str(target)])
    target.write_text("bbbb")
    os.utime(target, ns=(1_000_000_001, 1_000_000_001))
    assert snapshot.changes() == [Edit(str(target), (str(target),))]


def test_ignored_names_are_skipped_at_any_depth(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    snapshot = Snapshot.take([str(out)], ["cache", "tmp.log"])
    write(out / "cache" / "blob", "x")
    write(out / "tmp.log", "x")
    write(out / "sub" / "tmp.log", "x")
    write(out / "result.txt", "x")
    assert snapshot.changes() == [Edit(str(out), (str(out / "result.txt"),))]


def test_removal_is_reported_at_the_highest_removed_ancestor(tmp_path):
    out = tmp_path / "out"
    write(out / "sub" / "deep" / "a.txt", "a")
    write(out / "sub" / "b.txt", "b")
    write(out / "gone.txt", "g")
    write(out / "kept.txt", "k")
    snapshot = Snapshot.take([str(out)])
    shutil.rmtree(out / "sub")
    (out / "gone.txt").unlink()
    assert snapshot.changes() == [Edit(str(out), (), (str(out / "gone.txt"), str(out / "sub")))]


def test_removed_candidate_itself_is_the_removal(tmp_path):
    out = tmp_path / "out"
    write(out / "a" / "b.txt", "b")
    snapshot = Snapshot.take([str(out)])
    shutil.rmtree(out)
    assert snapshot.changes() == [Edit(str(out), (), (str(out),))]


def test_symlinks_are_entries_and_symlinked_dirs_are_not_followed(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    write(elsewhere / "inside.txt", "x")
    out = tmp_path / "out"
    out.mkdir()
    snapshot = Snapshot.take([str(out)])
    (out / "dirlink").symlink_to(elsewhere)
    (out / "link.txt").symlink_to("existing.txt")
    assert snapshot.changes() == [Edit(str(out), (str(out / "dirlink"), str(out / "link.txt")))]
    write(elsewhere / "later.txt", "y")
    assert snapshot.changes() == []


# --- storing (§4.3) ---------------------------------------------------------------------------------

def test_store_names_later_edits_of_a_basename_edit_n_and_copies_only_changes(tmp_path):
    out, store_dir = tmp_path / "out", tmp_path / "file_edits"
    write(out / "existing.txt", "existing")
    store = EditStore(str(store_dir))
    snapshot = Snapshot.take([str(out)])
    write(out / "new.txt", "new")
    write(out / "sub" / "nested.txt", "nested")
    assert [store.save(edit) for edit in snapshot.changes()] == ["out"]
    (out / "new.txt").unlink()
    assert [store.save(edit) for edit in snapshot.changes()] == ["out.edit_2"]
    (out / "link.txt").symlink_to("existing.txt")
    assert [store.save(edit) for edit in snapshot.changes()] == ["out.edit_3"]
    assert tree(store_dir) == {
        "out/new.txt": "new",
        "out/sub/nested.txt": "nested",
        "out.edit_2/new.txt.CAPTUREMOCK_DELETION": "",
        "out.edit_3/link.txt.CAPTUREMOCK_SYMLINK": "existing.txt\n",
    }


def test_store_keeps_a_single_file_under_its_basename(tmp_path):
    target = write(tmp_path / "out" / "existing.txt", "one\n")
    snapshot = Snapshot.take([str(target)])
    target.write_text("one\ntwo\n")
    store_dir = tmp_path / "edits"
    assert [EditStore(str(store_dir)).save(edit) for edit in snapshot.changes()] == ["existing.txt"]
    assert tree(store_dir) == {"existing.txt": "one\ntwo\n"}


def test_stored_absolute_link_target_is_relative_only_inside_the_links_dir(tmp_path):
    out = tmp_path / "out"
    write(out / "data" / "real.txt", "r")
    snapshot = Snapshot.take([str(out)])
    (out / "inside").symlink_to(out / "data" / "real.txt")
    (out / "outside").symlink_to("/etc/hostname")
    store_dir = tmp_path / "edits"
    EditStore(str(store_dir)).save(snapshot.changes()[0])
    assert tree(store_dir) == {
        "out/inside.CAPTUREMOCK_SYMLINK": "data/real.txt\n",
        "out/outside.CAPTUREMOCK_SYMLINK": "/etc/hostname\n",
    }


# --- restoring (§7.6 replay) ------------------------------------------------------------------------

def record_session(base: Path, store_dir: Path) -> list[str]:
    """A real sequence of edits on base/out, recorded into store_dir: the FIL names in order."""
    out = base / "out"
    store = EditStore(str(store_dir))
    names = []

    def command(action):
        snapshot = Snapshot.take([str(out)])
        action()
        names.extend(store.save(edit) for edit in snapshot.changes())

    command(lambda: (write(out / "new.txt", "new\n"), write(out / "sub" / "nested.txt", "nested\n")))
    command(lambda: (out / "new.txt").unlink())
    command(lambda: (out / "link.txt").symlink_to("existing.txt"))
    command(lambda: shutil.rmtree(out / "sub"))
    command(lambda: write(out / "existing.txt", "changed\n"))
    return names


def test_restoring_a_recorded_session_rebuilds_the_recorded_tree(tmp_path):
    recorded, replayed, store_dir = tmp_path / "rec", tmp_path / "rep", tmp_path / "edits"
    for base in (recorded, replayed):
        write(base / "out" / "existing.txt", "existing\n")
    names = record_session(recorded, store_dir)
    assert names == ["out", "out.edit_2", "out.edit_3", "out.edit_4", "out.edit_5"]
    out = str(replayed / "out")
    for name in names:
        assert restore(name, str(store_dir), [out], set()) == out
    expected = {"existing.txt": "changed\n", "link.txt": "-> existing.txt"}
    assert tree(replayed / "out") == tree(recorded / "out") == expected


def test_restore_steps_match_the_recorded_ones(tmp_path):
    store_dir = tmp_path / "edits"
    write(tmp_path / "rec" / "out" / "existing.txt", "e")
    names = record_session(tmp_path / "rec", store_dir)
    out = tmp_path / "out"
    restore(names[0], str(store_dir), [str(out)], set())
    assert tree(out) == {"new.txt": "new\n", "sub/nested.txt": "nested\n"}
    restore(names[1], str(store_dir), [str(out)], set())
    assert tree(out) == {"sub/nested.txt": "nested\n"}


def test_nothing_stored_or_no_edit_dir_drops_the_item(tmp_path):
    (tmp_path / "out").mkdir()
    assert restore("nothing_stored", str(tmp_path / "edits"), [str(tmp_path / "out")], set()) is None
    assert restore("out", None, [str(tmp_path / "out")], set()) is None


def test_edit_number_is_ignored_when_matching_the_candidate_name(tmp_path):
    write(tmp_path / "edits" / "reports.edit_2" / "february.txt", "feb\n")
    reports = tmp_path / "reports"
    reports.mkdir()
    used: set = set()
    assert restore("reports.edit_2", str(tmp_path / "edits"), [str(reports)], used) == str(reports)
    assert used == {str(reports)}
    assert tree(reports) == {"february.txt": "feb\n"}


def test_retarget_to_the_candidate_sharing_most_of_the_name(tmp_path):
    write(tmp_path / "edits" / "outputs" / "jan.txt", "jan\n")
    for name in ("archive", "output", "outputs.edit_1"):
        (tmp_path / name).mkdir()
    write(tmp_path / "outputs_file", "not a dir")
    candidates = [str(tmp_path / n) for n in ("archive", "outputs_file", "outputs.edit_1", "output")]
    assert restore("outputs", str(tmp_path / "edits"), candidates, set()) == str(tmp_path / "output")
    assert tree(tmp_path / "output") == {"jan.txt": "jan\n"}
    assert tree(tmp_path / "archive") == {}


def test_retarget_needs_a_free_candidate_with_something_in_common(tmp_path):
    write(tmp_path / "edits" / "outputs" / "jan.txt", "jan\n")
    (tmp_path / "archive").mkdir()
    (tmp_path / "output").mkdir()
    assert restore("outputs", str(tmp_path / "edits"), [str(tmp_path / "archive")], set()) is None
    used = {str(tmp_path / "output")}
    assert restore("outputs", str(tmp_path / "edits"), [str(tmp_path / "output")], used) is None


def test_second_item_of_a_command_goes_to_another_candidate(tmp_path):
    write(tmp_path / "edits" / "out" / "a.txt", "a")
    write(tmp_path / "edits" / "out.edit_2" / "b.txt", "b")
    first, second = tmp_path / "one" / "out", tmp_path / "two" / "out"
    first.mkdir(parents=True)
    second.mkdir(parents=True)
    used: set = set()
    assert restore("out", str(tmp_path / "edits"), [str(first), str(second)], used) == str(first)
    assert restore("out.edit_2", str(tmp_path / "edits"), [str(first), str(second)], used) == str(second)


def test_restore_replaces_what_blocks_it_and_keeps_existing_links(tmp_path):
    edits = tmp_path / "edits"
    write(edits / "out" / "sub" / "f.txt", "f")
    write(edits / "out" / "plain.CAPTUREMOCK_SYMLINK", "target.txt\n")
    write(edits / "out" / "kept.CAPTUREMOCK_SYMLINK", "new-target\n")
    write(edits / "out" / "via_link.txt", "fresh")
    out = tmp_path / "out"
    write(out / "sub", "a file where a dir must go")
    write(out / "plain", "a file where a link must go")
    (out / "kept").symlink_to("old-target")
    write(tmp_path / "victim.txt", "untouched")
    (out / "via_link.txt").symlink_to(tmp_path / "victim.txt")
    assert restore("out", str(edits), [str(out)], set()) == str(out)
    assert tree(out) == {"sub/f.txt": "f", "plain": "-> target.txt", "kept": "-> old-target", "via_link.txt": "fresh"}
    assert (tmp_path / "victim.txt").read_text() == "untouched"


def test_single_file_link_and_deletion_markers_apply_to_the_candidate_itself(tmp_path):
    edits = tmp_path / "edits"
    write(edits / "report.txt.CAPTUREMOCK_DELETION", "")
    write(edits / "alias.CAPTUREMOCK_SYMLINK", "report.txt")
    report = write(tmp_path / "report.txt", "old")
    alias = tmp_path / "alias"
    assert restore("report.txt", str(edits), [str(report)], set()) == str(report)
    assert restore("alias", str(edits), [str(alias)], set()) == str(alias)
    assert tree(tmp_path) == {"alias": "-> report.txt", "edits/alias.CAPTUREMOCK_SYMLINK": "report.txt",
                              "edits/report.txt.CAPTUREMOCK_DELETION": ""}


def test_unplaceable_entries_warn_and_the_rest_is_restored(tmp_path):
    edits = tmp_path / "edits"
    write(edits / "out" / "blocked", "cannot replace a dir")
    write(edits / "out" / "fine.txt", "fine")
    out = tmp_path / "out"
    (out / "blocked").mkdir(parents=True)
    warnings: list[str] = []
    assert restore("out", str(edits), [str(out)], set(), warn=warnings.append) == str(out)
    assert warnings == [f"Could not transfer {edits}/out/blocked to {out}/blocked"]
    assert (out / "fine.txt").read_text() == "fine"


def test_read_only_stored_files_are_restored_writable_with_their_mode(tmp_path):
    stored = write(tmp_path / "edits" / "bin" / "tool", "#!/bin/sh\n")
    stored.chmod(0o555)
    target = tmp_path / "bin"
    target.mkdir()
    restore("bin", str(tmp_path / "edits"), [str(target)], set())
    restore("bin", str(tmp_path / "edits"), [str(target)], set())  # a second copy over the first works
    assert stat.S_IMODE((target / "tool").stat().st_mode) == 0o755


# --- asynchronous edits (§7.7) ----------------------------------------------------------------------

def test_async_watch_reports_later_edits_once(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    watch = AsyncWatch()
    snapshot = Snapshot.take([str(out)])
    watch.add(snapshot)
    assert snapshot.changes() == [] and watch.collect() == []
    write(out / "late.txt", "late")
    assert watch.collect() == [Edit(str(out), (str(out / "late.txt"),))]
    assert watch.collect() == []


def test_async_watch_does_not_report_edits_recorded_for_another_command(tmp_path):
    out = tmp_path / "out"
    write(out / "gone.txt", "g")
    watch = AsyncWatch()
    watch.add(Snapshot.take([str(out)]))
    other = Snapshot.take([str(out)])
    write(out / "by_other.txt", "x")
    (out / "gone.txt").unlink()
    watch.absorb(other.changes())
    write(out / "late.txt", "late")
    assert watch.collect() == [Edit(str(out), (str(out / "late.txt"),))]


def test_keep_copies_a_replayed_edit_and_reserves_its_name(tmp_path):
    replay_dir, record_dir = tmp_path / "stored", tmp_path / "new"
    (replay_dir / "out.edit_2" / "sub").mkdir(parents=True)
    (replay_dir / "out.edit_2" / "sub" / "report.txt").write_text("replayed\n")
    (replay_dir / "out.edit_2" / "gone.txt.CAPTUREMOCK_DELETION").write_text("")
    store = EditStore(str(record_dir))
    store.keep("out.edit_2", str(replay_dir))
    assert (record_dir / "out.edit_2" / "sub" / "report.txt").read_text() == "replayed\n"
    assert (record_dir / "out.edit_2" / "gone.txt.CAPTUREMOCK_DELETION").exists()
    work = tmp_path / "out"
    work.mkdir()
    (work / "new.txt").write_text("fresh")
    assert store.save(Edit(str(work), (str(work / "new.txt"),), ())) == "out.edit_3"
