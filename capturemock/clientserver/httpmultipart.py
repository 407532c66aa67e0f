"""Multipart form uploads (§8.5), recorded as 2.10 records them, and matched whatever their boundary.

With a record edit dir, each file part's bytes are kept there under the part's file name and the
recorded text shows ``<File Contents for NAME>`` instead: a mock stays readable text however large or
binary the upload. A name already kept with other bytes gets ``NAME.edit_N`` (N = 2, 3, ...: the
first free one, compared with NAME only, as 2.10 numbers them). Without an edit dir the bytes stay in
the text (2.10 crashed there). When the recorded client is played to a live server, the placeholders
are swapped back from the replay edit dir and the line ends the recording lost become CRLF again.

Clients choose a random boundary per request, so the recorded text of an upload never equals the
next run's. ``Boundaries`` finds the recorded request equal but for its boundary, under exact matching
too, before any best match.
"""
from __future__ import annotations

import errno
import os
import re
import stat

from .location import warn

TYPE_CHECKING = False  # typing is not imported at run time: ~20 M instructions of the HTTP server's start-up
if TYPE_CHECKING:
    from typing import Iterable, Optional

_BOUNDARY = re.compile(r"""multipart/[^;]*;(?:.*;)?\s*boundary=(?:"([^"]+)"|([^\s;"]+))""", re.I)
_FILENAME = re.compile(rb"""Content-Disposition:[^\r\n]*;\s*filename=(?:"([^"\r\n]*)"|([^\s;]+))""", re.I)
_PLACEHOLDER = re.compile(rb"<File Contents for ([^<>\r\n]+)>")
BOUNDARY_MARK = "boundary="  # in a request key with a multipart Content-Type header, cheap to look for
_ANY_BOUNDARY = "<boundary>"


def placeholder(name: str) -> str:
    return f"<File Contents for {name}>"


def boundary(headers: Iterable[tuple[str, str]]) -> Optional[str]:
    """The boundary of a multipart body, from its Content-Type header; None for any other body."""
    for name, value in headers:
        if name.lower() == "content-type":
            found = _BOUNDARY.match(value.strip())
            return (found.group(1) or found.group(2)) if found else None
    return None


class EditDir:
    """Where the uploaded files of one session go (the record edit dir), named as 2.10 names them."""

    def __init__(self, directory: str):
        self.directory = directory

    def keep(self, name: str, data: bytes) -> str:
        """The name ``data`` is kept under: ``name`` if free or holding the same bytes, else the first
        free ``name.edit_N``."""
        os.makedirs(self.directory, exist_ok=True)
        chosen, number = name, 1
        path = os.path.join(self.directory, name)
        if os.path.isfile(path) and _read(path) == data:
            return name
        while os.path.exists(path):
            number += 1
            chosen = f"{name}.edit_{number}"
            path = os.path.join(self.directory, chosen)
        with open(path, "wb") as stream:
            stream.write(data)
        return chosen


def with_placeholders(body: bytes, boundary_text: str, edits: EditDir) -> bytes:
    """``body`` with each file part's bytes kept in ``edits`` and replaced by their placeholder."""
    delimiter = b"--" + boundary_text.encode("latin-1")
    pieces = body.split(delimiter)
    for position in range(1, len(pieces)):  # pieces[0] is the preamble, each other starts a part
        head, blank, content = pieces[position].partition(b"\r\n\r\n")
        name = _file_name(head) if blank else None
        if name is None:
            continue
        end = b"\r\n" if content.endswith(b"\r\n") else b""  # the line end before the next delimiter
        data = content[:len(content) - len(end)]
        pieces[position] = head + blank + placeholder(edits.keep(name, data)).encode("utf-8") + end
    return delimiter.join(pieces)


def _file_name(head: bytes) -> Optional[str]:
    """The part's file name, without any directory (it names a file in the edit dir); None for a
    field, or a file input left empty (``filename=""``), which stays in the text."""
    found = _FILENAME.search(head)
    if found is None:
        return None
    name = (found.group(1) if found.group(1) is not None else found.group(2)).decode("utf-8", "replace")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    return None if name in ("", ".", "..") else name


def with_files(body: bytes, directory: Optional[str]) -> bytes:
    """A recorded upload as it is sent again: placeholders replaced by the files in ``directory`` (the
    replay edit dir); a file not there is said on stderr (2.10's line) and its placeholder sent. A body
    with no carriage return at all lost its CRLFs when recorded: the rest gets them back."""
    restore_crlf = b"\r" not in body
    pieces = _PLACEHOLDER.split(body)  # text, name, text, name, ..., text
    for position in range(0, len(pieces), 2):
        if restore_crlf:
            pieces[position] = pieces[position].replace(b"\n", b"\r\n")
    for position in range(1, len(pieces), 2):
        pieces[position] = _upload(directory, pieces[position].decode("utf-8", "replace"))
    return b"".join(pieces)


def _upload(directory: Optional[str], name: str) -> bytes:
    """The kept file's bytes; else, said on stderr, its placeholder."""
    try:
        return read_kept(directory, name) if directory else _missing(name)
    except FileNotFoundError:
        return _missing(name)
    except (OSError, ValueError) as err:
        warn(f"CaptureMock: refused to send the upload {name!r}: {kept_problem(err)}")
        return placeholder(name).encode("utf-8")


def _missing(name: str) -> bytes:
    warn(f"ERROR: Cannot find file named '{name}' when replaying!")
    return placeholder(name).encode("utf-8")


def read_kept(directory: str, name: str) -> bytes:
    """The bytes of the file ``name`` in a replay edit dir. The dir is shared data like the mock naming
    it: ValueError unless ``name`` is one plain file name of a regular file reached without a link (a
    link to ``~/.ssh/id_rsa`` would send it, one to ``/dev/zero`` or a FIFO never end); OSError if it
    cannot be read."""
    from ..cmdline.fileedits_sandbox import name_problem

    problem = name_problem(name)
    if problem is not None:
        raise ValueError(f"its name {problem}")
    path = os.path.join(directory, name)
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise ValueError(f"{path} is a symbolic link (links in an edit dir are never followed)") from None
        raise
    with open(descriptor, "rb") as stream:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise ValueError(f"{path} is not a regular file")
        return stream.read()


def kept_problem(err: Exception) -> str:
    """What ``read_kept`` refused or failed on, in words."""
    return f"{err.strerror}: {err.filename}" if isinstance(err, OSError) else str(err)


def _read(path: str) -> bytes:
    with open(path, "rb") as stream:
        return stream.read()


def without_boundary(key: str) -> str:
    """A request key with its multipart boundary (if it has one) replaced by the same word for all."""
    found = _BOUNDARY.search(key)
    if found is None:
        return key
    return key.replace(found.group(1) or found.group(2), _ANY_BOUNDARY)


class Boundaries:
    """The recorded uploads by their key without the boundary. Each recorded upload (one key: its
    boundary was random) answers one request; the n-th request alike takes the n-th, then the first
    again, as a recorded request's groups are used (§5.5)."""

    def __init__(self, keys: Iterable[str]):
        self.keys: dict[str, list[str]] = {}
        self.used: dict[str, int] = {}
        for key in keys:
            if BOUNDARY_MARK in key:
                self.keys.setdefault(without_boundary(key), []).append(key)

    def recorded(self, key: str) -> Optional[str]:
        """The recorded key to answer ``key`` (not itself recorded) with, if one differs only by boundary."""
        if not self.keys:
            return None
        form = without_boundary(key)
        recorded = self.keys.get(form)
        if recorded is None:
            return None
        uses = self.used.get(form, 0)
        self.used[form] = uses + 1
        return recorded[uses] if uses < len(recorded) else recorded[0]
