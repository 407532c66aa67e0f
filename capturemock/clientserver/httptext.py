"""HTTP traffic as mock-file text and back (§4.4, §8.5).

Request: ``METHOD PATH`` plus `` BODY`` when there is one; response: ``STATUS BODY`` (the space stays
for an empty body). Kept headers follow as ``--HEA:Name=value`` continuation lines, sorted by name
case-insensitively. Bodies that are not UTF-8 text are written ``0x`` + hex, as 2.10 writes them; from
``COMPACT_FROM`` bytes on (an image, an archive) ``base64:`` + base64 instead, 1.33 times the body
rather than twice, still one line of text (``compact=False``: hex at any size, a file 2.10 reads). Both
forms are read back whatever their size.
"""
from __future__ import annotations

import base64
import binascii
import re
from collections import namedtuple

from ..accelerator import load_speedups

_speedups = load_speedups()  # decode_base64: a large body decoded from the mock text whole, ~5x faster

TYPE_CHECKING = False  # typing is not imported at run time: ~20 M instructions of the HTTP server's start-up
if TYPE_CHECKING:
    from typing import Iterable, Iterator, Optional, Union

    from .settings import Settings

    Body = Union[bytes, "StoredBody"]

FORBIDDEN_HEADERS = frozenset((
    "accept-charset", "accept-encoding", "access-control-request-headers", "access-control-request-method",
    "connection", "content-length", "cookie", "date", "dnt", "expect", "host", "keep-alive", "origin",
    "permissions-policy", "referer", "te", "trailer", "upgrade", "user-agent", "via"))
FORBIDDEN_PREFIXES = ("sec-", "proxy-", "x-forwarded")
FORM_TYPE = "application/x-www-form-urlencoded"
HEADER_LINE = "--HEA:"
# not passed on between the real server and the client: they describe one connection, or we set them
HOP_BY_HOP = frozenset(("connection", "keep-alive", "transfer-encoding", "content-length", "upgrade", "te",
                        "trailer", "proxy-connection", "access-control-allow-origin"))
# one flat character class: a repeated group backtracks, and took 3.5 s over a 10 MB body
_HEX_DIGITS = re.compile(r"[0-9a-f]+")
BASE64 = "base64:"
_BASE64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_CHECKED_AT_ONCE = 1 << 20  # characters of a body checked per step: a large body is not copied whole
COMPACT_FROM = 1 << 16  # binary bodies this long or longer are written in base64

Headers = list[tuple[str, str]]


class Message(namedtuple("Message", ("first", "body", "headers"))):
    """A request (``first`` = ``METHOD PATH``) or a response (``first`` = status) with body and headers:
    ``first`` a str, ``body`` bytes (except a large recorded body being replayed without the C accelerator,
    ``parse(stored=True)``: a ``StoredBody``), ``headers`` ``Headers``. ``collections``' named tuple, not
    ``typing``'s: the HTTP server's start-up imports no ``typing``."""

    __slots__ = ()


def recorded_headers(headers: Iterable[tuple[str, str]], ignored: Iterable[str] = ()) -> Headers:
    """The headers worth recording (§8.5): no connection details, no volatile or configured-away ones."""
    ignored = set(ignored)
    kept = []
    for name, value in headers:
        lower = name.lower()
        if lower in FORBIDDEN_HEADERS or lower in ignored or lower.startswith(FORBIDDEN_PREFIXES):
            continue
        if lower == "content-type" and value.strip().lower() == FORM_TYPE:
            continue
        kept.append((name, value))
    return sorted(kept, key=lambda pair: pair[0].lower())


def body_text(body: bytes, keep_cr: bool = False, compact: bool = True) -> str:
    """Text with CRLF as LF (unless carriage returns are preserved), or ``0x`` + hex if not UTF-8
    (``base64:`` from ``COMPACT_FROM`` bytes when ``compact``)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        if compact and len(body) >= COMPACT_FROM:
            return BASE64 + base64.b64encode(body).decode("ascii")
        return "0x" + body.hex()
    if text.startswith(BASE64) and body_bytes(text) != body:  # text that would read back decoded
        return BASE64 + base64.b64encode(body).decode("ascii")
    return text if keep_cr else text.replace("\r\n", "\n")


def body_bytes(text: str, start: int = 0, end: Optional[int] = None) -> bytes:
    """Reverse of ``body_text`` (of ``text[start:end]``): a body in one of the binary forms is decoded,
    any other is text."""
    end = len(text) if end is None else end
    if _is_hex(text, start, end):
        return bytes.fromhex(text[start + 2:end])
    if text.startswith(BASE64, start, end):
        body = decode_base64(text, start + len(BASE64), end)
        if body is not None:
            return body
    return text[start:end].encode("utf-8", "surrogateescape")


def decode_base64(text: str, start: int, end: int) -> Optional[bytes]:
    """The digits ``text[start:end]`` of a ``base64:`` body decoded, or None if they are not base64 digits
    (at least one, then up to two ``=``, a multiple of 4 in all): then the body is text that starts so.
    The C accelerator reads them in place; a slice of a large body would be a copy as big."""
    if _speedups is not None:
        return _speedups.decode_base64(text, start, end)
    return binascii.a2b_base64(text[start:end]) if _is_base64(text, start, end) else None


def _is_hex(text: str, start: int, end: int) -> bool:
    return (text.startswith("0x", start, end) and (end - start) % 2 == 0
            and bool(_HEX_DIGITS.fullmatch(text, start + 2, end)))


def _is_base64(text: str, start: int, end: int) -> bool:
    """``decode_base64``'s digits, checked by deleting the alphabet from the bytes: a third of the time a
    regex takes over a 10 MB body."""
    if (end - start) % 4:
        return False
    digits_end = end
    while digits_end > start and end - digits_end < 2 and text[digits_end - 1] == "=":
        digits_end -= 1
    for begin in range(start, digits_end, _CHECKED_AT_ONCE):
        digits = text[begin:min(begin + _CHECKED_AT_ONCE, digits_end)]
        if not digits.isascii() or digits.encode("ascii").translate(None, _BASE64_ALPHABET):
            return False
    return digits_end > start


class StoredBody:
    """A large ``base64:`` body still in its recorded text, without the C accelerator: replay sends it a
    chunk at a time, decoded as it goes, so the client reads while the (slow) decoding goes on and the
    bytes are never whole in memory. With the accelerator the body is decoded whole, in a fifth of the time."""

    CHUNK = 1 << 16  # characters of base64 per chunk: 48 KiB of body

    def __init__(self, text: str, start: int, end: int):
        """``text[start:end]`` is the base64 digits (checked: ``_is_base64``)."""
        self.text, self.start, self.end = text, start, end
        self.size = (end - start) // 4 * 3 - (text.count("=", max(start, end - 2), end))

    def __len__(self) -> int:
        return self.size

    def __bytes__(self) -> bytes:
        return binascii.a2b_base64(self.text[self.start:self.end])

    def chunks(self) -> Iterator[bytes]:
        for begin in range(self.start, self.end, self.CHUNK):
            yield binascii.a2b_base64(self.text[begin:min(begin + self.CHUNK, self.end)])


def render(message: Message, keep_cr: bool = False, compact: bool = True) -> str:
    body = body_text(message.body, keep_cr, compact)
    lines = [f"{message.first} {body}" if body or message.first.isdigit() else message.first]
    lines += [f"{HEADER_LINE}{name}={value}" for name, value in message.headers]
    return "\n".join(lines)


def recorded(message: Message, settings: Settings) -> str:
    """``message`` as the rc files have it recorded: kept headers, line ends, body form."""
    kept = recorded_headers(message.headers, settings.ignore_http_headers)
    return render(message._replace(headers=kept), settings.preserve_cr, settings.compact_http_bodies)


def parse(text: str, is_response: bool = False, stored: bool = False) -> Message:
    """Reverse of ``render``: trailing ``--HEA:`` lines are headers (``--TIM:`` lines are dropped). With
    ``stored`` and no C accelerator, a ``base64:`` body from ``COMPACT_FROM`` bytes stays a ``StoredBody``.
    The body is never copied out of ``text`` before it is decoded: it may be most of a large mock file."""
    headers: Headers = []
    end = len(text)
    while end >= 0:
        start = text.rfind("\n", 0, end) + 1
        if not text.startswith(("--HEA:", "--TIM:"), start, end):
            break
        if text.startswith(HEADER_LINE, start, end):
            name, _, value = text[start + len(HEADER_LINE):end].partition("=")
            headers.insert(0, (name, value))
        end = start - 1
    end = max(end, 0)
    space = -1
    for _ in range(1 if is_response else 2):  # the body follows the status, or the method and path
        space = text.find(" ", space + 1, end)
        if space < 0:
            return Message(text[:end], b"", headers)
    digits = space + 1 + len(BASE64)
    if (stored and _speedups is None and end - space > COMPACT_FROM and text.startswith(BASE64, space + 1, end)
            and _is_base64(text, digits, end)):
        return Message(text[:space], StoredBody(text, digits, end), headers)
    return Message(text[:space], body_bytes(text, space + 1, end), headers)
