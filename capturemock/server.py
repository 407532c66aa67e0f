"""The traffic server process (§8.1): composition root, TCP loop, message dispatch, arrival-order recording.

    python -m capturemock.server -m MODE [-r REC] [-F DIR] [-p REPLAY] [-f DIR] [-R RC,RC] [-P PORT]
                                 [--intercept-dir DIR] [--parent-pipe]

Prints its address as the first stdout line (``127.0.0.1:<port>``; ``http://127.0.0.1:<port>`` for HTTP
and XML-RPC, §8.1), then serves until it receives ``TERMINATE_SERVER:<token>`` (or, with
``--parent-pipe``, until its stdin closes, so it never outlives the launcher). Every connection runs in
its own thread; the first bytes choose the handler
(``Dispatcher``), so client-server protocols can plug in beside the command-line one. Imports are kept
few: start-up time is part of every test run.
"""
from __future__ import annotations

import _socket  # not socket: it imports enum and selectors, a quarter of the imports before the address is out
import os
import sys
import threading

from .errors import CaptureMockError, ConfigError
from .writable import check_writable

TYPE_CHECKING = False  # typing is not imported at run time: it is a third of the server's start-up
if TYPE_CHECKING:
    import socket
    from typing import Callable, Optional

STOP = b"TERMINATE_SERVER"
Handler = "Callable[[Connection, Callable[[str], None]], None]"  # a string: typing is not imported
# At stop, requests still in flight get this long to finish. The SUT is done by then, so a request still
# running belongs to a program it left in the background (a daemon may run for hours): it must not hold
# the test up, but one that is just finishing should still be recorded. Clearly shorter than the
# launcher's kill timeout (launcher._STOP_TIMEOUT), so what was recorded is written before any kill.
STOP_GRACE = 2.0
_MAX_STOP_MESSAGE = 1024  # ":<token>" and a little slack


class Connection:
    """A client socket whose first bytes may already have been read to choose its handler."""

    def __init__(self, sock: _socket.socket):
        self.sock = sock
        self._buffer = b""

    def peek(self, size: int) -> bytes:
        """At least ``size`` bytes (fewer only at the end of input); whatever else has arrived is kept
        too, so a handler's first read needs no system call."""
        while len(self._buffer) < size:
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            self._buffer += chunk
        return self._buffer[:size]

    def recv(self, size: int) -> bytes:
        if self._buffer:
            data, self._buffer = self._buffer[:size], self._buffer[size:]
            return data
        return self.sock.recv(size)

    def read_to_end(self, limit: int) -> bytes:
        """Everything up to the peer's end of sending, but never more than ``limit`` bytes: a stranger
        must not be able to fill the server's memory."""
        chunks, size = [self._buffer], len(self._buffer)
        self._buffer = b""
        while size < limit:
            chunk = self.sock.recv(min(65536, limit - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)

    def sendall(self, data: bytes) -> None:
        self.sock.sendall(data)

    def drain(self, limit: int = 1 << 22, timeout: float = 2.0) -> None:
        """Read and drop what the peer still sends, a bounded amount for a bounded time: closing with
        unread input resets the connection, and the peer would lose the answer it was just sent."""
        self._buffer = b""
        try:
            self.sock.shutdown(_socket.SHUT_WR)
            self.sock.settimeout(timeout)
            while limit > 0:
                chunk = self.sock.recv(min(65536, limit))
                if not chunk:
                    return
                limit -= len(chunk)
        except OSError:
            pass


class ArrivalOrder:
    """§4.5: what request n records is written once requests 1..n-1 are complete, so the file lists
    traffic in arrival order. The oldest unfinished request writes straight through."""

    def __init__(self, write: Callable[[str], None]):
        self._write = write
        self._lock = threading.Lock()
        self._issued = 0
        self._head = 0
        self._held: dict[int, list[str]] = {}
        self._finished: set[int] = set()
        self._closed = False

    def ticket(self) -> int:
        with self._lock:
            self._issued += 1
            return self._issued - 1

    def record(self, ticket: int, text: str) -> None:
        with self._lock:
            if self._closed:
                return
            if ticket == self._head:
                self._write(text)
            else:
                self._held.setdefault(ticket, []).append(text)

    def finish(self, ticket: int) -> None:
        with self._lock:
            self._finished.add(ticket)
            while self._head in self._finished:
                self._finished.discard(self._head)
                self._head += 1
                for text in self._held.pop(self._head, ()):
                    self._write(text)

    def flush_all(self) -> None:
        """At shutdown, write everything held, still in arrival order: every completed interaction, and
        of those still unfinished what they recorded so far (whole items: a request line without its
        answers is valid and replays as no output, status 0). Nothing is written after this: a request
        finishing later would put its answers after other requests' items, where they would read as
        theirs."""
        with self._lock:
            for ticket in sorted(self._held):
                for text in self._held.pop(ticket):
                    self._write(text)
            self._closed = True


class Dispatcher:
    """Chooses a connection's handler by the prefix of its first bytes (first registered match wins)."""

    def __init__(self, fallback: Handler):
        self._handlers: list[tuple[bytes, Handler]] = []
        self._fallback = fallback

    def register(self, prefix: bytes, handler: Handler) -> None:
        self._handlers.append((prefix, handler))

    def __call__(self, conn: Connection, record: Callable[[str], None]) -> None:
        head = conn.peek(max((len(prefix) for prefix, _ in self._handlers), default=0))
        for prefix, handler in self._handlers:
            if head.startswith(prefix):
                conn.recv(len(prefix))
                handler(conn, record)
                return
        self._fallback(conn, record)


class TrafficServer:
    """Accepts connections on 127.0.0.1 until told to stop. The idle connection threads take turns in
    ``accept`` and each handles what it accepts itself: no hand-over between threads lies on a
    request's way (one cost a tenth of a replayed HTTP exchange). The thread that takes the last idle
    place starts another, so a connection never waits for a busy thread (a recorded command may run
    for hours) and there are as many threads as connections ever were in flight at once."""

    def __init__(self, token: str, port: int = 0):
        self.token = token
        self._raw_listener = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
        try:
            self._raw_listener.bind((b"127.0.0.1", port))  # bytes: no idna codec import
        except OSError as err:
            self._raw_listener.close()
            raise ConfigError(f"cannot listen on 127.0.0.1:{port}: {err.strerror}") from None
        self._raw_listener.listen(128)
        self.address = f"127.0.0.1:{self._raw_listener.getsockname()[1]}"
        self._stopping = threading.Event()
        self._accepting = threading.Lock()  # held by the one thread waiting in accept
        self._count = threading.Condition()  # guards the counts below
        self._idle = 0  # threads waiting in accept
        self._busy = 0  # connections being handled

    def serve(self, dispatch: Handler, order: ArrivalOrder, closing: Callable[[], None] = lambda: None) -> None:
        """Until ``stop``: hand each connection to ``dispatch``, recording through ``order``; then wait
        for requests in flight (at most ``STOP_GRACE``), write what was recorded and call ``closing``."""
        import socket  # for serving only: the listener was bound without it, before the address was out

        self.dispatch = dispatch
        self.order = order
        self.listener = socket.socket(fileno=self._raw_listener.detach())
        self._idle = 1
        threading.Thread(target=self._follow, daemon=True).start()
        self._stopping.wait()
        with self._count:  # from here on, what a thread accepts it drops
            try:
                self.listener.shutdown(socket.SHUT_RDWR)  # wakes the threads waiting in accept (Linux)
            except OSError:
                pass  # not on every system: there they wait on, until the process exits
            self.listener.close()
            self._count.wait_for(lambda: self._busy == 0, STOP_GRACE)
        self.order.flush_all()
        closing()

    def stop(self) -> None:
        """Stop accepting; ``serve`` returns once the requests in flight are done, or their grace is over."""
        self._stopping.set()

    def handle_stop(self, conn: Connection, record: Callable[[str], None]) -> None:
        from .cmdline.request import same_token

        given = conn.read_to_end(_MAX_STOP_MESSAGE).lstrip(b":").strip().decode(errors="replace")
        if same_token(given, self.token):
            self.stop()
        else:
            conn.sendall(b"CaptureMock server: refused to stop without this session's CAPTUREMOCK_TOKEN\n")
            conn.drain()

    def _follow(self) -> None:
        """One connection thread: accept, handle, and again. One thread at a time accepts and takes
        its ticket, so tickets follow the order in which connections arrived (§4.5)."""
        while True:
            with self._accepting:
                try:
                    sock, _ = self.listener.accept()
                except OSError:  # shut down by ``serve``; any other failure stops the server too
                    self.stop()
                    return
                with self._count:
                    if self._stopping.is_set():
                        sock.close()
                        return
                    ticket = self.order.ticket()
                    self._busy += 1
                    self._idle -= 1
                    grow = self._idle == 0
                    self._idle += grow
            if grow:
                threading.Thread(target=self._follow, daemon=True).start()
            self._handle(sock, ticket)
            with self._count:
                self._busy -= 1
                self._idle += 1
                self._count.notify_all()

    def _handle(self, sock: socket.socket, ticket: int) -> None:
        try:
            with sock:
                self.dispatch(Connection(sock), lambda text: self.order.record(ticket, text))
        except Exception as err:  # a broken client must not take the server down
            sys.stderr.write(f"CaptureMock server: error while handling a request: {err}\n")
        finally:
            self.order.finish(ticket)


_SHORT = {"-m": "mode", "-p": "replay", "-f": "replay-file-edits", "-r": "record", "-F": "record-file-edits",
          "-R": "rcfiles", "-P": "port"}
_WITH_VALUE = {*_SHORT.values(), "intercept-dir"}
_FLAGS = {"parent-pipe"}


def parse_options(argv: list[str]) -> dict[str, str]:
    """The server's options (§8.1, the letters of the ``capturemock`` command, §10). Parsed by hand:
    getopt/argparse would cost start-up time for a handful of options."""
    options: dict[str, str] = {}
    rest = list(argv)
    while rest:
        arg = rest.pop(0)
        if arg.startswith("--"):
            name, equals, value = arg[2:].partition("=")
            if name in _FLAGS and not equals:
                options[name] = ""
                continue
            if name not in _WITH_VALUE:
                raise ConfigError(f"capturemock server: unknown option {arg}")
        elif arg[:2] in _SHORT:
            name, equals, value = _SHORT[arg[:2]], arg[2:], arg[2:]
        else:
            raise ConfigError(f"capturemock server: unexpected argument {arg}")
        if not equals:
            if not rest:
                raise ConfigError(f"capturemock server: option {arg} needs a value")
            value = rest.pop(0)
        options[name] = value
    return options


def listen(options: dict[str, str], token: str) -> tuple[TrafficServer, object, int]:
    """What can go wrong with the user's input is checked before the address is published: mode,
    rc files and the settings read per request, protocol, output paths, port. A launcher reports a
    failure here as one line and does not run the SUT. ``--parent-pipe`` means a launcher started us
    (and owns our stdin)."""
    from .clientserver.settings import Settings, published_address
    from .cmdline import settings as command_settings
    from .config import RcConfig
    from .modes import parse_mode

    mode = parse_mode(options.get("mode", "0"), "-m")
    rc_files = [f for f in options.get("rcfiles", "").split(",") if f]
    if "parent-pipe" in options:  # started by a launcher, which has already warned about missing rc files
        config = RcConfig(rc_files, warn=lambda message: None)
    else:
        config = RcConfig(rc_files)
    command_settings.check(config)
    protocol = Settings(config).protocol
    if options.get("record"):
        check_writable(options["record"], "record to", directory=False)
    if options.get("record-file-edits"):
        check_writable(options["record-file-edits"], "store file edits in", directory=True)
    try:
        port = int(options.get("port") or 0)
    except ValueError:
        raise ConfigError(f"capturemock server: port {options['port']!r} is not a number") from None
    server = TrafficServer(token, port)
    server.address = published_address(protocol, server.address)
    return server, config, mode


def serve(server: TrafficServer, config, mode: int, options: dict[str, str]) -> None:
    """Wire the handlers and serve. This runs after the address is out, so the heavier imports overlap
    with the launcher's own work; connections made meanwhile wait in the listen backlog."""
    from . import mockfile
    from .clientserver.session import traffic_handlers
    from .cmdline import shim
    from .cmdline.session import command_handler

    traffic, prefixed = traffic_handlers(mode, config, options, server.address)
    dispatcher = Dispatcher(traffic)
    dispatcher.register(STOP, server.handle_stop)
    dispatcher.register(shim.MAGIC, command_handler(mode, config, options, server.token))
    for prefix, handler in prefixed:
        dispatcher.register(prefix, handler)
    writer = mockfile.MockWriter(options["record"]) if options.get("record") else None
    server.serve(dispatcher, ArrivalOrder(writer.write_text if writer else lambda text: None),
                 writer.close if writer else lambda: None)


def _stop_when_parent_goes(server: TrafficServer) -> None:
    def watch() -> None:
        while sys.stdin.buffer.read(4096):
            pass
        server.stop()

    threading.Thread(target=watch, daemon=True).start()


def main(argv: Optional[list[str]] = None) -> None:
    token = os.environ.get("CAPTUREMOCK_TOKEN") or os.urandom(16).hex()
    try:
        options = parse_options(sys.argv[1:] if argv is None else argv)
        server, config, mode = listen(options, token)
        print(server.address, flush=True)
        if "CAPTUREMOCK_TOKEN" not in os.environ:
            print(f"CAPTUREMOCK_TOKEN={token}", flush=True)
        if "parent-pipe" in options:
            _stop_when_parent_goes(server)
        serve(server, config, mode, options)
    except CaptureMockError as err:
        sys.stderr.write(f"{err}\n")
        sys.stderr.flush()
        os._exit(1)  # not sys.exit: the parent-pipe watcher thread may be blocked reading stdin
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
