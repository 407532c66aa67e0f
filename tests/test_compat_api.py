"""2.10.0's public helpers that test rigs import. Expected values observed from CaptureMock 2.10.0,
called black-box on the same inputs."""
from __future__ import annotations

import subprocess
import sys
from types import SimpleNamespace

import pytest

import capturemock
from capturemock import cmdlineutils, config

# observed from 2.10.0: create_option_parser().format_help() with prog "-"
HELP = """\
Usage: - [options] <program> <program_args> ...

CaptureMock command line program. Records and replays interaction defined by stuff in its rc file

Options:
  -h, --help            show this help message and exit
  -m MODE, --mode=MODE  CaptureMock mode. 0=replay, 1=record, 2=replay if
                        possible, else record
  -p FILE, --replay=FILE
                        replay traffic recorded in FILE.
  -f DIR, --replay-file-edits=DIR
                        restore edited files referred to in replayed file from
                        DIR.
  -r FILE, --record=FILE
                        record traffic to FILE.
  -F DIR, --record-file-edits=DIR
                        store edited files under DIR.
  -R RCFILES, --rcfiles=RCFILES
                        Read configuration from given rc files, defaults to
                        ~/.capturemock/config
  -P PORT, --port=PORT  Port to run CaptureMock on
"""


def test_option_parser():
    parser = cmdlineutils.create_option_parser()
    parser.prog = "-"
    assert parser.format_help() == HELP
    options, args = parser.parse_args(["-m", "1", "-p", "x", "prog", "-m", "2"])
    # observed from 2.10.0: interspersed options are parsed
    assert (vars(options), args) == ({"mode": 2, "replay": "x", "replay_file_edits": None, "record": None,
                                      "record_file_edits": None, "rcfiles": None, "port": 0}, ["prog"])


def test_is_active(tmp_path):
    replay = tmp_path / "replay.mock"
    replay.write_text("<-CMD:x\n")
    cases = [(0, None), (0, str(replay)), (0, str(tmp_path)), (0, "/nonexistent"), ("0", None), (1, None),
             (2, "/nonexistent"), (0.0, None)]
    # observed from 2.10.0
    assert [config.isActive(*case) for case in cases] == [False, True, False, False, True, True, True, False]


@pytest.fixture
def handler(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rc2").write_text("[general]\nnum = 3\nflt = 2.5\nflag = true\nlst = a, b,c\n"
                                  "addr = ${CAPTUREMOCK_SERVER}/x\n[python]\nintercepts = os.getcwd, datetime\n"
                                  "[command line]\nintercepts = ls\n")
    (tmp_path / "rc3").write_text("[general]\nnum = 4\n[extra]\nfoo = bar\n")
    return config.RcFileHandler(["rc2", "rc3"])


def test_rc_file_handler_reads_as_2_10(handler):
    # all observed from 2.10.0 on the same files
    assert (handler.get("num", ["general"]), handler.getint("num", ["general"]),
            handler.getfloat("flt", ["general"]), handler.getboolean("flag", ["general"])) == ("4", 4, 2.5, True)
    assert (handler.get("nope", ["general"]), handler.get("nope", ["general"], "dflt"),
            handler.getint("nope", ["general"]), handler.getint("nope", ["general"], 7)) == (None, "dflt", None, 7)
    assert handler.getList("intercepts", ["python", "command line"]) == ["os.getcwd", "datetime", "ls"]
    assert handler.getIntercepts("python") == ["os.getcwd", "datetime"]
    assert handler.getList("num", ["general", "general"]) == ["4", "4"]
    assert (handler.getSection("extra"), handler.getSection("nope")) == ({"foo": "bar"}, {})
    assert handler.get("foo", ["general", "extra"]) == "bar"
    assert handler.getWithAddress("addr", ["general"]) == "${CAPTUREMOCK_SERVER}/x"
    handler.address = "127.0.0.1:4000"
    assert handler.getWithAddress("addr", ["general"]) == "127.0.0.1:4000/x"


def test_rc_file_handler_changes_as_2_10(handler):
    handler.set("general", "bl", " a ,, b ")
    assert handler.getList("bl", ["general"]) == ["a", "", "b"]  # observed from 2.10.0: blanks kept
    handler.addToList("lst", ["general"], "d")
    assert handler.getList("lst", ["general"]) == ["a", "b", "c", "d"]
    assert (handler.add_section("new"), handler.add_section("new")) == (True, False)
    handler.addToList("newlist", ["new"], "z")
    assert handler.getList("newlist", ["new"]) == ["z"]
    assert handler.getPersonalPath("foo.txt").endswith("/.capturemock/foo.txt")
    assert handler.setUpLogging("Server") is handler.diag
    assert handler.diag.name == "Server"


def test_file_edit_traffic_settings_and_names():
    traffic = capturemock.FileEditTraffic
    traffic.configure(SimpleNamespace(replay_file_edits="rdir", record_file_edits="wdir"))
    # observed from 2.10.0
    assert (traffic.replayFileEditDir, traffic.recordFileEditDir, traffic.diag.name) == ("rdir", "wdir", "Server")
    assert (traffic.typeId, traffic.linkSuffix, traffic.deleteSuffix) == \
        ("FIL", ".CAPTUREMOCK_SYMLINK", ".CAPTUREMOCK_DELETION")
    assert [traffic.getFileEditName("/a/b/c.txt") for _ in range(2)] == ["/a/b/c.txt", "/a/b/c.txt.edit_2"]
    assert (traffic.getFileType("/"), traffic.getFileType("/nonexistent")) == ("directory", "file")



@pytest.fixture
def edit_traffic(monkeypatch):
    """FileEditTraffic with its class-level settings and counts restored after the test."""
    traffic = capturemock.FileEditTraffic
    for name in ("replayFileEditDir", "recordFileEditDir", "diag"):
        monkeypatch.setattr(traffic, name, getattr(traffic, name))
    monkeypatch.setattr(traffic, "fileRequestCount", {})
    return traffic


def _tree(root) -> dict[str, str]:
    """Every path under root: a link as '-> target', a directory as '/', a file as its text."""
    found = {}
    for path in sorted(root.rglob("*")):
        key = str(path.relative_to(root))
        found[key] = f"-> {path.readlink()}" if path.is_symlink() else "/" if path.is_dir() else path.read_text()
    return found


class _Handler:
    def __init__(self):
        self.lines = []

    def record(self, *args):
        self.lines.append(args)


def test_file_edit_traffic_records_an_edit(tmp_path, edit_traffic, capsys):
    work, store = tmp_path / "work", tmp_path / "store"
    (work / "d" / "sub").mkdir(parents=True)
    (work / "d" / "sub" / "y").write_text("y\n")
    (work / "d" / "z").write_text("z\n")
    (work / "d" / "ln").symlink_to("z")
    (work / "empty").mkdir()
    edit_traffic.configure(SimpleNamespace(replay_file_edits=None, record_file_edits=str(store)))
    changed = [str(work / "d" / name) for name in ("sub/y", "ln", "gone")]
    edit = edit_traffic.makeRecordedTraffic(str(work / "d"), changed)
    handler = _Handler()
    # observed from 2.10.0: the traffic's state, what it records and what it stores
    assert vars(edit) == {"activeFile": str(work / "d"), "storedFile": str(store / "d"), "changedPaths": changed,
                          "reproduce": False, "text": "d", "timestamp": None, "alterations": {},
                          "responseFile": None}
    assert (edit.getDescription(), edit.forwardToDestination(), edit.record(handler, "extra")) == \
        ("->FIL:d", [], None)
    assert handler.lines == [("->FIL:d\n", "extra")]
    assert _tree(store) == {"d": "/", "d/gone.CAPTUREMOCK_DELETION": "", "d/ln.CAPTUREMOCK_SYMLINK": "z\n",
                            "d/sub": "/", "d/sub/y": "y\n"}
    again = edit_traffic.makeRecordedTraffic(str(work / "d"), [str(work / "d" / "z")])
    empty = edit_traffic.makeRecordedTraffic(str(work / "empty"), [str(work / "empty")])
    again.record(handler)
    empty.record(handler)
    assert (again.text, again.storedFile, handler.lines[1:]) == \
        ("d.edit_2", str(store / "d.edit_2"), [("->FIL:d.edit_2\n",), ("->FIL:empty\n",)])
    assert _tree(store)["d.edit_2/z"] == "z\n"
    assert capsys.readouterr().out == f"Could not transfer {work / 'empty'} to {store / 'empty'}\n"


def test_file_edit_traffic_replays_an_edit(tmp_path, edit_traffic):
    store, target = tmp_path / "store", tmp_path / "restored" / "d"
    (store / "d" / "sub").mkdir(parents=True)
    (store / "d" / "sub" / "y").write_text("y\n")
    (store / "d" / "ln.CAPTUREMOCK_SYMLINK").write_text("z\n")
    (store / "d" / "gone.CAPTUREMOCK_DELETION").write_text("")
    (store / "f").write_text("f")
    (store / "x.CAPTUREMOCK_DELETION").write_text("")
    target.mkdir(parents=True)
    (target / "gone").write_text("to delete")
    edit_traffic.configure(SimpleNamespace(replay_file_edits=str(store), record_file_edits=None))
    # observed from 2.10.0
    assert [edit_traffic.getFileWithType(name) for name in ("d", "f", "ln", "x", "none")] == [
        (str(store / "d"), "directory"), (str(store / "f"), "file"), (None, "unknown"),
        (str(store / "x.CAPTUREMOCK_DELETION"), "unknown"), (None, "unknown")]
    assert edit_traffic.getFileWithType("d/ln") == (str(store / "d" / "ln.CAPTUREMOCK_SYMLINK"), "file")
    stored = [str(store / "d" / name) for name in ("sub/y", "gone.CAPTUREMOCK_DELETION", "ln.CAPTUREMOCK_SYMLINK")]
    edit = edit_traffic("d", str(target), str(store / "d"), stored, True)
    handler = _Handler()
    assert (edit.forwardToDestination(), edit.record(handler)) == ([], None)
    assert _tree(target) == {"ln": "-> z", "sub": "/", "sub/y": "y\n"}
    assert handler.lines == [("->FIL:d\n",)]
    assert "ln" not in _tree(store / "d")  # a replayed edit stores nothing


def test_file_edit_traffic_path_operations(tmp_path, edit_traffic, capsys):
    """Observed from 2.10.0, quirks included: relative link targets only under the link's own directory,
    an existing link is kept, blocking files become directories, files are written through links."""
    (tmp_path / "d").mkdir()
    (tmp_path / "f").write_text("F")
    (tmp_path / "d" / "in").symlink_to(tmp_path / "d" / "x")
    (tmp_path / "d" / "up").symlink_to(tmp_path / "f")
    (tmp_path / "d" / "dotdot").symlink_to(f"{tmp_path}/d/../f")
    (tmp_path / "d" / "self").symlink_to(tmp_path / "d")
    edit = edit_traffic("x", "", "", [], False)
    for name in ("in", "up", "dotdot", "self"):
        edit.storeLinkAsFile(str(tmp_path / "d" / name), str(tmp_path / f"{name}.txt"))
    assert [(tmp_path / f"{name}.txt").read_text() for name in ("in", "up", "dotdot", "self")] == \
        ["x\n", f"{tmp_path}/f\n", "../f\n", f"{tmp_path}/d\n"]
    (tmp_path / "mark").write_text("  a/b  \n\n")
    (tmp_path / "old").symlink_to("elsewhere")
    edit.restoreLink(str(tmp_path / "mark"), str(tmp_path / "new"))
    edit.restoreLink(str(tmp_path / "mark"), str(tmp_path / "old"))
    assert (str((tmp_path / "new").readlink()), str((tmp_path / "old").readlink())) == ("a/b", "elsewhere")
    with pytest.raises(FileExistsError):
        edit.restoreLink(str(tmp_path / "mark"), str(tmp_path / "f"))
    (tmp_path / "ld").symlink_to("d")
    edit.removePath(str(tmp_path / "ld"))
    edit.removePath(str(tmp_path / "missing"))
    assert (tmp_path / "d").is_dir() and not (tmp_path / "ld").exists()

    src, dst = tmp_path / "src", tmp_path / "dst"
    (src / "a").mkdir(parents=True)
    (src / "a" / "f").write_text("new")
    (src / "a" / "m.CAPTUREMOCK_SYMLINK").write_text("t\n")
    dst.mkdir()
    (dst / "a").write_text("a file in the way")
    (tmp_path / "real").write_text("R")
    edit.changedPaths = [str(src / "a" / "f")]
    edit.copy(str(src), str(dst))
    assert _tree(dst) == {"a": "/", "a/f": "new"}
    (dst / "a" / "f").unlink()
    (dst / "a" / "f").symlink_to(tmp_path / "real")
    (dst / "a" / "m").write_text("a file where the link goes")
    edit.changedPaths = [str(src / "a" / "f"), str(src / "a" / "m.CAPTUREMOCK_SYMLINK")]
    edit.copy(str(src), str(dst))
    assert (tmp_path / "real").read_text() == "new"
    assert capsys.readouterr().out == \
        f"Could not transfer {src}/a/m.CAPTUREMOCK_SYMLINK to {dst}/a/m.CAPTUREMOCK_SYMLINK\n"

def _write(directory, files: dict[str, str]) -> None:
    for name, text in files.items():
        (directory / name).write_text(text)


A = "<-CLI:hello\n--TIM:2024-05-01T12:00:01.000000\n->SRV:hi\n--TIM:2024-05-01T12:00:01.500000\n" \
    "<-CLI:again\n--TIM:2024-05-01T12:00:04.000000\n->SRV:ok\n"
B = "<-CLI:bfirst\n--TIM:2024-05-01T12:00:02.000000\n->SRV:bresp\n<-CLI:bsecond\nline two\n" \
    "--TIM:2024-05-01T12:00:03.000000\n"
C = "<-CLI:no timestamp\n->SRV:r\n->RMQ:amqp msg\n--TIM:2024-05-01T12:00:02.500000\n"
D = "<-CLI:one\n--TIM:2024-05-01T12:00:01.000000\n<-CLI:three\n--TIM:2024-05-01T12:00:03.000000\n" \
    "->RMQ:two\n--TIM:2024-05-01T12:00:02.000000\n->RMQ:five\n--TIM:2024-05-01T12:00:05.000000\n" \
    "<-CLI:notime1\n<-CLI:notime2\n<-RMQ:x\n--TIM:2024-05-01T12:00:01.000000\n"
I_ = "<-CLI:n1\n<-CLI:c5\n--TIM:2024-05-01T12:00:05.000000\n->RMQ:r6\n--TIM:2024-05-01T12:00:06.000000\n" \
    "<-CLI:n2\n->RMQ:r1\n--TIM:2024-05-01T12:00:01.000000\n<-CLI:t\n--TIM:2024-05-01T12:00:01.000000\n" \
    "--TIM:2024-05-01T12:00:09.000000\nmore\n"


def test_create_map_by_timestamp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, {"a.mock": A, "b.mock": B, "c.mock": C, "d.mock": D, "i.mock": I_, "m.mock": ""})
    # all observed from 2.10.0 (dict order included)
    assert list(capturemock.create_map_by_timestamp(["a.mock", "b.mock", "c.mock"]).items()) == [
        ("2024-05-01T12:00:01.000000", {"a.mock": "<-CLI:hello\n->SRV:hi\n"}),
        ("2024-05-01T12:00:04.000000", {"a.mock": "<-CLI:again\n->SRV:ok\n"}),
        ("2024-05-01T12:00:02.000000", {"b.mock": "<-CLI:bfirst\n->SRV:bresp\n"}),
        ("2024-05-01T12:00:03.000000", {"b.mock": "<-CLI:bsecond\nline two\n"}),
        ("0001-01-01T00:00:00", {"c.mock": "<-CLI:no timestamp\n->SRV:r\n->RMQ:amqp msg\n"})]
    assert list(capturemock.create_map_by_timestamp(["a.mock"], {2: "x"}).items())[0] == ("x", None)
    assert list(capturemock.create_map_by_timestamp(["d.mock"]).items()) == [
        ("2024-05-01T12:00:01.000000", {"d.mock": "<-CLI:one\n->RMQ:two\n<-RMQ:x\n"}),
        ("2024-05-01T12:00:03.000000", {"d.mock": "<-CLI:three\n->RMQ:five\n"}),
        ("0001-01-01T00:00:00", {"d.mock": "<-CLI:notime1\n"}),
        ("0001-01-02T00:00:00", {"d.mock": "<-CLI:notime2\n"})]
    assert list(capturemock.create_map_by_timestamp(["i.mock"]).items()) == [
        ("0001-01-01T00:00:00", {"i.mock": "<-CLI:n1\n->RMQ:r1\n"}),
        ("2024-05-01T12:00:05.000000", {"i.mock": "<-CLI:c5\n->RMQ:r6\n"}),
        ("0001-01-02T00:00:00", {"i.mock": "<-CLI:n2\n"}),
        ("2024-05-01T12:00:01.000000", {"i.mock": "<-CLI:t\nmore\n"})]
    assert capturemock.create_map_by_timestamp(["m.mock"]) == {"0001-01-01T00:00:00": {"m.mock": ""}}


def test_default_timestamper():
    stamper = capturemock.DefaultTimestamper()
    assert [stamper.stamp() for _ in range(3)] == ["0001-01-01T00:00:00", "0001-01-02T00:00:00",
                                                   "0001-01-03T00:00:00"]  # observed from 2.10.0
    stamper.index = 40
    assert stamper.stamp() == "0001-02-09T00:00:00"


AB_A = "<-CLI:a1\n--TIM:2024-05-01T12:00:01.000000\n<-CLI:a3\n--TIM:2024-05-01T12:00:03.000000\n"
AB_B = "<-CLI:b2\n--TIM:2024-05-01T12:00:02.000000\n<-CLI:b4\n--TIM:2024-05-01T12:00:04.000000\n"


C5 = "<-CLI:c5\n--TIM:2024-05-01T12:00:05.000000\n"


@pytest.mark.parametrize("c_name, kwargs, expected", [  # all observed from 2.10.0
    ("002-c.mock", {}, {"001-a.mock": "<-CLI:a1\n<-CLI:a3\n", "002-b.mock": "<-CLI:b2\n<-CLI:b4\n",
                        "003-c.mock": "<-CLI:c5\n"}),
    ("002_c.mock", {"sep": "_", "ext": "txt"}, {"001_a.txt": "<-CLI:a1\n<-CLI:a3\n",
                                                "002_b.txt": "<-CLI:b2\n<-CLI:b4\n", "003_002_c.txt": "<-CLI:c5\n"}),
    (None, {"ignoredIndicesIn": {2: "2024-05-01T12:00:02.500000"}},
     {"001-a.mock": "<-CLI:a1\n", "003-b.mock": "<-CLI:b2\n", "004-a.mock": "<-CLI:a3\n", "005-b.mock": "<-CLI:b4\n"}),
    (None, {"ignoredIndicesIn": {1: "2024-05-01T12:00:02.500000", 3: "2024-05-01T12:00:00.500000"}},
     {"002-a.mock": "<-CLI:a1\n", "004-b.mock": "<-CLI:b2\n", "005-a.mock": "<-CLI:a3\n", "006-b.mock": "<-CLI:b4\n"}),
])
def test_add_prefix_by_timestamp(tmp_path, monkeypatch, c_name, kwargs, expected):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, {"a.mock": AB_A, "b.mock": AB_B})
    files = ["a.mock", "b.mock"]
    if c_name:
        _write(tmp_path, {c_name: C5})
        files.append(c_name)
    assert capturemock.add_prefix_by_timestamp(files, **kwargs) == list(expected)
    assert {name: (tmp_path / name).read_text() for name in expected} == expected


def test_barriers_of_a_timestamp_map(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, {"a.mock": AB_A, "b.mock": AB_B})
    data = capturemock.create_map_by_timestamp(["a.mock", "b.mock"], {2: "2024-05-01T12:00:01.500000"})
    # observed from 2.10.0: a barrier starts new files, and takes a number only if listed as ignored
    assert capturemock.add_prefixes_from_timestamp_map(data) == ["001-a.mock", "002-b.mock", "003-a.mock"]
    assert (tmp_path / "002-b.mock").read_text() == "<-CLI:b2\n<-CLI:b4\n"


def test_a_recorded_file_in_the_way_is_kept_as_orig(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, {"001-a.mock": "<-CLI:a1\n--TIM:2024-05-01T12:00:01.000000\n",
                      "b.mock": "<-CLI:b2\n--TIM:2024-05-01T12:00:02.000000\n"})
    assert capturemock.add_prefix_by_timestamp(["001-a.mock", "b.mock"]) == ["001-a.mock", "002-b.mock"]
    assert (tmp_path / "001-a.mock").read_text() == "<-CLI:a1\n"  # observed from 2.10.0
    assert (tmp_path / "001-a.mock.orig").read_text() == "<-CLI:a1\n--TIM:2024-05-01T12:00:01.000000\n"


def test_transform_to_amqp_client_replay(tmp_path):
    (tmp_path / "amqp.mock").write_text("<-RMQ:client\n->RMQ:first\n--TIM:2024-05-01T12:00:02.000000\n"
                                        "body line\n--HEA:x=1\n->SRV:other\n->RMQ:second\n")
    (tmp_path / "none.mock").write_text("<-CLI:x\n")
    assert capturemock.transform_to_amqp_client_replay(str(tmp_path / "amqp.mock"), str(tmp_path / "new.mock"))
    # observed from 2.10.0
    assert (tmp_path / "new.mock").read_text() == \
        "<-RMQ:first\n--TIM:2024-05-01T12:00:02.000000\nbody line\n--HEA:x=1\n<-RMQ:second\n"
    assert not capturemock.transform_to_amqp_client_replay(str(tmp_path / "none.mock"), str(tmp_path / "n2"))
    assert not (tmp_path / "n2").exists()


def test_the_compatibility_api_is_imported_only_when_used():
    code = ("import sys, capturemock; before = sorted(m for m in sys.modules if m.startswith('capturemock')); "
            "capturemock.cmdlineutils, capturemock.config.RcFileHandler, capturemock.add_prefix_by_timestamp; "
            "print(before)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = result.stdout.strip()
    for module in ("cmdlineutils", "timestamps", "rcfilehandler", "fileedittraffic", "optparse"):
        assert module not in loaded


def test_the_public_names_are_listed_before_their_first_use():
    """``dir(capturemock)`` (completion, ``help``) lists what loads on first use, without loading it."""
    code = "import sys, capturemock; print(sorted(dir(capturemock))); print('capturemock.modes' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    listed, loaded = result.stdout.splitlines()
    for name in ("RECORD", "REPLAY", "CaptureMockError", "setUpServer", "interceptPython", "process_startup"):
        assert repr(name) in listed
    assert loaded == "False"


TRIO = "<-CLI:a\n->SRV:1\n<-CLI:b\n->SRV:2\n<-CLI:c\n"


@pytest.mark.parametrize("recorded, replayed, ext, written", [  # all observed from 2.10.0 on the same files
    # a recording goes back over the replay files of its name, split where the next one's first item is
    ({"a.mock": "<-CLI:a\n->SRV:1\n<-CLI:b\n->SRV:2\n", "b.mock": "<-CLI:z\n"},
     {"001-b.mock": "<-CLI:z\n", "002-a.mock": "<-CLI:a\n", "003-a.mock": "<-CLI:b\n"}, "mock",
     {"001-b.mock": "<-CLI:z\n", "002-a.mock": "<-CLI:a\n->SRV:1\n", "003-a.mock": "<-CLI:b\n->SRV:2\n"}),
    # not found there: the replay file's own count of client items
    ({"a.mock": TRIO}, {"002-a.mock": "<-CLI:a\n<-CLI:b\n<-CLI:c\n<-CLI:d\n", "003-a.mock": "<-CLI:q\n"}, "mock",
     {"002-a.mock": TRIO}),
    # the same first item in both: the next occurrence is looked for, not found, so counted
    ({"a.mock": TRIO}, {"002-a.mock": "<-CLI:a\n", "003-a.mock": "<-CLI:a\n", "004-a.mock": "<-CLI:a\n"}, "mock",
     {"002-a.mock": "<-CLI:a\n->SRV:1\n", "003-a.mock": "<-CLI:b\n->SRV:2\n", "004-a.mock": "<-CLI:c\n"}),
    # positions count from the recording's start but the split counts per file (2.10.0's quirk)
    ({"a.mock": "<-CLI:a\n<-CLI:b\n<-CLI:c\n<-CLI:d\n<-CLI:e\n"},
     {"002-a.mock": "<-CLI:a\n<-CLI:b\n", "003-a.mock": "<-CLI:c\n", "004-a.mock": "<-CLI:d\n<-CLI:e\n"}, "mock",
     {"002-a.mock": "<-CLI:a\n<-CLI:b\n", "003-a.mock": "<-CLI:c\n<-CLI:d\n<-CLI:e\n",
      "004-a.mock": "<-CLI:d\n<-CLI:e\n"}),
    # empty replay files get nothing; the last one of all files takes the rest
    ({"a.mock": TRIO}, {"002-a.mock": "", "003-a.mock": "", "004-a.mock": "<-CLI:q\n"}, "mock",
     {"002-a.mock": "", "003-a.mock": "<-CLI:a\n->SRV:1\n", "004-a.mock": "<-CLI:b\n->SRV:2\n<-CLI:c\n"}),
    # lines before the first client item stay in the first file
    ({"a.mock": "hello\n<-CLI:a\n->SRV:1\n"}, {"002-a.mock": "", "003-a.mock": "<-CLI:a\n"}, "mock",
     {"002-a.mock": "hello\n", "003-a.mock": "<-CLI:a\n->SRV:1\n"}),
    # --TIM: lines are dropped and the chunks written in time order, untimed ones first
    ({"a.mock": "<-CLI:a\n--TIM:1\n->SRV:1\n<-CLI:b\n--TIM:2\n->SRV:2\n<-CLI:c\n"},
     {"002-a.mock": "<-CLI:a\n<-CLI:x\n", "003-a.mock": "<-CLI:b\n"}, "mock",
     {"002-a.mock": "<-CLI:c\n", "003-a.mock": "<-CLI:a\n->SRV:1\n<-CLI:b\n->SRV:2\n"}),
    # names: any four characters before the stem, the last extension replaced by ext
    ({"a.mock": "<-CLI:x\n"}, {"003_a.txt": "P"}, "mock", {"003_a.txt": "P", "003_a.mock": "<-CLI:x\n"}),
    ({"a.b.mock": "<-CLI:x\n"}, {"002-a.b.c": "P"}, "txt", {"002-a.b.c": "P", "002-a.b.txt": "<-CLI:x\n"}),
    ({"a.mock": "<-CLI:x\n"}, {"003-a.mock": "P"}, "", {"003-a.mock": "P", "003-a.": "<-CLI:x\n"}),
    # a recording already numbered is left alone, silently
    ({"007-a.mock": "<-CLI:x\n"}, {"003-007-a.mock": "P"}, "mock", {"003-007-a.mock": "P"}),
])
def test_add_prefix_by_matching_replay(tmp_path, monkeypatch, capsys, recorded, replayed, ext, written):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, {**recorded, **replayed})
    assert capturemock.add_prefix_by_matching_replay(list(recorded), list(replayed), ext) is None
    assert {name: (tmp_path / name).read_text() for name in written} == written
    assert {name: (tmp_path / name).read_text() for name in recorded} == recorded
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize("replayed", [{}, {"02-a.mock": "P"}, {"002-ba.mock": "P"}, {"1234-a.mock": "P"}])
def test_a_recording_without_replay_files_is_reported(tmp_path, monkeypatch, capsys, replayed):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, {"a.mock": "<-CLI:x\n", **replayed})
    capturemock.add_prefix_by_matching_replay(["a.mock"], list(replayed), "mock")
    assert capsys.readouterr() == ("", "Failed to find replay files for a.mock\n")  # observed from 2.10.0
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(["a.mock", *replayed])


@pytest.mark.parametrize("recorded, replayed, ext, written", [
    # 2.10.0 raises IndexError (a reply before any client item; a name shorter than four characters)
    ({"a.mock": "->SRV:x\n<-CLI:y\n"}, {"003-a.mock": "P"}, "mock", {"003-a.mock": "->SRV:x\n<-CLI:y\n"}),
    ({"abc": "<-CLI:x\n"}, {"003-abc": "P"}, "mock", {"003-abc.mock": "<-CLI:x\n"}),
    # 2.10.0 raises TypeError without ext: we keep the replay file's name
    ({"a.mock": "<-CLI:x\n"}, {"002-a.txt": "P"}, None, {"002-a.txt": "<-CLI:x\n"}),
])
def test_add_prefix_by_matching_replay_where_2_10_crashes(tmp_path, monkeypatch, recorded, replayed, ext, written):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, {**recorded, **replayed})
    capturemock.add_prefix_by_matching_replay(list(recorded), list(replayed), ext)
    assert {name: (tmp_path / name).read_text() for name in written} == written


def test_matching_replay_helpers(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, {"rec": "->SRV:0\n<-CLI:a\nmore\n--TIM:1\n<-CLI:b\n<-CLI:a\nmore\n->SRV:1\n<-CLI:a\nmore\n",
                      "rep": "<-CLI:xx\n--TIM:1\nxx\n->SRV:y\n<-CLI:z\n", "empty": ""})
    # all observed from 2.10.0
    assert [capturemock.get_traffic_count(name) for name in ("rec", "rep", "empty")] == [4, 2, 0]
    assert [capturemock.read_first_traffic(name) for name in ("rec", "rep", "empty")] == \
        ["->SRV:0\n", "<-CLI:xx\n--TIM:1\nxx\n", ""]
    assert [capturemock.get_text_count("rep", text) for text in ("x", "xx\n", "")] == [4, 2, 37]
    # client items, --TIM: lines left out; the last item of the file is never found
    assert [capturemock.find_recorded_position("rec", "<-CLI:a\nmore\n", skip) for skip in range(3)] == \
        [0, 2, None]
    assert [capturemock.find_recorded_position("rec", text, 0) for text in
            ("<-CLI:b\n", "<-CLI:a\n", "->SRV:0\n", "<-CLI:a\nmore\n--TIM:1\n")] == [1, None, None, None]
    _write(tmp_path, {"002-rec.mock": "<-CLI:a\n", "003-rec.mock": "<-CLI:b\n", "004-rec.x": "<-CLI:q\n",
                      "005-other": "<-CLI:q\n"})
    replayed = ["005-other", "004-rec.x", "003-rec.mock", "002-rec.mock", "0006-rec", "002-rec.a.mock"]
    assert capturemock.find_replay_files("rec", replayed, "rec") == \
        [("002-rec.mock", 1), ("003-rec.mock", 1), ("004-rec.x", 1)]
    handle, limit = capturemock.open_new_record_file([("002-rec.mock", 1), ("004-rec.x", 7)], 1, "txt")
    handle.close()
    assert (handle.name, limit) == ("004-rec.txt", 7)
