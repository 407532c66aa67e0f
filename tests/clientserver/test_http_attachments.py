"""Attachment downloads through the HTTP traffic server (§8.5), as 2.10.0 records them (its output, run
as a black box, is the expected text below): the body kept as a file in the record edit dir, the
placeholder in the mock, the file sent back in replay with the real server stopped."""
from __future__ import annotations

import os
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import capturemock

CLIENT_RC = "[general]\nserver_protocol = http\nrecord_for_client = true\n"
REPORT = b"\x00\x01binary\xff report\n"
FILES = {  # path: body, headers
    "/download/report": (REPORT, [("Content-Disposition", "attachment; filename=report.bin")]),
    "/download/other": (b"different bytes\xfe", [("Content-Disposition", 'attachment; filename="report.bin"')]),
    "/download/same": (REPORT, [("Content-Disposition", "attachment; filename=report.bin")]),
    "/files/archive.zip": (b"PK\x03\x04zipdata", [("Content-Type", "application/zip")]),
    "/inline/x": (b"inline body", [("Content-Disposition", "inline; filename=x.txt")]),
    "/evil": (b"evil", [("Content-Disposition", "attachment; filename=../evil.txt")]),
}
RECORDED = """<-CLI:GET /download/report
->SRV:200 <File Contents for report.bin>
--HEA:Content-Disposition=attachment; filename=report.bin
<-CLI:GET /download/other
->SRV:200 <File Contents for report.bin.edit_2>
--HEA:Content-Disposition=attachment; filename="report.bin"
<-CLI:GET /download/same
->SRV:200 <File Contents for report.bin>
--HEA:Content-Disposition=attachment; filename=report.bin
<-CLI:GET /files/archive.zip
->SRV:200 <File Contents for archive.zip>
--HEA:Content-Type=application/zip
<-CLI:GET /inline/x
->SRV:200 inline body
--HEA:Content-Disposition=inline; filename=x.txt
"""
SAFE = [path for path in FILES if path != "/evil"]


def file_server(rig):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            body, headers = FILES[self.path]
            self.send_response_only(200)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return rig.real(ThreadingHTTPServer(("127.0.0.1", 0), Handler))


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


def record(rig) -> None:
    real = file_server(rig)
    base = rig.start(capturemock.RECORD, CLIENT_RC, recordFromUrl=real.url, recordEditDir=str(rig.root / "edits"))
    assert [get(base + path) for path in SAFE] == [FILES[path][0] for path in SAFE]
    rig.stop()
    real.stop()


def test_attachments_are_recorded_as_files_and_replayed_from_them(rig):
    record(rig)
    assert rig.read("rec.mock") == RECORDED
    kept = {path.name: path.read_bytes() for path in (rig.root / "edits").iterdir()}
    assert kept == {"report.bin": REPORT, "report.bin.edit_2": b"different bytes\xfe",
                    "archive.zip": b"PK\x03\x04zipdata"}
    base = rig.start(capturemock.REPLAY, CLIENT_RC, replay="rec.mock", record="replayed.mock",
                     replayEditDir=str(rig.root / "edits"))
    assert [get(base + path) for path in SAFE] == [FILES[path][0] for path in SAFE]  # binary bytes intact
    rig.stop()
    assert rig.read("replayed.mock") == RECORDED


def test_a_missing_attachment_file_is_a_500_naming_the_mock_line_and_the_file(rig, capfd):
    record(rig)
    (rig.root / "edits" / "archive.zip").unlink()
    base = rig.start(capturemock.REPLAY, CLIENT_RC, replay="rec.mock", replayEditDir=str(rig.root / "edits"))
    with pytest.raises(urllib.error.HTTPError) as error:
        get(base + "/files/archive.zip")
    line = (f"CaptureMock: {rig.root / 'rec.mock'}:11: cannot send the attachment 'archive.zip': "
            f"No such file or directory: {rig.root / 'edits' / 'archive.zip'}")
    assert (error.value.code, error.value.read().decode()) == (500, line + "\n")
    assert get(base + "/download/report") == REPORT  # the others still replay
    rig.stop()
    assert line in capfd.readouterr().err


def test_a_hostile_attachment_name_is_refused_and_its_body_stays_in_the_text(rig, capfd):
    real = file_server(rig)
    base = rig.start(capturemock.RECORD, CLIENT_RC, recordFromUrl=real.url, recordEditDir=str(rig.root / "edits"))
    assert get(base + "/evil") == b"evil"
    rig.stop()
    assert rig.read("rec.mock") == ("<-CLI:GET /evil\n->SRV:200 evil\n"
                                    "--HEA:Content-Disposition=attachment; filename=../evil.txt\n")
    assert not (rig.root / "evil.txt").exists() and not (rig.root / "edits").exists()
    assert ("CaptureMock: refused the attachment name '../evil.txt': it goes up with '..'; its body is recorded "
            "in the mock file") in capfd.readouterr().err


@pytest.mark.parametrize("name, problem", [("../x", "goes up with '..'"), ("/etc/passwd", "is an absolute path")])
def test_a_mock_naming_a_hostile_attachment_is_refused_in_replay(rig, capfd, name, problem):
    rig.write("stored.mock", f"<-CLI:GET /f\n->SRV:200 <File Contents for {name}>\n"
                             "--HEA:Content-Disposition=attachment; filename=f\n")
    (rig.root / "edits").mkdir()
    base = rig.start(capturemock.REPLAY, CLIENT_RC, replay="stored.mock", replayEditDir=str(rig.root / "edits"))
    with pytest.raises(urllib.error.HTTPError) as error:
        get(base + "/f")
    line = f"CaptureMock: {rig.root / 'stored.mock'}:2: refused the attachment name {name!r}: it {problem}"
    assert error.value.read().decode() == line + "\n"
    rig.stop()
    assert line in capfd.readouterr().err


@pytest.mark.parametrize("kind", ["link to a secret", "link to /dev/zero", "fifo"])
def test_an_edit_dir_entry_that_is_no_regular_file_is_refused_in_replay(rig, capfd, kind):
    """The replay edit dir is shared data like the mock: its link to ``~/.ssh/id_rsa`` once sent the key
    to the client, one to ``/dev/zero`` read until memory ran out, a FIFO blocked the request forever."""
    (rig.root / "secret").write_bytes(b"PRIVATE KEY")
    edits = rig.root / "edits"
    edits.mkdir()
    stored = edits / "report.bin"
    if kind == "fifo":
        os.mkfifo(stored)
        problem = f"{stored} is not a regular file"
    else:
        stored.symlink_to(rig.root / "secret" if kind == "link to a secret" else "/dev/zero")
        problem = f"{stored} is a symbolic link (links in an edit dir are never followed)"
    rig.write("stored.mock", RECORDED)
    base = rig.start(capturemock.REPLAY, CLIENT_RC, replay="stored.mock", replayEditDir=str(edits))
    with pytest.raises(urllib.error.HTTPError) as error:
        get(base + "/download/report")
    line = f"CaptureMock: {rig.root / 'stored.mock'}:2: cannot send the attachment 'report.bin': {problem}"
    assert (error.value.code, error.value.read().decode()) == (500, line + "\n")
    rig.stop()
    assert line in capfd.readouterr().err
