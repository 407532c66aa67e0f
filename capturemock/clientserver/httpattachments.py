"""Attachment downloads (§8.5), recorded as 2.10 records them: a response with ``Content-Disposition:
attachment; filename=X`` (quotes dropped), or ``application/zip`` from a path ending ``.zip`` (X: the
path's last part), keeps its body as file X in the record edit dir and shows ``<File Contents for X>``
instead (``X.edit_N`` when other bytes hold X already: ``httpmultipart.EditDir``). Replay sends the file
back from the replay edit dir. Without a record edit dir the body stays in the text.

A name is one plain file name, by the file-edit sandbox's rule: a server (or a mock) naming ``../x``,
an absolute path or NUL is refused, said on stderr; when recording, its body then stays in the text.
"""
from __future__ import annotations

import re

from .httpmultipart import EditDir, kept_problem, placeholder, read_kept
from .httptext import Headers, Message
from .location import warn

TYPE_CHECKING = False  # typing is not imported at run time: ~20 M instructions of the HTTP server's start-up
if TYPE_CHECKING:
    from typing import Optional

_ATTACHMENT = re.compile(r"""\s*attachment\s*;(?:.*;)?\s*filename\s*=\s*(?:"([^"]*)"|([^;\s]+))""", re.I)
_PLACEHOLDER = re.compile(rb"<File Contents for ([^<>\r\n]+)>")


class MissingAttachment(Exception):
    """A recorded attachment that cannot be sent: the message says which, and where it was named."""


def _header(headers: Headers, wanted: str) -> str:
    return next((value for name, value in headers if name.lower() == wanted), "")


def _is_zip(headers: Headers) -> bool:
    return _header(headers, "content-type").split(";")[0].strip().lower() == "application/zip"


def attachment_name(headers: Headers, path: Optional[str] = None) -> Optional[str]:
    """The file name a response's body is an attachment under, if it is one (``path``: the request's)."""
    found = _ATTACHMENT.match(_header(headers, "content-disposition"))
    if found is not None:
        return found.group(1) if found.group(1) is not None else found.group(2)
    if path is not None and _is_zip(headers):
        route = path.split("?", 1)[0]
        if route.endswith(".zip"):
            return route.rsplit("/", 1)[-1]
    return None


def _refusal(name: str) -> Optional[str]:
    from ..cmdline.fileedits_sandbox import name_problem

    problem = name_problem(name)
    return None if problem is None else f"refused the attachment name {name!r}: it {problem}"


def with_placeholder(response: Message, path: str, edits: EditDir) -> Message:
    """The response as recorded: an attachment's body kept in ``edits``, its placeholder in the text."""
    name = attachment_name(response.headers, path)
    if name is None:
        return response
    refusal = _refusal(name)
    if refusal is not None:
        warn(f"CaptureMock: {refusal}; its body is recorded in the mock file")
        return response
    return response._replace(body=placeholder(edits.keep(name, response.body)).encode("utf-8"))


def with_file(response: Message, directory: Optional[str], where: str) -> Message:
    """A recorded response as sent: a placeholder body of an attachment replaced by its file in
    ``directory`` (the replay edit dir); ``where`` (``mock:line``) names the item in the error."""
    found = _PLACEHOLDER.fullmatch(response.body) if isinstance(response.body, bytes) else None
    if found is None or (attachment_name(response.headers) is None and not _is_zip(response.headers)):
        return response
    name = found.group(1).decode("utf-8", "replace")
    refusal = _refusal(name)
    if refusal is not None:
        raise MissingAttachment(f"{where}: {refusal}")
    if directory is None:
        raise MissingAttachment(f"{where}: no replay edit directory to find the attachment {name!r} in")
    try:
        return response._replace(body=read_kept(directory, name))
    except (OSError, ValueError) as err:
        raise MissingAttachment(f"{where}: cannot send the attachment {name!r}: {kept_problem(err)}") from None
