"""The C accelerator's whole answer to a python call (``Lookup.answer``) against the Python path it skips.

Where the first group of a call is one top-level response line holding a plain value, ``answer`` gives
``(value, line)``: the value must be what the replayer's parse of that response gives (``ValueParser.parse``),
and the line what the transcript writes for it (``format_item``). Anything else must come back as the very
group (or None) the Python lookup gives, and the uses counted alike, so later lookups agree too."""
from __future__ import annotations

import pytest
from fuzz_settings import FUZZ
from hypothesis import given
from hypothesis import strategies as st
from test_literals import ANY, PLAIN, TOKENS, Making, shape

from capturemock import literals, mockfile, replay
from capturemock.errors import MockFileError
from capturemock.mockfile import format_item
from capturemock.values import ValueParser, render
from tests.conftest import built_speedups

# response texts: what recordings write, token soup, and the edges of the int path and of the line
_INT_EDGES = ["0", "-0", "007", "-007", "1" * 18, "1" * 19, "-" + "9" * 18, "-", "--1", "- 5", "+5", "5 ", " 5",
              "5\r", "\u0665", "1_0", "0x10", "1e5", mockfile.ESCAPE + "1", "'\ud800'", "'a\x00'", "''", "'"]
_RESPONSE = st.one_of(PLAIN.map(render), ANY.map(render), st.sampled_from(_INT_EDGES),
                      st.lists(st.sampled_from(TOKENS), max_size=8).map("".join),
                      st.integers(0, 700).map(lambda size: "[" + "1, " * size + "]"))
_HEAD = st.sampled_from(["->RET:", "->RET:", "->RET:", "<-RET:", "--->PYT:", "<---RET:", "x->RET:", "->OUT:"])
# a call: its request number (repeats make later groups), and its response items (none, one, or several)
_CALL = st.tuples(st.integers(0, 3), st.lists(st.tuples(_HEAD, _RESPONSE), max_size=2))


def _mock_text(calls, final_newline: bool) -> str:
    lines = []
    for number, responses in calls:
        lines.append(f"<-PYT:mod.f({number})")
        lines += [head + text for head, text in responses]
    return "\n".join(lines) + ("\n" if final_newline else "")


def _index(text: str, speedups):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(replay, "_speedups", speedups)
        return replay.ReplayIndex(text)


def _parsed(text: str):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(literals, "_speedups", None)  # the reference: Python's reader alone
        try:
            return shape(ValueParser(Making()).parse(text))
        except Exception as error:  # noqa: BLE001 - a malformed value: the C answer must not have read it
            return ("error", type(error))


class _Reported(str):
    """The message of a mock file error a lookup reported (an unknown item type...)."""


def _asked(lookup, description: str):
    """The lookup's answer, or the mock file error it reports."""
    try:
        return lookup(description)
    except MockFileError as error:
        return _Reported(error)


@FUZZ
@given(st.lists(_CALL, min_size=1, max_size=5), st.lists(st.integers(0, 4), max_size=10), st.booleans())
def test_answer_agrees_with_the_python_lookup_and_parse(calls, asked, final_newline):
    text = _mock_text(calls, final_newline)
    by_c, by_python = _index(text, built_speedups()), _index(text, None)
    assert by_python.answer == by_python.lookup  # without the accelerator, answer is the lookup itself
    for number in asked:
        description = f"<-PYT:mod.f({number})"
        answered, group = _asked(by_c.answer, description), _asked(by_python.lookup, description)
        if type(answered) is tuple:
            value, line = answered
            assert group is not None and len(group) == 1 and group[0].prefix == "->", (text, description)
            assert line == format_item("->", group[0].type, group[0].text)
            assert shape(value) == _parsed(group[0].text), (text, description)
        else:
            assert answered == group, (text, description)


@pytest.mark.parametrize("response, value", [
    ("{'i': 17, 'name': 'item-17', 'sq': 289}", {"i": 17, "name": "item-17", "sq": 289}),
    ("35", 35), ("-7", -7), ("007", 7), ("'item'", "item"), ("None", None), ("[1, 2.5, (3,)]", [1, 2.5, (3,)]),
])
def test_the_usual_answers_are_read_in_c(response, value):
    index = _index(f"<-PYT:mod.f(1)\n->RET:{response}\n", built_speedups())
    assert index.answer("<-PYT:mod.f(1)") == (value, f"->RET:{response}\n")


@pytest.mark.parametrize("response", [
    "1" * 19, "Instance('Thing', 'thing1')", "raise ValueError('x')", " 5", "'a\x00'", "'\ud800'",
    "[" + "1, " * 200 + "]", "'a' 'b'",
])
def test_anything_else_comes_back_as_the_group(response):
    index = _index(f"<-PYT:mod.f(1)\n->RET:{response}\n", built_speedups())
    group = index.answer("<-PYT:mod.f(1)")
    assert [(item.prefix, item.type, item.text) for item in group] == [("->", "RET", response)]


@pytest.mark.parametrize("text", [
    "<-PYT:mod.f(1)\n->RET:5",  # the file's last line without its newline: the transcript's line has one
    "<-PYT:mod.f(1)\n--->PYT:cb(1)\n->RET:5\n",  # a callback first
    "<-PYT:mod.f(1)\n->RET:4\n->RET:5\n",  # two responses: the last one answers
])
def test_other_groups_are_played_in_python(text):
    assert _index(text, built_speedups()).answer("<-PYT:mod.f(1)") == _index(text, None).lookup("<-PYT:mod.f(1)")


def test_a_repeated_request_is_answered_in_c_once_then_by_its_later_groups():
    text = "<-PYT:mod.f(1)\n->RET:5\n<-PYT:mod.f(1)\n->RET:6\n"
    by_c, by_python = _index(text, built_speedups()), _index(text, None)
    by_python.lookup("<-PYT:mod.f(1)")
    assert by_c.answer("<-PYT:mod.f(1)") == (5, "->RET:5\n")
    assert by_c.answer("<-PYT:mod.f(1)") == by_python.lookup("<-PYT:mod.f(1)")  # group 1: [Item(..., '6', 3)]
    assert by_c.answer("<-PYT:mod.f(1)") == (5, "->RET:5\n")  # exhausted: group 0 again (§5.5)
