"""Where one ``tcp_header`` message ends on the wire (§8.8): the header's ``length``/``msg_size``, a
``[tcp_footer]``, and chunks (``incomplete = field=value``: a message continued in the next frame).

Reading goes through a ``Stream`` because a footer is found by reading ahead: the bytes read beyond it
belong to the next message and are kept for it. Every message is bounded (``MAX_BODY``, ``MAX_CHUNKS``,
and ``MAX_FOOTER_BODY`` for a footer searched for byte by byte), so hostile input costs no more than that.
"""
from __future__ import annotations

from typing import Callable, NamedTuple, Optional

from .binaryformat import MAX_BODY, BinaryCodec

MAX_FOOTER_BODY = 1 << 18  # a footer no fixed bytes describe is tried at every offset: up to this many
READ_AHEAD = 4096
MAX_CHUNKS = 1 << 16  # each costs ~800 bytes read and written as text: 9-byte empty chunks up to MAX_BODY took GBs
Recv = Callable[[int], bytes]
Warn = Callable[[str], None]


class Frame(NamedTuple):
    """One message: its chunks (header values, body after the header with padding, footer values merged
    into the header's) and all its bytes as they came."""

    chunks: list[tuple[dict, bytes]]
    data: bytes


class Stream:
    """``recv`` with bytes read ahead kept for the next read."""

    def __init__(self, recv: Recv):
        self._recv, self._kept = recv, b""

    def read(self, size: int) -> bytes:
        """Up to ``size`` bytes; b"" at the end of input."""
        if self._kept:
            data, self._kept = self._kept[:size], self._kept[size:]
            return data
        return self._recv(size)

    def unread(self, data: bytes) -> None:
        self._kept = data + self._kept


def read_frame(stream: Stream, codec: BinaryCodec, warn: Warn) -> Optional[Frame]:
    """The next message; None at the end of input (or cut off). As 2.10, a header that does not parse is
    said on stderr and skipped; a message over the limit is said and ends the input."""
    chunks: list[tuple[dict, bytes]] = []
    data: list[bytes] = []
    size = 0
    while True:
        chunk = _read_chunk(stream, codec, warn)
        if chunk is None:
            return None
        header, body, raw = chunk
        chunks.append((header, body))
        data.append(raw)
        if not codec.continues(header):
            return Frame(chunks, b"".join(data))
        size += len(raw)
        if size > MAX_BODY:
            warn(f"tcp_header: a chunked message of over {MAX_BODY} bytes is over the limit")
            return None
        if len(chunks) >= MAX_CHUNKS:
            warn(f"tcp_header: a chunked message of over {MAX_CHUNKS} chunks is over the limit")
            return None


def _read_chunk(stream: Stream, codec: BinaryCodec, warn: Warn) -> Optional[tuple[dict, bytes, bytes]]:
    """One frame: its header values, its body and its bytes."""
    while True:
        head = read_exact(stream.read, codec.header.size)
        if head is None or len(head) < codec.header.size:
            return None
        header = codec.header.unpack(head)
        if header is None:
            warn(f"FAILED to parse incoming header {head!r}")
            continue
        if codec.footer is not None:
            return _until_footer(stream, codec, header, head, warn)
        try:
            size = codec.body_size(header)
        except ValueError as err:
            warn(str(err))
            return None
        body = read_exact(stream.read, size) or b""
        return header, body, head + body


def _until_footer(stream: Stream, codec: BinaryCodec, header: dict, head: bytes,
                  warn: Warn) -> Optional[tuple[dict, bytes, bytes]]:
    """The body up to the first footer-sized block that parses as the footer (its values join the
    header's); the bytes read beyond it are kept for the next message."""
    footer = codec.footer
    exact = codec.footer_bytes
    limit = MAX_BODY if exact is not None else MAX_FOOTER_BODY
    data, tried = bytearray(), 0
    while True:
        more = stream.read(READ_AHEAD)
        if not more:
            return None
        data += more
        if exact is not None:
            at = data.find(exact, max(tried - len(exact) + 1, 0))
            found = None if at < 0 else (at, {})
        else:
            found = _parse_footer(footer, data, tried)
        if found is not None:
            at, values = found
            end = at + footer.size
            stream.unread(bytes(data[end:]))
            return {**header, **values}, bytes(data[:at]), head + bytes(data[:end])
        tried = len(data) if exact is not None else max(len(data) - footer.size + 1, 0)
        if len(data) > limit:
            warn(f"tcp_header: no footer within {limit} bytes of a message")
            return None


def _parse_footer(footer, data: bytearray, start: int) -> Optional[tuple[int, dict]]:
    for at in range(start, len(data) - footer.size + 1):
        values = footer.unpack(bytes(data[at:at + footer.size]))
        if values is not None:
            return at, values
    return None


def read_exact(recv: Recv, size: int) -> Optional[bytes]:
    """``size`` bytes; None at the end of input before the first byte; fewer if it ends later."""
    data = b""
    while len(data) < size:
        chunk = recv(size - len(data))
        if not chunk:
            return data or None
        data += chunk
    return data
