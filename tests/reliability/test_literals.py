"""The ast-free literal reader (``capturemock.literals``) agrees with the ``ast`` parser it stands in front of.

It exists for start-up (``ast`` costs an intercepted process ~7 ms) and must never change a replayed value:
whatever text it reads, ``evaluation`` reads to the same value, with the same instances made in the same
order; whatever ``evaluation`` refuses, it leaves to ``evaluation`` (so refusals keep their one wording).
"""
from __future__ import annotations

import math
import sys
import time

import pytest
from fuzz_settings import FUZZ
from hypothesis import given
from hypothesis import strategies as st

from capturemock.errors import MockFileError
from capturemock.evaluation import Evaluation, exception
from capturemock.literals import read_literal
from capturemock.values import _NOT_SIMPLE, MAX_CODE_CHARS, Raised, ValueParser, render


class Making:
    """A namespace that knows one name and logs the instances and callbacks made, in order."""

    def __init__(self):
        self.made = []

    def lookup_name(self, name):
        if name == "known":
            return "the known object"
        raise KeyError(name)

    def make_instance(self, description, name):
        self.made.append(("Instance", description, name))
        return ("instance", description, name)

    def make_callback(self, name):
        self.made.append(("Callback", name))
        return ("callback", name)

    def resolve_class(self, dotted):
        return None

    def exception_class(self, dotted):
        return None


def shape(value):
    """What must agree: the value's repr (types included), an exception's class and arguments."""
    if isinstance(value, Raised):
        return ("raise", type(value.exception), repr(value.exception.args))
    limit = getattr(sys, "get_int_max_str_digits", lambda: 0)()
    if limit:
        sys.set_int_max_str_digits(0)  # render writes ints beyond repr's digits in hex: both read them
    try:
        return repr(value)
    finally:
        if limit:
            sys.set_int_max_str_digits(limit)


def by_ast(text: str):
    """The value ``evaluation`` gives (``ValueParser.parse`` without the reader), and what it made."""
    namespace = Making()
    parser = ValueParser(namespace)
    if text.startswith("raise "):
        value = Raised(exception(parser, text[len("raise "):], "x.mock", 3))
    else:
        value = Evaluation(parser, text, "x.mock", 3).run()
    return shape(value), namespace.made


def by_reader(text: str):
    namespace = Making()
    value = read_literal(text, namespace)
    return (None if value is _NOT_SIMPLE else shape(value)), namespace.made


def agree(text: str) -> bool:
    """Reader and ast agree on ``text``; True if the reader read it itself."""
    text = text.strip()
    read, made = by_reader(text)
    try:
        expected = by_ast(text)
    except MockFileError:
        assert read is None, f"the reader accepted {text!r}, which evaluation refuses"
        assert made == []
        return False
    if read is None:
        return False
    assert (read, made) == expected, text
    return True


# -- values as the recorder writes them ------------------------------------------------------------
SCALARS = (st.none() | st.booleans() | st.integers() | st.integers(min_value=-2**70, max_value=2**70)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text() | st.binary())
PLAIN = st.recursive(SCALARS, lambda inner: (
    st.lists(inner, max_size=5) | st.lists(inner, max_size=5).map(tuple)
    | st.dictionaries(st.text(max_size=5) | st.integers() | st.booleans() | st.none(), inner, max_size=5)
    | st.sets(st.integers() | st.text(max_size=5), min_size=1, max_size=5)), max_leaves=20)
ANY = st.recursive(SCALARS | st.floats() | st.integers(0, 5000).map(lambda digits: -(10 ** digits) + 1)
                   | st.sets(st.integers(), max_size=3).map(frozenset), lambda inner: (
    st.lists(inner, max_size=4) | st.lists(inner, max_size=4).map(tuple)
    | st.dictionaries(st.text(max_size=3) | st.integers(), inner, max_size=4)), max_leaves=12)


def _no_surrogates(value) -> bool:
    """A lone surrogate is not text ast reads (the reader leaves such values alone)."""
    return "\\ud8" not in ascii(value) and "\\udb" not in ascii(value) and "\\udc" not in ascii(value) \
        and "\\udd" not in ascii(value) and "\\ude" not in ascii(value) and "\\udf" not in ascii(value)


@FUZZ
@given(PLAIN, st.booleans())
def test_the_reader_reads_what_the_recorder_writes_as_ast_does(value, full_floats):
    text = render(value, full_floats=full_floats)
    assert agree(text) or not _no_surrogates(text) or len(text) > MAX_CODE_CHARS, text


@FUZZ
@given(PLAIN)
def test_the_reader_reads_reprs_as_ast_does(value):
    agree(repr(value))


@FUZZ
@given(ANY)
def test_values_beyond_plain_literals_read_alike_or_go_to_ast(value):
    agree(render(value))
    try:
        text = repr(value)
    except ValueError:  # an int beyond repr's digits (render writes it in hex)
        return
    agree(text)


# -- any text at all: token soup -------------------------------------------------------------------
TOKENS = ["[", "]", "(", ")", "{", "}", ",", ":", " ", "\n", "\r", "\t", "\f", "\\\n", "#", "-", "+", ".", "0",
          "1", "7", "01", "00", "0x1f", "0X", "e", "E", "e-", "_", "j", "'", '"', "'''", "\\", "\\x4", "\\x41",
          "\\u00e9", "\\U0001F600", "\\U00110000", "\\ud800", "\\n", "\\'", '\\"', "\\a", "\\N{DASH}", "\\0",
          "b", "r", "u", "f", "None", "True", "False", "Instance", "Callback", "Instance('C', 'c1')",
          "Callback('cb')", "raise ", "ValueError", "KeyError", "KeyboardInterrupt", "OSError", "known", "x",
          "é", "\ud800", "\x00", "nan", "inf", "set", "1e5", "1.5", ".5", "5.", "**", "=", "if", "not", "a.b"]


@FUZZ
@given(st.lists(st.sampled_from(TOKENS), max_size=12))
def test_any_text_the_reader_takes_ast_reads_the_same(tokens):
    agree("".join(tokens))


@pytest.mark.filterwarnings("ignore:invalid escape sequence")  # the compiler's, over mock text pytest lets through
@FUZZ
@given(st.text(st.sampled_from("ab_', \\\n\r\"é)(1"), max_size=8), st.text(st.sampled_from("ab_', \\\n)1"), max_size=8))
def test_an_instance_answer_is_made_as_ast_makes_it_whatever_its_strings_hold(description, name):
    """``Instance('D', 'n')`` is made without the character scanner when both strings are plain: the same
    instance, or left to the scanner and ast, whatever quotes, backslashes or line breaks they hold."""
    agree(f"Instance('{description}', '{name}')")


@pytest.mark.parametrize("text", [
    "{'i': 250, 'name': 'n250', 'sq': 62500}", "[250, 251, 'x250', [500]]", "Instance('Item', 'item1')",
    """raise AttributeError("module 'realmod' has no attribute '__path__'")""", "raise ValueError", "(1,)", "(1)",
    "()", "-1.5e-3", "1.e5", "01.5", "00", "0xff", "b'a\\x00b\\''", "('abc'\n 'def')", "'a' \"b\"",
    "{1, 2, (3, 4)}", "[\r\n1,\r2,]", "'\\u00e9\\U0001F600\\t'", "[Instance('A', 'a'), {'k': Callback('f')}]",
])
def test_the_forms_of_a_realistic_replay_are_read_without_ast(text):
    assert agree(text)


@pytest.mark.parametrize("text", [
    "01", "1_0", "1j", "set()", "-True", "--1", "raise KeyboardInterrupt('x')", "raise known('x')",
    "raise UnicodeDecodeError('x')", "raise mod.Error('x')", "{[1]: 2}", "{'a': Instance('A', 'a'), 'a': 1}",
    "{Instance('A', 'a')}", "Instance('A')", "'a'\n'b'", "'''a'''", "r'a'", "'\\a'", "nan", "known", "'\ud800'",
    "[" * 150 + "]" * 150, "1" * 5000, "'a' b'b'", "(1 if 1 else 2)",
])
def test_anything_else_is_left_to_ast(text):
    assert not agree(text)


def test_the_reader_makes_no_instance_when_the_text_is_refused():
    namespace = Making()
    assert read_literal("[Instance('A', 'a1'), 1 + x]", namespace) is _NOT_SIMPLE
    assert namespace.made == []


def test_a_float_is_read_to_the_same_bits():
    for text in ("0.1", "1e-320", "2.5e308", "-0.0", "123456789.123456789e-5"):
        read, made = by_reader(text)
        assert read == repr(float(text)) or (math.isinf(float(text)) and read == "inf")


# -- bounded cost: a hostile string literal --------------------------------------------------------
@pytest.mark.parametrize("escape", ["\\n", "\\\\", "\\x41"])
def test_a_string_of_a_million_escapes_is_read_in_linear_time(escape):
    """Each escape once searched for the closing quote again from where it was: a 1 MB item of ``\\n``
    took ~7 s (quadratic), where ``ast`` takes a fraction of a second."""
    count = (MAX_CODE_CHARS - 2) // len(escape)
    text = "'" + escape * count + "'"
    start = time.perf_counter()
    value = ValueParser(Making()).parse(text, "mocks/evil.mock", 3)
    assert time.perf_counter() - start < 3  # quadratic: 7 s and more, linear: a quarter of a second
    assert value == Evaluation(ValueParser(Making()), text, "mocks/evil.mock", 3).run()
