"""HTTP traffic as mock-file text and back (§4.4, §8.5).

Request: ``METHOD PATH`` plus `` BODY`` when there is one; response: ``STATUS BODY`` (the space stays
for an empty body). Kept headers follow as ``--HEA:Name=value`` continuation lines, sorted by name
case-insensitively. Bodies that are not UTF-8 text are written ``0x`` + hex.
"""
from __future__ import annotations

import re
from typing import Iterable, NamedTuple

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
_HEX = re.compile(r"0x(?:[0-9a-f]{2})+")

Headers = list[tuple[str, str]]


class Message(NamedTuple):
    """A request (``first`` = ``METHOD PATH``) or a response (``first`` = status) with body and headers."""

    first: str
    body: bytes
    headers: Headers


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


def body_text(body: bytes, keep_cr: bool = False) -> str:
    """Text with CRLF as LF (unless carriage returns are preserved), or ``0x`` + hex if not UTF-8."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "0x" + body.hex()
    return text if keep_cr else text.replace("\r\n", "\n")


def body_bytes(text: str) -> bytes:
    if _HEX.fullmatch(text):
        return bytes.fromhex(text[2:])
    return text.encode("utf-8", "surrogateescape")


def render(message: Message, keep_cr: bool = False) -> str:
    body = body_text(message.body, keep_cr)
    lines = [f"{message.first} {body}" if body or message.first.isdigit() else message.first]
    lines += [f"{HEADER_LINE}{name}={value}" for name, value in message.headers]
    return "\n".join(lines)


def parse(text: str, is_response: bool = False) -> Message:
    """Reverse of ``render``: trailing ``--HEA:`` lines are headers (``--TIM:`` lines are dropped)."""
    lines = text.split("\n")
    headers: Headers = []
    while lines and lines[-1].startswith(("--HEA:", "--TIM:")):
        line = lines.pop()
        if line.startswith(HEADER_LINE):
            name, _, value = line[len(HEADER_LINE):].partition("=")
            headers.insert(0, (name, value))
    words = "\n".join(lines).split(" ", 1 if is_response else 2)
    split = 1 if is_response else 2
    first, body = " ".join(words[:split]), words[split] if len(words) > split else ""
    return Message(first, body_bytes(body), headers)
