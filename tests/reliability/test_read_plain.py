"""The C reader of plain literals (``_speedups.read_plain``) against the Python reader it stands in front of.

``literals.read_literal`` asks it first. Whatever text it takes, it must read to the very value (types,
float bits, set and dict contents) the Python reader gives; whatever else, it must hand back
(``NotImplemented``) so the Python reader and ``evaluation`` decide, as they did without it. It must be
bounded on hostile text and must not leak or corrupt objects (checked under ``-X dev``)."""
from __future__ import annotations

import textwrap

import pytest
from fuzz_settings import FUZZ
from hypothesis import given
from hypothesis import strategies as st
from test_literals import ANY, PLAIN, TOKENS, Making, shape

from capturemock import literals
from capturemock.values import _NOT_SIMPLE, render
from tests.conftest import assert_blocks_stay_flat, built_speedups


def by_python(text: str):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(literals, "_speedups", None)
        value = literals.read_literal(text, Making())
    return None if value is _NOT_SIMPLE else shape(value)


def by_c(text: str):
    value = built_speedups().read_plain(text)
    return None if value is NotImplemented else shape(value)


def agree(text: str) -> bool:
    """C and Python agree on the stripped ``text`` (C may give up); True if C read it."""
    text = text.strip()
    if "\x00" in text or not text.isascii() and not _encodable(text):
        return False  # read_literal refuses these before asking C
    read = by_c(text)
    if read is None:
        return False
    assert read == by_python(text), text
    return True


def _encodable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


@FUZZ
@given(PLAIN, st.booleans())
def test_what_the_recorder_writes_reads_as_in_python(value, full_floats):
    agree(render(value, full_floats=full_floats))
    agree(repr(value))


@FUZZ
@given(ANY)
def test_values_beyond_plain_literals_read_alike_or_go_to_python(value):
    agree(render(value))


@FUZZ
@given(st.lists(st.sampled_from(TOKENS + ["{'a': ", "b'\\x", "1e+", "'\\\\'", "- ", "[1,", "99999999999999999999"]),
                max_size=14))
def test_any_text_c_takes_python_reads_the_same(tokens):
    agree("".join(tokens))


SMALL = st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.floats(allow_nan=False, allow_infinity=False) \
    | st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)


@FUZZ
@given(st.dictionaries(st.text(max_size=8), SMALL, max_size=6) | st.lists(SMALL, max_size=6)
       | st.lists(SMALL, max_size=6).map(tuple))
def test_realistic_values_are_read_in_c(value):
    """What realistic programs return most (small dicts and lists of scalars, any text) never needs Python."""
    assert agree(render(value, full_floats=True)), render(value)


@pytest.mark.parametrize("text, value", [
    ("{'i': 17, 'name': 'item-17', 'sq': 289}", {"i": 17, "name": "item-17", "sq": 289}),
    ("[1, -2.5, (3,), {4}, None, True, False, b'x\\x00', 'a\\n\\u00e9\\U0001F600\\'\"']",
     [1, -2.5, (3,), {4}, None, True, False, b"x\x00", "a\n\u00e9\U0001F600'\""]),
    ("()", ()), ("(1)", 1), ("- 5", -5), ("-0.0", -0.0), ("1e999", float("inf")), ("[\r\n1,\r2,]", [1, 2]),
    ('"it\'s"', "it's"), ("{}", {}), ("{1, 2, (3, 4)}", {1, 2, (3, 4)}),
])
def test_plain_literals_are_read_in_c(text, value):
    read = built_speedups().read_plain(text)
    assert shape(read) == shape(value)


@pytest.mark.parametrize("text", [
    "'a' 'b'", "('abc'\n 'def')", "'a' b'b'", "00", "0x10", "1_0", "1j", "1" * 19, "1." + "0" * 70,
    "Instance('A', 'a')", "Callback('f')", "raise ValueError('x')", "{1: 2, 1: 3}", "{[1]: 2}", "{[1]}",
    "'''a'''", "r'a'", "'\\a'",
    "'\\x4'", "b'\\u00e9'", "b'é'", "'\\U00110000'", "'a\nb'", "'a", "[1", "[1,,]", "(1 2)", "nan", "None1",
    "Noneé", "1é", "[1]\n", "[" * 101 + "]" * 101, "-", "--1", "-True", "1e", "1e+", ".", "1..5", "1e5e5",
])
def test_anything_else_is_handed_back(text):
    assert built_speedups().read_plain(text) is NotImplemented


def test_hostile_text_is_bounded():
    """Deep nesting gives up at the depth limit (no C stack overflow); a long text is read in one pass."""
    speedups = built_speedups()
    assert speedups.read_plain("[" * 10**6) is NotImplemented
    assert speedups.read_plain("(" * 10**6 + "1" + ")" * 10**6) is NotImplemented
    assert len(speedups.read_plain("[" + "'x', " * 10**5 + "]")) == 10**5
    with pytest.raises(TypeError, match="^read_plain: expected a str$"):
        speedups.read_plain(b"[]")


def test_no_object_leaks_or_is_freed_twice():
    """Under ``-X dev`` (debug allocator hooks), reading and refusing many texts keeps the block count flat."""
    built_speedups()
    code = textwrap.dedent("""
        import sys
        from capturemock._speedups import read_plain
        texts = ["{'i': 17, 'name': 'item-17', 'sq': 289}", "[1, -2.5, (3,), {4}, None, b'x\\\\x00', 'a\\\\n']",
                 "{1: 2, 1: 3}", "{[1]: 2}", "{[1]}", "[1, 2, 'a' 'b']", "(1, [2, {3: (4,", "{'a': [1, 2], 'b': x}",
                 "[" * 150 + "]" * 150, "'\\\\U0001F600\\\\x41'", "{1: 2, 3: 4, 'k': 5, 'k': 6}"]
        def run():
            for _ in range(2000):
                for text in texts:
                    read_plain(text)
    """)
    assert_blocks_stay_flat(code)
