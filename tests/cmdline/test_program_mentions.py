"""Which intercepted programs a replay file mentions (§5.2), found without ``re`` (issue #16 item 4): the
same answers as the regex ``^<-CMD:(?:.*\\s)?PROGRAM(?:\\s|$)`` (multi-line) that found them before."""
from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from capturemock.cmdline.settings import mentioned_programs, mentions_program


def _by_regex(text: str, program: str) -> bool:
    return re.search(rf"(?m)^<-CMD:(?:.*\s)?{re.escape(program)}(?:\s|$)", text) is not None


def test_a_program_is_mentioned_as_a_whole_word_of_a_command_line():
    text = "<-CMD:git status\n->OUT:clean\n<-CMD:ls -l\n->OUT:<-CMD:ssh\n<-CMD:make\tgitk\n"
    assert mentioned_programs(["git", "ls", "ssh", "gitk", "make", "status", "sta", "it", "clean"], text) == [
        "git", "ls", "gitk", "make", "status"]


def test_a_word_that_starts_the_line_after_a_command_line_counts_as_the_regex_had_it():
    assert mentions_program("<-CMD:x\ntool\n", "tool")
    assert not mentions_program("->OUT:x\ntool\n", "tool")
    assert mentions_program("<-CMD:a\u2003tool", "tool")  # any white space, as \s
    assert not mentions_program("<-CMD:", "tool")


# the characters that decide: the marker's, white space of several kinds, and a few others
_TEXT = st.text(alphabet="<-CMD:OUTx y\n\t\r\x1c\u2003", max_size=40)


@settings(max_examples=3000, deadline=None)
@given(_TEXT, st.text(alphabet="-CMD:x y\t", min_size=1, max_size=4))
def test_the_same_answer_as_the_regex_for_any_text_and_program(text, program):
    assert mentions_program(text, program) == _by_regex(text, program)
