"""Items cut off while being written (product spec §3 "Nothing lost"): a full disk or a killed process
leaves part of an item. The writer takes it back out when it can, else follows it with a line readers
know; readers drop a torn item with one warning naming file:line and keep every complete item. A torn
item never swallows what is written after it."""
from __future__ import annotations

import errno
import mmap
import os
import subprocess
import sys
import textwrap
import time

import pytest

from capturemock import mockfile
from capturemock.errors import MockFileError
from capturemock.mockfile import ESCAPE, TORN, MockWriter, format_item

COMPLETE = "<-PYT:stamp.mark(1)\n->RET:1\n<-PYT:stamp.mark(2)\n"


def read_back(path, capsys) -> tuple[list[str], list[str]]:
    """The texts of the items read from ``path``, and the lines written to stderr meanwhile."""
    texts = [item.text for item in mockfile.read(str(path))]
    return texts, capsys.readouterr().err.splitlines()


def padding_to_a_page(*texts: str) -> str:
    """Characters that make ``texts`` end on a page boundary, where the kernel stops a killed write."""
    return "2" * (-len("".join(texts).encode()) % mmap.PAGESIZE)


def test_a_last_item_without_its_newline_is_dropped_with_one_warning(tmp_path, capsys):
    path = tmp_path / "rec.mock"
    start = COMPLETE + "->RET:{'lines': ['2-0', '2-1',\n '2-"
    path.write_text(start + padding_to_a_page(start))  # killed in the middle of a big write
    texts, warnings = read_back(path, capsys)
    assert texts == ["stamp.mark(1)", "1", "stamp.mark(2)"]
    assert len(warnings) == 1 and f"{path}:4:" in warnings[0], warnings


def test_a_write_cut_in_an_item_head_keeps_the_item_before(tmp_path, capsys):
    path = tmp_path / "rec.mock"
    value = padding_to_a_page(COMPLETE, "->RET:", "\n<-PY")
    path.write_text(COMPLETE + f"->RET:{value}\n<-PY")
    texts, warnings = read_back(path, capsys)
    assert texts == ["stamp.mark(1)", "1", "stamp.mark(2)", value]
    assert len(warnings) == 1 and f"{path}:5:" in warnings[0], warnings


def test_a_file_edited_by_hand_without_a_final_newline_keeps_its_last_item(tmp_path, capsys):
    """Not on a page boundary, so no killed write ended it: CaptureMock 2.10 reads it whole, so do we."""
    path = tmp_path / "rec.mock"
    text = COMPLETE + "->RET:2"
    assert len(text.encode()) % mmap.PAGESIZE
    path.write_text(text)
    assert read_back(path, capsys) == (["stamp.mark(1)", "1", "stamp.mark(2)", "2"], [])


def test_an_escaped_item_cut_after_one_of_its_lines_is_dropped(tmp_path, capsys):
    path = tmp_path / "rec.mock"
    whole = format_item("->", "OUT", "first\n<-CMD:looks like an item\nlast")
    assert whole.endswith(f"\n{ESCAPE}\n")
    path.write_text(COMPLETE + whole[:whole.index("last")])  # a big write stopped right after a newline
    texts, warnings = read_back(path, capsys)
    assert texts == ["stamp.mark(1)", "1", "stamp.mark(2)"]
    assert len(warnings) == 1 and f"{path}:4:" in warnings[0], warnings


def test_an_item_followed_by_the_torn_line_is_dropped_and_the_next_kept(tmp_path, capsys):
    path = tmp_path / "rec.mock"
    path.write_text(COMPLETE + "->RET:{'lines': ['2-0',\n" + f"{TORN}\n" + "<-PYT:stamp.mark(3)\n->RET:3\n")
    texts, warnings = read_back(path, capsys)
    assert texts == ["stamp.mark(1)", "1", "stamp.mark(2)", "stamp.mark(3)", "3"]
    assert len(warnings) == 1 and f"{path}:4:" in warnings[0], warnings


def test_complete_files_read_without_warnings(tmp_path, capsys):
    path = tmp_path / "rec.mock"
    path.write_text(COMPLETE + format_item("->", "OUT", "first\n<-CMD:looks like an item\nlast"))
    texts, warnings = read_back(path, capsys)
    assert texts[-1] == "first\n<-CMD:looks like an item\nlast" and warnings == []


class FullDisk:
    """``os.write`` as on a disk that fills up: writes what fits, then ENOSPC until space is freed."""

    def __init__(self, room: int):
        self.room = room
        self.real_write = os.write

    def __call__(self, fd: int, data: bytes) -> int:
        if self.room <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        written = self.real_write(fd, data[:self.room])
        self.room -= written
        return written


def test_a_write_that_fills_the_disk_is_taken_back_out(tmp_path, monkeypatch, capsys):
    path = tmp_path / "rec.mock"
    writer = MockWriter(str(path))
    writer.write_text(COMPLETE)
    disk = FullDisk(room=10)
    monkeypatch.setattr(mockfile.os, "write", disk)
    with pytest.raises(MockFileError, match="No space left"):
        writer.write_text("->RET:" + "x" * 100 + "\n")
    assert path.read_text() == COMPLETE
    disk.room = 10**6  # space is back
    writer.write_text("->RET:2\n<-PYT:stamp.mark(3)\n->RET:3\n")
    texts, warnings = read_back(path, capsys)
    assert texts == ["stamp.mark(1)", "1", "stamp.mark(2)", "2", "stamp.mark(3)", "3"] and warnings == []


def test_a_torn_write_in_a_shared_file_is_marked_where_it_stopped(tmp_path, monkeypatch, capsys):
    path = tmp_path / "rec.mock"
    writer, other = MockWriter(str(path)), MockWriter(str(path))
    writer.write_text(COMPLETE)
    other.write_text("<-PYT:other()\n")  # the other writer has the file open: it cannot be cut back
    disk = FullDisk(room=40)
    monkeypatch.setattr(mockfile.os, "write", disk)
    with pytest.raises(MockFileError):
        writer.write_text("->RET:" + "x" * 100 + "\n")
    disk.room = 10**6  # space is back, and the other writer happens to append first
    other.write_text("<-PYT:other(2)\n")
    writer.write_text("->RET:2\n")
    texts, warnings = read_back(path, capsys)
    assert texts == ["stamp.mark(1)", "1", "stamp.mark(2)", "other()", "other(2)", "2"]
    assert len(warnings) == 1 and f"{path}:5:" in warnings[0], warnings


def test_a_short_torn_write_in_a_shared_file_is_marked_with_the_next_item(tmp_path, monkeypatch, capsys):
    path = tmp_path / "rec.mock"
    writer, other = MockWriter(str(path)), MockWriter(str(path))
    writer.write_text(COMPLETE)
    other.write_text("<-PYT:other()\n")
    disk = FullDisk(room=12)  # fewer bytes than the TORN line: it must wait for room
    monkeypatch.setattr(mockfile.os, "write", disk)
    with pytest.raises(MockFileError):
        writer.write_text("->RET:" + "x" * 100 + "\n")
    with pytest.raises(MockFileError):
        writer.write_text("->RET:2\n")  # still full: nothing of it written
    disk.room = 10**6
    writer.write_text("->RET:3\n")
    texts, warnings = read_back(path, capsys)
    assert texts == ["stamp.mark(1)", "1", "stamp.mark(2)", "other()", "3"]
    assert len(warnings) == 1 and f"{path}:5:" in warnings[0], warnings


RECORDER = '''
import resource, signal, sys
from capturemock.python.api import interceptPython
from capturemock.errors import MockFileError
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # past the limit, writes fail with EFBIG
resource.setrlimit(resource.RLIMIT_FSIZE, (20000, resource.RLIM_INFINITY))
handler = interceptPython(1, "rec.mock", None, ["capturemockrc"], [])
import stamp
failed = []
for n in range(20):
    try:
        stamp.mark(n)
    except MockFileError:
        failed.append(n)
resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))  # space is back
for n in range(20, 60):
    stamp.mark(n)
handler.resetIntercepts()
print(failed[0], failed[-1])
'''


def test_a_process_that_hits_the_file_size_limit_loses_only_the_calls_that_failed(tmp_path):
    (tmp_path / "stamp.py").write_text("def mark(n):\n    return 'x' * 3000 + str(n)\n")
    (tmp_path / "capturemockrc").write_text("[python]\nintercepts = stamp\n")
    package = os.path.dirname(os.path.dirname(mockfile.__file__))
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(RECORDER)], cwd=tmp_path, capture_output=True,
                            text=True, timeout=60, env={**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{package}"})
    assert result.returncode == 0, result.stderr
    first_failed, last_failed = map(int, result.stdout.split())
    read = subprocess.run([sys.executable, "-c", "import sys\nfrom capturemock import mockfile\n"
                           "print('\\n'.join(i.text for i in mockfile.read(sys.argv[1]) if i.type == 'PYT'))",
                           str(tmp_path / "rec.mock")], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": package})
    assert read.stderr == ""  # nothing torn
    recorded = [line for line in read.stdout.splitlines() if line.startswith("stamp.mark(")]
    expected = [*range(first_failed), *range(last_failed + 1, 60)]
    assert last_failed == 19 and recorded == [f"stamp.mark({n})" for n in expected]


@pytest.mark.parametrize("delay", [0.0, 0.02, 0.05, 0.1])
def test_a_recording_killed_in_the_middle_of_big_writes_reads_back_whole_items_only(tmp_path, delay):
    """SIGKILL lands wherever it lands: what reads back is complete items, never a cut one passed off
    as whole (one-line values: a cut right after a newline inside a value is the case not detectable)."""
    path = tmp_path / "rec.mock"
    size = 4 << 20
    script = textwrap.dedent(f"""
        from capturemock.mockfile import MockWriter
        writer = MockWriter({str(path)!r})
        n = 0
        while True:
            writer.write("<-", "PYT", f"big({{n}})")
            writer.write("->", "RET", "'" + "x" * {size} + f"{{n}}'")
            n += 1
    """)
    child = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + 30
    while not path.exists() and time.monotonic() < deadline:  # writing has begun
        time.sleep(0.001)
    time.sleep(delay)
    child.kill()
    child.wait()
    items = mockfile.read(str(path))
    for request, response in zip(items[::2], items[1::2]):
        n = request.text[len("big("):-1]
        assert response.text == "'" + "x" * size + f"{n}'", f"item {n} is cut"
