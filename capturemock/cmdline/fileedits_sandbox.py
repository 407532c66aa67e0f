"""Where replayed file edits may land (§7.6 replay): every rule in one place, because mocks are untrusted.

Mock files and their ``file_edits`` directories come from repositories, like code nobody reviews. Left
unchecked, a mock could restore a link ``out/evil -> $HOME`` and have a later edit write through it, name
an edit ``../x`` or ``/etc`` to copy any readable directory into the test, or delete a directory a
command merely named as an argument. So restoring goes through these rules:

- A ``->FIL:`` name is one plain file name (no absolute path, no ``..``, not empty, no NUL), and what a
  stored edit holds is regular files (and empty directories) reached without a link: the store keeps links as
  ``.CAPTUREMOCK_SYMLINK`` text, never as links (a checkout's link could reach any readable file).
  Names inside a stored edit come from walking it, so they are plain names already.
- An edit lands inside the candidate path chosen for it, and never through a symbolic link: below the
  working directory (the server's cwd), or below the parent of a candidate lying outside it, every
  component is looked at with ``lstat``. A stored link is restored as a link (it is data), but nothing
  is later written, created or removed through one; a deletion removes the link, not what it points to.
- Outside the working directory replay changes nothing (a program naming ``$HOME`` would otherwise let
  a mock plant ``~/.ssh/authorized_keys``): edits there need ``allow_edits_outside = true`` in
  ``[command line]``.

A refusal is an ``EditRefused`` saying what was refused and why; the caller reports it on one line and
goes on with the command's other edits and output.
"""
from __future__ import annotations

import os
import stat

from .fileedits_paths import is_inside
from .settings import ALLOW_EDITS_OUTSIDE, SECTION

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable, Iterable, Iterator, Optional, Tuple

_COPY_CHUNK = 1 << 20
EMPTY_DIR = os.sep  # the kind of a stored entry, in place of a marker suffix: an empty directory


class EditRefused(ValueError):
    """A replayed edit that would break the rules above; its text is the reason, on one line."""


def check_fil_name(name: str) -> None:
    """A ``->FIL:`` name is one plain file name, as recorded (the basename of an edited path, §4.3)."""
    problem = name_problem(name)
    if problem:
        raise EditRefused(f"refused '->FIL:{name}': an edit is named by one plain file name, and this {problem}")


def name_problem(name: str) -> Optional[str]:
    """Why ``name`` is not one plain file name (None if it is): also the rule for HTTP attachments."""
    if not name:
        return "is empty"
    if "\0" in name:
        return "contains NUL"
    if os.path.isabs(name) or os.path.splitdrive(name)[0]:
        return "is an absolute path"
    parts = name.replace(os.altsep, os.sep).split(os.sep) if os.altsep else name.split(os.sep)
    if ".." in parts:
        return "goes up with '..'"
    if len(parts) > 1 or name == os.curdir:
        return "has a directory part"
    return None


def safe_entries(entries: Iterable[Tuple[str, str, str]], store_dir: str,
                 refuse: Callable[[EditRefused], None]) -> Iterator[Tuple[str, str, str]]:
    """The ``stored_entries`` triples whose stored file is a regular file (a directory for ``EMPTY_DIR``)
    reached from ``store_dir`` without a link; the others go to ``refuse``. (Names inside the store come
    from walking it, so they are plain names already; a link in a repository's checkout is what could
    reach outside it.)"""
    for entry in entries:
        try:
            _check_stored(entry[0], store_dir, entry[2] == EMPTY_DIR)
        except EditRefused as err:
            refuse(err)
        else:
            yield entry


def _check_stored(src: str, store_dir: str, directory: bool = False) -> None:
    path = store_dir
    try:
        for part in os.path.relpath(src, store_dir).split(os.sep):
            path = os.path.join(path, part)
            if stat.S_ISLNK(os.lstat(path).st_mode):
                raise EditRefused(f"refused stored edit {src}: {path} is a symbolic link "
                                  "(the store keeps links as .CAPTUREMOCK_SYMLINK text, never as links)")
        mode = os.lstat(src).st_mode
    except OSError as err:
        raise EditRefused(f"refused stored edit {src}: {err.strerror or err}") from None
    if directory != stat.S_ISDIR(mode) or not (directory or stat.S_ISREG(mode)):
        raise EditRefused(f"refused stored edit {src}: it is not a regular file")


class Sandbox:
    """Applies one stored entry at a time to ``root`` (the candidate chosen for the edit) by the rules above."""

    def __init__(self, work_dir: str, allow_outside: bool = False):
        self.work_dir = os.path.normpath(work_dir)
        self.allow_outside = allow_outside

    def remove(self, root: str, path: str) -> None:
        """A deletion marker: the file, link or whole tree at path goes (a link itself, never its target)."""
        info = self._walk_to(root, path, "delete", create=False)
        if info is None:
            return
        if stat.S_ISDIR(info.st_mode):
            import shutil  # here, as below: shutil (re, bz2, lzma) is ~30 M instructions of a run without edits

            shutil.rmtree(path)  # does not follow the links it finds inside
        else:
            os.unlink(path)

    def place_file(self, src: str, root: str, path: str) -> None:
        """Content and mode of src at path; a file or link already there is replaced, never written through.
        The copy stays writable by its owner: stored data is often read-only, the SUT's files should not be."""
        info = self._walk_to(root, path, "write")
        if info is not None and not stat.S_ISDIR(info.st_mode):
            os.unlink(path)
        mode = stat.S_IMODE(os.lstat(src).st_mode) | stat.S_IWUSR
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
        import shutil

        with open(src, "rb") as source, os.fdopen(os.open(path, flags, mode), "wb") as dest:
            shutil.copyfileobj(source, dest, _COPY_CHUNK)
            os.chmod(dest.fileno() if os.chmod in os.supports_fd else path, mode)  # not cut by the umask

    def make_dir(self, root: str, path: str) -> None:
        """An empty directory the command made (``mkdir -p new``); a file or link in the way is replaced."""
        info = self._walk_to(root, path, "create directory")
        if info is None or not stat.S_ISDIR(info.st_mode):
            self._make_dir(path, info)

    def place_link(self, target: str, root: str, path: str) -> None:
        """A symlink at path pointing at target; an existing link is kept, a file in the way replaced."""
        if not target or "\0" in target:
            raise EditRefused(f"refused to create link {path}: its stored target is empty or contains NUL")
        info = self._walk_to(root, path, "create link")
        if info is not None and stat.S_ISLNK(info.st_mode):
            return
        if info is not None and stat.S_ISREG(info.st_mode):
            os.unlink(path)
        os.symlink(target, path)

    def _walk_to(self, root: str, path: str, verb: str, *, create: bool = True) -> Optional[os.stat_result]:
        """What is at path now (lstat), once its parent dirs are real directories and none is a link.

        Components are looked at from the working directory down for a candidate inside it, else from the
        candidate's parent: above that, the path is the command's own. With ``create`` missing dirs are
        made and files in the way replaced (replay sets the recorded tree); without, there is nothing at
        path (None). A link on the way is always a refusal.
        """
        inside = root == self.work_dir or is_inside(root, self.work_dir)
        if not inside and not self.allow_outside:
            self._refuse_outside(path, verb)
        current = self.work_dir if inside else os.path.dirname(root)
        if create:
            os.makedirs(current, exist_ok=True)
        for part in os.path.relpath(os.path.dirname(path), current).split(os.sep):
            if part == os.curdir:
                continue
            current = os.path.join(current, part)
            info = _lstat(current)
            if info is not None and stat.S_ISLNK(info.st_mode):
                raise EditRefused(f"refused to {verb} {path}: {current} is a symbolic link, "
                                  "and replay never edits through one")
            if info is None or not stat.S_ISDIR(info.st_mode):
                if not create:
                    return None
                self._make_dir(current, info)
        return _lstat(path)

    def _make_dir(self, path: str, info: Optional[os.stat_result]) -> None:
        if info is not None:
            os.unlink(path)
        os.mkdir(path)

    def _refuse_outside(self, path: str, verb: str) -> None:
        """Outside the working directory a replayed edit could plant ``~/.ssh/authorized_keys`` or a
        ``.pth`` file that runs on every Python start, whenever the program names a directory above it:
        only an rc file that says so lets replay touch anything there."""
        raise EditRefused(f"refused to {verb} {path}: it is outside the working directory {self.work_dir} "
                          f"(set {ALLOW_EDITS_OUTSIDE} = true in [{SECTION}] to allow it)")


def _lstat(path: str) -> Optional[os.stat_result]:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None
