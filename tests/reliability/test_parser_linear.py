"""Mock-file text as untrusted input: reading stays linear in the file's size whatever its lines look
like, and an item of a type no family writes is an error naming file:line when replayed, not None."""
from __future__ import annotations

import time

import pytest

from capturemock import mockfile
from capturemock.errors import MockFileError
from capturemock.replay import ReplayIndex

pytestmark = pytest.mark.usefixtures("replay_core")  # the C accelerator and the Python reference

JUNK_LINES = ["x", "-", "<-", "->", "-> ", "a:", "<->", "|capturemock|"]


def read_seconds(path, junk: str, size: int) -> float:
    path.write_text(junk * (size // len(junk)) + "\n<-PYT:a()\n->RET:1\n")
    start = time.perf_counter()
    assert [item.text for item in mockfile.read(str(path))] == ["a()", "1"]
    ReplayIndex.from_file(str(path))
    return time.perf_counter() - start


@pytest.mark.parametrize("junk", JUNK_LINES)
def test_a_long_junk_line_before_the_first_item_reads_in_linear_time(tmp_path, junk):
    read_seconds(tmp_path / "warm.mock", junk, 1000)
    assert read_seconds(tmp_path / "big.mock", junk, 2_000_000) < 0.5  # quadratic: minutes


@pytest.mark.parametrize("line", ["->XYZ:5", "<---XYZ:5", "x->RET:5"])
def test_an_item_of_an_unknown_type_is_an_error_naming_its_line_when_replayed(line):
    index = ReplayIndex(f"<-PYT:f()\n{line}\n<-PYT:g()\n->RET:2\n")
    index.path = "stored.mock"
    with pytest.raises(MockFileError, match=f"^stored.mock:2: unknown item type '{line.split(':')[0]}'"):
        index.lookup("<-PYT:f()")
    assert index.lookup("<-PYT:g()")[0].text == "2"


def test_what_the_original_splits_on_is_split_the_same_way():
    """§4.1: '=>RET:' starts no item (continuation text); '<-PYX:' starts one, a request nobody sends."""
    texts = [item.text for item in mockfile.parse("<-PYT:f()\n=>RET:5\n<-PYX:7\n->RET:1\n")]
    assert texts == ["f()\n=>RET:5", "7", "1"]
    index = ReplayIndex("<-PYT:f()\n->RET:1\n<-PYX:7\n")
    assert index.lookup("<-PYT:f()")[0].text == "1"
