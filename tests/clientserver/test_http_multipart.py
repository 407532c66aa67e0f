"""Multipart uploads through the HTTP traffic server (§8.5): file parts kept in the record edit dir as
``<File Contents for NAME>``, replay whatever the boundary, uploads played back to a live server."""
from __future__ import annotations

import json
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import capturemock
from capturemock.clientserver import httpmultipart

CLIENT_RC = "[general]\nserver_protocol = http\nrecord_for_client = true\n"
EXACT_RC = CLIENT_RC + "use_exact_matching = true\n"
SERVER_RC = "[general]\nserver_protocol = http\n"


def real_uploads(rig):
    """Answers each upload with how many bytes it got and the how-many-th it is; keeps the bodies."""
    bodies: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
            data = json.dumps({"upload": len(bodies), "bytes": len(bodies[-1])}).encode()
            self.send_response_only(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = rig.real(ThreadingHTTPServer(("127.0.0.1", 0), Handler))
    server.received = bodies
    return server


def form(boundary: str, *parts: tuple) -> bytes:
    """A multipart body: (field, value) for a field, (field, filename, bytes) for a file."""
    body = b""
    for part in parts:
        if len(part) == 2:
            body += f'--{boundary}\r\nContent-Disposition: form-data; name="{part[0]}"\r\n\r\n{part[1]}\r\n'.encode()
        else:
            body += (f'--{boundary}\r\nContent-Disposition: form-data; name="{part[0]}"; filename="{part[1]}"\r\n'
                     "Content-Type: application/octet-stream\r\n\r\n").encode() + part[2] + b"\r\n"
    return body + f"--{boundary}--\r\n".encode()


def upload(base: str, boundary: str, *parts: tuple) -> bytes:
    request = urllib.request.Request(f"{base}/upload", data=form(boundary, *parts), method="POST",
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read()


NOTES = ("comment", "hello there")
DATA = ("upload", "data.txt", b"line one\nline two\n")
RECORDED_210 = """<-CLI:POST /upload --abc123
Content-Disposition: form-data; name="comment"

hello there
--abc123
Content-Disposition: form-data; name="upload"; filename="data.txt"
Content-Type: application/octet-stream

<File Contents for data.txt>
--abc123--

--HEA:Content-Type=multipart/form-data; boundary=abc123
->SRV:200 {"upload": 1, "bytes": 225}
--HEA:Content-Type=application/json
"""


def test_record_keeps_uploaded_files_in_the_edit_dir_as_2_10_does(rig):
    real = real_uploads(rig)
    base = rig.start(capturemock.RECORD, CLIENT_RC, recordFromUrl=real.url, recordEditDir=str(rig.root / "edits"))
    assert upload(base, "abc123", NOTES, DATA) == b'{"upload": 1, "bytes": 225}'
    other, binary = b"other content\n", b"\xff\x00binary\x80"
    upload(base, "B2", ("a", "data.txt", DATA[2]), ("b", "data.txt", other), ("c", "data.txt", binary),
           ("d", "dir\\x.bin", binary), ("e", "", b""))
    rig.stop()
    assert real.received[0] == form("abc123", NOTES, DATA)  # forwarded as it came
    recorded = rig.read("rec.mock")
    assert recorded.startswith(RECORDED_210)
    placeholders = [line for line in recorded.splitlines() if line.startswith("<File")]
    assert placeholders == ["<File Contents for data.txt>"] * 2 + [
        "<File Contents for data.txt.edit_2>", "<File Contents for data.txt.edit_3>", "<File Contents for x.bin>"]
    assert 'filename=""\nContent-Type: application/octet-stream\n\n\n--B2--' in recorded  # no file chosen
    edits = rig.root / "edits"
    assert sorted(path.name for path in edits.iterdir()) == ["data.txt", "data.txt.edit_2", "data.txt.edit_3", "x.bin"]
    assert [(edits / name).read_bytes() for name in ("data.txt", "data.txt.edit_2", "data.txt.edit_3", "x.bin")] == [
        DATA[2], other, binary, binary]


def test_without_a_record_edit_dir_the_upload_stays_in_the_text(rig):
    real = real_uploads(rig)
    base = rig.start(capturemock.RECORD, CLIENT_RC, recordFromUrl=real.url)
    upload(base, "abc123", NOTES, DATA)
    rig.stop()
    assert "\nline one\nline two\n\n--abc123--" in rig.read("rec.mock")


def test_replay_answers_an_upload_whatever_its_boundary_under_exact_matching(rig):
    rig.write("stored.mock", RECORDED_210 + RECORDED_210.replace("abc123", "xyz").replace('"upload": 1', '"upload": 2'))
    base = rig.start(capturemock.REPLAY, EXACT_RC, replay="stored.mock", recordEditDir=str(rig.root / "edits"))
    assert upload(base, "first-random", NOTES, DATA) == b'{"upload": 1, "bytes": 225}'
    assert upload(base, "second-random", NOTES, DATA) == b'{"upload": 2, "bytes": 225}'
    assert upload(base, "third-random", NOTES, DATA) == b'{"upload": 1, "bytes": 225}'  # then the first again
    rig.stop()
    assert rig.read("rec.mock").startswith(RECORDED_210.replace("abc123", "first-random"))
    assert (rig.root / "edits" / "data.txt").read_bytes() == DATA[2]


def test_an_upload_of_another_file_is_a_mismatch_under_exact_matching(rig):
    rig.write("stored.mock", RECORDED_210)
    base = rig.start(capturemock.REPLAY, EXACT_RC, replay="stored.mock", recordEditDir=str(rig.root / "edits"))
    try:
        upload(base, "random", NOTES, ("upload", "other.txt", b"x"))
    except urllib.error.HTTPError as err:
        assert err.code == 500 and err.read().startswith(b"CAPTUREMOCK MISMATCH: ")
    else:
        raise AssertionError("an upload of another file was answered")


def test_replaying_the_client_sends_the_recorded_files_back_to_the_server(rig):
    real = real_uploads(rig)
    rig.start(capturemock.RECORD, SERVER_RC, recordFromUrl=real.url, recordEditDir=str(rig.root / "edits"))
    sent = form("B1", NOTES, DATA, ("more", "pic.bin", b"\xff\x00\r\n\x80"))
    request = urllib.request.Request(f"{rig.env['CAPTUREMOCK_SERVER']}/upload", data=sent, method="POST",
                                     headers={"Content-Type": "multipart/form-data; boundary=B1"})
    urllib.request.urlopen(request, timeout=10).read()
    rig.stop()
    assert "<File Contents for pic.bin>" in rig.read("rec.mock")
    (rig.root / "edits").rename(rig.root / "stored_edits")
    rig.start(capturemock.REPLAY, SERVER_RC, replay="rec.mock", record="replayed.mock", recordFromUrl=real.url,
              replayEditDir=str(rig.root / "stored_edits"))
    rig.stop()
    assert real.received == [sent, sent]  # the same bytes: CRLFs and the files' own bytes


def test_a_missing_file_is_said_on_stderr_and_its_placeholder_sent(rig):
    real = real_uploads(rig)
    server_form = RECORDED_210.replace("<-CLI:", "->CLI:").replace("->SRV:", "<-SRV:")
    rig.write("stored.mock", "<-SRV:POST /capturemock/setServerLocation <address>\n" + server_form)
    errors: list[str] = []
    rig.start(capturemock.REPLAY, SERVER_RC, replay="stored.mock", recordFromUrl=real.url,
              replayEditDir=str(rig.root / "none"), stderrFn=errors.append)
    rig.stop()
    assert errors == ["Error from CaptureMock Server :\nERROR: Cannot find file named 'data.txt' when replaying!\n"]
    assert b"\r\n\r\n<File Contents for data.txt>\r\n--abc123--\r\n" in real.received[0]


def test_boundaries_are_read_quoted_or_not():
    assert httpmultipart.boundary([("content-type", 'multipart/form-data; boundary="a b"')]) == "a b"
    assert httpmultipart.boundary([("Content-Type", "multipart/mixed; charset=x; boundary=q1")]) == "q1"
    assert httpmultipart.boundary([("Content-Type", "application/json; boundary=q1")]) is None


def test_an_upload_named_by_a_link_in_the_edit_dir_is_refused_and_its_placeholder_sent(rig):
    """Played to a live server, an edit dir's link (to ``~/.ssh/id_rsa``) once uploaded what it reached."""
    real = real_uploads(rig)
    (rig.root / "secret").write_bytes(b"PRIVATE KEY")
    (rig.root / "edits").mkdir()
    (rig.root / "edits" / "data.txt").symlink_to(rig.root / "secret")
    server_form = RECORDED_210.replace("<-CLI:", "->CLI:").replace("->SRV:", "<-SRV:")
    rig.write("stored.mock", "<-SRV:POST /capturemock/setServerLocation <address>\n" + server_form)
    errors: list[str] = []
    rig.start(capturemock.REPLAY, SERVER_RC, replay="stored.mock", recordFromUrl=real.url,
              replayEditDir=str(rig.root / "edits"), stderrFn=errors.append)
    rig.stop()
    link = rig.root / "edits" / "data.txt"
    assert errors == ["Error from CaptureMock Server :\nCaptureMock: refused to send the upload 'data.txt': "
                      f"{link} is a symbolic link (links in an edit dir are never followed)\n"]
    assert b"PRIVATE KEY" not in real.received[0]
    assert b"\r\n\r\n<File Contents for data.txt>\r\n--abc123--\r\n" in real.received[0]
