"""Large HTTP bodies (issue #14 item 5): binary bodies from ``COMPACT_FROM`` bytes on are stored as one
``base64:`` line instead of 2.10's ``0x`` hex, and both forms replay byte for byte."""
from __future__ import annotations

import base64
import binascii
import http.client
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

import capturemock
from capturemock.clientserver import httptext
from tests.conftest import assert_blocks_stay_flat, built_speedups

CLIENT_RC = "[general]\nserver_protocol = http\nrecord_for_client = true\n"
BLOB = os.urandom(3 * httptext.COMPACT_FROM)


class BlobHandler(BaseHTTPRequestHandler):
    """A quiet real HTTP/1.1 server whose answers are BLOB; ``send_blob_head`` sends all but the body."""
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send_blob_head(self) -> None:
        self.send_response_only(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(BLOB)))
        self.end_headers()


def blob_server(rig):
    class Handler(BlobHandler):
        def do_GET(self):
            self.send_blob_head()
            self.wfile.write(BLOB)

    return rig.real(ThreadingHTTPServer(("127.0.0.1", 0), Handler))


def get(base: str, path: str) -> bytes:
    connection = http.client.HTTPConnection(urlsplit(base).hostname, urlsplit(base).port, timeout=30)
    connection.request("GET", path)
    body = connection.getresponse().read()
    connection.close()
    return body


def test_a_large_binary_body_is_stored_in_base64_and_replays_byte_for_byte(rig):
    real = blob_server(rig)
    base = rig.start(capturemock.RECORD, CLIENT_RC, recordFromUrl=real.url)
    assert get(base, "/blob") == BLOB
    rig.stop()
    real.stop()
    recorded = rig.read("rec.mock")
    lines = recorded.splitlines()
    assert lines[1].startswith("->SRV:200 base64:") and len(lines) == 3  # the body is one line
    assert len(recorded) < 1.34 * len(BLOB) + 100  # hex would be twice the body
    base = rig.start(capturemock.REPLAY, CLIENT_RC, replay="rec.mock", record="replayed.mock")
    assert get(base, "/blob") == BLOB
    rig.stop()
    assert rig.read("replayed.mock") == recorded


def test_compact_http_bodies_false_records_hex_as_2_10_does(rig):
    real = blob_server(rig)
    base = rig.start(capturemock.RECORD, CLIENT_RC + "compact_http_bodies = false\n", recordFromUrl=real.url)
    assert get(base, "/blob") == BLOB
    rig.stop()
    assert rig.read("rec.mock") == (f"<-CLI:GET /blob\n->SRV:200 0x{BLOB.hex()}\n"
                                    "--HEA:Content-Type=application/octet-stream\n")


def test_a_large_body_recorded_in_hex_by_2_10_still_replays(rig):
    rig.write("stored.mock", f"<-CLI:GET /blob\n->SRV:200 0x{BLOB.hex()}\n")
    base = rig.start(capturemock.REPLAY, CLIENT_RC, replay="stored.mock")
    assert get(base, "/blob") == BLOB


@pytest.fixture(params=["c", "python"])
def server_env(request) -> dict[str, str]:
    """The traffic server's environment: with its C accelerator or with the Python code alone (the reference)."""
    if request.param == "c":
        built_speedups()
        return {}
    return {"CAPTUREMOCK_PURE_PYTHON": "1"}


NOT_BASE64 = "base64:" + "QUJD" * (httptext.COMPACT_FROM // 3) + "QU*D"  # one '*': a text body that starts so


@pytest.mark.parametrize("body, answer", [(f"base64:{base64.b64encode(BLOB).decode()}", BLOB),
                                          (f"0x{BLOB.hex()}", BLOB), (NOT_BASE64, NOT_BASE64.encode())],
                         ids=["compact base64", "2.10 hex", "text that is not base64"])
def test_a_replayed_large_body_is_recorded_as_the_mock_holds_it(rig, server_env, body, answer):
    """The replayed transcript's items are the mock's own text, byte for byte, in either stored form."""
    mock = (f"<-CLI:GET /blob\n->SRV:200 {body}\n--HEA:Content-Type=application/octet-stream\n"
            "<-CLI:GET /small\n->SRV:200 ok\n")
    (rig.root / "stored.mock").write_bytes(mock.encode())
    base = rig.start(capturemock.REPLAY, CLIENT_RC, replay="stored.mock", record="replayed.mock", env=server_env)
    assert get(base, "/blob") == answer
    assert get(base, "/small") == b"ok"
    rig.stop()
    assert (rig.root / "replayed.mock").read_bytes() == mock.encode()


@pytest.mark.usefixtures("replay_core")
def test_binary_forms_are_read_only_when_the_whole_body_is_one():
    assert httptext.body_text(b"\xff\x00A") == "0xff0041"  # small: as 2.10 writes it
    assert httptext.body_text(BLOB) == "base64:" + __import__("base64").b64encode(BLOB).decode()
    for text in ("0x", "0xabc", "0xAB", "0xab cd", "base64:", "base64:abc", "base64:ab=c", "base64:abcd efgh",
                 "base64:====", "base64:Y===", "base64:YW=j", "base64:YWJ\u00e9", "base64:YW\nj"):
        assert httptext.body_bytes(text) == text.encode()
    assert httptext.body_bytes("base64:YWJj") == b"abc"
    assert [httptext.body_bytes(text) for text in ("base64:YWI=", "base64:YQ==", "base64:+/+/")] == [
        b"ab", b"a", b"\xfb\xff\xbf"]


def test_a_text_body_that_reads_as_base64_is_written_so_it_reads_back_as_itself():
    text = b"base64:YWJj"  # a real body, not the compact form: read back it would become b"abc"
    written = httptext.body_text(text)
    assert written != "base64:YWJj" and httptext.body_bytes(written) == text
    assert httptext.body_text(b"base64:abc") == "base64:abc"  # reads back as itself: left as text


def test_a_large_recorded_body_is_decoded_whole_by_the_accelerator(replay_core):
    text = httptext.render(httptext.Message("200", BLOB, [("Content-Type", "application/octet-stream")]))
    stored = httptext.parse(text, is_response=True, stored=True)
    if replay_core == "c":
        assert stored == ("200", BLOB, [("Content-Type", "application/octet-stream")])
    else:
        assert isinstance(stored.body, httptext.StoredBody)


def test_without_the_accelerator_a_large_recorded_body_is_kept_in_its_text_and_decoded_a_chunk_at_a_time(
        monkeypatch):
    monkeypatch.setattr(httptext, "_speedups", None)
    text = httptext.render(httptext.Message("200", BLOB, [("Content-Type", "application/octet-stream")]))
    stored = httptext.parse(text, is_response=True, stored=True)
    assert isinstance(stored.body, httptext.StoredBody) and stored.body.text is text  # not copied out
    assert (stored.first, stored.headers) == ("200", [("Content-Type", "application/octet-stream")])
    chunks = list(stored.body.chunks())
    assert len(chunks) > 1 and b"".join(chunks) == BLOB and len(stored.body) == len(BLOB)
    for size in (len(BLOB) - 1, len(BLOB) - 2):  # "=" and "==" padding: the length still exact
        body = httptext.parse(httptext.render(httptext.Message("200", BLOB[:size], [])), True, stored=True).body
        assert len(body) == size and b"".join(body.chunks()) == BLOB[:size]
    assert httptext.parse(text, is_response=True) == stored._replace(body=BLOB)  # without stored: bytes


def test_parse_splits_first_words_body_and_trailing_header_lines():
    assert httptext.parse("GET /a\n--HEA:X=1\n--TIM:t") == ("GET /a", b"", [("X", "1")])
    assert httptext.parse("POST /a b c\nline 2\n--HEA:X=a=b") == ("POST /a", b"b c\nline 2", [("X", "a=b")])
    assert httptext.parse("GET") == ("GET", b"", [])
    assert httptext.parse("200 ", is_response=True) == ("200", b"", [])
    assert httptext.parse("404 not here\n--HEA:Y=", is_response=True) == ("404", b"not here", [("Y", "")])
    assert httptext.parse("--HEA:X=1") == ("", b"", [("X", "1")])


def test_a_large_body_reaches_the_client_while_the_real_server_still_sends_it(rig, capfd):
    halfway, cut = threading.Event(), len(BLOB) // 2

    class Handler(BlobHandler):
        def do_GET(self):
            self.send_blob_head()
            self.wfile.write(BLOB[:cut])
            self.wfile.flush()
            if self.path == "/cut":
                self.close_connection = True
                return
            halfway.wait(10)  # the rest only once the client has the first half
            self.wfile.write(BLOB[cut:])

    real = rig.real(ThreadingHTTPServer(("127.0.0.1", 0), Handler))
    base = rig.start(capturemock.RECORD, CLIENT_RC, recordFromUrl=real.url)
    connection = http.client.HTTPConnection(urlsplit(base).hostname, urlsplit(base).port, timeout=5)
    connection.request("GET", "/blob")
    response = connection.getresponse()
    first = response.read(cut)  # times out unless the proxy passes the body on as it comes
    halfway.set()
    assert first + response.read() == BLOB
    connection.request("GET", "/cut")  # the same connection: still usable
    response = connection.getresponse()
    with pytest.raises(http.client.IncompleteRead):
        response.read()  # cut off as the real server cut it: the connection ends there
    rig.stop()
    assert rig.read("rec.mock") == (f"<-CLI:GET /blob\n->SRV:200 base64:{base64.b64encode(BLOB).decode()}\n"
                                    "--HEA:Content-Type=application/octet-stream\n")  # the cut-off one: not
    assert (f"Failed to forward http traffic to server {real.url}: the body was cut off after {cut} of "
            f"{len(BLOB)} bytes") in capfd.readouterr().err


# what a base64 body's digits may hold, and what they must not: the C decoder is tried on all of it
_DIGITS_AND_OTHERS = st.sampled_from(list("AZaz09+/QUJD=") + [" ", "\n", "\r", "\t", "*", "-", "_", ".", "\x00",
                                                                 "\u00e9", "\u20ac", "\U0001f600", "\udcff"])


def python_decode(text: str, start: int, end: int):
    """The Python path's answer (``httptext.decode_base64`` without the accelerator)."""
    return binascii.a2b_base64(text[start:end]) if httptext._is_base64(text, start, end) else None


@given(data=st.binary(max_size=200), around=st.tuples(st.text(max_size=5), st.text(max_size=5)),
       edit=st.tuples(st.integers(0, 300), st.integers(0, 3), st.text(_DIGITS_AND_OTHERS, max_size=3)))
def test_the_c_base64_decoder_answers_as_the_python_path_on_fuzzed_digits(data, around, edit):
    """Real base64 (any padding), read between offsets of a larger text of any width, then edited: cut,
    padded, given whitespace, newlines, non-ASCII or other characters. None where Python reads text."""
    speedups = built_speedups()
    digits = base64.b64encode(data).decode()
    at, cut, inserted = edit
    at = min(at, len(digits))
    for body in (digits, digits[:at] + inserted + digits[at + cut:]):
        text = around[0] + body + around[1]
        start, end = len(around[0]), len(around[0]) + len(body)
        decoded = speedups.decode_base64(text, start, end)
        assert decoded == python_decode(text, start, end)
        assert decoded == data or body is not digits or not data


@given(st.text(_DIGITS_AND_OTHERS, max_size=40))
def test_the_c_base64_decoder_answers_as_the_python_path_on_any_text(text):
    speedups = built_speedups()
    for start in range(0, min(len(text), 3) + 1):
        assert speedups.decode_base64(text, start, len(text)) == python_decode(text, start, len(text))


def test_the_c_base64_decoder_checks_its_arguments():
    speedups = built_speedups()
    for args, error in ((("YWJj", 0), TypeError), ((b"YWJj", 0, 4), TypeError), (("YWJj", 1, 0), ValueError),
                        (("YWJj", 0, 5), ValueError), (("YWJj", -1, 4), ValueError)):
        with pytest.raises(error):
            speedups.decode_base64(*args)
    assert speedups.decode_base64("x" * 10 + "QUJD" * 3 + "YQ==", 10, 26) == b"ABC" * 3 + b"a"


@given(st.text(st.sampled_from(["\n", "<", "-", "a", "\u20ac", "\U0001f600"]), max_size=60))
def test_count_lines_counts_newlines_and_request_lines_as_str_count_does(text):
    assert built_speedups().count_lines(text) == (text.count("\n"), text.count("\n<-"))


def test_the_body_functions_of_the_c_accelerator_leak_nothing():
    built_speedups()
    assert_blocks_stay_flat("""
        from capturemock import _speedups

        def run():
            text = "**" + "QUJD" * 5000 + "YQ=="
            for _ in range(500):
                assert len(_speedups.decode_base64(text, 2, len(text))) == 15001
                assert _speedups.decode_base64(text, 0, 8) is None
                assert _speedups.count_lines("a\\n<-b\\n" * 10) == (20, 10)
                assert len(bytes(_speedups.ascii_bytes(text))) == len(text)
                assert _speedups.ascii_bytes("\\u00e9") is None
                for wrong in ((text, 0), (text, 5, 1), (b"", 0, 0)):
                    try:
                        _speedups.decode_base64(*wrong)
                    except (TypeError, ValueError):
                        pass
    """)
