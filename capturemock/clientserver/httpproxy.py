"""HTTP (§8.5): CaptureMock as an HTTP server between the client and the real server.

GET, POST, PUT, PATCH and DELETE are traffic: forwarded and recorded, or answered from the mock.
OPTIONS preflights are answered here (200, wildcard CORS) and never recorded. ``POST
/capturemock/setServerLocation`` (body: the real server's URL) says where the real server is. Rules
added at run time (``httprules``, over ``rulesapi``) answer before the mock file or the real server, and
are recorded like any other answer. Every traffic answer carries ``Access-Control-Allow-Origin: *`` and
``Access-Control-Expose-Headers: *`` (§8.5, for SUTs running in a browser).

The control endpoints (location, rules) carry no CORS header, so no web page can read their answers
or preflight a request to them; a web page can still *send* a simple POST, so the location message is
guarded as well (``httpwire.location_refusal``): refused with 403 when it needs the token and lacks it.
"""
from __future__ import annotations

import threading
from typing import Callable, Optional

from ..config import RcConfig
from ..errors import CaptureMockReplayError
from ..mockfile import Item
from . import httptext, httpwire
from .classic import decode
from .httpforward import Destination
from .httpmatch import EquivalentRequests
from .httprules import Rules
from .httptext import HOP_BY_HOP, Headers, Message
from .idmap import IdMap, compile_pattern, find_id
from .location import warn
from .repeats import Repeats
from .replayfiles import ReplayFiles
from .rulesapi import RulesEndpoint, is_rules_path
from .sealing import Seal
from .serverlog import QUIET, QuietLog
from .settings import Settings
from .traffic import Transcript

Record = Callable[[str], None]
LOCATION_PATH = "/capturemock/setServerLocation"
LOCATION_TEXT = f"POST {LOCATION_PATH} <address>"
CORS = [("Access-Control-Allow-Origin", "*"), ("Access-Control-Expose-Headers", "*")]
CORS_NAMES = {name.lower() for name, _ in CORS}
PREFLIGHT = [("Access-Control-Allow-Methods", "*"), ("Access-Control-Allow-Headers", "*")]
REFUSED = Message("403", b"CaptureMock: refused: see the server's stderr\n", [("Content-Type", "text/plain")])
# sealed replay refused to forward a request to the real server: the reason is in the body
SEALED_STATUS = "500"


def header_name(name: str) -> str:
    """Client header names as the original records them (``X-client-version`` -> ``X-Client-Version``)."""
    return "-".join(part.capitalize() for part in name.split("-"))


def merge(defaults: Headers, actual: Headers) -> Headers:
    """``[default_http_headers]`` under the request's own headers (case-insensitive names)."""
    given = {name.lower() for name, _ in actual}
    return [(name, value) for name, value in defaults if name.lower() not in given] + actual


class HttpSession(httpwire.WireSession):
    """The HTTP handlers of one server session."""

    def __init__(self, settings: Settings, config: RcConfig, transcript: Transcript,
                 replay: Optional[ReplayFiles] = None, token: Optional[str] = None, seal: Optional[Seal] = None,
                 log: QuietLog = QUIET):
        self.settings = settings
        self.transcript = transcript
        self.replay = replay
        self.seal = seal  # sealed replay: a request the mock does not answer is never forwarded
        self.log = log
        self.destination: Optional[Destination] = None
        self.defaults = list(config.options("default_http_headers").items())
        self.repeats: Repeats = Repeats(config, settings.assume_all_can_modify)
        self.id_pattern = settings.id_pattern_client and compile_pattern(settings.id_pattern_client,
                                                                         "id_pattern_client")
        self.ids = IdMap()
        self._replay_lock = threading.Lock()
        self._equivalents: Optional[EquivalentRequests] = None  # built on the first exact miss
        self.rules = Rules()
        self.token = token
        self.rules_endpoint = RulesEndpoint(self.rules, token)

    # -- handlers (``__call__`` and ``location_message`` come from httpwire.WireSession) ----------------
    def locate(self, url: str, record: Record, headers: Headers = (), request_line: Optional[str] = None) -> bool:
        """Point the proxy at the real server, if this message may (``httpwire.location_refusal``);
        whether it did. ``request_line``: it came as an HTTP request (logged as 2.10 logged it)."""
        target = url.split()[-1] if url.split() else ""
        current = self.destination.url if self.destination is not None else None
        refused = httpwire.refused(httpwire.location_refusal(headers, self.token, current, target))
        if request_line is not None:
            self.log.control(request_line, int(REFUSED.first) if refused else 200)
        if refused:
            return False
        self.log.processing(self.log.location, LOCATION_TEXT)
        try:
            self.destination = Destination(target)
        except ValueError:
            warn(f"WARNING: CaptureMock cannot use {url!r} as the real server's location")
        record(self.transcript.location(LOCATION_TEXT))
        return True

    # -- traffic ----------------------------------------------------------------------------------------
    def answer(self, method: str, path: str, body: bytes, headers: Headers, record: Record) -> Optional[Message]:
        """The response for one request; None when there is none to give (§2.5, §8.2)."""
        sent = merge(self.defaults, [(header_name(name), value) for name, value in headers])
        text = self._text(Message(f"{method} {path}", body, sent))
        self.log.processing(self.log.client, text)
        if not self.transcript.server_is_sut:  # rules stand in for the server, never for a SUT server
            ruled = self.rules.answer(method, path, body, headers)
            if ruled is not None:
                answer = self._text(ruled)
                record(self.transcript.client(text) + self.transcript.server(answer))
                self.log.responded(self.log.server, answer)
                return ruled
        if self.replay is not None and not self.transcript.server_is_sut:
            return self._replay(method, text, record)
        if self.seal is not None and self.destination is not None:
            refusal = self.seal.refuse(f"{method} {path}", self.destination.url)
            return Message(SEALED_STATUS, f"{refusal}\n".encode(), [("Content-Type", "text/plain")])
        return self._forward(method, path, body, sent, text, record)

    def _text(self, message: Message) -> str:
        kept = httptext.recorded_headers(message.headers, self.settings.ignore_http_headers)
        return httptext.render(message._replace(headers=kept), self.settings.preserve_cr)

    def _replay(self, method: str, text: str, record: Record) -> Optional[Message]:
        previous = self.repeats.previous(method, text)
        if previous is not None:
            return previous  # §5.6: answered as before, not recorded again
        try:
            with self._replay_lock:
                key, group = self._match(self.transcript.request_key(text))
        except CaptureMockReplayError as err:
            return Message("500", f"CAPTUREMOCK MISMATCH: {err}".encode(), [("Content-Type", "text/plain")])
        replies = [self.transcript.alter(item.text) for item in group if not item.from_sut]
        if self.id_pattern and key:  # §5.7
            self.ids.add(find_id(self.id_pattern, key.split(":", 1)[1]), find_id(self.id_pattern, text))
            replies = [self.ids.to_live(reply) for reply in replies]
        record(self.transcript.client(text) + "".join(self.transcript.server(r, altered=True) for r in replies))
        for reply in replies:
            self.log.responded(self.log.server, reply)
        if not replies:
            return None
        response = httptext.parse(replies[0], is_response=True)
        self.repeats.served(method, text, response)
        return response

    def _match(self, description: str) -> tuple[Optional[str], list[Item]]:
        """The recorded request answering ``description`` (§5.3) and its next response group: the same
        request, else one equal but for query-parameter order and JSON formatting (the same request
        for ``on_best_match``), else the best match."""
        index = self.replay.index
        if index.exact:
            return description, index.lookup(description) or []  # a miss raises CaptureMockReplayError
        group = index.lookup_exact(description)
        if group is not None:
            return description, group
        if self._equivalents is None:
            self._equivalents = EquivalentRequests(index.keys())
        key = self._equivalents.find(description)
        if key is not None:
            return key, index.lookup_exact(key) or []
        key, group = index.borrow(description)
        return key, group or []

    def _forward(self, method: str, path: str, body: bytes, headers: Headers, text: str,
                 record: Record) -> Optional[Message]:
        if self.destination is None:
            record(self.transcript.client(text))
            return None
        previous = self.repeats.previous(method, text)
        try:
            response = self.destination.send(method, path, body, headers)
        except OSError as err:
            warn(f"Failed to forward http traffic to server {self.destination.url}: {err}")
            return None
        answer = self._text(response)
        if answer != previous:  # §5.6: an identical repeat is not written again
            record(self.transcript.client(text) + self.transcript.server(answer))
        self.log.responded(self.log.server, answer)
        self.repeats.served(method, text, answer)
        return response

    # -- replay as the client when the server is the SUT (§8.2) ---------------------------------------
    def _play(self, record: Record) -> None:
        script = self.replay.script if self.replay is not None else None
        if script is not None and self.transcript.server_is_sut and self.destination is not None:
            script.play(lambda item: self._play_request(item, record))

    def _play_request(self, item: Item, record: Record) -> str:
        request = httptext.parse(self.transcript.alterations.restore_variables(item.text))
        method, _, path = request.first.partition(" ")
        response = self._forward(method, path, request.body, request.headers, item.text, record)
        return response.first if response is not None else ""



class _Request(httpwire.ConnectionHandler):
    located = False

    def do_OPTIONS(self) -> None:
        """A browser's preflight: allowed for traffic, never for the control endpoints."""
        if self.path == LOCATION_PATH or is_rules_path(self.path):
            self._send(REFUSED, cors=False)
        else:
            self._send(Message("200", b"", PREFLIGHT))

    def do_GET(self) -> None:
        self._traffic()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _traffic(self) -> None:
        session, record = self.server.session, self.server.record
        try:
            body = self.read_body()
        except ValueError as err:
            self.send_error(400, str(err))
            return
        if is_rules_path(self.path):
            self._send(session.rules_endpoint.handle(self.command, self.path, body, self.headers.items()), cors=False)
            return
        if self.path == LOCATION_PATH and self.command == "POST":
            self.located = session.locate(decode(body).strip(), record, list(self.headers.items()), self.requestline)
            self._send(Message("200", b"", []) if self.located else REFUSED, cors=False)
            return
        response = session.answer(self.command, self.path, body, list(self.headers.items()), record)
        if response is not None:
            self._send(response)

    def _send(self, response: Message, cors: bool = True) -> None:
        """Status, headers (ours for CORS, on traffic only, and length), body (§8.5)."""
        try:
            status = int(response.first)
        except ValueError:
            warn(f"CaptureMock: {response.first!r} is not an HTTP status; answering 500")
            status = 500
        self.send_response_only(status)
        for name, value in response.headers:
            if name.lower() not in HOP_BY_HOP and name.lower() not in CORS_NAMES:
                self.send_header(name, value)
        for name, value in CORS if cors else ():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)


HttpSession.request_handler = _Request
