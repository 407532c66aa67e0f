"""Sending one HTTP request to a real server and reading its whole answer (record, and replaying a
recorded client against a live server)."""
from __future__ import annotations

import http.client
from urllib.parse import urlsplit

from .httptext import HOP_BY_HOP, Headers, Message

TIMEOUT = 60.0
# the client's Host names us, and an encoding it asked for would be recorded as compressed bytes
NOT_FORWARDED = HOP_BY_HOP | {"host", "accept-encoding"}


def same_place(url: str, other: str) -> bool:
    """Whether two URLs name the same server (however they are spelled)."""
    try:
        return Destination(url).place == Destination(other).place
    except ValueError:
        return url == other


class Destination:
    """The real server's base URL (``http://host:port[/base]``)."""

    def __init__(self, url: str):
        parts = urlsplit(url if "://" in url else f"http://{url}")
        if not parts.hostname:
            raise ValueError(f"not a server URL: {url!r}")
        self.url = url
        self.secure = parts.scheme == "https"
        self.host = parts.hostname
        self.port = parts.port or (443 if self.secure else 80)
        self.base = parts.path.rstrip("/")

    @property
    def place(self) -> tuple:
        return self.secure, self.host, self.port, self.base

    def send(self, method: str, path: str, body: bytes, headers: Headers) -> Message:
        """The response as a Message whose ``first`` is the status; OSError if the server is unreachable."""
        kind = http.client.HTTPSConnection if self.secure else http.client.HTTPConnection
        connection = kind(self.host, self.port, timeout=TIMEOUT)
        try:
            connection.request(method, self.base + path, body=body or None,
                               headers={name: value for name, value in headers if name.lower() not in NOT_FORWARDED})
            response = connection.getresponse()
            data = response.read()
            return Message(str(response.status), data, list(response.getheaders()))
        except http.client.HTTPException as err:
            raise OSError(f"bad answer from {self.url}: {err!r}") from None
        finally:
            connection.close()
