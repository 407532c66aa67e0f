"""``mockfile.item_starts`` and the torn-tail scan find exactly what the plain multi-line regex finds
(they exist to be faster over long values, issue #14 item 5)."""
from __future__ import annotations

from unittest.mock import patch

from hypothesis import given
from hypothesis import strategies as st

from capturemock import mockfile

LINE = st.sampled_from(["<-CLI:GET /a", "->SRV:200 ok", "  ->PYT:x", "text", "", "<-:", "a->b:c", "|capturemock|",
                        "<-PYT", "->RET:1", "x->", "ab:c"])
LINES = st.lists(LINE, max_size=12)


def reference_last_item_start(text: str, low: int, cut: int):
    """The line-by-line scan the faster one replaced."""
    line_start = text.rfind("\n", low, cut) + 1 or low
    while not mockfile.ITEM_START.match(text, line_start):
        if line_start <= low:
            return None
        line_start = text.rfind("\n", low, line_start - 1) + 1 or low
    return line_start


@given(LINES, st.data())
def test_item_starts_are_the_multiline_regex_matches(lines, data):
    text = "\n".join(lines)
    begin = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(begin, len(text)))
    expected = [(match.start(), match.group()) for match in mockfile.ITEM_START.finditer(text, begin, end)]
    assert [(match.start(1), match.group(1)) for match in mockfile.item_starts(text, begin, end)] == expected


@given(LINES, st.data())
def test_last_item_start_is_the_line_by_line_answer(lines, data):
    text = "\n".join(lines) + "\n"
    low = data.draw(st.sampled_from([0] + [i + 1 for i, char in enumerate(text) if char == "\n"]))
    cut = data.draw(st.integers(low, len(text) - 1)) if low < len(text) else low
    assert mockfile._last_item_start(text, low, cut) == reference_last_item_start(text, low, cut)


@given(st.integers(0, 3), st.lists(LINE, max_size=40), st.data())
def test_last_item_start_found_past_its_first_lines_back_is_the_line_by_line_answer(back, lines, data):
    """The first lines back are looked at one by one, the rest by growing stretches: both ways alike (from
    any ``low``: one inside a line is no line start)."""
    text = "\n".join(lines) + "\n"
    low = data.draw(st.integers(0, len(text) - 1))
    cut = data.draw(st.integers(low, len(text) - 1))
    with patch.object(mockfile, "_BACK_LINES", back):
        assert mockfile._last_item_start(text, low, cut) == reference_last_item_start(text, low, cut)


def test_an_arrow_ending_the_line_before_makes_no_item_head():
    text = "<-PYT:f()\nx->\nab:c\n"
    assert mockfile._last_item_start(text, 0, len(text) - 1) == reference_last_item_start(text, 0, len(text) - 1) == 0


def test_last_item_start_behind_a_long_value():
    text = "<-CLI:GET /a\n->SRV:200 " + "line\n" * 100000
    assert mockfile._last_item_start(text, 0, len(text) - 1) == len("<-CLI:GET /a\n")


@given(LINES)
def test_item_heads_are_the_item_starts_both_ways(lines):
    """Line by line (small files) and by the regex (large ones): the same starts and heads."""
    text = "\n".join(lines)
    expected = [(match.start(1), match.group(1)) for match in mockfile.item_starts(text)]
    assert list(mockfile._item_heads_by_line(text)) == expected
    assert list(mockfile.item_heads(text)) == expected


def test_item_heads_of_a_large_file_come_from_the_regex(monkeypatch):
    text = "<-PYT:f(1)\n->RET:1\nvalue line: not an item\n  ->RET:2\n" * 4
    monkeypatch.setattr(mockfile, "_REGEX_SCAN_FROM", len(text))
    monkeypatch.setattr(mockfile, "_item_heads_by_line", None)  # would fail if called
    heads = list(mockfile.item_heads(text))
    assert heads == [(0, "<-PYT:"), (11, "->RET:"), (43, "  ->RET:")] + [(start + 53 * i, head) for i in (1, 2, 3)
                                                                          for start, head in heads[:3]]


@given(LINES, st.data(), st.sampled_from([0, 2, 64]), st.sampled_from([1, 1 << 19]))
def test_item_heads_between_are_the_item_starts(lines, data, few_lines, regex_from):
    """The first lines by ``find``, the rest by the regex (large rest) or line by line: the same heads."""
    text = "\n".join(lines)
    begin = data.draw(st.sampled_from([0] + [i + 1 for i, char in enumerate(text) if char == "\n"]))
    end = data.draw(st.integers(begin, len(text)))
    expected = [(match.start(1), match.group(1)) for match in mockfile.item_starts(text, begin, end)]
    saved = mockfile._FEW_LINES, mockfile._REGEX_SCAN_FROM
    mockfile._FEW_LINES, mockfile._REGEX_SCAN_FROM = few_lines, regex_from
    try:
        assert mockfile.item_heads_between(text, begin, end) == expected
    finally:
        mockfile._FEW_LINES, mockfile._REGEX_SCAN_FROM = saved
