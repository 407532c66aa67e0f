"""A large replayed reply is recorded from its own text, in parts, byte for byte as one text would be."""
from __future__ import annotations

import errno
import os

import pytest

from capturemock import mockfile
from capturemock.alterations import Alterations
from capturemock.clientserver.settings import Settings
from capturemock.clientserver.traffic import LARGE_REPLY, Transcript
from capturemock.config import RcConfig
from capturemock.errors import MockFileError
from capturemock.mockfile import ESCAPE, Item, MockWriter
from tests.conftest import built_speedups

BODY = "200 base64:" + "QUJD" * (LARGE_REPLY // 4)


def transcript(tmp_path, rc: str = "") -> Transcript:
    (tmp_path / "rc").write_text("[general]\nserver_protocol = http\nrecord_for_client = true\n" + rc)
    config = RcConfig([str(tmp_path / "rc")])
    return Transcript(Settings(config), Alterations(config))


def joined(transcript: Transcript, client: str, replies: list[Item]) -> str:
    """The replayed exchange as one text: what was recorded before the parts."""
    return client + "".join(transcript.server(item.text, item.type, altered=True) for item in replies)


@pytest.mark.parametrize("server_is_sut", [False, True])
def test_a_large_reply_is_its_own_text_between_its_start_and_newline(tmp_path, server_is_sut):
    recording = transcript(tmp_path)
    recording.server_is_sut = server_is_sut
    body = BODY + "\n--HEA:Content-Type=application/octet-stream"  # header lines need no escaping
    replies = [Item("->", "SRV", body), Item("->", "SRV", "200 ok")]
    parts = recording.replayed("<-CLI:GET /blob\n", replies)
    assert isinstance(parts, list) and any(part is body for part in parts)  # not copied
    assert "".join(parts) == joined(recording, "<-CLI:GET /blob\n", replies)


@pytest.mark.parametrize("rc, text", [("", "200 ok"), ("", ESCAPE + BODY), ("", BODY + "\n<-CLI:x"),
                                      ("preserve_lf = true\n", BODY)],
                         ids=["small", "escaped", "item start inside", "preserve_lf"])
def test_a_reply_that_is_small_or_written_changed_is_formatted_as_one_text(tmp_path, rc, text):
    recording = transcript(tmp_path, rc)
    replies = [Item("->", "SRV", text)]
    assert recording.replayed("<-CLI:GET /\n", replies) == joined(recording, "<-CLI:GET /\n", replies)


def test_the_writer_writes_a_text_in_parts_as_it_writes_it_joined(tmp_path):
    path = tmp_path / "rec.mock"
    writer = MockWriter(str(path))
    writer.write_parts(["<-CLI:GET /\n", "->", "SRV", ":", "200 \u00e9t\u00e9", "\n"])
    writer.write_parts("<-CLI:GET /small\n->SRV:200 ok\n")
    writer.close()
    assert path.read_text(encoding="utf-8") == "<-CLI:GET /\n->SRV:200 \u00e9t\u00e9\n<-CLI:GET /small\n->SRV:200 ok\n"


@pytest.mark.parametrize("accelerated", [True, False], ids=["c", "python"])
def test_large_parts_are_written_as_their_text_encoded_whether_lent_or_copied(tmp_path, monkeypatch, accelerated):
    """A large ASCII part is written from its own characters (C), any other part encoded: the same bytes."""
    if accelerated:
        built_speedups()
    else:
        monkeypatch.setenv("CAPTUREMOCK_PURE_PYTHON", "1")
    path = tmp_path / "rec.mock"
    writer = MockWriter(str(path))
    wide = "200 \u00e9t\u00e9 \udcff" + "x" * mockfile._LENT_FROM  # not ASCII; a byte that was not UTF-8
    writer.write_parts(["<-CLI:GET /\n", "->SRV:", BODY, "\n", "->SRV:", wide, "\n"])
    writer.close()
    assert path.read_bytes() == f"<-CLI:GET /\n->SRV:{BODY}\n->SRV:{wide}\n".encode("utf-8", "surrogateescape")


def test_ascii_bytes_lends_an_ascii_texts_characters_and_keeps_the_text_alive():
    speedups = built_speedups()
    lent = speedups.ascii_bytes("".join(["ab", "c" * 3]))  # a str nothing else holds
    assert (bytes(lent), len(lent), lent.readonly) == (b"abccc", 5, True)
    assert b"".join([lent, b"!"]) == b"abccc!"
    assert speedups.ascii_bytes("\u00e9") is None and bytes(speedups.ascii_bytes("")) == b""
    with pytest.raises(TypeError, match=r"ascii_bytes\(text\): expected a str"):
        speedups.ascii_bytes(b"ab")


def test_a_short_writev_is_finished_and_a_failed_one_taken_back_out(tmp_path, monkeypatch):
    path = tmp_path / "rec.mock"
    writer = MockWriter(str(path))
    real_writev = os.writev
    monkeypatch.setattr(mockfile.os, "writev", lambda fd, parts: real_writev(fd, [parts[0][:5]]))  # 5 bytes only
    writer.write_parts(["<-CLI:GET /\n", "->SRV:", BODY, "\n"])
    assert path.read_text() == f"<-CLI:GET /\n->SRV:{BODY}\n"

    def full(fd, parts):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    monkeypatch.setattr(mockfile.os, "writev", full)
    with pytest.raises(MockFileError, match="No space left"):
        writer.write_parts(["<-CLI:GET /2\n", "->SRV:", BODY, "\n"])
    assert path.read_text() == f"<-CLI:GET /\n->SRV:{BODY}\n"


def test_an_exchange_of_many_replies_is_one_text_whatever_their_size(tmp_path):
    """writev takes at most IOV_MAX (1024) parts: an exchange with many replies is written joined."""
    recording = transcript(tmp_path)
    replies = [Item("->", "SRV", BODY)] + [Item("->", "SRV", f"part {n}") for n in range(300)]
    text = recording.replayed("<-CLI:GET /many\n", replies)
    assert text == joined(recording, "<-CLI:GET /many\n", replies)
