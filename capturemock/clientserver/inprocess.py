"""A traffic server in a thread of the test's own process (the ``capturemock_server`` fixture).

The same server as ``python -m capturemock.server`` (``TrafficServer``, the protocol's session,
arrival-order recording), without the process: starting takes no interpreter start-up, and the
test's Python callables can answer requests (``httprules``), which no rule sent over HTTP can carry.
It listens on 127.0.0.1 only and has a session token of its own.
"""
from __future__ import annotations

import secrets
import threading
from typing import Any, Optional

from ..config import RcConfig
from ..launcher import send_to_server
from ..mockfile import MockWriter
from ..server import STOP, ArrivalOrder, Dispatcher, TrafficServer
from .session import traffic_handlers
from .settings import Settings, published_address

STOP_TIMEOUT = 10.0  # seconds to wait for the serving thread: longer than server.STOP_GRACE


class InProcessServer:
    """Serves from construction until ``stop``: ``url`` to point the client at, ``token`` to change
    rules, ``rules`` (HTTP only) to add callables directly."""

    def __init__(self, mode: int, rc_files: list[str], record: Optional[str], replay: Optional[str] = None):
        config = RcConfig(rc_files)
        protocol = Settings(config).protocol  # an rc file's mistake stops us before we listen
        self.token = secrets.token_hex(16)
        self._server = TrafficServer(self.token)
        self.url = published_address(protocol, self._server.address)
        self._traffic = traffic_handlers(mode, config, {"record": record or "", "replay": replay or ""}, self.url,
                                         self._server.stop, self.token)
        dispatcher = Dispatcher(self._traffic.fallback)
        dispatcher.register(STOP, self._server.handle_stop)
        for prefix, handler in self._traffic.prefixed:
            dispatcher.register(prefix, handler)
        writer = MockWriter(record) if record else None
        order = ArrivalOrder(writer.write_parts if writer else lambda text: None)
        self._thread = threading.Thread(target=self._server.serve, daemon=True, name="capturemock-server",
                                        args=(dispatcher, order, writer.close if writer else lambda: None))
        self._thread.start()

    @property
    def rules(self) -> Any:
        """The HTTP session's ``httprules.Rules`` (None for other protocols)."""
        return getattr(self._traffic.fallback, "rules", None)

    def forward_to(self, url: str) -> None:
        """Where the real server is: requests no rule or mock answers go there (and are recorded)."""
        send_to_server(self.url, f"SUT_SERVER:{url}".encode(), wait=True)

    def stop(self) -> list[str]:
        """Stop serving (requests in flight get ``server.STOP_GRACE``), write what was recorded; the
        end-of-replay report lines (``on_best_match = warn``, ``report_unused``)."""
        self._server.stop()
        self._thread.join(STOP_TIMEOUT)
        return self._traffic.report()
