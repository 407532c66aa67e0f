"""The mock-file format (§4.1): item boundaries, continuation lines, line breaks, the writer."""
import copy
import fcntl
import multiprocessing
import os
import pickle
import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capturemock import mockfile
from capturemock.errors import MockFileError
from capturemock.mockfile import Item, MockWriter, format_item, is_item_start, parse
from tests.conftest import built_speedups


@pytest.mark.parametrize("line, starts", [
    ("<-PYT:weather.forecast(3)", True),
    ("->RET:42", True),
    ("--->PYT:cb(1)", True),
    ("<---RET:2", True),
    ("<-----PYT:h()", True),
    ("----->RET:5", True),
    ("--HEA:Content-Type=application/json", False),
    ("--TIM:2024-05-01T12:00:00", False),
    ("plain text: with a colon", False),
    ("no colon at all", False),
    ("<-averyveryverylongprefix:x", False),
])
def test_item_start_rule(line, starts):
    assert is_item_start(line) is starts


def test_parse_items_with_continuation_lines_and_directions():
    text = ("junk before the first item\n<-CMD:tool lines\n->OUT:line one\n\n  indented\n"
            "->EXC:3\n<-CLI:POST /x {}\n--HEA:A=b\n")
    items = parse(text, "f.mock")
    assert [(i.prefix, i.type, i.text, i.line) for i in items] == [
        ("<-", "CMD", "tool lines", 2),
        ("->", "OUT", "line one\n\n  indented", 3),
        ("->", "EXC", "3", 6),
        ("<-", "CLI", "POST /x {}\n--HEA:A=b", 7),
    ]


def test_item_properties():
    assert Item("<-", "PYT", "f()").level == 0
    assert Item("--->", "PYT", "cb()").level == 1
    assert Item("<-----", "PYT", "h()").level == 2
    assert Item("<-", "PYT", "f()").is_request
    assert not Item("->", "RET", "1").is_request
    assert Item("--->", "PYT", "cb()").is_request
    assert not Item("<---", "RET", "1").is_request
    assert Item("<-", "SRV", "x").from_sut and not Item("->", "SRV", "x").from_sut
    assert Item("<-", "CMD", "ls -l").description == "<-CMD:ls -l"


def test_trailing_blank_lines_are_kept_on_read():
    # the original drops them (§4.1); we strip only the newline that terminates every item
    assert parse("->OUT:text\n\n\n<-CMD:x\n")[0].text == "text\n\n"
    assert format_item("->", "OUT", "text\n\n") == "->OUT:text\n\n\n"  # byte-identical to the original


def test_preserve_cr_lf_round_trip():
    written = format_item("<-", "CLI", "a\r\nb\n", preserve_cr=True, preserve_lf=True)
    assert written == "<-CLI:a<CR><LF>b<LF>\n"
    assert parse(written, preserve_cr=True, preserve_lf=True)[0].text == "a\r\nb\n"


def test_empty_items_are_never_written():
    assert format_item("->", "OUT", "") == ""


def test_read_missing_file_names_the_path(tmp_path):
    missing = tmp_path / "nope.mock"
    with pytest.raises(MockFileError, match=r"nope\.mock: cannot read mock file"):
        mockfile.read(str(missing))



def test_read_text_keeps_bytes_exactly_from_files_pipes_and_empty_files(tmp_path):
    """Files are decoded from a memory map; what cannot be mapped (empty files, pipes) is read plainly,
    with the same result: CR kept, undecodable bytes kept as surrogates."""
    data = b"<-CMD:a\r\n->OUT:\xff\xfe caf\xc3\xa9\n"
    stored = tmp_path / "stored.mock"
    stored.write_bytes(data)
    expected = data.decode("utf-8", "surrogateescape")
    assert mockfile.read_text(str(stored)) == expected
    (tmp_path / "empty.mock").write_bytes(b"")
    assert mockfile.read_text(str(tmp_path / "empty.mock")) == ""
    pipe = tmp_path / "pipe.mock"
    os.mkfifo(pipe)
    feeder = threading.Thread(target=pipe.write_bytes, args=(data,))
    feeder.start()
    assert mockfile.read_text(str(pipe)) == expected
    feeder.join()
    with pytest.raises(MockFileError, match="cannot read mock file"):
        mockfile.read_text(str(tmp_path))


def test_a_byte_order_mark_an_editor_added_is_not_part_of_the_first_item(tmp_path):
    edited = tmp_path / "edited.mock"
    edited.write_bytes(b"\xef\xbb\xbf<-CMD:git status\n->OUT:clean\n")
    assert mockfile.read_text(str(edited)) == "<-CMD:git status\n->OUT:clean\n"
    assert [item.description for item in mockfile.read(str(edited))] == ["<-CMD:git status", "->OUT:clean"]

def test_writer_creates_file_lazily_and_appends(tmp_path):
    path = tmp_path / "sub" / "rec.mock"
    writer = MockWriter(str(path))
    writer.write("->", "OUT", "")
    assert not path.exists() and not writer.written
    writer.write("<-", "CMD", "ls")
    writer.write("->", "OUT", "a\nb")
    assert path.read_text() == "<-CMD:ls\n->OUT:a\nb\n"
    writer.close()
    assert writer.written


def test_writer_rewrite_from_rewrites_only_the_tail(tmp_path):
    path = tmp_path / "rec.mock"
    writer = MockWriter(str(path))
    writer.write("<-", "PYT", "obj1.x")
    offset = writer.tell()
    writer.write("<-", "PYT", "mod.Thing()")
    writer.write("->", "RET", "Instance('Thing', 'obj1')")
    assert writer.rewrite_from(offset, lambda text: text.replace("obj1", "thing_a"))
    writer.write("<-", "PYT", "thing_a.go()")
    assert path.read_text() == ("<-PYT:obj1.x\n<-PYT:mod.Thing()\n->RET:Instance('Thing', 'thing_a')\n"
                                "<-PYT:thing_a.go()\n")


@pytest.mark.parametrize("pure_python", ["1", "0"])
def test_a_writer_holds_a_shared_lock_while_its_file_is_open(tmp_path, monkeypatch, pure_python):
    """Taken by the C accelerator where built (no ``fcntl`` at start-up), else by ``fcntl``: the same lock."""
    if pure_python == "0":
        built_speedups()
    monkeypatch.setenv("CAPTUREMOCK_PURE_PYTHON", pure_python)
    path = tmp_path / "rec.mock"
    writer = MockWriter(str(path))
    writer.write("<-", "PYT", "mod.f()")
    other = os.open(path, os.O_RDONLY)
    try:
        with pytest.raises(BlockingIOError):
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a rewrite elsewhere must wait for this writer
        fcntl.flock(other, fcntl.LOCK_SH | fcntl.LOCK_NB)  # another writer may open the file
        fcntl.flock(other, fcntl.LOCK_UN)
        writer.close()
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    finally:
        os.close(other)


def test_undecodable_bytes_round_trip(tmp_path):
    path = tmp_path / "rec.mock"
    text = b"caf\xe9 \xff".decode("utf-8", "surrogateescape")
    MockWriter(str(path)).write("->", "OUT", text)
    assert mockfile.read(str(path))[0].text == text


def test_threads_never_interleave_items(tmp_path):
    path = tmp_path / "rec.mock"
    writer = MockWriter(str(path))
    body = "x" * 5000 + "\nmore"

    def work(n):
        for i in range(50):
            writer.write("<-", "CMD", f"t{n} {i}\n{body}")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    items = mockfile.read(str(path))
    assert len(items) == 400
    assert all(item.text.endswith(body) for item in items)


def _append_from_process(path, n):
    writer = MockWriter(path)
    for i in range(100):
        writer.write("<-", "CMD", f"p{n} {i}\n" + "y" * 3000)


def test_processes_never_interleave_items(tmp_path):
    path = str(tmp_path / "rec.mock")
    procs = [multiprocessing.Process(target=_append_from_process, args=(path, n)) for n in range(4)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join()
    items = mockfile.read(path)
    assert len(items) == 400
    assert all(item.text.endswith("y" * 3000) and item.text.count("\n") == 1 for item in items)
    assert os.path.getsize(path) == sum(len(format_item(i.prefix, i.type, i.text)) for i in items)


_line_chars = st.sampled_from(list("<->:PYTRETCMD abc\t"))


@settings(max_examples=500)
@given(st.lists(st.text(_line_chars, max_size=14), min_size=1, max_size=6))
def test_parser_splits_exactly_where_the_line_rule_says(lines):
    items = parse("\n".join(lines))
    starts = [number for number, line in enumerate(lines, start=1) if is_item_start(line)]
    assert [item.line for item in items] == starts
    for item in items:
        assert lines[item.line - 1].startswith(f"{item.prefix}{item.type}:")


def test_an_item_is_the_named_tuple_it_was():
    """Item is written out (not made by collections.namedtuple, which compiles it at import): the same
    fields, default, equality, hash, repr, ``_replace``, copy and pickle."""
    item = Item("<-", "PYT", "x.f()", 3)
    assert item == ("<-", "PYT", "x.f()", 3) and hash(item) == hash(("<-", "PYT", "x.f()", 3))
    assert (item.prefix, item.type, item.text, item.line) == ("<-", "PYT", "x.f()", 3)
    assert Item("->", "RET", "1").line == 0
    assert repr(item) == "Item(prefix='<-', type='PYT', text='x.f()', line=3)"
    assert item._replace(prefix="->", text="y") == Item("->", "PYT", "y", 3)
    with pytest.raises(TypeError):
        item._replace(colour="red")
    assert copy.deepcopy(item) == item and type(copy.copy(item)) is Item
    assert pickle.loads(pickle.dumps(item)) == item
    with pytest.raises(AttributeError):
        item.text = "changed"


def test_a_record_file_in_a_directory_not_made_yet_is_written_with_its_directories(tmp_path):
    writer = MockWriter(str(tmp_path / "new" / "deeper" / "rec.mock"))
    writer.write("<-", "PYT", "x.f()")
    writer.close()
    assert (tmp_path / "new" / "deeper" / "rec.mock").read_text() == "<-PYT:x.f()\n"


def test_a_record_file_that_cannot_be_written_is_one_error_naming_it(tmp_path):
    (tmp_path / "plain").write_text("")
    writer = MockWriter(str(tmp_path / "plain" / "rec.mock"))  # under a file: no directory can be made
    with pytest.raises(MockFileError, match=r"plain/rec\.mock: cannot write the record file: "):
        writer.write("<-", "PYT", "x.f()")


# --- command output, byte for byte (issue 13 item 6) ---------------------------------------------

def output_item(data: bytes) -> str:
    return f"->OUT:{mockfile.escape_output(mockfile.output_value(data))}\n"


def read_output(text: str) -> bytes:
    [item] = parse(text)
    value, ending = mockfile.split_output(item.text)
    return (value + ending).encode("utf-8", "surrogateescape")


@pytest.mark.parametrize("data, written", [
    (b"text\n", "->OUT:text\n"),  # as 2.10 writes it
    (b"caf\xc3\xa9 \x1b[0m\r\n\n", "->OUT:caf\u00e9 \x1b[0m\r\n\n"),
    (b"no newline", "->OUT:no newline\n|capturemock|no newline at end\n"),
    (b"a\x00\\\xff\n", "->OUT:a\\x00\\\\\\xff\n|capturemock|bytes\n"),
    (b"\xff\r", "->OUT:\\xff\\x0d\n|capturemock|bytes, no newline at end\n"),
    (b"x\n<-CMD:y", "->OUT:x\n|capturemock|<-CMD:y\n|capturemock|no newline at end\n"),
])
def test_output_is_written_plain_when_it_can_be_and_read_back_exactly(data, written):
    assert output_item(data) == written
    assert read_output(written) == data


def test_output_recorded_by_the_original_reads_as_before():
    """2.10 wrote output lacking its final newline with one added: replay gives it that newline."""
    assert read_output("->OUT:no newline\n") == b"no newline\n"
    assert read_output("->OUT:a\0b\n") == b"a\0b\n"
    assert read_output("->OUT:x\n|capturemock|bytes and more\n") == b"x\n|capturemock|bytes and more\n"


def test_an_escaped_last_item_with_an_output_end_line_is_not_torn(tmp_path):
    path = tmp_path / "out.mock"
    path.write_text(f"<-CMD:tool\n{output_item(b'|capturemock|x')}")
    assert [item.text for item in mockfile.read(str(path))] == ["tool", f"|capturemock|x{mockfile.NO_FINAL_NEWLINE}"]


@settings(max_examples=300)
@given(st.binary(max_size=200) | st.text(max_size=100).map(str.encode))
def test_any_output_round_trips_through_a_text_file(data):
    written = output_item(data)
    assert "\0" not in written and written.encode("utf-8")  # no raw byte in the file
    assert read_output(written) == data


def test_remembered_reads_give_the_text_read_before_until_the_file_changes(tmp_path, monkeypatch):
    """The traffic server indexes its replay file twice: read once, unless the file changed meanwhile."""
    monkeypatch.setattr(mockfile, "_remembered", None)
    path = tmp_path / "replay.mock"
    path.write_text("<-CLI:GET /a\n->SRV:200 " + "x" * 200000 + "\n")
    an_hour_ago = time.time_ns() - 3600 * 10**9
    os.utime(path, ns=(an_hour_ago, an_hour_ago))
    assert mockfile.read_text(str(path)) is not mockfile.read_text(str(path))  # not remembered by default
    mockfile.remember_reads()
    first = mockfile.read_text(str(path))
    assert mockfile.read_text(str(path)) is first
    path.write_text("<-CLI:GET /b\n->SRV:200 y\n")
    assert mockfile.read_text(str(path)) == "<-CLI:GET /b\n->SRV:200 y\n"


def test_a_file_modified_just_before_it_was_read_is_read_again(tmp_path, monkeypatch):
    """Rewritten to the same size within one timestamp tick, a file looks unchanged (same inode, size and
    mtime): one modified in the last two seconds is not remembered, so the rewrite is what is read."""
    monkeypatch.setattr(mockfile, "_remembered", None)
    mockfile.remember_reads()
    path = tmp_path / "replay.mock"
    path.write_text("<-CLI:GET /a\n->SRV:200 x\n")
    tick = path.stat().st_mtime_ns
    assert mockfile.read_text(str(path)) == "<-CLI:GET /a\n->SRV:200 x\n"
    path.write_text("<-CLI:GET /b\n->SRV:200 y\n")
    os.utime(path, ns=(tick, tick))  # the same tick: nothing in the file's status tells the texts apart
    assert mockfile.read_text(str(path)) == "<-CLI:GET /b\n->SRV:200 y\n"
