"""2.10.0's ``FileEditTraffic`` class as far as rigs use it: where file edits are replayed from and
recorded to (``configure``), how edited files are named in the edit store, and the traffic objects a
rig builds to store or restore one edit. Our own file-edit handling lives in ``capturemock.cmdline``
(sandboxed, with its own rules); this class keeps the original's names and their observed behaviour,
quirks included, for rigs that drive it themselves."""
from __future__ import annotations

import os
import shutil
from typing import Any, ClassVar, Optional, Sequence


class FileEditTraffic:
    """One ``->FIL:<name>`` edit, plus the class-level settings and naming of file edits, as in 2.10.0.

    ``reproduce``: a replayed edit (``forwardToDestination`` copies the stored paths onto the active
    file); otherwise a recorded one (``record`` stores the changed paths of the active file)."""

    typeId: ClassVar[str] = "FIL"
    direction: ClassVar[str] = "->"
    linkSuffix: ClassVar[str] = ".CAPTUREMOCK_SYMLINK"
    deleteSuffix: ClassVar[str] = ".CAPTUREMOCK_DELETION"
    replayFileEditDir: ClassVar[Optional[str]] = None
    recordFileEditDir: ClassVar[Optional[str]] = None
    fileRequestCount: ClassVar[dict[str, int]] = {}
    diag: ClassVar[Any] = None

    def __init__(self, fileName: str, activeFile: str, storedFile: str, changedPaths: Sequence[str],  # noqa: N803
                 reproduce: bool):
        self.activeFile = activeFile
        self.storedFile = storedFile
        self.changedPaths = changedPaths
        self.reproduce = reproduce
        self.text = fileName
        self.timestamp = None
        self.alterations: dict = {}
        self.responseFile = None

    @classmethod
    def configure(cls, options: Any) -> None:
        """Take the edit directories from parsed options (``replay_file_edits``, ``record_file_edits``)."""
        import logging

        cls.replayFileEditDir = options.replay_file_edits
        cls.recordFileEditDir = options.record_file_edits
        cls.diag = logging.getLogger("Server")

    @classmethod
    def getFileEditName(cls, name: str) -> str:
        """The stored name of an edit: the name itself the first time, then ``<name>.edit_<n>``."""
        count = cls.fileRequestCount[name] = cls.fileRequestCount.get(name, 0) + 1
        return name if count == 1 else f"{name}.edit_{count}"

    @classmethod
    def getFileType(cls, path: str) -> str:
        return "directory" if os.path.isdir(path) else "file"

    @classmethod
    def getFileWithType(cls, fileName: str) -> tuple[Optional[str], str]:  # noqa: N803
        """(stored path, type) of an edit in the replay edit dir: the path itself, its link marker (a
        "file") or its deletion marker ("unknown"); (None, "unknown") if none is there."""
        if not cls.replayFileEditDir:
            return None, "unknown"
        path = os.path.join(cls.replayFileEditDir, fileName)
        for candidate in (path, path + cls.linkSuffix):
            if os.path.exists(candidate):
                return candidate, cls.getFileType(candidate)
        deleted = path + cls.deleteSuffix
        return (deleted, "unknown") if os.path.exists(deleted) else (None, "unknown")

    @classmethod
    def makeRecordedTraffic(cls, file: str, changedPaths: Sequence[str]) -> FileEditTraffic:  # noqa: N803
        """The recorded edit of ``file``: named by ``getFileEditName``, stored in the record edit dir."""
        name = cls.getFileEditName(os.path.basename(file))
        return cls(name, file, os.path.join(cls.recordFileEditDir, name), changedPaths, False)

    def getDescription(self) -> str:
        return f"{self.direction}{self.typeId}:{self.text}"

    def forwardToDestination(self) -> list:
        """A replayed edit restores its stored paths onto the active file; nothing is sent on."""
        if self.reproduce:
            self.copy(self.storedFile, self.activeFile)
        return []

    def record(self, recordFileHandler: Any, *args: Any) -> None:  # noqa: N803
        """Write the ``->FIL:`` line through ``recordFileHandler``; a recorded edit then stores its paths."""
        recordFileHandler.record(self.getDescription() + "\n", *args)
        if not self.reproduce:
            self.copy(self.activeFile, self.storedFile)

    def copy(self, srcRoot: str, dstRoot: str) -> None:  # noqa: N803
        """Each changed path, its ``srcRoot`` replaced by ``dstRoot`` (as text): a deletion marker removes
        the path, a link marker becomes a link, a link becomes a link marker, a missing path a deletion
        marker, a file a copy. A path that cannot be transferred is one line on stdout; the rest go on."""
        for path in self.changedPaths:
            dst = path.replace(srcRoot, dstRoot)
            try:
                self._transfer(path, dst)
            except OSError:
                print(f"Could not transfer {path} to {dst}")

    def _transfer(self, path: str, dst: str) -> None:
        _make_parents(dst)
        if path.endswith(self.deleteSuffix):
            self.removePath(dst[:-len(self.deleteSuffix)])
        elif path.endswith(self.linkSuffix):
            self.restoreLink(path, dst[:-len(self.linkSuffix)])
        elif os.path.islink(path):
            self.storeLinkAsFile(path, dst + self.linkSuffix)
        elif not os.path.exists(path):
            open(dst + self.deleteSuffix, "w").close()
        else:
            shutil.copyfile(path, dst)  # a directory fails: 2.10.0 stored only files

    def removePath(self, path: str) -> None:  # noqa: N802
        """Remove a file or link (never what it points to), or a whole directory; nothing if absent."""
        if os.path.islink(path) or os.path.isfile(path):
            os.remove(path)
        elif os.path.isdir(path):
            shutil.rmtree(path)

    def restoreLink(self, srcPath: str, dstPath: str) -> None:  # noqa: N802,N803
        """Make ``dstPath`` a link to the target stored in ``srcPath``, unless a link is there already."""
        if not os.path.islink(dstPath):
            with open(srcPath) as handle:
                os.symlink(handle.read().strip(), dstPath)

    def storeLinkAsFile(self, srcPath: str, dstPath: str) -> None:  # noqa: N802,N803
        """Write the link's target to ``dstPath``, made relative when it lies under the link's directory."""
        target = os.readlink(srcPath)
        directory = os.path.dirname(srcPath)
        if target.startswith(directory + os.sep):
            target = os.path.relpath(target, directory)
        with open(dstPath, "w") as handle:
            handle.write(target + "\n")


def _make_parents(path: str) -> None:
    """Create the missing parent directories of ``path``, replacing a file or link in the way (2.10.0)."""
    parent = os.path.dirname(path)
    if not parent or os.path.isdir(parent):
        return
    _make_parents(parent)
    if os.path.lexists(parent):
        os.remove(parent)
    os.mkdir(parent)
