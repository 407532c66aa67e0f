"""The ``capturemock`` command's traffic server, in a thread of the command's own process (issue #16).

One interpreter instead of two: the rc files are read once, the listener is bound before the program
starts, and the traffic is served while the program runs. Shims and Python children reach the server
over its socket exactly as they reach the separate server process that ``setUpServer`` starts for
TextTest (``launcher.CaptureMockManager``), which stays as it is. What the server writes is collected
and shown when it stops, under the same headings as a server process's output; a server that fails
is reported as a server process that died.
"""
from __future__ import annotations

import sys
import threading

from . import server as traffic
from .errors import CaptureMockError
from .keptoutput import KeptOutput
from .launcher import _STOP_TIMEOUT, CaptureMockManager, _warn

TYPE_CHECKING = False  # typing is not imported at run time: ~3 ms of every capturemock command
if TYPE_CHECKING:
    from typing import Optional, Sequence

    from .config import RcConfig


class _Collected:
    """``sys.stdout`` or ``sys.stderr`` while the server runs. The launcher's thread writes straight
    through; every other thread is the server's (the program runs in a process of its own), and what
    it writes is kept to be shown when the server stops, as a server process's pipes were."""

    def __init__(self, stream):
        self.stream = stream
        self.kept = KeptOutput("")
        self._launcher = threading.get_ident()

    def write(self, text: str) -> int:
        if threading.get_ident() == self._launcher:
            return self.stream.write(text)
        self.kept.add(text)
        return len(text)

    def flush(self) -> None:
        if threading.get_ident() == self._launcher:
            self.stream.flush()

    def __getattr__(self, name: str):
        return getattr(self.stream, name)

    def text(self) -> str:
        return self.kept.joined()


class ThreadServerManager(CaptureMockManager):
    """``CaptureMockManager`` with the server in a thread: same start-up checks and messages, same
    shims and environment for the program, the rc files given already read."""

    def __init__(self, config: RcConfig):
        super().__init__()
        self._config = config
        self._server: Optional[traffic.TrafficServer] = None
        self._thread: Optional[threading.Thread] = None
        self._failure = ""  # why the server could not start
        self._status = 0  # 1 once the server has failed
        self._streams: Optional[tuple[_Collected, _Collected]] = None

    def _rc_config(self, rc_files: Sequence[str]) -> RcConfig:
        return self._config

    def _spawn(self, args: list[str], env: dict, cwd: str, stderr_fn) -> None:
        """Check and bind as the server process would; a failure is kept for ``_await_address``, so
        that the launcher's own checks are reported first, as with a server process. ``cwd`` is ours:
        the command's program runs in its working directory."""
        self.stderr_fn = stderr_fn
        options = traffic.parse_options(args)
        try:
            server, config, mode = traffic.listen(options, self.token, self._config)
        except CaptureMockError as err:
            self._failure = str(err)
            return
        self._server = server
        self._streams = _Collected(sys.stdout), _Collected(sys.stderr)
        sys.stdout, sys.stderr = self._streams
        # imported here, before the server thread, which loads the replay modules (array imports it) while
        # this thread may import subprocess (selectors imports it): Python 3.13.0's collections/abc.py puts
        # another module in its place in sys.modules, and a thread importing it meanwhile can get the first,
        # without Mapping (CPython gh-125245, fixed in 3.13.1). The same import either way, only earlier.
        import collections.abc  # noqa: F401
        self._thread = threading.Thread(target=self._serve, args=(server, config, mode, options, env), daemon=True,
                                        name="capturemock-server")
        self._thread.start()

    def _serve(self, server: traffic.TrafficServer, config: RcConfig, mode: int, options: dict, env: dict) -> None:
        """The server thread: what the server process's ``main`` does after publishing its address."""
        try:
            traffic.serve(server, config, mode, options, self.token, env)
        except CaptureMockError as err:
            self._fail(server, f"{err}\n")
        except BaseException:
            import traceback

            self._fail(server, traceback.format_exc())
        else:
            if server.failure:
                self._fail(server, f"{server.failure}\n")

    def _fail(self, server: traffic.TrafficServer, text: str) -> None:
        server.close()  # peers are refused from now on, as by a server process that exited
        sys.stderr.write(text)
        self._status = 1

    def _await_address(self) -> None:
        if self._failure:
            raise CaptureMockError(f"the CaptureMock server did not start: {self._failure}")
        self.address = self._server.address

    def _kill(self) -> None:
        """The launcher failed on the way: stop serving, dropping what the server said."""
        if self._stop() is not None:
            self._restore_streams()

    def _stop(self) -> Optional[threading.Thread]:
        """Stop the server and wait for it to write what it recorded; its thread (None if none served)."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._server.stop()
            thread.join(_STOP_TIMEOUT)
        return thread

    def _restore_streams(self) -> tuple[str, str]:
        output, errors = self._streams
        self._streams = None
        sys.stdout, sys.stderr = output.stream, errors.stream
        return output.text(), errors.text()

    def terminate(self) -> bool:
        """Stop the server and show what it wrote; False, said in one line on stderr, when it had failed
        on the way (its traffic until then is recorded) or does not stop."""
        thread = self._stop()
        if thread is None:
            return True
        self._report(*self._restore_streams())
        if thread.is_alive():
            _warn(f"CaptureMock server did not stop within {_STOP_TIMEOUT:.0f} s")
            return False
        if self._status:
            self._report_death("it failed, as said above")
        return not self._status
