"""2.10.0's ``FileEditTraffic`` class as far as rigs use it: where file edits are replayed from and
recorded to (``configure``), and how edited files are named in the edit store. Our own file-edit
handling lives in ``capturemock.cmdline``; this class only keeps the original's names working."""
from __future__ import annotations

import os
from typing import Any, ClassVar, Optional


class FileEditTraffic:
    """Class-level settings and naming of file edits (``->FIL:`` items), as in 2.10.0."""

    typeId: ClassVar[str] = "FIL"
    linkSuffix: ClassVar[str] = ".CAPTUREMOCK_SYMLINK"
    deleteSuffix: ClassVar[str] = ".CAPTUREMOCK_DELETION"
    replayFileEditDir: ClassVar[Optional[str]] = None
    recordFileEditDir: ClassVar[Optional[str]] = None
    fileRequestCount: ClassVar[dict[str, int]] = {}
    diag: ClassVar[Any] = None

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
