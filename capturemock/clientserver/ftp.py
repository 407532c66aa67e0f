"""FTP (§8.9): CaptureMock is the FTP server the SUT (the client) talks to, on 127.0.0.1.

Every command is recorded ``<-CLI:<VERB> <arg>`` and, in record, forwarded over one real FTP
connection per client connection (stdlib ``ftplib``): a listing is written ``->LST:`` (the lines as a
pretty-printed list), a download ``->FIL:<path>`` with its bytes kept in the record edit directory,
then the final ``->SRV:`` reply, as 2.10 writes them. CaptureMock serves the data connections itself
(passive mode), so replay needs no real server: ``PASV`` is recorded as forwarded but answered with
CaptureMock's own data port. Unlike 2.10: ``NLST``/``MLSD`` are listings too, ``CWD`` and uploads reach
the real server (an upload's bytes are kept in the record edit directory, in replay too), and no FTP
library is needed. Always recorded in client form (§8.9). The location comes as 2.10's upload of
``SUT_SERVER=host:port`` by user capturemock/capturemock (or the launcher's ``SUT_SERVER:`` message);
an upload of ``CAPTUREMOCK_SHUTDOWN`` by that user stops the server.
"""
from __future__ import annotations

import ast
import ftplib
import io
import os
import pprint
from typing import Callable, NamedTuple, Optional

from ..mockfile import Item
from .exchange import UNREACHABLE, Exchange, ForwardError
from .ftpdata import PassivePort, edit_path, store
from .location import parse_host_port, warn
from .replayfiles import ReplayFiles
from .sealing import Seal
from .serverlog import QUIET, QuietLog
from .traffic import Transcript

Record = Callable[[str], None]
GREETING = b"220 CaptureMock FTP server ready.\r\n"
CONTROL_USER = "capturemock"  # 2.10's internal account (password the same) for its control uploads
LOCATION_UPLOAD, SHUTDOWN_UPLOAD = "SUT_SERVER=", "CAPTUREMOCK_SHUTDOWN"
LISTINGS, DOWNLOADS, UPLOADS, PASSIVE = ("LIST", "NLST", "MLSD"), ("RETR",), ("STOR", "APPE"), ("PASV", "EPSV")
ACTIVE = ("PORT", "EPRT")  # the server would connect to the client: refused, neither forwarded nor recorded
ACTIVE_REFUSED = "502 CaptureMock serves passive mode only (PASV/EPSV)."
PRELIMINARY = "150 File status okay. About to open data connection."
MAX_LINE, MAX_UPLOAD, MAX_MESSAGE = 1 << 16, 1 << 30, 1 << 16
FORWARD_TIMEOUT = 60.0


class FtpAnswer(NamedTuple):
    """What the client gets: the final reply, and a listing or file body to send over its data port."""

    reply: str
    listing: Optional[list[str]] = None
    data: Optional[bytes] = None
    file: str = ""  # the downloaded file's name as recorded (``->FIL:``)


class Link:
    """One client connection: its real FTP connection (record), data port and pending upload."""

    def __init__(self):
        self.real: Optional[ftplib.FTP] = None
        self.passive: Optional[PassivePort] = None
        self.upload = b""
        self.control = False  # logged in as CaptureMock's control user
        self.pending = b""  # bytes read past the current command line

    def close(self) -> None:
        if self.passive is not None:
            self.passive.close()
        if self.real is not None:
            self.real.close()


class Command(NamedTuple):
    verb: str
    arg: str
    link: Link


def reply_bytes(reply: str) -> bytes:
    """A (possibly multi-line, as ``ftplib`` joins it) reply as sent on the control connection."""
    return (reply.replace("\r\n", "\n").replace("\n", "\r\n") + "\r\n").encode("utf-8", "surrogateescape")


def listing_text(lines: list[str]) -> str:
    return pprint.pformat(lines)


class FtpSession(Exchange[Command, FtpAnswer]):
    """The FTP handlers of one server session: the destination and replay state shared by connections."""

    destination: Optional[tuple[str, int]] = None

    def __init__(self, transcript: Transcript, replay: Optional[ReplayFiles] = None, seal: Optional[Seal] = None,
                 log: QuietLog = QUIET, stop: Callable[[], None] = lambda: None,
                 record_dir: Optional[str] = None, replay_dir: Optional[str] = None):
        super().__init__(transcript, replay, seal, log)
        self.stop = stop
        self.record_dir = record_dir  # where downloads and uploads are kept (§8.9)
        self.replay_dir = replay_dir  # where replayed downloads are read from

    # -- handlers -------------------------------------------------------------------------------------
    def location_message(self, conn, record: Record) -> None:
        """The launcher's ``SUT_SERVER:host:port`` (FTP is always recorded in client form: not written)."""
        text = conn.read_to_end(MAX_MESSAGE).decode("utf-8", "replace")
        self.log.received(f"SUT_SERVER:{text}")
        self._locate(text)
        conn.sock.close()

    def _locate(self, text: str) -> None:
        address = parse_host_port(text)
        if address is not None:
            self.destination = address

    def __call__(self, conn, record: Record) -> None:
        """One FTP control connection (the Dispatcher has greeted it): commands until QUIT or the end."""
        link = Link()
        try:
            while True:
                line = self._read_line(conn, link)
                if line is None:
                    return
                verb, _, arg = line.strip().partition(" ")
                verb = verb.upper()
                conn.sendall(reply_bytes(self._command(conn, link, verb, arg.strip(), record)))
                if verb == "QUIT" or (not conn.answered() and not link.control):
                    return
        finally:
            link.close()

    @staticmethod
    def _read_line(conn, link: Link) -> Optional[str]:
        """The next command line; None at the end of the connection (or a line past ``MAX_LINE``)."""
        data = link.pending
        while b"\n" not in data:
            chunk = conn.recv(65536)
            if not chunk or len(data) > MAX_LINE:
                return None
            data += chunk
        line, _, link.pending = data.partition(b"\n")
        return line.rstrip(b"\r").decode("utf-8", "surrogateescape")

    def _command(self, conn, link: Link, verb: str, arg: str, record: Record) -> str:
        if link.control or (verb == "USER" and arg == CONTROL_USER):
            link.control = True
            return self._control(conn, link, verb, arg)
        if verb in ACTIVE:
            return ACTIVE_REFUSED
        text = f"{verb} {arg}" if arg else verb
        wire = Command(verb, arg, link)
        if verb in PASSIVE:  # recorded as 2.10 did; the client gets CaptureMock's own data port
            self.exchange(text, wire, record)
            return self._open_passive(conn, link, verb)
        if verb in UPLOADS:
            link.upload = self._receive(conn, link)
            if link.upload is None:
                return "425 Can't open data connection."
            self._keep(arg, link.upload)
        answer = self.exchange(text, wire, record)
        if answer is None:
            return "221 Goodbye." if verb == "QUIT" else "421 CaptureMock: no real FTP server location is known"
        payload = answer.data if answer.listing is None else "".join(f"{line}\r\n" for line in answer.listing).encode(
            "utf-8", "surrogateescape")
        if payload is not None and (verb in LISTINGS or verb in DOWNLOADS):
            if not self._send(conn, link, payload):
                return "425 Can't open data connection."
        return answer.reply

    def _control(self, conn, link: Link, verb: str, arg: str) -> str:
        """CaptureMock's own account: the location and stop uploads of 2.10 (§8.2, §8.1)."""
        if verb == "USER":
            return "331 Username ok, send password."
        if verb == "PASS":
            return "230 Login successful." if arg == CONTROL_USER else "530 Authentication failed."
        if verb == "TYPE":
            return "200 Type set."
        if verb in PASSIVE:
            return self._open_passive(conn, link, verb)
        if verb == "QUIT":
            return "221 Goodbye."
        if verb != "STOR":
            return "502 Command not implemented for the CaptureMock control user."
        if self._receive(conn, link) is None:
            return "425 Can't open data connection."
        if arg.startswith(LOCATION_UPLOAD):
            self.log.received(f"SUT_SERVER:{arg[len(LOCATION_UPLOAD):]}")
            self._locate(arg[len(LOCATION_UPLOAD):])
        elif arg == SHUTDOWN_UPLOAD:
            self.log.told_to_stop()
            self.stop()
        return "226 Transfer complete."

    @staticmethod
    def _open_passive(conn, link: Link, verb: str) -> str:
        if link.passive is not None:
            link.passive.close()
        link.passive = PassivePort(conn.sock.getsockname()[0])
        return link.passive.reply(verb)

    @staticmethod
    def _take_passive(link: Link) -> Optional[PassivePort]:
        passive, link.passive = link.passive, None
        return passive

    def _send(self, conn, link: Link, payload: bytes) -> bool:
        passive = self._take_passive(link)
        if passive is None:
            return False
        conn.sendall(reply_bytes(PRELIMINARY))
        try:
            passive.send(payload)
        except OSError:
            return False
        return True

    def _receive(self, conn, link: Link) -> Optional[bytes]:
        passive = self._take_passive(link)
        if passive is None:
            return None
        conn.sendall(reply_bytes(PRELIMINARY))
        try:
            return passive.receive(MAX_UPLOAD)
        except OSError:
            return None

    def _keep(self, name: str, data: bytes) -> None:
        """An upload or download, kept in the record edit directory (said on stderr if it cannot be)."""
        if self.record_dir is None:
            return
        trouble = store(self.record_dir, name, data)
        if trouble:
            warn(f"CaptureMock: {trouble}")

    # -- the exchange hooks ---------------------------------------------------------------------------
    def mismatch(self, reason: str) -> FtpAnswer:
        return FtpAnswer("550 " + " ".join(reason.split()))

    def failed(self, status: str, line: str) -> FtpAnswer:
        return FtpAnswer(("421 " if status == UNREACHABLE else "550 ") + line)

    def decode(self, replies: list[Item]) -> FtpAnswer:
        reply, listing, data, name = "", None, None, ""
        for item in replies:
            if item.type == "LST":
                listing = self._listing(item)
                if listing is None:
                    return FtpAnswer(f"550 CaptureMock: {self.replay.path}:{item.line}: not a list of lines")
            elif item.type == "FIL":
                name, data = item.text, self.kept_file(item.text)
                if data is None:
                    return FtpAnswer(f"550 CaptureMock: no recorded file {item.text}")
            else:
                reply = item.text
        return FtpAnswer(reply, listing, data, name)

    def _listing(self, item: Item) -> Optional[list[str]]:
        """The recorded lines: a literal list of strings, parsed as data (``ast.literal_eval`` runs no code)."""
        try:
            lines = ast.literal_eval(item.text)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            lines = None
        if not isinstance(lines, list) or not all(isinstance(line, str) for line in lines):
            warn(f"CaptureMock: {self.replay.path}:{item.line}: a ->LST: listing is not a list of lines")
            return None
        return lines

    def kept_file(self, name: str) -> Optional[bytes]:
        path = edit_path(self.replay_dir, name) if self.replay_dir else name
        try:
            with open(path, "rb") as handle:
                return handle.read()
        except OSError as err:
            warn(f"CaptureMock: no recorded file {name} to replay: cannot read {path}: {err.strerror}")
            return None

    def send(self, wire: Command) -> tuple[FtpAnswer, str]:
        verb, arg, link = wire
        text = f"{verb} {arg}" if arg else verb
        try:
            real = self._real(link)
            if verb in LISTINGS:
                lines: list[str] = []
                reply = real.retrlines(text, lines.append)
                answer = FtpAnswer(reply, listing=lines)
            elif verb in DOWNLOADS:
                chunks: list[bytes] = []
                reply = real.retrbinary(text, chunks.append)
                answer = FtpAnswer(reply, data=b"".join(chunks), file=arg.lstrip("/"))
                self._keep(arg, answer.data)
            elif verb in UPLOADS:
                reply = real.storbinary(text, io.BytesIO(link.upload))
                answer = FtpAnswer(reply)
            else:
                real.putcmd(text)
                reply = real.getmultiline()
                answer = FtpAnswer(reply)
        except ftplib.Error as err:  # the real server's error reply: recorded as any other reply
            reply = str(err)
            answer = FtpAnswer(reply)
        except (OSError, EOFError) as err:
            if link.real is not None:
                link.real.close()
            link.real = None
            raise ForwardError(f"WARNING: Could not forward to server {self.where}: {err}\n-- {text}") from None
        return answer, reply

    def _real(self, link: Link) -> ftplib.FTP:
        if link.real is None:
            real = ftplib.FTP(timeout=FORWARD_TIMEOUT)
            real.connect(*self.destination)
            link.real = real
        return link.real

    def recorded_request(self, text: str, item: Item) -> None:
        return None  # FTP is always recorded in client form: CaptureMock never plays the client (§8.9)

    def recorded_reply(self, answer: FtpAnswer, reply: str) -> str:
        items = self.transcript.server(listing_text(answer.listing), "LST") if answer.listing is not None else ""
        if answer.file:
            items += self.transcript.server(answer.file, "FIL")
        return items + self.transcript.server(reply)

    @property
    def where(self) -> str:
        host, port = self.destination
        return f"{host}:{port}"


def play_client(items: list[Item], transcript: Transcript, address: tuple[str, int], write: Record,
                record_dir: Optional[str] = None, replay_dir: Optional[str] = None) -> None:
    """``replay_for_server`` (§8.10): the recorded client's commands sent in order over one connection
    to a live FTP server, each written with its live answer as in record (an upload sends the file kept
    for it in ``replay_dir``). ForwardError when the server cannot be reached."""
    session = FtpSession(transcript, record_dir=record_dir, replay_dir=replay_dir)
    session.destination = address
    link = Link()
    try:
        for item in items:
            if not (item.from_sut and item.type == "CLI"):
                continue
            text = transcript.alterations.restore_variables(item.text)
            verb, _, arg = text.partition(" ")
            if verb in UPLOADS:
                link.upload = session.kept_file(arg) or b""
            answer, reply = session.send(Command(verb, arg, link))
            write(transcript.client(text) + session.recorded_reply(answer, reply))
    finally:
        link.close()


def edit_dirs(options: dict[str, str], replay: Optional[str]) -> tuple[Optional[str], Optional[str]]:
    """The record and replay edit directories (``-F``, ``-f``); without them, ``<mock file>.files``."""
    record = options.get("record-file-edits") or (options["record"] + ".files" if options.get("record") else None)
    replayed = options.get("replay-file-edits") or (replay + ".files" if replay else None)
    return record and os.path.abspath(record), replayed and os.path.abspath(replayed)
