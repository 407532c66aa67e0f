"""XML-RPC (§8.6): any method name is traffic; ``setServerLocation(url)`` says where the real server is.

Calls are written ``method(arg, ...)`` with the §4.2 value rendering (one argument has no trailing
comma), results pretty-printed, faults as ``raise xmlrpclib.Fault(code, 'text')``. Replay rebuilds
values with the safe parser of ``capturemock.values`` (never ``eval``). Unlike the original, a replayed
Fault is re-recorded with its ``raise``, and a single struct argument stays one argument.
"""
from __future__ import annotations

import threading
import xmlrpc.client
from typing import Any, Callable, Iterable, Optional

from ..errors import CaptureMockReplayError, MockFileError
from ..mockfile import Item
from ..values import Raised, ValueParser, render
from . import httpwire
from .classic import decode
from .location import warn
from .replayfiles import ReplayFiles
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


class XmlRpcSession(httpwire.WireSession):
    """The XML-RPC handlers of one server session."""

    def __init__(self, transcript: Transcript, replay: Optional[ReplayFiles] = None, token: Optional[str] = None,
                 seal: Optional[Seal] = None, log: QuietLog = QUIET):
        self.transcript = transcript
        self.replay = replay
        self.token = token
        self.seal = seal  # sealed replay: a call the mock does not answer is never forwarded
        self.log = log
        self.destination: Optional[str] = None
        self._replay_lock = threading.Lock()

    # -- handlers (``__call__`` and ``location_message`` come from httpwire.WireSession) ----------------
    def locate(self, url: str, record: Record, headers: Iterable[tuple[str, str]] = ()) -> bool:
        """Where the real server is, if this message may say so (``httpwire.location_refusal``: a web
        page can send an XML-RPC call as a simple POST); whether it was taken."""
        target = url.split()[-1] if url.split() else None
        if httpwire.refused(httpwire.location_refusal(headers, self.token, self.destination, target or "")):
            return False
        self.destination = target
        self.log.processing(self.log.location, f"{LOCATION_METHOD}(<address>)")
        record(self.transcript.location(f"{LOCATION_METHOD}(<address>)"))
        return True

    # -- traffic ----------------------------------------------------------------------------------------
    def answer(self, method: str, params: tuple, record: Record) -> Any:
        """The result (or Fault) for one call; None when there is nothing to answer (§2.5, §8.2)."""
        params = tuple(_plain(param) for param in params)
        text = call_text(method, params)
        self.log.processing(self.log.client, text)
        if self.replay is not None and not self.transcript.server_is_sut:
            return self._replay(text, record)
        if self.seal is not None and self.destination is not None:
            return xmlrpc.client.Fault(1, self.seal.refuse(text, self.destination))
        return self._forward(text, method, params, record)

    def _replay(self, text: str, record: Record) -> Any:
        try:
            with self._replay_lock:
                group = self.replay.index.lookup(self.transcript.request_key(text)) or []
        except CaptureMockReplayError as err:
            return xmlrpc.client.Fault(1, f"CAPTUREMOCK MISMATCH: {err}")
        replies = [item._replace(text=self.transcript.alter(item.text)) for item in group if not item.from_sut]
        record(self.transcript.client(text) +
               "".join(self.transcript.server(item.text, altered=True) for item in replies))
        for item in replies:
            self.log.responded(self.log.server, item.text)
        if not replies:
            return None
        return self._value(replies[0])

    def _value(self, item: Item) -> Any:
        try:
            value = PARSER.parse(item.text, self.replay.path, item.line)
        except MockFileError as err:
            warn(f"CaptureMock: {err}")
            return xmlrpc.client.Fault(1, f"CaptureMock: {err}")
        return value.exception if isinstance(value, Raised) else value

    def _forward(self, text: str, method: str, params: tuple, record: Record) -> Any:
        if self.destination is None:
            record(self.transcript.client(text))
            return None
        proxy = xmlrpc.client.ServerProxy(self.destination, allow_none=True, use_builtin_types=True)
        try:
            result = getattr(proxy, method)(*params)
            answer = render(result)
        except xmlrpc.client.Fault as fault:
            result, answer = fault, fault_text(fault)
        except (OSError, xmlrpc.client.ProtocolError) as err:
            warn(f"WARNING: Could not forward to server {self.destination}: {err}\n-- {text}")
            return None
        record(self.transcript.client(text) + self.transcript.server(answer))
        self.log.responded(self.log.server, answer)
        return result

    # -- replay as the client when the server is the SUT (§8.2) ---------------------------------------
    def _play(self, record: Record) -> None:
        script = self.replay.script if self.replay is not None else None
        if script is not None and self.transcript.server_is_sut:
            script.play(lambda item: self._play_call(item, record))

    def _play_call(self, item: Item, record: Record) -> str:
        text = self.transcript.alterations.restore_variables(item.text)
        try:
            method, args, _ = PARSER.parse_call(text, None, item.line)
        except MockFileError as err:
            warn(f"CaptureMock: {err}")
            return ""
        result = self._forward(item.text, method, tuple(args), record)
        if result is None:
            return ""
        return fault_text(result) if isinstance(result, xmlrpc.client.Fault) else render(result)



class _Request(httpwire.ConnectionHandler):
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
            result = "" if self.located else xmlrpc.client.Fault(1, "CaptureMock: refused: see the server's stderr")
        elif method == SHUTDOWN_METHOD:
            result = xmlrpc.client.Fault(1, "CaptureMock: stop the server with capturemock.terminate()")
        else:
            try:
                result = session.answer(method, params, record)
            except RecursionError:  # rendering or matching arguments nested deeper than Python's stack
                warn(f"CaptureMock: refused an XML-RPC call of {method!r}: its arguments are nested too deeply")
                result = xmlrpc.client.Fault(1, "CaptureMock: refused: arguments nested too deeply")
            if result is None:
                return  # §2.5: no answer, the connection is closed
        self._send(result)

    def _send(self, result: Any) -> None:
        if isinstance(result, xmlrpc.client.Fault):
            body = xmlrpc.client.dumps(result, methodresponse=True, allow_none=True)
        else:
            body = xmlrpc.client.dumps((result,), methodresponse=True, allow_none=True)
        data = body.encode("utf-8", "xmlcharrefreplace")
        self.send_response(200)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


XmlRpcSession.request_handler = _Request
