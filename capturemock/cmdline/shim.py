"""The Python command shim and the wire format it shares with the traffic server and ``shim.c``.

This file must stay importable on its own, as the top-level module ``shim``, by an interpreter started
with ``-IS`` (no site, no PYTHONPATH): the Python fallback shim puts this directory on ``sys.path`` and
calls ``interceptCommand``. So: standard library only, no relative imports, nothing heavy.

Wire format (ours, not the original's ``repr``-based text; nothing in it is ever evaluated):

* request, shim -> server: ``MAGIC``, a big-endian u32 field count, then each field as u32 length +
  bytes: ``token, cwd, argc, argv[0..argc), "NAME=value" for every environment variable``.
* replies, both ways: frames of one kind byte + u32 length + payload. Server -> shim: ``O``/``E`` bytes
  for stdout/stderr, ``V`` ``NAME=value`` to set in the environment of the real program, ``R`` path of
  the real program to run now (record), ``X`` the decimal exit status to finish with: 0..255, or minus
  a signal that ends a process to die by it (the server checks replayed ones). Shim -> server after
  ``R``: ``O``, ``E`` (everything the program wrote) and ``X``.
"""
from __future__ import annotations

# The C modules directly: their pure-Python wrappers import enum, which would cost every shim call ~5 ms.
import _signal as signal
import _socket as socket
import os
import select
import struct
import sys
import time

MAGIC = b"CAPTUREMOCK_SHIM/1\n"
STDOUT, STDERR, SETENV, RUN, EXIT = b"O", b"E", b"V", b"R", b"X"
NEWLINE = b"N"  # before RUN: end forwarded output with a newline where it lacks one (2.10's record, §4.3)
_U32 = struct.Struct(">I")
_RELAYED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)


def encode_fields(fields: list[bytes]) -> bytes:
    parts = [_U32.pack(len(fields))]
    for field in fields:
        parts += [_U32.pack(len(field)), field]
    return b"".join(parts)


def encode_frame(kind: bytes, payload: bytes) -> bytes:
    return kind + _U32.pack(len(payload)) + payload


def read_exact(sock: socket.socket, size: int) -> bytes:
    """Exactly ``size`` bytes, or fewer only if the peer closed the connection."""
    chunks = []
    while size:
        chunk = sock.recv(min(size, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def read_u32(sock: socket.socket) -> int:
    data = read_exact(sock, 4)
    if len(data) != 4:
        raise ConnectionError("connection closed in the middle of a message")
    return _U32.unpack(data)[0]


def read_frame(sock: socket.socket) -> tuple[bytes, bytes]:
    """The next (kind, payload); kind is b"" when the peer closed the connection cleanly."""
    kind = read_exact(sock, 1)
    if not kind:
        return b"", b""
    size = read_u32(sock)
    payload = read_exact(sock, size)
    if len(payload) != size:
        raise ConnectionError("connection closed in the middle of a message")
    return kind, payload


def write_all(fd: int, data: bytes) -> bool:
    """Write everything to ``fd``; False when its reader has gone away (EPIPE), so that the caller can
    do what a program does on SIGPIPE. Other write errors lose the output, as they would for the
    program itself. Unbuffered ``os.write``: nothing is left in a buffer to fail again at exit."""
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(fd, view):]
        except BrokenPipeError:
            return False
        except OSError:
            break
    return True


def die(status: int) -> None:
    """Finish like the (recorded) program: exit with its status, or die by the signal that killed it.

    The traffic server only sends 0..255 or minus a signal that terminates a process (handler.py)."""
    if status < 0:
        signum = -status
        if signum != signal.SIGKILL:  # SIGKILL has no handler to reset: signal() refuses it
            signal.signal(signum, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [signum])
        os.kill(os.getpid(), signum)
        status = 128 + signum
    os._exit(status & 0xFF)


# Signals one process sends another to stop it; a program dies of the others by itself (a fault,
# SIGPIPE, its own alarm) and a replay ends by them at once.
_SENT_BY_OTHERS = frozenset((signal.SIGHUP, signal.SIGINT, signal.SIGQUIT, signal.SIGKILL, signal.SIGTERM,
                             signal.SIGUSR1, signal.SIGUSR2))


def await_signal(status: int, parent: int) -> None:
    """Replaying a command recorded as killed by another process, the SUT killed it while it ran: keep
    running (as 2.10's shim does) until a signal comes, whose default action ends us by it, so that the
    SUT finds the command as it did while recording. Not for ever: not once the SUT (``parent``) has
    gone, nor after the shim timeout; ``die`` then ends us by the recorded signal."""
    signum = -status
    if signum not in _SENT_BY_OTHERS:
        return
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # KeyboardInterrupt: Python's, not ours
        signal.signal(signal.SIGINT, signal.SIG_DFL)
    if signum != signal.SIGKILL:
        signal.signal(signum, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signum])
    deadline = time.monotonic() + answer_timeout()
    while os.getppid() == parent and time.monotonic() < deadline:
        time.sleep(0.05)


def complain(program: str, message: str) -> None:
    """One clean line on stderr, then exit 1: the shim's only way of reporting its own trouble."""
    write_all(2, f"CaptureMock shim for '{program}': {message}\n".encode("utf-8", "surrogateescape"))
    die(1)


def answer_timeout() -> float:
    """How long the shim waits for others (``CAPTUREMOCK_SHIM_TIMEOUT`` seconds, default 600): for the
    server to say anything (it answers at once, so only a hung server takes longer), and, replaying a
    command recorded as killed, for the SUT's signal. Either way the SUT must not wait for ever."""
    try:
        seconds = float(os.environ.get("CAPTUREMOCK_SHIM_TIMEOUT", ""))
    except ValueError:
        return 600.0
    return min(seconds, 1e7) if seconds > 0 else 600.0  # 1e7 s (~4 months): "inf" must not overflow


def _connect(program: str) -> socket.socket:
    address = os.environ.get("CAPTUREMOCK_SERVER", "")
    host, _, port = address.rpartition(":")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.connect(((host or "127.0.0.1").encode(), int(port)))  # bytes: no idna codec import
        sock.settimeout(answer_timeout())
        return sock
    except (OSError, ValueError) as err:
        reason = getattr(err, "strerror", None) or err
        complain(program, f"cannot reach the CaptureMock server at '{address}' ({reason})")


# Recorded output is held until the program completes and then written, stdout before stderr, as 2.10
# does and as replay does: a SUT printing while commands run prints in the same order in record and
# replay. It is streamed from then on once it passes a pipe's capacity (a reader may be waiting for
# more: ``yes | head -1``) or once the program has run a while (a reader may wait for a "ready" line).
STREAM_AFTER_BYTES = 65536
STREAM_AFTER_SECONDS = 2.0


class _Stream:
    """One output of the real program: its pipe, our own fd it goes on to, what it wrote, what went on."""

    def __init__(self, source: int, target: int):
        self.source = source  # -1 once closed
        self.target = target
        self.watched = True  # target is polled for its reader going away
        self.captured = bytearray()
        self.written = 0

    def take(self) -> None:
        data = os.read(self.source, 65536)
        self.captured += data
        if not data:
            self.close()

    def forward(self) -> None:
        if self.written < len(self.captured) and not write_all(self.target, memoryview(self.captured)[self.written:]):
            self.reader_gone()
        self.written = len(self.captured)

    def reader_gone(self) -> None:
        """Close the program's pipe too, so that its next write there gets SIGPIPE/EPIPE, just as it
        would without capturemock."""
        self.close()
        self.watched = False
        self.written = len(self.captured)

    def close(self) -> None:
        if self.source >= 0:
            os.close(self.source)
        self.source = -1


def _poll(streams: tuple[_Stream, _Stream], timeout_ms: int) -> bool:
    """Wait for output of the program or for one of our readers going away, and act on it; False when
    nothing happened within the timeout."""
    poller = select.poll()
    sources = {stream.source: stream for stream in streams if stream.source >= 0}
    targets = {stream.target: stream for stream in streams if stream.watched}
    for fd in sources:
        poller.register(fd, select.POLLIN)
    for fd in targets:
        poller.register(fd, 0)  # POLLERR: no reader left
    events = poller.poll(timeout_ms)
    for fd, revents in events:
        if fd in targets and revents & select.POLLERR:
            targets[fd].reader_gone()
        elif fd in targets and revents & select.POLLNVAL:
            targets[fd].watched = False
        elif fd in sources and sources[fd].source >= 0:
            sources[fd].take()
    return bool(events)


def _collect(pid: int, streams: tuple[_Stream, _Stream]) -> int:
    """The program's wait status, once both pipes close, or once it has exited and its pipes are drained:
    a background process it left behind may hold them open for ever (the original shim hung there)."""
    start = time.monotonic()
    status = None
    streaming = False
    while any(stream.source >= 0 for stream in streams):
        if not _poll(streams, 0 if status is not None else 100):
            if status is not None:
                break
            finished, status = os.waitpid(pid, os.WNOHANG)
            status = status if finished else None
        streaming = streaming or (sum(len(stream.captured) for stream in streams) > STREAM_AFTER_BYTES or
                                  time.monotonic() - start >= STREAM_AFTER_SECONDS)
        for stream in streams if streaming else ():
            stream.forward()
    return os.waitpid(pid, 0)[1] if status is None else status


def _run_real_program(sock: socket.socket, path: str, argv: list[str], add_newline: bool) -> None:
    """Record mode: run the program here (stdin, tty and signals stay natural), capture its output and
    hand it on (see ``_collect``); send what it wrote and its exit status to the server."""
    out_read, out_write = os.pipe()
    err_read, err_write = os.pipe()
    pid = os.fork()
    if pid == 0:
        for signum in (signal.SIGPIPE, signal.SIGXFSZ):  # Python ignores them, and exec would keep that
            signal.signal(signum, signal.SIG_DFL)
        os.dup2(out_write, 1)
        os.dup2(err_write, 2)
        for fd in (out_read, out_write, err_read, err_write):
            os.close(fd)
        try:
            os.execv(path, argv)
        except OSError as err:
            os.write(2, f"{argv[0]}: {err.strerror}\n".encode())
        os._exit(127)
    os.close(out_write)
    os.close(err_write)
    for signum in _RELAYED_SIGNALS:
        signal.signal(signum, lambda sig, _frame: os.kill(pid, sig))
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)  # a vanished reader must be an error we can see
    streams = (_Stream(out_read, 1), _Stream(err_read, 2))
    status = _collect(pid, streams)
    for stream in streams:  # stdout first, as replay writes them
        stream.forward()
    for stream in streams:
        if add_newline and stream.captured and not stream.captured.endswith(b"\n"):
            write_all(stream.target, b"\n")  # replay ends output with one newline (§4.3): so does record
    code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
    out, err = (stream.captured for stream in streams)
    sock.sendall(b"".join((STDOUT, _U32.pack(len(out)), out, STDERR, _U32.pack(len(err)), err,
                           encode_frame(EXIT, str(code).encode()))))


def interceptCommand() -> None:
    """Shim body: hand this command to the traffic server and behave as its answer says."""
    parent = os.getppid()
    program = os.path.basename(sys.argv[0])
    argv = [program, *sys.argv[1:]]
    sock = _connect(program)
    try:
        cwd = os.getcwd()
    except OSError:  # e.g. the SUT's directory was removed; worded like shim.c
        complain(program, "cannot determine the current directory")
    env = [f"{key}={value}".encode("utf-8", "surrogateescape") for key, value in os.environ.items()]
    fields = [os.environ.get("CAPTUREMOCK_TOKEN", "").encode(), cwd.encode("utf-8", "surrogateescape"),
              str(len(argv)).encode(), *(arg.encode("utf-8", "surrogateescape") for arg in argv), *env]
    try:
        sock.sendall(MAGIC + encode_fields(fields))
        _follow_answer(sock, program, argv, parent)
    except socket.timeout:  # TimeoutError from 3.10 on
        complain(program, f"no answer from the CaptureMock server within {answer_timeout():g} s")
    except OSError as err:  # the server died mid-conversation (ConnectionError is an OSError)
        complain(program, f"lost the connection to the CaptureMock server ({err.strerror or err})")


def _follow_answer(sock: socket.socket, program: str, argv: list[str], parent: int) -> None:
    """Do what the server's frames say until it sends the exit status (which ends this process)."""
    ran = add_newline = False
    while True:
        kind, payload = read_frame(sock)
        if kind in (STDOUT, STDERR):
            if not write_all(1 if kind == STDOUT else 2, payload):
                die(-signal.SIGPIPE)  # as the program did, and the native shim does, when the reader is gone
        elif kind == SETENV:
            name, _, value = os.fsdecode(payload).partition("=")
            os.environ[name] = value
        elif kind == NEWLINE:
            add_newline = True
        elif kind == RUN:
            _run_real_program(sock, os.fsdecode(payload), argv, add_newline)
            ran = True
        elif kind == EXIT:
            status = _exit_status(program, payload)
            if not ran:
                await_signal(status, parent)
            die(status)
        else:
            complain(program, "the CaptureMock server closed the connection without an answer")


def _exit_status(program: str, payload: bytes) -> int:
    """The status in an X frame. The server only sends valid ones (handler.py); this keeps a garbled
    frame from ending in a traceback, like the range check in shim.c."""
    try:
        status = int(payload)
    except ValueError:
        status = 256
    if not (0 <= status <= 255 or -status in signal.valid_signals()):
        complain(program, "the CaptureMock server sent an invalid exit status")
    return status


if __name__ == "__main__":
    interceptCommand()
