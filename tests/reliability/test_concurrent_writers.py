"""Concurrent writers to one record file never lose or interleave items (product spec §3 "Nothing lost").

50 Python processes intercepted through sitecustomize, 50 threads in one intercepted process, and 50
command shims at once through one traffic server. Values are long and multi-line, so a torn or
interleaved write would show up as an item that is not exactly one of the expected texts.
"""
from __future__ import annotations

import collections
import sys
import threading

from capturemock.modes import RECORD
from capturemock.python.api import interceptPython
from capturemock.values import render

WRITERS = 50
CALLS = 10
STAMP = '''
def mark(writer, n):
    """A long multi-line value: torn or interleaved writes cannot go unnoticed."""
    return "\\n".join(f"{writer}-{n}-{line}-" + "x" * 200 for line in range(8))
'''


def expected_value(writer: str, n: int) -> str:
    return "\n".join(f"{writer}-{n}-{line}-" + "x" * 200 for line in range(8))


def check_calls(items, writers: list[str]) -> None:
    calls = collections.Counter(item.text for item in items if item.type == "PYT" and "mark(" in item.text)
    assert calls == collections.Counter(f"stamp.mark({w!r}, {n})" for w in writers for n in range(CALLS))
    values = collections.Counter(item.text for item in items if item.type == "RET" and "xxx" in item.text)
    assert values == collections.Counter(render(expected_value(w, n)) for w in writers for n in range(CALLS))
    # each answer right after its own request: another writer's items never split an interaction
    for request, response in zip(items, items[1:]):
        if request.type == "PYT" and request.text.startswith("stamp.mark("):
            writer, n = request.text[len("stamp.mark("):-1].split(", ")
            assert response.text == render(expected_value(writer.strip("'"), int(n))), request.text


def test_fifty_intercepted_processes_record_to_one_file(sut):
    sut.write("stamp.py", STAMP)
    sut.start_python(RECORD, sut.write("capturemockrc", "[python]\nintercepts = stamp\n"))
    script = f"import sys, stamp\nfor n in range({CALLS}):\n    stamp.mark(sys.argv[1], n)\n"
    writers = [f"p{index}" for index in range(WRITERS)]
    processes = [sut.popen(sys.executable, "-c", script, writer) for writer in writers]
    for process in processes:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    items = sut.items("pythonmocks.mock")
    assert [item.text for item in items if item.text.startswith("import")] == ["import stamp"] * WRITERS
    check_calls(items, writers)


def test_fifty_threads_record_to_one_file(tmp_path, monkeypatch):
    (tmp_path / "stamp.py").write_text(STAMP)
    (tmp_path / "capturemockrc").write_text("[python]\nintercepts = stamp\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    record = tmp_path / "pythonmocks.mock"
    handler = interceptPython(RECORD, str(record), None, [str(tmp_path / "capturemockrc")], [])
    try:
        import stamp
        writers = [f"t{index}" for index in range(WRITERS)]
        start = threading.Barrier(WRITERS)

        def work(writer: str) -> None:
            start.wait()
            for n in range(CALLS):
                assert stamp.mark(writer, n) == expected_value(writer, n)

        threads = [threading.Thread(target=work, args=(writer,)) for writer in writers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        handler.resetIntercepts()
        sys.modules.pop("stamp", None)
    from capturemock import mockfile
    check_calls(mockfile.read(str(record)), writers)


def test_fifty_shims_at_once_through_one_server(sut, shim_kind):
    sut.program("tool", """\
        i=0
        while [ $i -lt 20 ]; do echo "$1 line $i <-CMD:not an item $1"; i=$((i+1)); done
        echo "$1 done" >&2
        exit $(( $1 % 7 ))
    """)
    sut.start_server(RECORD, sut.write("capturemockrc", "[command line]\nintercepts = tool\n"))
    processes = [sut.popen("tool", str(n)) for n in range(WRITERS)]
    for n, process in enumerate(processes):
        out, err = process.communicate(timeout=120)
        assert process.returncode == n % 7 and err.decode() == f"{n} done\n"
        assert out.decode().count("\n") == 20
    from capturemock.launcher import terminate
    terminate()
    items = sut.items("rec.mock")
    groups = {}
    for item in items:
        if item.type == "CMD":
            current = groups.setdefault(item.text, [])
        else:
            current.append((item.type, item.text))
    assert sorted(groups) == sorted(f"tool {n}" for n in range(WRITERS))
    for n in range(WRITERS):
        expected = [("OUT", "\n".join(f"{n} line {i} <-CMD:not an item {n}" for i in range(20))),
                    ("ERR", f"{n} done")]
        assert groups[f"tool {n}"] == expected + ([("EXC", str(n % 7))] if n % 7 else [])
