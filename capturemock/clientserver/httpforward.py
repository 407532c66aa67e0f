"""Sending one HTTP request to a real server and reading its whole answer (record, and replaying a
recorded client against a live server).

Connections to the real server are kept open between requests (a small pool per destination), so a
recorded session pays one connect, and one TLS handshake, instead of one per request. HTTPS servers
are verified against the system's trust store (``tls_context``), plus the CA file the rc files name.
A large body of declared length (``RELAY_FROM``) is passed on to the client (``Relay``) while it is
read, and kept whole only for the record, so the client reads while the real server sends.
"""
from __future__ import annotations

import http.client
import os
import ssl
import threading
from urllib.parse import urlsplit

from .httptext import HOP_BY_HOP, Headers, Message

TIMEOUT = 60.0
# the client's Host names us, and an encoding it asked for would be recorded as compressed bytes
NOT_FORWARDED = HOP_BY_HOP | {"host", "accept-encoding"}
POOL_SIZE = 8  # idle connections kept per destination: as many as requests were in flight at once
# where systems keep their CA bundle, for a Python whose OpenSSL looks elsewhere (a relocated build)
SYSTEM_CA_FILES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt",
                   "/etc/ssl/ca-bundle.pem", "/etc/ssl/cert.pem", "/usr/local/etc/openssl/cert.pem")
# a kept connection the server has closed meanwhile fails like this before any answer: sent again, once
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)
RELAY_FROM = 1 << 16  # bodies this long or longer are relayed to the client as they are read
RELAY_CHUNK = 1 << 16


TYPE_CHECKING = False  # typing is not imported at run time: ~20 M instructions of the HTTP server's start-up
if TYPE_CHECKING:
    from typing import Optional, Protocol

    class Relay(Protocol):
        """The client a response is passed on to as it arrives."""

        def head(self, response: Message, length: int) -> None:
            """Status and headers (``response.body`` empty); ``length`` bytes of body follow."""

        def body(self, chunk: bytes) -> None:
            """The next part of the body."""


def same_place(url: str, other: str) -> bool:
    """Whether two URLs name the same server (however they are spelled)."""
    try:
        return Destination(url).place == Destination(other).place
    except ValueError:
        return url == other


def tls_context(ca_file: Optional[str] = None) -> ssl.SSLContext:
    """Verification as a browser does it: the system's trust store (``SSL_CERT_FILE``/``SSL_CERT_DIR``
    still apply), else the first system bundle found, plus ``ca_file`` (a test's or a company's CA)."""
    context = ssl.create_default_context()
    if not context.cert_store_stats()["x509_ca"]:
        bundle = next((path for path in SYSTEM_CA_FILES if os.path.isfile(path)), None)
        if bundle is not None:
            context.load_verify_locations(cafile=bundle)
    if ca_file:
        try:
            context.load_verify_locations(cafile=ca_file)
        except (OSError, ssl.SSLError) as err:  # said at the request that needs it, as any forwarding failure
            raise OSError(f"cannot use server_ca_file {ca_file}: {getattr(err, 'strerror', None) or err}") from None
    return context


class Destination:
    """The real server's base URL (``http://host:port[/base]``)."""

    def __init__(self, url: str, ca_file: Optional[str] = None):
        parts = urlsplit(url if "://" in url else f"http://{url}")
        if not parts.hostname:
            raise ValueError(f"not a server URL: {url!r}")
        self.url = url
        self.secure = parts.scheme == "https"
        self.host = parts.hostname
        self.port = parts.port or (443 if self.secure else 80)
        self.base = parts.path.rstrip("/")
        self.ca_file = ca_file
        self._context: Optional[ssl.SSLContext] = None  # built on the first https request
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    @property
    def place(self) -> tuple:
        return self.secure, self.host, self.port, self.base

    def send(self, method: str, path: str, body: bytes, headers: Headers, relay: Optional[Relay] = None) -> Message:
        """The response as a Message whose ``first`` is the status; OSError if the server is unreachable
        or its certificate is not trusted (``ssl.SSLError`` is one), or the body is cut off. A large body
        is passed on to ``relay`` (if given) as it arrives."""
        forwarded = {name: value for name, value in headers if name.lower() not in NOT_FORWARDED}
        connection, reused = self._take()
        try:
            try:
                response, data = self._exchange(connection, method, path, body, forwarded, relay)
            except _STALE:
                if not reused:
                    raise
                connection.close()
                connection = self._open()
                response, data = self._exchange(connection, method, path, body, forwarded, relay)
        except http.client.HTTPException as err:
            connection.close()
            raise OSError(f"bad answer from {self.url}: {err!r}") from None
        except BaseException:
            connection.close()
            raise
        self._give_back(connection, response.will_close)
        return Message(str(response.status), data, list(response.getheaders()))

    def _exchange(self, connection: http.client.HTTPConnection, method: str, path: str, body: bytes,
                  headers: dict[str, str], relay: Optional[Relay]) -> tuple[http.client.HTTPResponse, bytes]:
        connection.request(method, self.base + path, body=body or None, headers=headers)
        response = connection.getresponse()
        if relay is None or method == "HEAD" or (response.length or 0) < RELAY_FROM:
            return response, response.read()
        return response, _relayed(response, relay)

    def _take(self) -> tuple[http.client.HTTPConnection, bool]:
        """An idle kept connection (reused: True), else a new one."""
        with self._lock:
            if self._idle:
                return self._idle.pop(), True
        return self._open(), False

    def _open(self) -> http.client.HTTPConnection:
        if not self.secure:
            return http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT)
        with self._lock:
            if self._context is None:
                self._context = tls_context(self.ca_file)
        return http.client.HTTPSConnection(self.host, self.port, timeout=TIMEOUT, context=self._context)

    def _give_back(self, connection: http.client.HTTPConnection, will_close: bool) -> None:
        with self._lock:
            if not will_close and len(self._idle) < POOL_SIZE:
                self._idle.append(connection)
                return
        connection.close()


def _relayed(response: http.client.HTTPResponse, relay: Relay) -> bytes:
    """The body, passed on to ``relay`` a chunk at a time as it is read; OSError if it is cut off."""
    length = response.length
    relay.head(Message(str(response.status), b"", list(response.getheaders())), length)
    chunks = []
    while response.length:
        chunk = response.read1(RELAY_CHUNK)  # what has come, not a full chunk: the client need not wait
        if not chunk:
            break
        relay.body(chunk)
        chunks.append(chunk)
    response.read()  # b"": marks the response done, so the connection can take the next request
    data = b"".join(chunks)
    if len(data) < length:
        raise OSError(f"the body was cut off after {len(data)} of {length} bytes")
    return data
