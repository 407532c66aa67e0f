"""HTTP (§8.5): CaptureMock as an HTTP server between the client and the real server.

GET, HEAD, POST, PUT, PATCH and DELETE are traffic: forwarded and recorded, or answered from the mock.
OPTIONS preflights are answered here (200, wildcard CORS) and never recorded. ``POST
/capturemock/setServerLocation`` (body: the real server's URL) says where the real server is; ``GET
/capturemock/shutdownServer`` stops the server, ``POST /capturemock/sendPathRedirect/<prefix>`` redirects a path
prefix elsewhere (``httpredirect``) and ``POST /capturemock/addAlterations`` (body: an rc
file's path) merges one more rc file (default headers, alterations), as in 2.10: neither is recorded. Rules
added at run time (``httprules``, over ``rulesapi``) answer before the mock file or the real server, and
are recorded like any other answer. Every traffic answer carries ``Access-Control-Allow-Origin: *`` and
``Access-Control-Expose-Headers: *`` (§8.5, for SUTs running in a browser).

The control endpoints (location, rules) carry no CORS header, so no web page can read their answers
or preflight a request to them; a web page can still *send* a simple POST, so the location message is
guarded as well (``httpwire.location_refusal``): refused with 403 when it needs the token and lacks it.
"""
from __future__ import annotations

import os
import threading
from urllib.parse import urlsplit, urlunsplit

from ..alterations import Alterations
from ..config import GENERAL, RcConfig
from ..errors import ConfigError
from ..mockfile import Item
from . import httpattachments, httplean, httpmultipart, httptext, httpwire
from .classic import decode
from .exchange import NO_REPLY, Exchange, ForwardError
from .httpanswer import VERSION, body_chunks, response_head
from .httpforward import Destination
from .httpmatch import EquivalentRequests
from .httpredirect import REDIRECT_PATH, PathRedirects
from .httprules import Rules
from .httptext import Headers, Message
from .httpwire import CONTROL_PREFIX
from .idmap import IdMap, compile_pattern, find_id
from .location import warn
from .repeats import Repeats
from .replayfiles import ReplayFiles
from .rulesapi import RulesEndpoint, has_token, is_rules_path
from .sealing import Seal
from .serverlog import QUIET, QuietLog
from .settings import Settings
from .traffic import Transcript

TYPE_CHECKING = False  # typing is not imported at run time: ~20 M instructions of the HTTP server's start-up
if TYPE_CHECKING:
    from typing import Callable, Optional

    from .httpforward import Relay

    Record = Callable[[str], None]

LOCATION_PATH = "/capturemock/setServerLocation"
SHUTDOWN_PATH = "/capturemock/shutdownServer"  # GET: stop the server, as the launcher's stop message does
ALTERATIONS_PATH = "/capturemock/addAlterations"  # POST, body: an rc file to merge (e.g. default headers)
OK = Message("200", b"", [])
LOCATION_TEXT = f"POST {LOCATION_PATH} <address>"
PREFLIGHT = [("Access-Control-Allow-Methods", "*"), ("Access-Control-Allow-Headers", "*")]
REFUSED = Message("403", b"CaptureMock: refused: see the server's stderr\n", [("Content-Type", "text/plain")])


def header_name(name: str) -> str:
    """Client header names as the original records them (``X-client-version`` -> ``X-Client-Version``)."""
    recorded = _HEADER_NAMES.get(name)
    if recorded is None:
        recorded = "-".join(part.capitalize() for part in name.split("-"))
        if len(_HEADER_NAMES) < _HEADER_NAMES_KEPT:
            _HEADER_NAMES[name] = recorded
    return recorded


_HEADER_NAMES: dict[str, str] = {}  # as sent -> as recorded: clients send the same few names every request
_HEADER_NAMES_KEPT = 1024  # a client making up names must not fill the memory


def merge(defaults: Headers, actual: Headers) -> Headers:
    """``[default_http_headers]`` under the request's own headers (case-insensitive names)."""
    if not defaults:
        return actual
    given = {name.lower() for name, _ in actual}
    return [(name, value) for name, value in defaults if name.lower() not in given] + actual


def moved(location: str, destination: Destination, host: str) -> str:
    """``location`` on the proxy at ``host`` if it is a URL on the real server, else as it is."""
    parts = urlsplit(location)
    if not parts.scheme or not parts.hostname:
        return location
    try:
        target = Destination(f"{parts.scheme}://{parts.netloc}")
    except ValueError:
        return location
    if target.place[:3] != destination.place[:3] or not (parts.path + "/").startswith(destination.base + "/"):
        return location
    rest = urlunsplit(("", "", parts.path[len(destination.base):], parts.query, parts.fragment))
    return f"http://{host}{rest}"


class HttpSession(httpwire.WireSession, Exchange[Message, Message]):
    """The HTTP handlers of one server session."""

    destination: Optional[Destination] = None

    def __init__(self, settings: Settings, config: RcConfig, transcript: Transcript,
                 replay: Optional[ReplayFiles] = None, token: Optional[str] = None, seal: Optional[Seal] = None,
                 log: QuietLog = QUIET, stop: Callable[[], None] = lambda: None,
                 record_edits: Optional[str] = None, replay_edits: Optional[str] = None):
        """``record_edits``/``replay_edits``: the edit dirs uploaded and downloaded files are kept in / sent
        from."""
        super().__init__(transcript, replay, seal, log)
        self.settings = settings
        self.config = config
        self.stop = stop
        self.defaults = list(config.options("default_http_headers").items())
        self.ca_file: Optional[str] = config.setting(GENERAL, "server_ca_file") or None  # beside the system's
        self.repeats: Repeats[Message] = Repeats(config, settings.assume_all_can_modify)
        self.id_pattern = settings.id_pattern_client and compile_pattern(settings.id_pattern_client,
                                                                         "id_pattern_client")
        self.ids = IdMap()
        self._equivalents: Optional[EquivalentRequests] = None  # built on the first exact miss
        self._boundaries: Optional[httpmultipart.Boundaries] = None  # built on the first upload missed
        self.kept_files = httpmultipart.EditDir(record_edits) if record_edits else None
        self.replay_edits = replay_edits
        self.rules = Rules()
        self.token = token
        self.rules_endpoint = RulesEndpoint(self.rules, token)
        self.redirects = PathRedirects()
        self._relays = threading.local()  # the client each connection thread is answering (``answer``)

    # -- handlers (``location_message`` comes from httpwire.WireSession) ----------------------------------
    def __call__(self, conn, record: Record) -> None:
        """A connection: its replayed plain requests answered by the lean path, the rest (and the rest of
        the connection, once one is not) by ``http.server``'s handler (``_Request``)."""
        if not httplean.serve(self, conn, record):
            super().__call__(conn, record)

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
            self.destination = Destination(target, self.ca_file)
        except ValueError:
            warn(f"WARNING: CaptureMock cannot use {url!r} as the real server's location")
        record(self.transcript.location(LOCATION_TEXT))
        return True

    def control(self, request_line: str, body: bytes, headers: Headers) -> Message:
        """2.10's control requests other than the location: ``shutdownServer``, ``addAlterations``,
        ``sendPathRedirect``. Never recorded; refused to a web page without the token."""
        target = request_line.split()[1]
        refused = httpwire.from_browser(headers) and not has_token(headers, self.token)
        if httpwire.refused(f"{target} sent by a browser" if refused else ""):
            self.log.control(request_line, int(REFUSED.first))
            return REFUSED
        self.log.control(request_line, 200)
        if target == SHUTDOWN_PATH:
            self.stop()
            return OK
        if target.startswith(REDIRECT_PATH):
            error = self.redirects.register(target, body)
            return OK if error is None else self._bad_control(error)
        path = decode(body).strip()
        try:
            if not os.path.isfile(path):
                raise ConfigError(f"addAlterations: no rc file at {path!r}")
            self.config.add_file(path)
        except ConfigError as err:
            return self._bad_control(str(err))
        self.defaults = list(self.config.options("default_http_headers").items())
        address = self.transcript.alterations.server_address
        self.transcript.alterations = Alterations(self.config, server_address=address)
        return OK

    def answer(self, method: str, path: str, body: bytes, headers: Headers, record: Record,
               relay: Optional[Relay] = None) -> Optional[Message]:
        """The response for one request; None when there is none to give (§2.5, §8.2). A large body
        forwarded from the real server goes to ``relay`` as it arrives (the answer is then sent)."""
        sent = merge(self.defaults, [(header_name(name), value) for name, value in headers])
        request = Message(f"{method} {path}", body, sent)
        self._relays.current = relay
        try:
            return self.exchange(self._text(self._uploaded(request)), request, record)
        finally:
            self._relays.current = None

    def _bad_control(self, error: str) -> Message:
        """A control request that cannot be carried out: 400 with the reason, also on stderr."""
        line = f"CaptureMock: {error}"
        warn(line)
        return self.failed("400", line)

    def _uploaded(self, request: Message) -> Message:
        """The request as recorded: files uploaded in a multipart body kept in the record edit dir."""
        boundary = httpmultipart.boundary(request.headers) if self.kept_files is not None else None
        if boundary is None:
            return request
        return request._replace(body=httpmultipart.with_placeholders(request.body, boundary, self.kept_files))

    def through_proxy(self, response: Message, host: Optional[str]) -> Message:
        """An absolute ``Location`` naming the real server names the proxy instead (``host``: the
        client's ``Host``), so the client follows a redirect through us; it is recorded as sent."""
        if self.destination is None or not host:
            return response
        headers = [(name, moved(value, self.destination, host) if name.lower() == "location" else value)
                   for name, value in response.headers]
        return response._replace(headers=headers)

    def _text(self, message: Message) -> str:
        return httptext.recorded(message, self.settings)

    # -- the exchange hooks ---------------------------------------------------------------------------
    def mismatch(self, reason: str) -> Message:
        return Message("500", reason.encode(), [("Content-Type", "text/plain")])

    def decode(self, replies: list[Item]) -> Message:
        """The recorded response (an attachment's file sent back from the replay edit dir); ``->RMQ``
        items beside it are published as it is served (§8.7)."""
        messages = [item for item in replies if item.type == "RMQ"]
        if messages:
            from .amqp import publish_response_messages

            publish_response_messages(self.config, messages, self.replay.path)
            replies = [item for item in replies if item.type != "RMQ"]
            if not replies:
                return self.failed(NO_REPLY, f"CaptureMock: no recorded HTTP response beside the ->RMQ messages "
                                             f"in {self.replay.path}")
        response = httptext.parse(replies[0].text, is_response=True, stored=True)
        try:
            return httpattachments.with_file(response, self.replay_edits, f"{self.replay.path}:{replies[0].line}")
        except httpattachments.MissingAttachment as err:
            line = f"CaptureMock: {err}"
            warn(line)
            return self.failed("500", line)

    def send(self, wire: Message) -> tuple[Message, str]:
        method, _, path = wire.first.partition(" ")
        try:
            response = self.destination.send(method, path, wire.body, wire.headers,
                                             getattr(self._relays, "current", None))
        except OSError as err:
            raise ForwardError(f"Failed to forward http traffic to server {self.destination.url}: {err}") from None
        if self.kept_files is None:
            return response, self._text(response)
        return response, self._text(httpattachments.with_placeholder(response, path, self.kept_files))

    def recorded_request(self, text: str, item: Item) -> Message:
        request = httptext.parse(text)
        if httpmultipart.boundary(request.headers) is None:
            return request
        return request._replace(body=httpmultipart.with_files(request.body, self.replay_edits))

    @property
    def where(self) -> str:
        return self.destination.url

    def failed(self, status: str, line: str) -> Message:
        return Message(status, f"{line}\n".encode(), [("Content-Type", "text/plain")])

    def stand_in(self, wire: Message) -> Optional[tuple[Message, str]]:
        method, _, path = wire.first.partition(" ")
        ruled = self.rules.answer(method, path, wire.body, wire.headers)
        return None if ruled is None else (ruled, self._text(ruled))

    def lookup(self, key: str) -> tuple[Optional[str], list[Item]]:
        """The recorded request answering ``key`` (§5.3) and its next response group: the same
        request, else one equal but for query-parameter order and JSON formatting (the same request
        for ``on_best_match``), else the best match. An upload is first the recorded one equal but for
        its multipart boundary, whatever the matching."""
        index = self.replay.index
        if httpmultipart.BOUNDARY_MARK in key and key not in index:
            if self._boundaries is None:
                self._boundaries = httpmultipart.Boundaries(index.keys())
            key = self._boundaries.recorded(key) or key
        if index.exact:
            return key, index.lookup(key) or []  # a miss raises CaptureMockReplayError
        group = index.lookup_exact(key)
        if group is not None:
            return key, group
        if self._equivalents is None:
            self._equivalents = EquivalentRequests(index.keys())
        found = self._equivalents.find(key)
        if found is not None:
            return found, index.lookup_exact(found) or []
        found, group = index.borrow(key)
        return found, group or []

    def to_live(self, key: Optional[str], text: str, replies: list[Item]) -> list[Item]:
        if not (self.id_pattern and key):  # §5.7
            return replies
        self.ids.add(find_id(self.id_pattern, key.split(":", 1)[1]), find_id(self.id_pattern, text))
        return [item._replace(text=self.ids.to_live(item.text)) for item in replies]

    def named(self, wire: Message, text: str) -> str:
        return wire.first

    def repeat_section(self, wire: Message) -> str:
        return wire.first.partition(" ")[0]

    def _play(self, record: Record) -> None:
        if self.destination is not None:
            super()._play(record)


class _Request(httpwire.ConnectionHandler):
    protocol_version = VERSION  # persistent connections: a client session pays no reconnect per request
    located = False
    relayed = False  # this request's answer has been sent while the real server sent it (``head``)
    relayed_length = 0

    def do_OPTIONS(self) -> None:
        """A browser's preflight: allowed for traffic, never for the control endpoints."""
        try:
            self.read_body()  # a persistent connection's next request starts after it
        except ValueError:
            self.close_connection = True
        if self.path.startswith(CONTROL_PREFIX) or is_rules_path(self.path):
            self._send(REFUSED, cors=False)
        else:
            self._send(Message("200", b"", PREFLIGHT))

    def do_GET(self) -> None:
        self._traffic()

    def do_CONNECT(self) -> None:
        """A client that wants a TLS tunnel through us: we cannot see into it, so we say so, once on
        stderr and in the answer, instead of recording nothing."""
        reason = (f"CaptureMock: refused CONNECT {self.path}: it cannot record or replay HTTPS tunnelled through "
                  "it; send plain HTTP to it and give the https URL as the real server's location")
        warn(reason)
        self.close_connection = True
        self._send(Message("501", f"{reason}\n".encode(), [("Content-Type", "text/plain")]), cors=False)

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _traffic(self) -> None:
        session, record = self.server.session, self.server.record
        try:
            body = self.read_body()
        except ValueError as err:  # nothing forwarded or recorded: the request is not whole
            warn(f"CaptureMock: refused {self.command} {self.path}: {err}")
            self.send_error(400, str(err))
            return
        if is_rules_path(self.path):
            self._send(session.rules_endpoint.handle(self.command, self.path, body, self.headers.items()), cors=False)
            return
        if (self.command, self.path) in (("GET", SHUTDOWN_PATH), ("POST", ALTERATIONS_PATH)) or (
                self.command == "POST" and self.path.startswith(REDIRECT_PATH)):
            self._send(session.control(self.requestline, body, list(self.headers.items())), cors=False)
            return
        if self.path == LOCATION_PATH and self.command == "POST":
            self.located = session.locate(decode(body).strip(), record, list(self.headers.items()), self.requestline)
            self.close_connection = self.close_connection or self.located  # the session plays once it is closed
            self._send(Message("200", b"", []) if self.located else REFUSED, cors=False)
            return
        redirected = session.redirects.answer(self.path, self.headers.items()) if session.redirects.prefixes else None
        if redirected is not None:  # sent elsewhere, not recorded (2.10's sendPathRedirect)
            self._send(redirected)
            return
        self.relayed = False
        response = session.answer(self.command, self.path, body, list(self.headers.items()), record, self)
        if self.relayed:  # the answer is sent; unless whole (the real server cut it off), the connection ends
            whole = response is not None and len(response.body) == self.relayed_length
            self.close_connection = self.close_connection or not whole
        elif response is not None:
            self._send(session.through_proxy(response, self.headers.get("Host")))
        else:
            self.close_connection = True  # no answer to give: the client sees the connection end

    def head(self, response: Message, length: int) -> None:
        """``httpforward.Relay``: the real server's answer is passed on as it arrives."""
        self.relayed, self.relayed_length = True, length
        self._send_head(self.server.session.through_proxy(response, self.headers.get("Host")), length)

    def body(self, chunk: bytes) -> None:
        self.wfile.write(chunk)
        self.wfile.flush()

    def _send(self, response: Message, cors: bool = True) -> None:
        """Status, headers (ours for CORS, on traffic only, and length), body (§8.5)."""
        self._send_head(response, len(response.body), cors)
        if self.command != "HEAD":
            for chunk in body_chunks(response.body):
                self.wfile.write(chunk)

    def _send_head(self, response: Message, length: int, cors: bool = True) -> None:
        if self.request_version != "HTTP/0.9":  # an HTTP/0.9 answer is the body alone
            self.wfile.write(response_head(response, length, self.command == "HEAD", self.close_connection, cors))


HttpSession.request_handler = _Request
