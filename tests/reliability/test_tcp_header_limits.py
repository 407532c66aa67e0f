"""``tcp_header`` (§8.8) with hostile input: a mock file's recorded message and a peer's frames cost time
and memory in proportion to their size, and are refused past the limits with one line, never a traceback.

Nothing here times performance; the bounds only tell linear work (a fraction of a second) from the
quadratic work it once was (tens of seconds to minutes)."""
from __future__ import annotations

import time

import pytest

from capturemock.clientserver.binaryformat import BinaryCodec
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
