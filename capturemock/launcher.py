"""Starting and stopping the traffic server for a SUT (§7.1, §9): the API TextTest calls.

``setUpServer`` mutates the SUT's ``environment`` in place (TextTest passes its TestEnvironment:
``env[k] = v``, ``env.pop(k, None)``, ``env.copy()`` for the full environment of children). Unlike the
original it leaves the SUT's PYTHONPATH alone (§12.20): shims need no PYTHONPATH, and the server is
told where the package is on its own command line.
"""
from __future__ import annotations

import os
import sys
import threading
import time

from .config import RcConfig, refuse_live_run
from .errors import CaptureMockError, for_the_caller
from .keptoutput import KeptOutput
from .modes import RECORD, REPLAY, is_active, parse_mode
from .sutenv import lookup, unset

TYPE_CHECKING = False  # typing is not imported at run time: ~3 ms of every capturemock command
if TYPE_CHECKING:
    import subprocess
    from typing import Callable, MutableMapping, Optional, Sequence

PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# -S: the server needs no site-packages; the package is found through the path given as argv[1]
_SERVER_BOOT = "import sys; sys.path.insert(0, sys.argv.pop(1)); from capturemock.server import main; main()"
# Only for a server that hangs: a healthy one gives requests in flight server.STOP_GRACE, writes all it
# recorded and exits well within this.
_STOP_TIMEOUT = 30.0


def _warn(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


_FRESH_RECORD_FILES: set[str] = set()  # record files this process has started empty


def _start_fresh(record_file: str, replay_file: Optional[str]) -> None:
    """A record file starts empty, as with the command (§10): 2.10 appended to a stale one. Only the first
    start in a process: a rig that restarts its server mid-test keeps what the first one recorded; and
    never the mock being replayed."""
    path = os.path.abspath(record_file)
    if path in _FRESH_RECORD_FILES or (replay_file and os.path.abspath(replay_file) == path):
        return
    if os.path.isdir(path) and not os.path.islink(path):
        return  # not a record file at all: the server's start-up check says so
    _FRESH_RECORD_FILES.add(path)
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
    except OSError as err:
        raise CaptureMockError(f"cannot replace the record file {path}: {err.strerror}") from None


class _Relay(threading.Thread):
    """Collects what the server writes to a pipe, so a chatty server never blocks on a full pipe.
    Started with the server: starting a thread takes milliseconds on a busy machine, and the server's
    boot hides them."""

    def __init__(self, stream):
        super().__init__(daemon=True)
        self.stream = stream
        self.kept = KeptOutput(b"")
        self.start()

    def run(self) -> None:
        self._collect()

    def _collect(self) -> None:
        with self.stream:  # closed at the end of the server's output
            for chunk in iter(lambda: self.stream.read1(65536), b""):
                self.kept.add(chunk)

    def text(self) -> str:
        self.join(1.0)
        return self.kept.joined().decode(errors="replace")


class _ServerOutput(_Relay):
    """The server's stdout: the first line is its address (empty if it could not start), the rest is
    relayed."""

    def __init__(self, stream):
        self.address = ""
        self._address_read = threading.Event()
        super().__init__(stream)

    def run(self) -> None:
        self.address = self.stream.readline().decode().strip()
        self._address_read.set()
        self._collect()

    def wait_address(self) -> str:
        self._address_read.wait()
        return self.address


class CaptureMockManager:
    """One traffic server and the shims that talk to it."""

    def __init__(self):
        self.process: Optional[subprocess.Popen] = None
        self.address: Optional[str] = None
        self.token: Optional[str] = None
        self.stderr_fn: Optional[Callable[[str], None]] = None
        self._output: Optional[_ServerOutput] = None
        self._errors: Optional[_Relay] = None
        self._record_file: Optional[str] = None

    def startServer(self, mode, recordFile: Optional[str], replayFile: Optional[str] = None,
                    recordEditDir: Optional[str] = None, replayEditDir: Optional[str] = None,
                    rcFiles: Sequence[str] = (), interceptDir: Optional[str] = None,
                    sutDirectory: Optional[str] = None, environment: Optional[MutableMapping[str, str]] = None,
                    stderrFn: Optional[Callable[[str], None]] = None, recordFromUrl: Optional[str] = None,
                    port: int = 0) -> bool:
        """Start the server and install shims; False (touching nothing) when inactive (§2.2)."""
        from .cmdline import shims

        mode = parse_mode(mode)
        if not is_active(mode, replayFile):
            refuse_live_run(rcFiles, mode, replayFile)
            return False
        self.terminate()  # a server still running from an earlier setUpServer: stopped, its traffic written
        environment = os.environ if environment is None else environment
        replaying = mode != RECORD and bool(replayFile) and os.path.isfile(replayFile)
        if recordFile:
            _start_fresh(os.path.join(sutDirectory or os.getcwd(), recordFile), replayFile if replaying else None)
        environment["CAPTUREMOCK_MODE"] = str(mode)
        unset(environment, "CAPTUREMOCK_PROCESS_START")  # §7.1: even if inherited (the caller may be a SUT)
        unset(environment, "CAPTUREMOCK_SERVER")
        self.token = os.urandom(16).hex()
        environment["CAPTUREMOCK_TOKEN"] = self.token
        args = ["-m", str(mode), "--parent-pipe"]
        args += ["--rcfiles", ",".join(rcFiles)] if rcFiles else []
        args += ["-r", recordFile] if recordFile else []
        args += ["-F", recordEditDir] if recordEditDir else []
        args += ["-p", replayFile] if replaying else []
        args += ["-f", replayEditDir] if replaying and replayEditDir else []
        args += ["-P", str(port)] if port else []
        args += ["--intercept-dir", interceptDir] if interceptDir else []
        args += _import_path(rcFiles)
        self._record_file = recordFile
        # The server boots while we read the rc files and prepare shims: start-up time counts.
        self._spawn(args, environment.copy(), sutDirectory or os.getcwd(), stderrFn)
        try:
            programs = self._programs(mode, rcFiles, replayFile if replaying else None)
            native = shims.native_shim() if programs and interceptDir else None
            self._await_address()
        except BaseException:
            self._kill()
            raise
        environment["CAPTUREMOCK_SERVER"] = self.address
        if programs and interceptDir:
            shims.install_shims(programs, interceptDir, native)
            environment["PATH"] = os.pathsep.join(p for p in (interceptDir, lookup(environment, "PATH")) if p)
        if recordFromUrl:
            self.sendServerLocation(recordFromUrl)
        return True

    def _rc_config(self, rc_files: Sequence[str]) -> RcConfig:
        """The rc files, read for the shims; their problems are warned about, once per process."""
        config = RcConfig(list(rc_files), warn=_warn)
        config.warn_unknown_settings(_warn)
        return config

    def _programs(self, mode: int, rc_files: Sequence[str], replay_file: Optional[str]) -> list[str]:
        """Programs to shim: all intercepts, or in pure replay those the replay file mentions (§5.2)."""
        from .cmdline import settings
        from .replaypolicy import sealed

        config = self._rc_config(rc_files)
        programs = settings.intercepted_programs(config, _warn)
        if replay_file and mode == REPLAY and not sealed(config):  # sealed: the server refuses the rest
            from . import mockfile  # here: its regexes cost a recording launcher ~10 ms

            programs = settings.mentioned_programs(programs, mockfile.read_text(replay_file))
        return programs

    def _spawn(self, args: list[str], env: dict, cwd: str, stderr_fn) -> None:
        import subprocess  # here: the capturemock command serves in its own process (threadserver)

        command = [sys.executable, "-S", "-c", _SERVER_BOOT, PACKAGE_PARENT, *args]
        self.process = subprocess.Popen(command, cwd=cwd, env={k: v for k, v in env.items() if v is not None},
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        start_new_session=True)
        self._output, self._errors = _ServerOutput(self.process.stdout), _Relay(self.process.stderr)
        self.stderr_fn = stderr_fn

    def _await_address(self) -> None:
        """The server's first stdout line is its address; no line means it could not start."""
        address = self._output.wait_address()
        if not address:
            self.process.wait()
            self._errors.join(_STOP_TIMEOUT)  # its stderr is closed: the relay ends as soon as it has read all
            error = self._errors.text().strip() or f"exit status {self.process.returncode}"
            self._kill()
            raise CaptureMockError(f"the CaptureMock server did not start: {error}")
        self.address = address

    def _kill(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            process.kill()
            process.wait()
            process.stdin.close()

    def terminate(self) -> bool:
        """Stop the server (no-op if none runs) and relay its output. The server gives requests still in
        flight a short grace (server.STOP_GRACE) and then writes everything recorded, so a program the
        SUT left running in the background costs the test at most that, and loses no other traffic.
        False, said in one line on stderr, when the server had died before it was told to stop (or
        failed to stop): the test ran without it from then on."""
        process, self.process = self.process, None
        if process is None:
            return True
        died = process.poll() is not None
        if not died and _is_broker_address(self.address):
            process.stdin.close()  # an AMQP server's address is the broker's: it stops when its parent pipe ends
        elif not died:
            try:
                self._send(f"TERMINATE_SERVER:{self.token}".encode())
            except OSError:
                pass
        # the server's stdout closes as it exits: joining its relay returns at once, where
        # Popen.wait(timeout) would poll with growing sleeps
        self._output.join(_STOP_TIMEOUT)
        killed = self._output.is_alive()
        if killed:
            process.kill()
            _warn(f"CaptureMock server did not stop within {_STOP_TIMEOUT:.0f} s and was killed")
        process.wait()
        process.stdin.close()
        self._report(self._output.text(), self._errors.text())
        if killed or process.returncode == 0:  # exit 0 before being told: a protocol's stop request (shutdownServer)
            return not killed
        self._report_death(f"killed by signal {-process.returncode}" if process.returncode < 0
                           else f"exit status {process.returncode}")
        return False

    def _report_death(self, how: str) -> None:
        kept = f" in {self._record_file}" if self._record_file else ""
        text = (f"CaptureMock server died unexpectedly ({how}); the traffic it recorded until then is "
                f"kept{kept}, later traffic was not intercepted")
        if self.stderr_fn:
            self.stderr_fn(text + "\n")
        else:
            _warn(text)

    def _report(self, output: str, errors: str) -> None:
        if output:
            sys.stdout.write(f"Output from CaptureMock Server :\n{output}")
            sys.stdout.flush()
        if errors:
            text = f"Error from CaptureMock Server :\n{errors}"
            if self.stderr_fn:
                self.stderr_fn(text)
            else:
                _warn(text.rstrip("\n"))

    def sendServerLocation(self, url: str) -> None:
        """Tell the server where the real server is (§8.2). Every protocol's server also accepts the
        classic ``SUT_SERVER:`` message and records it in its own form (e.g. HTTP's setServerLocation)."""
        if self.process is None or _is_broker_address(self.address):
            return  # AMQP: the SUT publishes to the broker, there is no real server to tell about
        try:
            self._send(f"SUT_SERVER:{url}".encode(), wait=True)
        except OSError as err:
            raise CaptureMockError(f"cannot reach the CaptureMock server at {self.address}: {err}") from None

    def _send(self, message: bytes, wait: bool = False) -> None:
        send_to_server(self.address, message, wait)


def _is_broker_address(address: Optional[str]) -> bool:
    """An AMQP server publishes ``<broker url>/<exchange>`` (§8.1), no address of its own."""
    return bool(address) and address.startswith(("amqp://", "amqps://"))


def send_to_server(address: str, message: bytes, wait: bool = False) -> None:
    """One message to a traffic server on its own connection (TCP for every protocol, §8.1); with
    ``wait`` until the server has handled it."""
    import socket  # here: the ``capturemock`` command's own server never needs it (enum, selectors)

    host, port = address.split("://")[-1].rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(message)
        sock.shutdown(socket.SHUT_WR)
        while wait and sock.recv(4096):
            pass


_manager = CaptureMockManager()


def setUpServer(*args, **kwargs) -> bool:
    """§7.1: start the traffic server and shims for a SUT; see ``CaptureMockManager.startServer``."""
    try:
        return _manager.startServer(*args, **kwargs)
    except CaptureMockError as err:
        raise for_the_caller(err) from None


def terminate() -> bool:
    """Stop the server started by ``setUpServer``, if any (TextTest calls this after every test). False
    when the server had died on its way (said on stderr)."""
    return _manager.terminate()


def _import_path(rc_files: Sequence[str]) -> list[str]:
    """The server runs without site-packages (``-S``: start-up time). Only a YAML rc file needs a
    library from there, pyyaml: then the server is told where we find it."""
    if not any(path.endswith((".yaml", ".yml")) for path in rc_files):
        return []
    from importlib.util import find_spec

    spec = find_spec("yaml")
    if spec is None or not spec.origin:
        return []  # the server says the module is missing, as we do
    return ["--import-path", os.path.dirname(os.path.dirname(spec.origin))]


def start_server_from_texttest(recordFromUrl: Optional[str] = None, **kwargs) -> dict:
    """Start a server from the ``TEXTTEST_CAPTUREMOCK_*`` variables; returns the SUT's environment."""
    env = os.environ.copy()
    rc_files = [f for f in env.get("TEXTTEST_CAPTUREMOCK_RCFILES", "").split(",") if f]
    mode = parse_mode(env.get("TEXTTEST_CAPTUREMOCK_MODE", "0"), "environment variable TEXTTEST_CAPTUREMOCK_MODE")
    _manager.startServer(mode, env.get("TEXTTEST_CAPTUREMOCK_RECORD"),
                         env.get("TEXTTEST_CAPTUREMOCK_REPLAY"),
                         recordEditDir=env.get("TEXTTEST_CAPTUREMOCK_RECORD_EDIT_DIR"),
                         replayEditDir=env.get("TEXTTEST_CAPTUREMOCK_REPLAY_EDIT_DIR"),
                         rcFiles=rc_files, environment=env, recordFromUrl=recordFromUrl, **kwargs)
    return env


def _remove_tree(path: str) -> None:
    """``shutil.rmtree`` of our own scratch directory (its shims, its Python set-up), without importing
    shutil (``re``, ``bz2``, ``lzma``: ~30 M instructions of every command). Links are removed, never
    followed; the first failure raises, as with rmtree."""
    def fail(err: OSError) -> None:
        raise err

    for folder, dirs, files in os.walk(path, topdown=False, onerror=fail):
        for name in files:
            os.remove(os.path.join(folder, name))
        for name in dirs:
            inner = os.path.join(folder, name)
            if os.path.islink(inner):
                os.remove(inner)
            else:
                os.rmdir(inner)
    os.rmdir(path)


def texttest_is_recording() -> bool:
    return os.environ.get("TEXTTEST_CAPTUREMOCK_MODE", "0") == "1" or "TEXTTEST_CAPTUREMOCK_REPLAY" not in os.environ


def replay_for_server(rcFile: Optional[str] = None, replayFile: Optional[str] = None,
                      recordFile: Optional[str] = None, serverAddress: Optional[str] = None,
                      replayEditDir: Optional[str] = None, recordEditDir: Optional[str] = None, **kwargs) -> None:
    """§8.10: send the recorded client traffic to a real server, recording what it answers."""
    from .clientserver.rig import replay_for_server as replay

    env = os.environ
    replay(rcFile if rcFile is not None else env.get("TEXTTEST_CAPTUREMOCK_RCFILES", ""),
           replayFile or env.get("TEXTTEST_CAPTUREMOCK_REPLAY"), recordFile or env.get("TEXTTEST_CAPTUREMOCK_RECORD"),
           serverAddress, replayEditDir or env.get("TEXTTEST_CAPTUREMOCK_REPLAY_EDIT_DIR"),
           recordEditDir or env.get("TEXTTEST_CAPTUREMOCK_RECORD_EDIT_DIR"), **kwargs)


def remove_dir_with_retry(path: str, max_attempts: int = 5, delay: float = 0.5) -> None:
    """rmtree, retrying with exponential back-off on PermissionError; warns instead of raising."""
    for attempt in range(max_attempts):
        try:
            _remove_tree(path)
            return
        except FileNotFoundError:
            return
        except PermissionError as err:
            if attempt == max_attempts - 1:
                _warn(f"WARNING: could not remove {path}: {err}")
                return
            time.sleep(delay * 2 ** attempt)
        except OSError as err:
            _warn(f"WARNING: could not remove {path}: {err}")
            return
