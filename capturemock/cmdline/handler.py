"""The traffic server's answer to one shim connection: replay the command or have the shim run it (§7.4).

Record: the server finds the program on the SUT's PATH (minus the intercept dir), snapshots candidate
edit paths, tells the shim to run it (so stdin, the terminal and signals reach the real program
directly), and records what the shim sends back. Replay: the response group of the matching request
(§5) is sent as stdout/stderr/exit status and file edits are restored. Either way the request and its
responses go to the record file in arrival order (§4.5) through ``record``.
"""
from __future__ import annotations

import _signal as signal  # the C module, as in shim.py: its wrapper only adds enums, at start-up cost
import os
import threading

from ..errors import CaptureMockReplayError, MockFileError
from ..mockfile import NO_FINAL_NEWLINE, Item, escape, escape_output, output_value, split_output
from ..modes import RECORD, REPLAY
from . import shim
from .describe import describe_command
from .request import CommandRequest, RefusedRequest, read_request
from .settings import SECTION

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable, Mapping, Optional, Protocol

    from ..alterations import Alterations
    from ..redaction import Redactor

    class FileEdits(Protocol):
        """What the handler needs from file-edit detection and restoration (§7.6, §7.7)."""

        def snapshot(self, request: CommandRequest, watched: list[str], asynchronous: bool) -> object: ...

        def changes(self, snapshot: object) -> list[str]: ...

        def async_changes(self) -> list[str]: ...

        def restore(self, items: list[Item], request: CommandRequest, watched: list[str],
                    mock_path: Optional[str], asynchronous: bool) -> list[str]: ...

    class Replayer(Protocol):
        path: Optional[str]  # the replay file, named in errors about its content

        def lookup(self, description: str) -> Optional[list[Item]]: ...


MISMATCH_ADVICE = "Either rerun with capturemock in record mode or update the stored mock file by hand."


def item_text(prefix: str, type_: str, text: str) -> str:
    """One item as file text. Unlike ``format_item``, an empty OUT (a program printing one bare newline)
    is still written, as the original does (`->OUT:` on its own line)."""
    return f"{prefix}{type_}:{escape(text)}\n"


def output_item(type_: str, value: str) -> str:
    """An ``->OUT:``/``->ERR:`` item as file text, escaped so that replay gives back the exact bytes."""
    return f"->{type_}:{escape_output(value)}\n"


def find_program(name: str, path: str, cwd: str) -> Optional[str]:
    """The program on the SUT's PATH; relative entries count from the SUT's cwd, as for the SUT."""
    for directory in path.split(os.pathsep):
        candidate = os.path.join(cwd, directory or ".", name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


class CommandHandler:
    """Handles ``shim.MAGIC`` connections for one server session."""

    def __init__(self, *, mode: int, token: str, replay: Optional[Replayer], replayed_programs: Callable[[str], bool],
                 watched: Callable[[str], list[str]], asynchronous: Callable[[str], bool], edits: FileEdits,
                 base_env: Mapping[str, str], base_cwd: str, intercept_dirs: list[str], sealed: bool = False,
                 exact_output: bool = False, alterations: Optional[Alterations] = None,
                 redactor: Optional[Redactor] = None):
        self.mode = mode
        self.alterations = alterations  # [command line] alterations, opt-in: see settings.alterations
        self.redactor = redactor  # [general] redact: command lines, env values and output alike
        self.alteration_lock = threading.Lock()  # variables ($name_N) are numbered across parallel commands
        self.exact_output = exact_output  # else a missing final newline is added, as 2.10 does (§4.3)
        self.sealed = sealed and mode == REPLAY  # [general] sealed: see _refuse_unrecorded
        self.token = token
        self.replay = replay
        self.replayed_programs = replayed_programs
        self.watched = watched
        self.asynchronous = asynchronous
        self.edits = edits
        self.base_env = base_env
        self.base_cwd = base_cwd
        self.intercept_dirs = {os.path.normpath(d) for d in intercept_dirs}
        self.replay_lock = threading.Lock()  # response groups are consumed one request at a time (§5.5)

    def __call__(self, conn, record: Callable[[str], None]) -> None:
        try:
            request = read_request(conn, self.token)
        except RefusedRequest:
            self._finish(conn, "CaptureMock server: refused a command request without this session's "
                               "CAPTUREMOCK_TOKEN\n", 1)
            conn.drain()  # the answer must reach the client before we close
            return
        except (ValueError, ConnectionError) as err:
            self._finish(conn, f"CaptureMock server: malformed command request ({err})\n", 1)
            conn.drain()
            return
        conn.arrived()  # the request is in: its place in the record file's order (§4.5)
        env = dict(request.env)
        env["PATH"] = self._sut_path(env.get("PATH", ""))
        watched = self.watched(request.program)
        text = self._alter(describe_command([request.program, *request.argv[1:]], request.cwd, env,
                                            base_cwd=self.base_cwd, base_env=self.base_env, watched=watched))
        if self._replaying(request.program):
            self._replay(conn, record, request, text, watched)
        else:
            self._record(conn, record, request, env, text, watched)

    def _alter(self, text: str) -> str:
        """The text as the mock file holds it: what is recorded, and what replay looks up."""
        if self.alterations is not None:
            with self.alteration_lock:
                text = self.alterations.apply(text, [SECTION])
        return self.redactor.redact(text) if self.redactor is not None else text

    def _alter_output(self, value: str) -> str:
        """``_alter`` for an ``output_value``, keeping its ``NO_FINAL_NEWLINE`` mark out of the rules' reach."""
        if value.endswith(NO_FINAL_NEWLINE):
            return self._alter(value[:-1]) + NO_FINAL_NEWLINE
        return self._alter(value)

    def _sut_path(self, path: str) -> str:
        """The SUT's PATH without the intercept directory (§7.3)."""
        return os.pathsep.join(d for d in path.split(os.pathsep) if os.path.normpath(d) not in self.intercept_dirs)

    def _replaying(self, program: str) -> bool:
        if self.mode == RECORD or self.replay is None:
            return False
        return self.mode == REPLAY or self.replayed_programs(program)

    def _refuse_unrecorded(self, conn, program: str) -> bool:
        """``sealed = true``: a program the mock never mentions is shimmed anyway (``launcher``), and
        here refused in one line and status 1 instead of answered with a borrowed or empty answer."""
        if not self.sealed or self.replayed_programs(program):
            return False
        from ..explain import sealed

        self._finish(conn, f"capturemock: {sealed(program, self.replay.path if self.replay else None)}\n", 1)
        return True

    def _replay(self, conn, record, request: CommandRequest, text: str, watched: list[str]) -> None:
        if self._refuse_unrecorded(conn, request.program):
            return
        try:
            with self.replay_lock:
                group = self.replay.lookup(f"<-CMD:{text}") or []
        except CaptureMockReplayError as err:
            # §2.5: the mismatching request is not recorded; later requests are handled as usual
            self._finish(conn, f"Replayed calls do not match those recorded.\n{err}\n{MISMATCH_ADVICE}\n", 1)
            return
        responses: dict[str, Item] = {}
        for item in group:
            responses.setdefault(item.type, item)
        try:
            status = _exit_status(responses.get("EXC"), self.replay.path)
        except MockFileError as err:
            self._finish(conn, f"{err}\n", 1)
            return
        record(item_text("<-", "CMD", text))
        restored = "".join(item_text("->", "FIL", name) for name in self._restore(group, request, watched))
        # edits an asynchronous command made later were recorded after its output (§7.7): keep that order
        types = [item.type for item in group]
        edits_last = "FIL" in types and any(type_ in types[:types.index("FIL")] for type_ in ("OUT", "ERR", "EXC"))
        if restored and not edits_last:
            record(restored)
        for type_, kind in (("OUT", shim.STDOUT), ("ERR", shim.STDERR)):
            item = responses.get(type_)
            if item is not None:
                record(output_item(type_, self._alter_output(item.text)))  # the SUT gets the stored text
                text, ending = split_output(item.text)
                _send_frame(conn, kind, text.encode("utf-8", "surrogateescape"), ending.encode())
        if status:
            record(item_text("->", "EXC", str(status)))
        if restored and edits_last:
            record(restored)
        conn.sendall(shim.encode_frame(shim.EXIT, str(status).encode()))

    def _restore(self, group: list[Item], request: CommandRequest, watched: list[str]) -> list[str]:
        """Restore a replayed command's file edits. An asynchronous command is told even without any:
        later commands' edits may belong to it (§7.7)."""
        edited = [item for item in group if item.type == "FIL"]
        asynchronous = self.asynchronous(request.program)
        if not (edited or asynchronous):
            return []
        return self.edits.restore(edited, request, watched, self.replay.path, asynchronous)

    def _record(self, conn, record, request: CommandRequest, env: dict[str, str], command: str,
                watched: list[str]) -> None:
        for name in self.edits.async_changes():
            record(item_text("->", "FIL", name))  # §7.7: attached to the earlier asynchronous command
        record(item_text("<-", "CMD", command))
        path = find_program(request.program, env["PATH"], request.cwd)
        if path is None:
            message = f"ERROR: CaptureMock Server could not find command '{request.program}' in PATH"
            record(item_text("->", "ERR", message) + item_text("->", "EXC", "1"))
            self._finish(conn, message + "\n", 1)
            return
        snapshot = self.edits.snapshot(request, watched, self.asynchronous(request.program))
        newline = b"" if self.exact_output else shim.encode_frame(shim.NEWLINE, b"")
        conn.sendall(shim.encode_frame(shim.SETENV, f"PATH={env['PATH']}".encode("utf-8", "surrogateescape")) +
                     newline + shim.encode_frame(shim.RUN, path.encode("utf-8", "surrogateescape")))
        results = dict(shim.read_frame(conn) for _ in range(3))
        if shim.EXIT not in results:
            raise ConnectionError(f"the shim for '{command}' went away before the program's exit status")
        status = int(results[shim.EXIT])
        # item by item, each freed before the next: outputs can be hundreds of MB (several records
        # of one request stay together, §4.5)
        record("".join(item_text("->", "FIL", name) for name in self.edits.changes(snapshot)))
        for type_, kind in (("OUT", shim.STDOUT), ("ERR", shim.STDERR)):
            output = results.pop(kind, b"")
            if output:
                record(output_item(type_, self._alter_output(output_value(output, self.exact_output))))
            del output
        if status:
            record(item_text("->", "EXC", str(status)))
        conn.sendall(shim.encode_frame(shim.EXIT, str(status).encode()))

    @staticmethod
    def _finish(conn, stderr: str, status: int) -> None:
        conn.sendall(shim.encode_frame(shim.STDERR, stderr.encode("utf-8", "surrogateescape")) +
                     shim.encode_frame(shim.EXIT, str(status).encode()))


def _send_frame(conn, kind: bytes, payload: bytes, tail: bytes = b"") -> None:
    """One frame of ``payload + tail`` without joining header and (possibly huge) payload into a copy."""
    conn.sendall(kind + (len(payload) + len(tail)).to_bytes(4, "big"))
    conn.sendall(payload)
    if tail:
        conn.sendall(tail)


# What a process can have died by: signals whose default action terminates it. A stop signal would stop
# the shim (and the SUT waiting for it) for ever; an ignored one would not end it at all.
_NOT_FATAL = ("SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG", "SIGWINCH", "SIGINFO")
FATAL_SIGNALS = frozenset(signal.valid_signals()) - {getattr(signal, name, 0) for name in _NOT_FATAL}


def _exit_status(item: Optional[Item], path: Optional[str]) -> int:
    """A missing ``->EXC`` means 0 (§7.4). A hand-edited one must be a status a program can finish with,
    0..255 or minus a fatal signal; anything else is refused by file and line, here, where replay reads
    it, rather than wrapping round, dying by the wrong signal or stopping in the shim."""
    if item is None:
        return 0
    try:
        status = int(item.text.strip())
    except ValueError:
        status = 256
    if not (0 <= status <= 255 or -status in FATAL_SIGNALS):
        raise MockFileError(f"'->EXC:{item.text}' is not an exit status (0 to 255, or minus a signal "
                            "that ends a process)", path or "replay file", item.line)
    return status
