"""FTP through the real traffic server (§8.9): stdlib ftplib as the SUT, a pyftpdlib server as the
real one, both on 127.0.0.1; record, then replay with the real server stopped."""
from __future__ import annotations

import ftplib
import io
import os
import re
import threading

import pytest

import capturemock
from capturemock.clientserver.ftpdata import edit_path

pytest.importorskip("pyftpdlib")
from pyftpdlib.authorizers import DummyAuthorizer  # noqa: E402
from pyftpdlib.handlers import FTPHandler  # noqa: E402
from pyftpdlib.ioloop import IOLoop  # noqa: E402
from pyftpdlib.servers import FTPServer  # noqa: E402

RC = "[general]\nserver_protocol = ftp\n"
EDITS = {"recordEditDir": "edits", "replayEditDir": "stored_edits"}


class RealFtp:
    """A pyftpdlib server on 127.0.0.1 serving ``home`` to bob/secret, in a thread."""

    def __init__(self, home):
        (home / "sub").mkdir(parents=True)
        (home / "a.txt").write_bytes(b"hello\r\nworld\n")
        (home / "sub" / "b.bin").write_bytes(bytes(range(256)))
        self.home = home
        authorizer = DummyAuthorizer()
        authorizer.add_user("bob", "secret", str(home), perm="elradfmwMT")
        handler = type("Handler", (FTPHandler,), {"authorizer": authorizer, "banner": "real ftp"})
        self.server = FTPServer(("127.0.0.1", 0), handler, ioloop=IOLoop())  # each test stops its own
        self.address = f"127.0.0.1:{self.server.address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"handle_exit": False}, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        if self.thread.is_alive():
            self.server.ioloop.call_later(0, self.server.close_all)
            self.thread.join(10)


@pytest.fixture
def real(tmp_path):
    server = RealFtp(tmp_path / "home")
    yield server
    server.stop()


def connect(address: str, user: str = "bob", password: str = "secret") -> ftplib.FTP:
    host, port = address.rsplit(":", 1)
    client = ftplib.FTP(timeout=10)
    client.connect(host, int(port))
    client.login(user, password)
    return client


def locate(address: str, real_address: str) -> None:
    """2.10's location message: an upload named ``SUT_SERVER=host:port`` by CaptureMock's own user."""
    control = connect(address, "capturemock", "capturemock")
    control.storbinary(f"STOR SUT_SERVER={real_address}", io.BytesIO(b""))
    control.quit()


def session(address: str) -> list:
    """What the SUT does, and what it gets."""
    client = connect(address)
    listing: list[str] = []
    client.retrlines("LIST", listing.append)
    seen: list = [listing]
    download = io.BytesIO()
    client.retrbinary("RETR a.txt", download.write)
    seen.append(download.getvalue())
    with pytest.raises(ftplib.error_perm) as missing:
        client.retrbinary("RETR nosuch.txt", download.write)
    seen.append(str(missing.value))
    seen.append(client.cwd("sub"))
    seen.append(client.nlst())
    binary = io.BytesIO()
    client.retrbinary("RETR b.bin", binary.write)
    seen.append(binary.getvalue())
    client.storbinary("STOR up.txt", io.BytesIO(b"uploaded\n"))
    client.quit()
    return seen


def ports_hidden(text: str) -> str:
    return re.sub(r"\(127,0,0,1,\d+,\d+\)", "(127,0,0,1,P,P)", text)


def test_record_then_replay_with_the_real_server_stopped(rig, real, tmp_path):
    address = rig.start(capturemock.RECORD, RC, **EDITS)
    assert re.fullmatch(r"127\.0\.0\.1:\d+", address)
    locate(address, real.address)
    recorded_view = session(address)
    rig.stop()
    assert [line[:10] for line in recorded_view[0]] == ["-rw-r--r--", "drwxr-xr-x"]
    assert recorded_view[1] == b"hello\r\nworld\n"
    assert recorded_view[2:5] == ["550 No such file or directory.", '250 "/sub" is the current directory.',
                                  ["b.bin"]]
    assert recorded_view[5] == bytes(range(256))
    assert (real.home / "sub" / "up.txt").read_bytes() == b"uploaded\n"
    text = rig.read("rec.mock")
    listing = ",\n ".join(repr(line) for line in recorded_view[0])
    assert ports_hidden(text) == (
        "<-CLI:USER bob\n->SRV:331 Username ok, send password.\n<-CLI:PASS secret\n->SRV:230 Login successful.\n"
        "<-CLI:TYPE A\n->SRV:200 Type set to: ASCII.\n<-CLI:PASV\n->SRV:227 Entering passive mode (127,0,0,1,P,P).\n"
        f"<-CLI:LIST\n->LST:[{listing}]\n->SRV:226 Transfer complete.\n"
        "<-CLI:TYPE I\n->SRV:200 Type set to: Binary.\n<-CLI:PASV\n->SRV:227 Entering passive mode (127,0,0,1,P,P).\n"
        "<-CLI:RETR a.txt\n->FIL:a.txt\n->SRV:226 Transfer complete.\n"
        "<-CLI:TYPE I\n->SRV:200 Type set to: Binary.\n<-CLI:PASV\n->SRV:227 Entering passive mode (127,0,0,1,P,P).\n"
        "<-CLI:RETR nosuch.txt\n->SRV:550 No such file or directory.\n"
        '<-CLI:CWD sub\n->SRV:250 "/sub" is the current directory.\n'
        "<-CLI:TYPE A\n->SRV:200 Type set to: ASCII.\n<-CLI:PASV\n->SRV:227 Entering passive mode (127,0,0,1,P,P).\n"
        "<-CLI:NLST\n->LST:['b.bin']\n->SRV:226 Transfer complete.\n"
        "<-CLI:TYPE I\n->SRV:200 Type set to: Binary.\n<-CLI:PASV\n->SRV:227 Entering passive mode (127,0,0,1,P,P).\n"
        "<-CLI:RETR b.bin\n->FIL:b.bin\n->SRV:226 Transfer complete.\n"
        "<-CLI:TYPE I\n->SRV:200 Type set to: Binary.\n<-CLI:PASV\n->SRV:227 Entering passive mode (127,0,0,1,P,P).\n"
        "<-CLI:STOR up.txt\n->SRV:226 Transfer complete.\n<-CLI:QUIT\n->SRV:221 Goodbye.\n")
    assert (tmp_path / "edits" / "a.txt").read_bytes() == b"hello\r\nworld\n"
    assert (tmp_path / "edits" / "b.bin").read_bytes() == bytes(range(256))
    assert (tmp_path / "edits" / "up.txt").read_bytes() == b"uploaded\n"

    real.stop()
    (tmp_path / "edits").rename(tmp_path / "stored_edits")
    rig.write("stored.mock", text)
    address = rig.start(capturemock.REPLAY, RC, record="replayed.mock", replay="stored.mock", **EDITS)
    assert session(address) == recorded_view
    rig.stop()
    assert rig.read("replayed.mock") == text
    assert (tmp_path / "edits" / "up.txt").read_bytes() == b"uploaded\n"


def test_the_launchers_location_message_and_the_shutdown_upload(rig, real):
    address = rig.start(capturemock.RECORD, RC, recordFromUrl=real.address)
    client = connect(address)
    assert client.pwd() == "/"
    client.retrbinary("RETR a.txt", io.BytesIO().write)
    client.quit()
    assert (rig.root / "rec.mock.files" / "a.txt").read_bytes() == b"hello\r\nworld\n"  # no edit dir: beside the mock
    control = connect(address, "capturemock", "capturemock")
    control.storbinary("STOR CAPTUREMOCK_SHUTDOWN", io.BytesIO(b""))
    control.quit()
    rig.manager.process.wait(10)
    assert rig.manager.terminate()
    pasv = re.search(r"passive mode \((.*)\)", rig.read("rec.mock")).group(1)
    assert rig.read("rec.mock") == ("<-CLI:USER bob\n->SRV:331 Username ok, send password.\n<-CLI:PASS secret\n"
                                    "->SRV:230 Login successful.\n<-CLI:PWD\n"
                                    '->SRV:257 "/" is the current directory.\n'
                                    "<-CLI:TYPE I\n->SRV:200 Type set to: Binary.\n<-CLI:PASV\n"
                                    f"->SRV:227 Entering passive mode ({pasv}).\n"
                                    "<-CLI:RETR a.txt\n->FIL:a.txt\n->SRV:226 Transfer complete.\n"
                                    "<-CLI:QUIT\n->SRV:221 Goodbye.\n")


def test_replay_says_what_is_missing(rig, tmp_path):
    errors: list[str] = []
    rig.write("stored.mock", "<-CLI:USER bob\n->SRV:331 ok\n<-CLI:PASS x\n->SRV:230 in\n"
                             "<-CLI:TYPE I\n->SRV:200 binary\n<-CLI:PASV\n->SRV:227 (127,0,0,1,1,1).\n"
                             "<-CLI:RETR gone.txt\n->FIL:gone.txt\n->SRV:226 done\n"
                             "<-CLI:TYPE A\n->SRV:200 text\n<-CLI:PASV\n->SRV:227 (127,0,0,1,1,1).\n"
                             "<-CLI:LIST\n->LST:__import__('os').getcwd()\n->SRV:226 done\n")
    address = rig.start(capturemock.REPLAY, RC, replay="stored.mock", stderrFn=errors.append, **EDITS)
    client = connect(address, "bob", "x")
    with pytest.raises(ftplib.error_perm) as missing:
        client.retrbinary("RETR gone.txt", io.BytesIO().write)
    assert str(missing.value) == "550 CaptureMock: no recorded file gone.txt"
    with pytest.raises(ftplib.error_perm) as listing:
        client.retrlines("LIST", print)
    assert str(listing.value) == f"550 CaptureMock: {tmp_path / 'stored.mock'}:17: not a list of lines"
    client.close()
    rig.stop()
    stored = tmp_path / "stored_edits" / "gone.txt"
    assert errors == ["Error from CaptureMock Server :\n"
                      "CaptureMock: no recorded file gone.txt to replay: "
                      f"cannot read {stored}: No such file or directory\n"
                      f"CaptureMock: {tmp_path / 'stored.mock'}:17: a ->LST: listing is not a list of lines\n"]


def test_exact_matching_answers_a_mismatch(rig):
    rig.write("stored.mock", "<-CLI:USER bob\n->SRV:331 ok\n")
    address = rig.start(capturemock.REPLAY, RC + "use_exact_matching = true\n", replay="stored.mock")
    host, port = address.rsplit(":", 1)
    client = ftplib.FTP(timeout=10)
    client.connect(host, int(port))
    assert client.sendcmd("USER bob") == "331 ok"
    with pytest.raises(ftplib.error_perm) as refused:
        client.sendcmd("USER alice")
    assert str(refused.value).startswith("550 CAPTUREMOCK MISMATCH: ")
    with pytest.raises(ftplib.error_perm) as active:
        client.sendcmd("PORT 127,0,0,1,4,1")
    assert str(active.value) == "502 CaptureMock serves passive mode only (PASV/EPSV)."
    client.close()
    rig.stop()
    assert rig.read("rec.mock") == "<-CLI:USER bob\n->SRV:331 ok\n"


def test_an_unreachable_real_server_is_a_421_with_the_reason(rig):
    errors: list[str] = []
    address = rig.start(capturemock.RECORD, RC, recordFromUrl="127.0.0.1:1", stderrFn=errors.append)
    host, port = address.rsplit(":", 1)
    client = ftplib.FTP(timeout=10)
    client.connect(host, int(port))
    with pytest.raises(ftplib.error_temp) as unreachable:
        client.sendcmd("USER bob")
    assert str(unreachable.value).startswith("421 WARNING: Could not forward to server 127.0.0.1:1: ")
    client.close()
    rig.stop()
    assert not rig.exists("rec.mock")
    assert "-- USER bob\n" in errors[0]


@pytest.mark.parametrize("name, kept", [("a.txt", "a.txt"), ("/dir/b.txt", "dir/b.txt"),
                                        ("../../etc/passwd", "passwd"), ("/", "unnamed")])
def test_transferred_files_stay_inside_the_edit_directory(name, kept):
    assert edit_path("/edits", name) == f"/edits/{kept}"


def test_replay_for_server_plays_the_recorded_client_against_a_live_server(rig, real, tmp_path):
    address = rig.start(capturemock.RECORD, RC, recordFromUrl=real.address, recordEditDir="edits")
    sub = real.home / "sub"
    listed_time = sub.stat().st_mtime
    client = connect(address)
    client.retrlines("LIST", lambda line: None)
    client.cwd("sub")
    client.retrbinary("RETR b.bin", io.BytesIO().write)
    client.storbinary("STOR up.bin", io.BytesIO(b"\x00\x01"))
    client.quit()
    rig.stop()
    (sub / "up.bin").unlink()  # the live server as it was: the same listing again
    os.utime(sub, (listed_time, listed_time))
    capturemock.replay_for_server(rig.write("capturemockrc", RC), str(tmp_path / "rec.mock"),
                                  str(tmp_path / "played.mock"), real.address, str(tmp_path / "edits"),
                                  str(tmp_path / "played_edits"))
    assert ports_hidden(rig.read("played.mock")) == ports_hidden(rig.read("rec.mock"))
    assert "<-CLI:RETR b.bin\n->FIL:b.bin\n" in rig.read("played.mock")
    assert (tmp_path / "played_edits" / "b.bin").read_bytes() == bytes(range(256))
    assert (real.home / "sub" / "up.bin").read_bytes() == b"\x00\x01"
