"""Command output is byte-exact in record and replay with ``exact_output = true`` (issue 13, item 6): no
final newline is added; binary output (NUL, bytes that are not UTF-8) is escaped in the mock file, never
written raw into it, with or without the setting.
Every test runs with the native and the Python fallback shim (the ``sut`` fixture)."""
from __future__ import annotations

import subprocess

import capturemock

RC = "[command line]\nintercepts = tool, head\nexact_output = true\n"


def record_then_replay(sut, *argv: str) -> tuple[subprocess.CompletedProcess, subprocess.CompletedProcess]:
    """Run ``argv`` (bytes out) while recording, then again replaying what was recorded."""
    assert sut.start(capturemock.RECORD, rc=sut.rc(RC))
    recorded = subprocess.run(list(argv), env=sut.env, cwd=sut.root, capture_output=True, timeout=30)
    capturemock.terminate()
    (sut.root / "rec.mock").rename(sut.root / "stored.mock")
    assert sut.start(capturemock.REPLAY, rc=sut.rc(RC), replay="stored.mock", real_programs=False)
    replayed = subprocess.run(list(argv), env=sut.env, cwd=sut.root, capture_output=True, timeout=30)
    capturemock.terminate()
    assert sut.text("rec.mock") == sut.text("stored.mock")  # replay records what it replayed
    return recorded, replayed


def test_head_of_a_file_gives_exactly_the_bytes_asked_for(sut):
    sut.write("lines.txt", "".join(f"line {n}\n" for n in range(1000)))
    recorded, replayed = record_then_replay(sut, "head", "-c", "3000", "lines.txt")
    expected = (sut.root / "lines.txt").read_bytes()[:3000]
    assert recorded.stdout == replayed.stdout == expected
    assert sut.text("stored.mock").endswith(f"{expected.decode()}\n|capturemock|no newline at end\n")


def test_gzip_output_through_an_intercepted_filter_still_gunzips(sut):
    """``gzip -c file | tool | gunzip``, ``tool`` being ``cat``."""
    sut.program("tool", "exec cat\n")
    sut.write("data.txt", "some text\n" * 100)
    recorded, replayed = record_then_replay(sut, "sh", "-c", "gzip -cn data.txt | tool | gunzip")
    assert recorded.stdout == replayed.stdout == (sut.root / "data.txt").read_bytes()
    assert (recorded.returncode, replayed.returncode) == (0, 0)
    stored = (sut.root / "stored.mock").read_bytes()
    assert stored.startswith(b"<-CMD:tool\n->OUT:\\x1f\\x8b\\x08\\x00")
    assert stored.endswith(b"\n|capturemock|bytes, no newline at end\n") and b"\0" not in stored
    stored.decode("utf-8")  # a text file: no byte of the output went in raw


def test_binary_output_round_trips_byte_for_byte_and_is_escaped_in_the_mock(sut):
    output = b"text\\path\x00nul \xff\xfe not utf-8 \x1b[0m\r\n<-CMD:looks like an item\n\xc3\xa9 is\n"
    sut.program("tool", "printf 'text\\\\path\\000nul \\377\\376 not utf-8 \\033[0m\\r\\n"
                        "<-CMD:looks like an item\\n\\303\\251 is\\n'\nprintf '\\377' >&2\n")
    recorded, replayed = record_then_replay(sut, "tool")
    assert recorded.stdout == replayed.stdout == output
    assert recorded.stderr == replayed.stderr == b"\xff"
    assert sut.text("stored.mock") == ("<-CMD:tool\n"
                                       "->OUT:text\\\\path\\x00nul \\xff\\xfe not utf-8 \\x1b[0m\\x0d\n"
                                       "|capturemock|<-CMD:looks like an item\n"
                                       "é is\n"
                                       "|capturemock|bytes\n"
                                       "->ERR:\\xff\n|capturemock|bytes, no newline at end\n")


def test_text_output_ending_in_a_newline_is_recorded_as_the_original_records_it(sut):
    sut.program("tool", "printf 'caf\\303\\251 \\033[1mbold\\033[0m\\r\\n\\n'\n")
    recorded, replayed = record_then_replay(sut, "tool")
    assert recorded.stdout == replayed.stdout == "café \x1b[1mbold\x1b[0m\r\n\n".encode()
    assert (sut.root / "stored.mock").read_bytes() == "<-CMD:tool\n->OUT:café \x1b[1mbold\x1b[0m\r\n\n".encode()
