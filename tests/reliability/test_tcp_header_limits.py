"""``tcp_header`` (§8.8) with hostile input: a mock file's recorded message and a peer's frames cost time
and memory in proportion to their size, and are refused past the limits with one line, never a traceback.

Nothing here times performance; the bounds only tell linear work (a fraction of a second) from the
quadratic work it once was (tens of seconds to minutes)."""
from __future__ import annotations

import io
import struct
import time

import pytest

from capturemock.clientserver.binaryformat import BinaryCodec
from capturemock.clientserver.binaryframing import MAX_CHUNKS, Stream, read_frame
from capturemock.config import RcConfig

CHUNKED_RC = """\
[general]
server_protocol = tcp_header

[tcp_header]
format = >4sIB
fields = type,length,more
incomplete = more=1
"""


@pytest.fixture
def codec(tmp_path) -> BinaryCodec:
    rc = tmp_path / "capturemockrc"
    rc.write_text(CHUNKED_RC)
    return BinaryCodec(RcConfig([str(rc)]))


def seconds(work) -> tuple[float, object]:
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def test_a_recorded_body_of_32_mb_is_sent_in_linear_time(codec):
    """Each 4096-byte chunk was added to the bytes of all chunks before it: 32 MB took ~20 s."""
    body = "a" * (32 << 20)
    took, data = seconds(lambda: codec.to_bytes("TEXT {}\n" + body))
    assert took < 5
    assert len(data) == len(body) + 9 * (len(body) // 4096) and data.endswith(b"TEXT\0\0\x10\0\0" + b"a" * 4096)


def test_a_recorded_message_of_many_chunk_lines_is_read_in_linear_time(codec):
    """Each header line sliced the rest of the text off again: 200 000 lines (1.6 MB) took minutes."""
    took, data = seconds(lambda: codec.to_bytes("TEXT {}\n" * 200_000 + "body"))
    assert took < 10  # parsing each line as a value costs ~10 us
    assert data == b"TEXT\0\0\0\x04\0body"


def empty_chunks(count: int) -> bytes:
    """A message of ``count`` chunks: all empty (9 bytes each) but the last, which holds ``x``."""
    return struct.pack(">4sIB", b"TEXT", 0, 1) * (count - 1) + struct.pack(">4sIB", b"TEXT", 1, 0) + b"x"


def test_a_peer_message_of_too_many_chunks_is_refused_in_one_line(codec):
    """9-byte empty chunks up to the 64 MB body limit once cost ~800 bytes each (6 GB) to read and write."""
    warnings: list[str] = []
    stream = Stream(io.BytesIO(empty_chunks(MAX_CHUNKS + 1) + empty_chunks(1)).read)
    assert read_frame(stream, codec, warnings.append) is None
    assert warnings == [f"tcp_header: a chunked message of over {MAX_CHUNKS} chunks is over the limit"]


def test_a_message_of_as_many_chunks_as_allowed_is_read(codec):
    frame = read_frame(Stream(io.BytesIO(empty_chunks(MAX_CHUNKS)).read), codec, pytest.fail)
    assert len(frame.chunks) == MAX_CHUNKS and codec.to_text(frame.chunks).endswith("TEXT {}\nTEXT {'more': 0}\nx")
