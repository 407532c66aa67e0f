"""XML-RPC (§8.6): any method name is traffic; ``setServerLocation(url)`` says where the real server is.

Calls are written ``method(arg, ...)`` with the §4.2 value rendering (one argument has no trailing
comma), results pretty-printed, faults as ``raise xmlrpclib.Fault(code, 'text')``. Replay rebuilds
values with the safe parser of ``capturemock.values`` (never ``eval``). Unlike the original, a replayed
Fault is re-recorded with its ``raise``, and a single struct argument stays one argument. Connections
are persistent both ways (HTTP/1.1), as ``xmlrpc.client.ServerProxy`` keeps its connection: a client
pays one connect per session, not one per call, and so does the recording proxy to the real server.
"""
from __future__ import annotations

import threading
import xmlrpc.client
from typing import Any, Callable, Iterable, Optional, Union

from ..errors import MockFileError
from ..mockfile import Item
from ..values import Raised, ValueParser, render
from . import httpwire
from .classic import decode
from .exchange import Exchange, ForwardError
from .location import warn
from .replayfiles import ReplayFiles
from .rulesapi import has_token
from .sealing import Seal
from .serverlog import QUIET, QuietLog
from .traffic import Transcript

Record = Callable[[str], None]
LOCATION_METHOD = "setServerLocation"
SHUTDOWN_METHOD = "shutdownCaptureMockServer"
_CLASSES = {"Fault": xmlrpc.client.Fault, "DateTime": xmlrpc.client.DateTime, "Binary": xmlrpc.client.Binary}
# `xmlrpclib.Fault` is what the original writes (its Python 2 name); `xmlrpc.client.Fault` is accepted too
_NAMES = {f"{module}.{name}": cls for module in ("xmlrpclib", "xmlrpc.client") for name, cls in _CLASSES.items()}


class _Names:
    """The only names an XML-RPC mock may use beyond literals and the value modules."""

    def lookup_name(self, name: str) -> Any:
        raise KeyError(name)

    make_instance = make_callback = lookup_name

    def resolve_class(self, dotted: str) -> Optional[type]:
        return _NAMES.get(dotted)

    def exception_class(self, dotted: str) -> Optional[type]:
        return None  # no intercepted modules: a Fault is the only exception


PARSER = ValueParser(_Names())


def call_text(method: str, params: tuple) -> str:
    return f"{method}({', '.join(render(param) for param in params)})"


def fault_text(fault: xmlrpc.client.Fault) -> str:
    return f"raise xmlrpclib.Fault({fault.faultCode}, {fault.faultString!r})"


def _plain(value: Any) -> Any:
    """Parameters as the original records them: bytes become text (§8.6)."""
    if isinstance(value, (bytes, bytearray)):
        return decode(bytes(value))
    if isinstance(value, list):
        return [_plain(element) for element in value]
    if isinstance(value, dict):
        return {key: _plain(element) for key, element in value.items()}
    return value


Call = tuple[str, tuple]  # method name and parameters
Result = Union[tuple, xmlrpc.client.Fault]  # the one-value tuple of a result (which may be None), or a Fault


class XmlRpcSession(httpwire.WireSession, Exchange[Call, Result]):
    """The XML-RPC handlers of one server session."""

    destination: Optional[str] = None

    def __init__(self, transcript: Transcript, replay: Optional[ReplayFiles] = None, token: Optional[str] = None,
                 seal: Optional[Seal] = None, log: QuietLog = QUIET, stop: Callable[[], None] = lambda: None):
        super().__init__(transcript, replay, seal, log)
        self.token = token
        self.stop = stop
        self._proxies: Optional[Proxies] = None

    # -- handlers (``__call__`` and ``location_message`` come from httpwire.WireSession) ----------------
    def locate(self, url: str, record: Record, headers: Iterable[tuple[str, str]] = ()) -> bool:
        """Where the real server is, if this message may say so (``httpwire.location_refusal``: a web
        page can send an XML-RPC call as a simple POST); whether it was taken."""
        target = url.split()[-1] if url.split() else None
        if httpwire.refused(httpwire.location_refusal(headers, self.token, self.destination, target or "")):
            return False
        self.destination = target
        self._proxies = None if target is None else Proxies(target)
        self.log.processing(self.log.location, f"{LOCATION_METHOD}(<address>)")
        record(self.transcript.location(f"{LOCATION_METHOD}(<address>)"))
        return True

    def answer(self, method: str, params: tuple, record: Record) -> Optional[Result]:
        """The result (or Fault) for one call; None when there is nothing to answer (§2.5, §8.2)."""
        params = tuple(_plain(param) for param in params)
        return self.exchange(call_text(method, params), (method, params), record)

    # -- the exchange hooks ---------------------------------------------------------------------------
    def mismatch(self, reason: str) -> Result:
        return xmlrpc.client.Fault(1, reason)

    def failed(self, status: str, line: str) -> Result:
        return xmlrpc.client.Fault(1, line)

    def decode(self, replies: list[Item]) -> Result:
        item = replies[0]
        try:
            value = PARSER.parse(item.text, self.replay.path, item.line)
        except MockFileError as err:
            warn(f"CaptureMock: {err}")
            return xmlrpc.client.Fault(1, f"CaptureMock: {err}")
        return value.exception if isinstance(value, Raised) else (value,)

    def send(self, wire: Call) -> tuple[Result, str]:
        return self._proxies.call(wire)

    def recorded_request(self, text: str, item: Item) -> Optional[Call]:
        try:
            return recorded_call(text, item.line)
        except MockFileError as err:
            warn(f"CaptureMock: {err}")
            return None


def recorded_call(text: str, line: int = 0) -> Call:
    """A recorded call (``method(arg, ...)``) rebuilt without eval; MockFileError if it is no call."""
    method, args, _ = PARSER.parse_call(text, None, line)
    return method, tuple(args)


class Proxies:
    """Proxies to one real server, kept between calls: each keeps its connection open (when the server
    speaks HTTP/1.1). A ServerProxy serves one call at a time, so calls in flight together take one each."""

    def __init__(self, url: str):
        self.url = url
        self._idle: list[xmlrpc.client.ServerProxy] = []
        self._lock = threading.Lock()

    def call(self, call: Call) -> tuple[Result, str]:
        """``call_real`` on a kept proxy; one that failed is closed, not kept."""
        with self._lock:
            proxy = self._idle.pop() if self._idle else None
        if proxy is None:
            proxy = _proxy(self.url)
        try:
            answer = call_real(self.url, call, proxy)
        except BaseException:
            proxy("close")()
            raise
        with self._lock:
            self._idle.append(proxy)
        return answer


def _proxy(url: str) -> xmlrpc.client.ServerProxy:
    return xmlrpc.client.ServerProxy(url, allow_none=True, use_builtin_types=True)


def call_real(url: str, call: Call, proxy: Optional[xmlrpc.client.ServerProxy] = None) -> tuple[Result, str]:
    """Make the call on the real server (through ``proxy``, else a new one): its result (or Fault) and
    that as recorded; ForwardError when the server cannot be reached."""
    method, params = call
    proxy = proxy or _proxy(url)
    try:
        result = getattr(proxy, method)(*params)
    except xmlrpc.client.Fault as fault:
        return fault, fault_text(fault)
    except (OSError, xmlrpc.client.ProtocolError) as err:
        text = call_text(method, params)
        raise ForwardError(f"WARNING: Could not forward to server {url}: {err}\n-- {text}") from None
    return (result,), render(result)


class _Request(httpwire.ConnectionHandler):
    protocol_version = "HTTP/1.1"  # persistent connections, as ServerProxy keeps its own
    located = False

    def do_POST(self) -> None:
        session, record = self.server.session, self.server.record
        try:
            params, method = xmlrpc.client.loads(self.read_body(), use_builtin_types=True)
        except (ValueError, xmlrpc.client.ResponseError) as err:
            self.send_error(400, f"not an XML-RPC call: {err}")
            return
        session.log.received_call(method, params)
        if method == LOCATION_METHOD:
            self.located = session.locate(str(params[0]) if params else "", record, list(self.headers.items()))
            self.close_connection = self.close_connection or self.located  # the session plays once it is closed
            result = ("",) if self.located else xmlrpc.client.Fault(1, "CaptureMock: refused: see the server's stderr")
        elif method == SHUTDOWN_METHOD:  # as 2.10: stops the server; a web page needs the token
            headers = list(self.headers.items())
            if httpwire.refused(f"{SHUTDOWN_METHOD} sent by a browser" if httpwire.from_browser(headers)
                                and not has_token(headers, session.token) else ""):
                result = xmlrpc.client.Fault(1, "CaptureMock: refused: see the server's stderr")
            else:
                session.stop()
                result = ("",)
        else:
            try:
                result = session.answer(method, params, record)
            except RecursionError:  # rendering or matching arguments nested deeper than Python's stack
                warn(f"CaptureMock: refused an XML-RPC call of {method!r}: its arguments are nested too deeply")
                result = xmlrpc.client.Fault(1, "CaptureMock: refused: arguments nested too deeply")
            if result is None:
                self.close_connection = True  # §2.5: no answer, the connection is closed
                return
        self._send(result)

    def _send(self, result: Result) -> None:
        body = xmlrpc.client.dumps(result, methodresponse=True, allow_none=True)
        data = body.encode("utf-8", "xmlcharrefreplace")
        self.send_response(200)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(data)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)


XmlRpcSession.request_handler = _Request
