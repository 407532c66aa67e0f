"""The traffic server process (§8.1): composition root, TCP loop, message dispatch, arrival-order recording.

    python -m capturemock.server -m MODE [-r REC] [-F DIR] [-p REPLAY] [-f DIR] [-R RC,RC] [-P PORT]
                                 [--intercept-dir DIR] [--import-path DIR] [--parent-pipe]

Prints its address as the first stdout line (``127.0.0.1:<port>``; ``http://127.0.0.1:<port>`` for HTTP
and XML-RPC, ``<broker url>/<exchange>`` for AMQP, §8.1), then serves until it receives
``TERMINATE_SERVER:<token>`` (or, with ``--parent-pipe``, until its stdin closes, so it never outlives
the launcher, at any stage). Every
connection runs in its own thread; the first bytes choose the handler (``Dispatcher``), so client-server
protocols can plug in beside the command-line one. Imports are kept few: start-up time is part of every
test run.

No peer can starve the others: a connection takes its place in the record file's order when its
request has arrived (``Connection.arrived``), not when it connects; one that stays silent for
``CAPTUREMOCK_IDLE_TIMEOUT`` seconds before its request is complete is closed; silent connections are
capped at a quarter of the descriptor limit (the oldest is dropped first), and running out of
descriptors or memory in ``accept`` pauses the server briefly instead of stopping it.
"""
from __future__ import annotations

import _socket  # not socket (its enums and selectors: ~17 M instructions); its wrapper adds nothing serving needs
import _thread
import os
import sys

from .errors import CaptureMockError, ConfigError
from .writable import check_writable

TYPE_CHECKING = False  # typing is not imported at run time: it is a third of the server's start-up
if TYPE_CHECKING:
    import threading
    from typing import Callable, Optional

STOP = b"TERMINATE_SERVER"
Handler = "Callable[[Connection, Callable[[str], None]], None]"  # a string: typing is not imported
# At stop, requests still in flight get this long to finish. The SUT is done by then, so a request still
# running belongs to a program it left in the background (a daemon may run for hours): it must not hold
# the test up, but one that is just finishing should still be recorded. Clearly shorter than the
# launcher's kill timeout (launcher._STOP_TIMEOUT), so what was recorded is written before any kill.
STOP_GRACE = 2.0
_MAX_STOP_MESSAGE = 1024  # ":<token>" and a little slack
# A connection silent this long before its request is complete is closed (CAPTUREMOCK_IDLE_TIMEOUT).
# Generous: the peers are the SUT's own programs, which send as soon as they connect.
IDLE_TIMEOUT = 30.0
MAX_SILENT = 256  # connections waiting for their request at once, at most (see max_silent)
# At stop, a connection whose request is still on its way gets this long before it is dropped
_SILENT_GRACE = 0.2
# accept failing for want of descriptors or memory: pause, doubling up to a second, and try again
_FIRST_PAUSE, _LAST_PAUSE = 0.01, 1.0


class Dropped(Exception):
    """A connection closed by the server before its request was complete (too many silent peers, or
    the server stopping): not an error worth reporting. Not an OSError, so no handler mistakes it for
    a peer that went away and tries to answer."""


class Connection:
    """A client socket whose first bytes may already have been read to choose its handler.

    ``arrived`` marks the end of the request: the traffic server then gives the connection its place in
    the record file's order and lifts the idle timeout (answering may take hours). A persistent (HTTP
    keep-alive) connection calls ``answered`` after each answer: that request's place is done, and the
    connection waits for its next request as a silent one, so it holds no later request up."""

    def __init__(self, sock: _socket.socket, arrival: Optional[Callable[[Connection], int]] = None,
                 rest: Optional[Callable[[Connection], bool]] = None):
        self.sock = sock
        self._buffer = b""
        self._arrival = arrival
        self._rest = rest
        self.ticket: Optional[int] = None  # the place in the arrival order, once the request is in
        self.dropped = False

    def arrived(self) -> None:
        """The request has been read (several calls are one)."""
        if self.ticket is None and self._arrival is not None:
            self.ticket = self._arrival(self)

    def answered(self) -> bool:
        """This request is answered; whether the connection may wait for another (not once the server
        is stopping)."""
        return self._rest is not None and self._rest(self)

    def peek(self, size: int, undecided: Callable[[bytes], bool] = lambda head: True) -> bytes:
        """At least ``size`` bytes (fewer at the end of input, or once ``undecided(bytes so far)`` is
        false); whatever else has arrived is kept too, so a handler's first read needs no system call."""
        while len(self._buffer) < size and undecided(self._buffer):
            chunk = self.sock.recv(65536)  # ``_read``, without its call: every connection's first read
            if not chunk:
                if self.dropped:
                    raise Dropped()
                break
            self._buffer += chunk
        return self._buffer[:size]

    def pending(self) -> bytes:
        """What has arrived and is not read yet (read it with ``recv``)."""
        return self._buffer

    def peek_line(self, limit: int) -> bytes:
        """The first line (through its newline; less at the end of input or ``limit``), kept for the
        handler: the first bytes of a peer that waits for a greeting first (FTP) and then sends a line."""
        while b"\n" not in self._buffer and len(self._buffer) < limit:
            chunk = self._read(65536)
            if not chunk:
                break
            self._buffer += chunk
        return self._buffer[:limit]

    def recv(self, size: int) -> bytes:
        if self._buffer:
            data, self._buffer = self._buffer[:size], self._buffer[size:]
            return data
        return self._read(size)

    def read_to_end(self, limit: int, quiet: Optional[float] = None) -> bytes:
        """Everything up to the peer's end of sending, but never more than ``limit`` bytes: a stranger
        must not be able to fill the server's memory. That is the whole request. With ``quiet``, also
        what came before that many seconds passed without more (a peer that keeps its connection open
        for the answer)."""
        chunks, size = [self._buffer], len(self._buffer)
        self._buffer = b""
        if quiet is not None:
            self.sock.settimeout(quiet)
        try:
            while size < limit:
                chunk = self.sock.recv(min(65536, limit - size))  # ``_read``, without its call
                if not chunk:
                    if self.dropped:
                        raise Dropped()
                    break
                chunks.append(chunk)
                size += len(chunk)
        except TimeoutError:
            if quiet is None:
                raise
        finally:
            if quiet is not None:
                self.sock.settimeout(None)
        self.arrived()
        return b"".join(chunks)

    def _read(self, size: int) -> bytes:
        chunk = self.sock.recv(size)
        if not chunk and self.dropped:
            raise Dropped()
        return chunk

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
        self._lock = _thread.allocate_lock()  # threading.Lock
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
    """Chooses a connection's handler by the prefix of its first bytes (first registered match wins).
    It reads only while a prefix could still match, so a short binary message is not waited on; with
    ``first_wait`` (tcp_header) a client silent that long goes to the fallback with nothing read. With a
    ``greeting`` (a protocol whose server speaks first, FTP) every connection is greeted and its first
    line chooses: a launcher's message never waits for an answer before it sends."""

    def __init__(self, fallback: Handler, first_wait: Optional[float] = None, greeting: bytes = b""):
        self._handlers: list[tuple[bytes, Handler]] = []
        self._fallback = fallback
        self._first_wait = first_wait
        self._greeting = greeting
        # what is worked out per connection, worked out once: every connection pays for the choice
        self._prefixes: tuple[bytes, ...] = ()
        self._longest = 0
        self._partial: set[bytes] = set()  # heads a prefix could still follow: its proper beginnings
        self._undecided = self._partial.__contains__

    def register(self, prefix: bytes, handler: Handler) -> None:
        self._handlers.append((prefix, handler))
        self._prefixes += (prefix,)
        self._longest = max(self._longest, len(prefix))
        self._partial.update(prefix[:size] for size in range(len(prefix)))

    def __call__(self, conn: Connection, record: Callable[[str], None]) -> None:
        if self._greeting:
            conn.sendall(self._greeting)
            head = conn.peek_line(self._longest)
        elif self._first_wait is None:
            head = conn.peek(self._longest, self._undecided)
        else:
            idle = conn.sock.gettimeout()
            conn.sock.settimeout(self._first_wait)
            try:
                head = conn.peek(self._longest, self._undecided)
            except TimeoutError:
                head = b""
            conn.sock.settimeout(idle)
        if head.startswith(self._prefixes):
            for prefix, handler in self._handlers:
                if head.startswith(prefix):
                    conn.recv(len(prefix))
                    handler(conn, record)
                    return
        self._fallback(conn, record)


class TrafficServer:
    """Accepts connections on 127.0.0.1 (or ``host``) until told to stop. Each connection thread handles
    what it accepts itself: no hand-over between threads lies on a request's way (one cost a tenth of
    a replayed HTTP exchange). While no connection is silent, idle threads wait in ``accept`` side by
    side (the kernel gives each connection to one of them); while some are, they take turns through a
    lock, so that connections are admitted in the order they came and the oldest silent one is the
    first dropped. Side by side, no thread has to be woken to take the next turn: that wake-up and its
    GIL hand-overs were a third of a classic exchange's server time. The thread that takes the last
    idle place starts another, so a connection never waits for a busy or silent one (a recorded
    command may run for hours) and there are as many threads as connections ever were in flight at once.

    A connection still waiting for its request ("silent") has no place in the record file's order yet
    and holds nobody up; it is closed after ``idle_timeout`` seconds without a byte, and beyond
    ``max_silent`` of them the oldest is dropped for each new one."""

    def __init__(self, token: str, port: int = 0, idle_timeout: float = IDLE_TIMEOUT, max_silent: int = MAX_SILENT,
                 host: str = "127.0.0.1"):
        self.token = token
        self.idle_timeout = idle_timeout
        self.max_silent = max_silent
        self.failure = ""  # why the server stopped by itself, if it did
        self.told_to_stop: Callable[[], None] = lambda: None  # the stop message is in (the Server log)
        self.listener = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
        try:
            self.listener.bind((host.encode(), port))  # bytes: no idna codec import
        except OSError as err:
            self.listener.close()
            raise ConfigError(f"cannot listen on {host}:{port}: {err.strerror}") from None
        self.listener.listen(128)
        self.port = self.listener.getsockname()[1]
        self.address = f"{host}:{self.port}"
        # ``threading`` is imported by ``serve``: the server process prints its address before (the launcher
        # waits for it), so the import (~14 M instructions) overlaps with the launcher's own work
        self._stopping: Optional[threading.Event] = None  # set by a stop; made by serve
        self._stopped = False  # ``_stopping`` as a plain flag: read on every connection, it costs no call
        self._accepting = _thread.allocate_lock()  # held by the thread whose turn it is to accept (``_follow``)
        self._lock = _thread.allocate_lock()  # guards the counts and the silent connections below
        self._count: Optional[threading.Condition] = None  # on ``_lock``, what a stop waits on; made by serve
        self._idle = 0  # threads waiting in accept
        self._busy = 0  # connections being handled
        self._silent: dict[Connection, None] = {}  # accepted, request not complete; oldest first

    def serve(self, dispatch: Handler, order: ArrivalOrder, closing: Callable[[], None] = lambda: None) -> None:
        """Until ``stop``: hand each connection to ``dispatch``, recording through ``order``; then wait
        for requests in flight (at most ``STOP_GRACE``), write what was recorded and call ``closing``."""
        import threading

        self.dispatch = dispatch
        self.order = order
        self._count = threading.Condition(self._lock)  # notified only once stopping
        self._stopping = threading.Event()
        if self._stopped:  # told to stop before serving (see stop)
            self._stopping.set()
        self._idle = 1
        threading.Thread(target=self._follow, daemon=True).start()
        self._stopping.wait()
        with self._count:  # from here on, what a thread accepts it drops
            try:
                self.listener.shutdown(_socket.SHUT_RDWR)  # wakes the threads waiting in accept (Linux)
            except OSError:
                pass  # not on every system: there they wait on, until the process exits
            self.listener.close()
            self._count.wait_for(lambda: not self._silent, _SILENT_GRACE)
            for conn in list(self._silent):  # nothing recorded, nothing to wait for
                self._drop(conn)
            self._count.wait_for(lambda: self._busy == 0, STOP_GRACE)
        self.order.flush_all()
        closing()

    def stop(self) -> None:
        """Stop accepting; ``serve`` returns once the requests in flight are done, or their grace is over."""
        self._stopped = True
        stopping = self._stopping  # None before serve, which then sees ``_stopped``
        if stopping is not None:
            stopping.set()

    def close(self) -> None:
        """Close the listener of a server that failed before serving (or while serving): in a launcher's
        own process nothing else would, and peers would wait in its backlog instead of being refused."""
        self.stop()
        self.listener.close()

    def handle_stop(self, conn: Connection, record: Callable[[str], None]) -> None:
        from .cmdline.request import same_token

        given = conn.read_to_end(_MAX_STOP_MESSAGE).lstrip(b":").strip().decode(errors="replace")
        if same_token(given, self.token):
            self.told_to_stop()
            self.stop()
        else:
            conn.sendall(b"CaptureMock server: refused to stop without this session's CAPTUREMOCK_TOKEN\n")
            conn.drain()

    def _follow(self) -> None:
        """One connection thread: accept, handle, and again."""
        while True:
            taking_turns = bool(self._silent)
            if taking_turns:
                self._accepting.acquire()
            try:
                sock = self._accept()
                with self._lock:
                    if sock is None or self._stopped:
                        if sock is not None:
                            sock.close()
                        return
                    conn = self._admit(sock)
                    self._busy += 1
                    self._idle -= 1
                    grow = self._idle == 0
                    self._idle += grow
            finally:
                if taking_turns:
                    self._accepting.release()
            if grow:
                self._start_follower()
            self._handle(conn)
            with self._lock:
                self._busy -= 1
                self._idle += 1
                if self._stopped:
                    self._count.notify_all()

    def _accept(self) -> Optional[_socket.socket]:
        """The next connection; None once the server stops. Out of descriptors or memory, or any other
        passing failure, the server makes room (``_shrink``) and tries again after a pause (growing to a
        second): it keeps serving, and never spins. Only a listener that is gone for good stops it, with
        ``failure`` saying why."""
        pause = _FIRST_PAUSE
        while True:
            try:
                fd, _ = self.listener._accept()  # _socket's: socket.socket's costs a dozen calls
                sock = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM, 0, fd)
                sock.settimeout(self.idle_timeout)
                return sock
            except OSError as err:
                if self._stopping.is_set():
                    return None
                trouble = _accept_trouble(err)
                if trouble == "gone":
                    self.failure = f"CaptureMock server: cannot accept connections any more: {err}"
                    self.stop()
                    return None
                if trouble == "full":
                    with self._lock:
                        self._shrink()
            self._stopping.wait(pause)
            pause = min(2 * pause, _LAST_PAUSE)

    def _admit(self, sock: _socket.socket) -> Connection:
        """A new silent connection (``_lock`` held); beyond ``max_silent`` the oldest is dropped."""
        conn = Connection(sock, self._arrive, self._rest)
        self._silent[conn] = None
        if len(self._silent) > self.max_silent:
            self._drop(next(iter(self._silent)))
        return conn

    def _shrink(self) -> None:
        """Descriptors ran out (``_lock`` held): from now on silent connections get half the room they
        have (but 8 at least), the oldest dropped first, so that the connections they leave room for can
        still open the record file or reach the real server."""
        self.max_silent = max(8, min(self.max_silent, len(self._silent) // 2))
        for conn in list(self._silent)[:max(1, len(self._silent) - self.max_silent)]:
            self._drop(conn)

    def _arrive(self, conn: Connection) -> int:
        """The connection's request is complete: its place in the order; no more idle timeout."""
        with self._lock:
            if conn.dropped:
                raise Dropped()
            del self._silent[conn]
            if self._stopped:
                self._count.notify_all()  # the stop waiting for the silent ones
        conn.sock.settimeout(None)
        return self.order.ticket()

    def _rest(self, conn: Connection) -> bool:
        """A persistent connection's request is answered: its place in the order is done, and it waits
        for the next request as a silent connection (idle timeout, dropped at stop); False once stopping."""
        if conn.ticket is not None:
            self.order.finish(conn.ticket)
            conn.ticket = None
        with self._lock:
            if self._stopped or conn.dropped:
                return False
            if conn not in self._silent:
                self._silent[conn] = None
                if len(self._silent) > self.max_silent:
                    self._drop(next(iter(self._silent)))
        conn.sock.settimeout(self.idle_timeout)
        return not conn.dropped

    def _drop(self, conn: Connection) -> None:
        """Close a silent connection under its reader (``_lock`` held): its next read raises Dropped."""
        del self._silent[conn]
        conn.dropped = True
        try:
            conn.sock.shutdown(_socket.SHUT_RDWR)
        except OSError:
            pass  # already closed by its handler

    def _start_follower(self) -> None:
        """Another thread to accept while this one handles its connection. If none can be started (out
        of memory or threads), this one accepts again once its connection is done."""
        import threading  # loaded by serve: a look-up in sys.modules

        try:
            threading.Thread(target=self._follow, daemon=True).start()
        except RuntimeError:
            with self._lock:
                self._idle -= 1

    def _handle(self, conn: Connection) -> None:
        def record(text: str) -> None:
            if conn.ticket is None:
                conn.arrived()
            self.order.record(conn.ticket, text)

        try:
            self.dispatch(conn, record)
        except Exception as err:  # a broken client must not take the server down
            # dropped, or silent for too long, before its request was complete: just closed
            if not (isinstance(err, Dropped) or (conn.ticket is None and isinstance(err, TimeoutError))):
                sys.stderr.write(f"CaptureMock server: error while handling a request: {err}\n")
        finally:
            if conn in self._silent:  # only this thread adds it; another may drop it meanwhile, under the lock
                with self._lock:
                    self._silent.pop(conn, None)
            conn.sock.close()
            if conn.ticket is not None:
                self.order.finish(conn.ticket)


def _accept_trouble(err: OSError) -> str:
    """What a failed accept means: "gone" (the listener is unusable), "full" (out of descriptors or
    memory) or "passing" (a peer gave up on the way, a signal)."""
    import errno  # only once accept has failed

    if err.errno in (errno.EBADF, errno.EINVAL, errno.ENOTSOCK, errno.EOPNOTSUPP):
        return "gone"
    return "full" if err.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM) else "passing"


_SHORT = {"-m": "mode", "-p": "replay", "-f": "replay-file-edits", "-r": "record", "-F": "record-file-edits",
          "-R": "rcfiles", "-P": "port"}
_WITH_VALUE = {*_SHORT.values(), "intercept-dir", "import-path"}
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


def listen(options: dict[str, str], token: str, config=None) -> tuple[TrafficServer, object, int]:
    """What can go wrong with the user's input is checked before the address is published: mode,
    rc files and the settings read per request, protocol, output paths, port. A launcher reports a
    failure here as one line and does not run the SUT. ``--parent-pipe`` means a launcher started us
    (and owns our stdin). ``config``: the rc files already read (a launcher serving in a thread)."""
    from .clientserver.settings import Settings, published_address
    from .cmdline import settings as command_settings
    from .modes import parse_mode
    from .remoteaccess import listen_and_publish

    mode = parse_mode(options.get("mode", "0"), "-m")
    if config is None:
        from .config import RcConfig

        rc_files = [f for f in options.get("rcfiles", "").split(",") if f]
        if "parent-pipe" in options:  # started by a launcher, which has already warned about missing rc files
            config = RcConfig(rc_files, warn=lambda message: None)
        else:
            config = RcConfig(rc_files)
    command_settings.check(config)
    protocol = Settings(config).protocol
    if protocol == "tcp_header":  # its message layouts are the user's input too
        from .clientserver.binaryformat import BinaryCodec

        BinaryCodec(config)
    if options.get("record"):
        check_writable(options["record"], "record to", directory=False)
    if options.get("record-file-edits"):
        check_writable(options["record-file-edits"], "store file edits in", directory=True)
    try:
        port = int(options.get("port") or 0)
    except ValueError:
        raise ConfigError(f"capturemock server: port {options['port']!r} is not a number") from None
    bind, shown = listen_and_publish(config)
    if protocol == "classic_udp":  # datagrams on the same port (the launcher stops it over TCP)
        from .clientserver.udp import bind_beside

        server = bind_beside(lambda free: TrafficServer(token, free, idle_timeout(), max_silent(), bind), bind, port)
    else:
        server = TrafficServer(token, port, idle_timeout(), max_silent(), bind)
    server.address = published_address(protocol, f"{shown}:{server.port}")
    if protocol == "amqp":  # the queue is bound before the address is out: nothing published is missed
        from .clientserver.amqp import AmqpSettings, Recorder

        amqp = AmqpSettings.from_config(config)
        server.broker = Recorder(amqp, token, server.stop)
        server.stop = server.broker.request_stop  # a stop lets the queue catch up, even one asked for at once
        server.address = amqp.address
    return server, config, mode


def idle_timeout() -> float:
    """``CAPTUREMOCK_IDLE_TIMEOUT`` seconds, else ``IDLE_TIMEOUT``."""
    text = os.environ.get("CAPTUREMOCK_IDLE_TIMEOUT")
    if not text:
        return IDLE_TIMEOUT
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds <= 86400:
        raise ConfigError(f"CAPTUREMOCK_IDLE_TIMEOUT={text!r} is not a number of seconds from 0 to 86400")
    return seconds


def max_silent() -> int:
    """How many connections may wait for their request at once: a quarter of the descriptor limit (at
    most ``MAX_SILENT``), so silent peers never leave the record file, forwarding and file edits without one."""
    try:
        limit = os.sysconf("SC_OPEN_MAX")
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows)
        limit = 1024
    return max(4, min(MAX_SILENT, limit // 4))


def serve(server: TrafficServer, config, mode: int, options: dict[str, str], token: Optional[str] = None,
          env: Optional[dict[str, str]] = None) -> None:
    """Wire the handlers and serve. This runs after the address is out, so the heavier imports overlap
    with the launcher's own work; connections made meanwhile wait in the listen backlog. ``token`` and
    ``env`` (the SUT's environment, which recorded commands are described against) default to this
    process's environment, as a server process is given them."""
    from . import mockfile
    from .clientserver.session import traffic_handlers
    from .cmdline import shim
    from .cmdline.session import command_handler
    from .logconfig import set_up_logging

    set_up_logging(config)  # before the handlers: their replay indexes and logs decide once whether to log
    traffic = traffic_handlers(mode, config, options, server.address, server.stop, token)
    traffic.log.started(server.address)
    server.told_to_stop = traffic.log.told_to_stop
    dispatcher = Dispatcher(traffic.fallback, traffic.first_wait, traffic.greeting)
    dispatcher.register(STOP, server.handle_stop)
    commands = command_handler(mode, config, options, server.token, env)
    dispatcher.register(shim.MAGIC, commands)
    for prefix, handler in traffic.prefixed:
        dispatcher.register(prefix, handler)
    writer = mockfile.MockWriter(options["record"]) if options.get("record") else None
    server.order = ArrivalOrder(writer.write_parts if writer else lambda text: None)
    if traffic.serve_beside is not None:
        traffic.serve_beside(server)
    server.serve(dispatcher, server.order, writer.close if writer else lambda: None)
    traffic.finish()
    traffic.log.stopped()
    _report_replay(commands.replay, traffic.report)


def _report_replay(commands, traffic: Callable[[], list[str]]) -> None:
    """``on_best_match = warn`` and ``report_unused``: the end-of-replay lines of the command line, then
    of client/server traffic, on stderr, which the launcher relays at ``terminate`` (so TextTest and
    the ``capturemock`` command show them)."""
    lines = commands.report(("CMD",)) if commands is not None and commands.reports else []
    lines += traffic()
    if lines:
        sys.stderr.write("".join(f"{line}\n" for line in lines))


class _ParentWatch:
    """With ``--parent-pipe`` the launcher holds our stdin open: its end means the launcher is gone,
    and we must not outlive it at any stage. Still starting (nothing recorded, nobody to tell): exit
    at once. Serving: stop as if told to, writing what was recorded."""

    def __init__(self):
        self.server: Optional[TrafficServer] = None
        _thread.start_new_thread(self._watch, ())  # not threading.Thread: that waits for the thread to run

    def _watch(self) -> None:
        try:
            while os.read(0, 4096):
                pass
        except OSError:
            pass  # no stdin to read: no launcher to wait for either
        if self.server is None:
            os._exit(1)
        self.server.stop()


def main(argv: Optional[list[str]] = None) -> None:
    token = os.environ.get("CAPTUREMOCK_TOKEN") or os.urandom(16).hex()
    try:
        options = parse_options(sys.argv[1:] if argv is None else argv)
        parent = _ParentWatch() if "parent-pipe" in options else None
        if options.get("import-path"):  # where the launcher found pyyaml: we run without site-packages
            sys.path.append(options["import-path"])
        server, config, mode = listen(options, token)
        if parent is not None:
            parent.server = server
        print(server.address, flush=True)
        if "CAPTUREMOCK_TOKEN" not in os.environ:
            print(f"CAPTUREMOCK_TOKEN={token}", flush=True)
        from . import mockfile

        mockfile.remember_reads()  # its replay file is indexed twice (commands, client/server traffic)
        serve(server, config, mode, options)
    except CaptureMockError as err:
        sys.stderr.write(f"{err}\n")
        sys.stderr.flush()
        os._exit(1)  # not sys.exit: the parent-pipe watcher thread may be blocked reading stdin
    if server.failure:
        sys.stderr.write(f"{server.failure}\n")
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(1 if server.failure else 0)


if __name__ == "__main__":
    main()
