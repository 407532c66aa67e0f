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

MAGIC = b"CAPTUREMOCK_SHIM/1\n"
STDOUT, STDERR, SETENV, RUN, EXIT = b"O", b"E", b"V", b"R", b"X"
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


def complain(program: str, message: str) -> None:
    """One clean line on stderr, then exit 1: the shim's only way of reporting its own trouble."""
    write_all(2, f"CaptureMock shim for '{program}': {message}\n".encode("utf-8", "surrogateescape"))
    die(1)


def answer_timeout() -> float:
    """How long the server may take to say anything (``CAPTUREMOCK_SHIM_TIMEOUT`` seconds, default 600):
    it answers at once, so only a hung server takes longer, and the SUT must not wait for ever."""
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


def _run_real_program(sock: socket.socket, path: str, argv: list[str]) -> None:
    """Record mode: run the program here (stdin, tty and signals stay natural), tee its output and
    send everything it wrote plus its exit status back to the server.

    When one of our own outputs has lost its reader (``yes | head -1``), the program's pipe to it is
    closed: its next write there gets SIGPIPE/EPIPE, just as it would without capturemock."""
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
    captured = {out_read: [], err_read: []}
    targets = {out_read: 1, err_read: 2}
    status = None
    # Until both pipes close, or the program has exited and its pipes are drained: a background
    # process it left behind may hold them open for ever (the original shim hung there).
    while targets:
        ready, _, _ = select.select(list(targets), [], [], 0 if status is not None else 0.1)
        if not ready:
            if status is not None:
                break
            finished, status = os.waitpid(pid, os.WNOHANG)
            status = status if finished else None
            continue
        for fd in ready:
            data = os.read(fd, 65536)
            captured[fd].append(data)
            if not data or not write_all(targets[fd], data):
                del targets[fd]
                os.close(fd)
    if status is None:
        status = os.waitpid(pid, 0)[1]
    for fd, target in ((out_read, 1), (err_read, 2)):
        last = next((chunk for chunk in reversed(captured[fd]) if chunk), b"")
        if not last.endswith(b"\n") and last:
            write_all(target, b"\n")  # replay ends output with one newline (§12.16): so does record
    code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
    sock.sendall(encode_frame(STDOUT, b"".join(captured[out_read])) +
                 encode_frame(STDERR, b"".join(captured[err_read])) + encode_frame(EXIT, str(code).encode()))


def interceptCommand() -> None:
    """Shim body: hand this command to the traffic server and behave as its answer says."""
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
        _follow_answer(sock, program, argv)
    except socket.timeout:  # TimeoutError from 3.10 on
        complain(program, f"no answer from the CaptureMock server within {answer_timeout():g} s")
    except OSError as err:  # the server died mid-conversation (ConnectionError is an OSError)
        complain(program, f"lost the connection to the CaptureMock server ({err.strerror or err})")


def _follow_answer(sock: socket.socket, program: str, argv: list[str]) -> None:
    """Do what the server's frames say until it sends the exit status (which ends this process)."""
    while True:
        kind, payload = read_frame(sock)
        if kind in (STDOUT, STDERR):
            if not write_all(1 if kind == STDOUT else 2, payload):
                die(-signal.SIGPIPE)  # as the program did, and the native shim does, when the reader is gone
        elif kind == SETENV:
            name, _, value = os.fsdecode(payload).partition("=")
            os.environ[name] = value
        elif kind == RUN:
            _run_real_program(sock, os.fsdecode(payload), argv)
        elif kind == EXIT:
            die(_exit_status(program, payload))
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
