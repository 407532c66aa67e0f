"""What a client/server session writes to the record file, and in which direction (§4.4, §8.2).

With ``record_for_client`` the client is the SUT: ``<-CLI`` messages, ``->SRV`` replies, location
messages not recorded. Otherwise the server is the SUT: its location message is recorded as ``<-SRV``
and from then on directions flip (``->CLI`` messages, ``<-SRV`` replies) for the rest of the session.
"""
from __future__ import annotations

from .. import mockfile
from ..alterations import Alterations
from .settings import GENERAL, Settings

TYPE_CHECKING = False  # typing is not imported at run time: it is a third of the server's start-up
if TYPE_CHECKING:
    from typing import Optional, Union

LARGE_REPLY = 1 << 16  # a reply this long is written from its own text (~15 ms less a 10 MB body); below, joined
MAX_PARTS = 64  # far below writev's IOV_MAX (1024): an exchange with more replies is written joined


class Transcript:
    """Formats the items of one session: alterations (§3.4), redaction, line-break placeholders, timestamps."""

    def __init__(self, settings: Settings, alterations: Alterations):
        self.settings = settings
        self.alterations = alterations  # replaced whole when an rc file is added (HTTP addAlterations)
        self.server_is_sut = False
        self._unaltered_by: Optional[Alterations] = None  # alterations known to change nothing, with no redactor
        if not (settings.preserve_cr or settings.preserve_lf):
            self.item = mockfile.format_item  # the usual: formatted with no keywords, and no call of ours between

    def alter(self, text: str) -> str:
        """Alterations, then redaction: what every client and server text is recorded and looked up as."""
        alterations = self.alterations
        if alterations is self._unaltered_by:  # the usual, three times an exchange: no calls
            return text
        redactor = self.settings.redactor
        if redactor is None and not alterations.names(GENERAL):
            self._unaltered_by = alterations
            return text
        text = alterations.apply(text, GENERAL)
        return redactor.redact(text) if redactor is not None else text

    def item(self, prefix: str, type_: str, text: str) -> str:
        return mockfile.format_item(prefix, type_, text, **self.settings.breaks)

    def location(self, text: str) -> str:
        """The location message: recorded, and the directions flipped, only when the server is the SUT."""
        if self.settings.record_for_client:
            return ""
        self.server_is_sut = True
        text = self.alter(text)
        if text.endswith("\n") and not self.settings.preserve_lf:  # 2.10 ends the item with it (no blank line)
            text = text[:-1]
        return self.item("<-", "SRV", text)

    def client(self, text: str, type_: str = "CLI", timestamp: Optional[str] = None) -> str:
        """A client message as recorded; ``timestamp``: its time if the message says (AMQP), else now."""
        prefix = "->" if self.server_is_sut else "<-"
        recorded = self.item(prefix, type_, self.alter(text))
        if recorded and self.settings.timestamps:  # §3.3 record_timestamps: client traffic only
            from datetime import datetime  # only then: ~5 M instructions on the command's path

            recorded += f"--TIM:{timestamp or datetime.now().isoformat()}\n"
        return recorded

    def server(self, text: str, type_: str = "SRV", *, altered: bool = False) -> str:
        """A server reply as recorded; ``altered`` when it is a replayed text already altered for sending."""
        return self.item(self._server_prefix(), type_, text if altered else self.alter(text))

    def _server_prefix(self) -> str:
        """A server reply's direction: from the SUT when the server is the SUT."""
        return "<-" if self.server_is_sut else "->"

    def replayed(self, client: str, replies: list[mockfile.Item]) -> Union[str, list[str]]:
        """The recorded client message (``client``, as ``client()`` made it) and its replayed replies
        (already altered): one text, or, when a reply is large and written as it is, the text in parts
        (``MockWriter.write_parts``) holding that reply's own text, so it is never copied into its item."""
        parts = [client]
        prefix = self._server_prefix()
        for item in replies:
            if len(item.text) >= LARGE_REPLY:
                parts += mockfile.item_parts(prefix, item.type, item.text, **self.settings.breaks)
            else:
                parts.append(self.item(prefix, item.type, item.text))  # ``server(altered=True)``, without its call
        return parts if len(replies) + 1 < len(parts) <= MAX_PARTS else "".join(parts)

    def request_key(self, text: str, type_: str = "CLI") -> str:
        """The replay key of a client message when CaptureMock plays the server (§5.3)."""
        return f"<-{type_}:{self.alter(text)}"
