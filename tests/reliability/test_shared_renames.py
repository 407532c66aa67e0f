"""§4.2 set* renames in a record file other writers share (product spec §3 "Nothing lost").

A rename rewrites the file from the instance's first description. The original did that with whole
processes appending to the same file meanwhile, losing their items and renaming theirs too. Ours
rewrites only when no other writer has the file open and every byte rewritten is its own; otherwise
the instance keeps its name.
"""
from __future__ import annotations

import collections
import re
import sys
import time

from capturemock import mockfile
from capturemock.mockfile import MockWriter
from capturemock.modes import RECORD

WRITERS = 20
CALLS = 100
THING = '''
class Thing:
    def setLabel(self, label):
        self.label = label

    def mark(self, writer, n):
        return n
'''
# every process makes one Thing (named thing1: no hint) and marks with it; odd ones rename it midway.
# They start marking together, so renames overlap other processes' appends.
SCRIPT = f'''
import os, sys, time, thing
writer = sys.argv[1]
t = thing.Thing()
while not os.path.exists("go"):
    time.sleep(0.001)
for n in range({CALLS}):
    if n == {CALLS // 2} and int(writer[1:]) % 2:
        t.setLabel(writer)
    t.mark(writer, n)
'''
MARK = re.compile(r"(\w+)\.mark\('(p\d+)', (\d+)\)")


def rename(old: str, new: str):
    return lambda text: re.sub(rf"\b{old}\b", new, text)


def test_twenty_processes_renaming_in_one_file_lose_and_misname_nothing(sut):
    sut.write("thing.py", THING)
    sut.start_python(RECORD, sut.write("capturemockrc", "[python]\nintercepts = thing\n"))
    writers = [f"p{index}" for index in range(WRITERS)]
    processes = [sut.popen(sys.executable, "-c", SCRIPT, writer) for writer in writers]
    time.sleep(1)  # all started and intercepted (the test still holds if some were slower)
    sut.write("go", "")
    for process in processes:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    items = sut.items("pythonmocks.mock")
    marks = collections.defaultdict(list)
    for item in items:
        match = MARK.fullmatch(item.text)
        if match:
            marks[match[2]].append((match[1], int(match[3])))
    for writer in writers:
        names = {name for name, _ in marks[writer]}
        assert sorted(n for _, n in marks[writer]) == list(range(CALLS)), writer  # nothing lost
        own = {"thing1", f"thing_{writer}"} if int(writer[1:]) % 2 else {"thing1"}
        assert len(names) == 1 and names <= own, (writer, names)  # its own name, the same throughout


def test_a_writer_alone_with_its_own_bytes_rewrites(tmp_path):
    path = str(tmp_path / "rec.mock")
    earlier = MockWriter(path)
    earlier.write("<-", "PYT", "thing1.mark()")  # another writer's item before the description
    earlier.close()
    writer = MockWriter(path)
    offset = writer.tell()
    writer.write("->", "RET", "Instance('Thing', 'thing1')")
    assert writer.rewrite_from(offset, rename("thing1", "thing_a"))
    assert [item.text for item in mockfile.read(path)] == ["thing1.mark()", "Instance('Thing', 'thing_a')"]


def test_no_rewrite_while_another_writer_has_the_file_open(tmp_path):
    path = str(tmp_path / "rec.mock")
    writer, other = MockWriter(path), MockWriter(path)
    offset = writer.tell()
    writer.write("->", "RET", "Instance('Thing', 'thing1')")
    other.write("<-", "PYT", "other.call()")
    assert not writer.rewrite_from(offset, rename("thing1", "thing_a"))
    other.write("<-", "PYT", "thing1.mark()")  # the other writer's lock is intact: it can still append
    assert [item.text for item in mockfile.read(path)] == [
        "Instance('Thing', 'thing1')", "other.call()", "thing1.mark()"]


def test_no_rewrite_over_another_writers_items_even_once_it_is_gone(tmp_path):
    path = str(tmp_path / "rec.mock")
    writer = MockWriter(path)
    offset = writer.tell()
    writer.write("->", "RET", "Instance('Thing', 'thing1')")
    other = MockWriter(path)
    other.write("<-", "PYT", "thing1.mark()")  # the other process's own thing1
    other.close()
    assert not writer.rewrite_from(offset, rename("thing1", "thing_a"))
    assert [item.text for item in mockfile.read(path)] == ["Instance('Thing', 'thing1')", "thing1.mark()"]
    writer.write("<-", "PYT", "thing1.mark()")
    later = writer.tell()
    writer.write("->", "RET", "Instance('Thing', 'thing2')")
    assert writer.rewrite_from(later, rename("thing2", "thing_b"))  # all its own from there on
    assert mockfile.read(path)[-1].text == "Instance('Thing', 'thing_b')"


def test_a_writer_waits_while_another_rewrites(tmp_path):
    path = str(tmp_path / "rec.mock")
    writer = MockWriter(path)
    offset = writer.tell()
    writer.write("->", "RET", "Instance('Thing', 'thing1')")
    other = MockWriter(path)

    def change(text: str) -> str:
        assert other._fd is None  # not opened yet: it would wait for the exclusive lock in _open
        return text.replace("thing1", "thing_a")
    assert writer.rewrite_from(offset, change)
    other.write("<-", "PYT", "later()")
    assert [item.text for item in mockfile.read(path)] == ["Instance('Thing', 'thing_a')", "later()"]
