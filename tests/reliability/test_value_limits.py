"""Mock text never runs real code in any mode, and rebuilding one value has a bounded cost (spec §3).

Mixed mode once resolved ``mod.Class(...)`` in a RET to the real class (through the loaded module) and
called it; a 21-character ``Fraction('1e9999999')`` took seconds and 40 ``list(range(1048576))`` 1.6 GB;
a list of 10^6 plain ints cost an ``ast`` node (~1 KB) per element. Every refusal is a MockFileError
naming file and line; nothing here times performance (see bench/ and the report), only that refusals
come long before the work they refuse would have finished.
"""
from __future__ import annotations

import math
import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from fuzz_settings import FUZZ
from harness import EmptyNamespace
from hypothesis import given
from hypothesis import strategies as st

from capturemock import evaluation, values
from capturemock.errors import MockFileError
from capturemock.python.api import interceptPython
from capturemock.values import MAX_REBUILT_SIZE, ValueParser, render

RECIPES = Path(__file__).resolve().parents[2] / "rc"


def parse(text: str):
    return ValueParser(EmptyNamespace()).parse(text, "mocks/evil.mock", 12)


def refusal(text: str) -> str:
    """The one-line message of the MockFileError ``text`` gets, which must come quickly."""
    start = time.perf_counter()
    with pytest.raises(MockFileError) as caught:
        parse(text)
    assert time.perf_counter() - start < 5  # the refused work took seconds to minutes
    message = str(caught.value)
    assert message.startswith("mocks/evil.mock:12: ") and "\n" not in message and len(message) < 400
    return message


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith("CAPTUREMOCK")}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


# -- mixed mode: the same whitelist as replay ------------------------------------------------------
POPEN_SUT = '''
from capturemock import capturemock


@capturemock("subprocess", mode=MODE)
def test_run():
    import subprocess
    subprocess.Popen  # read by the application: in mixed mode a proxy of the real class exists now
    return subprocess.getoutput("echo hi")


try:
    print(test_run())
except Exception as error:
    print(type(error).__name__, error)
'''


@pytest.mark.parametrize("mode", [0, 2])
@pytest.mark.parametrize("value", ["subprocess.Popen(['touch', MARKER])", "Popen(['touch', MARKER])",
                                   "raise subprocess.Popen(['touch', MARKER])"])
def test_no_mode_calls_the_real_class_of_an_intercepted_module(tmp_path, mode, value):
    marker = tmp_path / "executed"
    (tmp_path / "sut.py").write_text(textwrap.dedent(POPEN_SUT).replace("MODE", str(mode)))
    (tmp_path / "mocks").mkdir()
    (tmp_path / "mocks" / "run.mock").write_text(
        "<-PYT:import subprocess\n<-PYT:subprocess.getoutput('echo hi')\n"
        f"->RET:{value.replace('MARKER', repr(str(marker)))}\n")
    result = run([sys.executable, "sut.py"], tmp_path)
    assert not marker.exists(), result.stdout
    if not value.startswith("raise"):  # a raise of a non-exception name is a stand-in exception
        assert result.stdout.startswith(f"MockFileError {tmp_path / 'mocks' / 'run.mock'}:3: "), result.stdout


@pytest.fixture
def listener():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(0.5)
    yield server
    server.close()


SMTP_SUT = """\
import smtplib
smtplib.SMTP  # the application knows the class; in mixed mode its proxy stands for the real one
try:
    print(smtplib.quotedata('x'))
except Exception as error:
    print(type(error).__name__, error)
"""


@pytest.mark.parametrize("mode", ["0", "2"])
def test_the_smtplib_recipe_never_connects_from_mock_text(tmp_path, listener, mode):
    port = listener.getsockname()[1]
    (tmp_path / "sut.py").write_text(SMTP_SUT)
    (tmp_path / "old.mock").write_text("<-PYT:import smtplib\n<-PYT:smtplib.quotedata('x')\n"
                                       f"->RET:smtplib.SMTP('127.0.0.1', {port})\n")
    result = run([sys.executable, "-m", "capturemock", "-m", mode, "-p", "old.mock", "-r", "new.mock",
                  "-R", str(RECIPES / "smtplib.rc"), sys.executable, "sut.py"], tmp_path)
    with pytest.raises(socket.timeout):
        listener.accept()[0].close()
    assert result.stdout.startswith(f"MockFileError {tmp_path / 'old.mock'}:3: refused expression"), result.stdout


# -- any failure while rebuilding is a located MockFileError ---------------------------------------
@pytest.mark.parametrize("value", ["Instance('X(type)', 'x')", "Instance('X(enumerate)', 'x')",
                                   "Instance('X(reversed)', 'x')", "raise Instance('X(BaseExceptionGroup)', 'x')",
                                   "raise BaseExceptionGroup", "raise BaseExceptionGroup('x')"])
def test_a_value_that_cannot_be_built_is_a_mock_file_error(tmp_path, monkeypatch, value):
    replay = tmp_path / "replay.mock"
    replay.write_text(f"<-PYT:import weatherstation\n<-PYT:weatherstation.forecast(3)\n->RET:{value}\n")
    rc = tmp_path / "capturemockrc"
    rc.write_text("[python]\nintercepts = weatherstation\n")
    monkeypatch.chdir(tmp_path)
    handler = interceptPython(0, str(tmp_path / "record.mock"), str(replay), [str(rc)], [])
    try:
        import weatherstation
        with pytest.raises(MockFileError, match=rf"^{replay}:3: cannot rebuild "):
            weatherstation.forecast(3)
    finally:
        handler.resetIntercepts()
        sys.modules.pop("weatherstation", None)


# -- bounded cost -------------------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["Fraction('1e9999999')", "fractions.Fraction('1e99999999')",
                                  "Fraction(' -1.5E-9999999 ')", "Fraction('1_0e1_0000000')",
                                  "int(decimal.Decimal('1e9999999'))", "Fraction(Decimal('1e-9999999'))",
                                  "Fraction('" + "1" * 2000 + "e9999999')"])
def test_number_strings_with_huge_exponents_are_refused(text):
    assert "a number exponent beyond" in refusal(text)


def test_a_decimal_keeps_its_exponent_unexpanded():
    assert str(parse("Decimal('1e999999999')")) == "1E+999999999"
    assert parse("Fraction('1.5e3')") == 1500


def test_huge_int_arguments_are_refused():
    assert "bits" in refusal(f"Fraction(0x{'f' * 20_000}, 0x{'e' * 20_000})")


@pytest.mark.parametrize("text", [
    "[" + ", ".join(["list(range(1048576))"] * 40) + "]",
    "(bytes(1048576), bytearray(1))",
    "{'a': frozenset(range(1048000)), 'b': [collections.deque(range(1000))]}",
    "list(ipaddress.IPv4Network('0.0.0.0/0'))",
])
def test_what_constructors_materialise_is_budgeted_over_the_whole_value(text):
    assert f"would build more than {MAX_REBUILT_SIZE} elements in one value" in refusal(text)


NINES = "9" * 1_000_000


@pytest.mark.parametrize("text", [f"int(Decimal('{NINES}'))", f"Fraction(Decimal('{NINES}'))",
                                  f"float('{NINES}')", f"complex('{NINES}')", f"int('{NINES}')",
                                  f"Decimal('{NINES}')"])
def test_numbers_with_more_digits_than_any_recording_are_refused(text):
    """Converting them is quadratic in C (``int(Decimal(...))`` of 10^6 digits: half a minute)."""
    assert "a number of more than 5000" in refusal(text)


def test_a_decimal_of_a_huge_int_is_refused():
    assert "bits" in refusal(f"Decimal(0x{'f' * 250_000})")


@pytest.mark.parametrize("codec", ["punycode", "utf-7", "idna", "unicode_escape"])
def test_only_plain_text_codecs_rebuild_strings(codec):
    assert f"the codec '{codec}'" in refusal(f"str(b'abc', '{codec}')")
    assert f"the codec '{codec}'" in refusal(f"bytes('abc', '{codec}')")


def test_plain_codecs_still_rebuild_strings():
    assert parse("(str(b'caf\\xc3\\xa9', 'utf-8'), bytes('\\xe9', 'latin-1'))") == ("café", b"\xe9")


def test_a_container_of_the_characters_of_a_long_string_is_budgeted():
    assert "would build more than" in refusal(f"list('{'€' * 2_000_000}')")
    assert parse("tuple('abc')") == ("a", "b", "c")


@pytest.mark.parametrize("exception", ["KeyboardInterrupt", "KeyboardInterrupt()", "GeneratorExit"])
def test_a_replayed_raise_never_interrupts_the_test_run_itself(exception):
    assert "it would interrupt the test run itself" in refusal(f"raise {exception}")


def test_values_within_the_budget_are_rebuilt():
    assert len(parse("[list(range(1000)), bytes(1000), list(ipaddress.IPv4Network('10.0.0.0/24'))]")[2]) == 256


def test_large_values_that_are_not_plain_literals_are_refused_before_parsing():
    text = "[" + ", ".join(["(1, 2)"] * 300_000) + "]"
    assert "characters outside string literals" in refusal(text)


def test_large_strings_do_not_count_as_code():
    blob = "a, b. " * 400_000  # a recorded CSV or prose: one node whatever its length
    assert parse(f"({blob!r}, {{1: {blob!r}}})") == (blob, {1: blob})


def test_large_plain_literals_take_the_json_path():
    numbers = list(range(10 ** 5))
    assert parse(render(numbers)) == numbers
    empties = "[" + ",".join(["[]"] * 10 ** 5) + "]"
    assert parse(empties) == [[]] * 10 ** 5
    records = [{"name": f"it's \"{i}\"\n", "id": i, "ok": None, "x": [1.5, True, False]} for i in range(2000)]
    assert parse(render(records)) == records


# -- the json path gives exactly what the ast path gives ---------------------------------------------
def strictly_equal(one, other) -> bool:
    """Equal with the same types throughout (1, 1.0 and True differ; -0.0 is not 0.0)."""
    if type(one) is not type(other):
        return False
    if isinstance(one, (list, tuple)):
        return len(one) == len(other) and all(map(strictly_equal, one, other))
    if isinstance(one, dict):
        return list(one) == list(other) and all(strictly_equal(one[key], other[key]) for key in one)
    if isinstance(one, float):
        return one == other and math.copysign(1, one) == math.copysign(1, other)
    return one == other


def through_ast(text: str):
    return evaluation.Evaluation(ValueParser(EmptyNamespace()), text, None, 0).run()


def check_same(text: str) -> None:
    text = text.strip()  # as ValueParser.parse has it
    fast = values._plain_literal(text)
    if fast is values._NOT_SIMPLE:
        return
    assert strictly_equal(fast, through_ast(text)), text


_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10 ** 30, 10 ** 30), st.floats(allow_nan=False),
                     st.text(st.characters(exclude_categories=["Cs"]), max_size=8),
                     st.sampled_from(["it's", 'say "hi"', "a\\b", "\t\n\r", "\x00\x7f", "é€😀", "None", "'"]))
_VALUES = st.recursive(_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=5),
                                                         st.dictionaries(st.text(max_size=4), inner, max_size=4),
                                                         st.tuples(inner, inner)), max_leaves=30)


@FUZZ
@given(_VALUES)
def test_rendered_values_read_the_same_through_json_and_ast(value):
    text = render(value)
    check_same(text)
    if isinstance(value, (list, dict)):
        assert values._plain_literal(text) is not values._NOT_SIMPLE or not _json_like(value)


def _json_like(value) -> bool:
    """What the json path must take (so the comparison above compares something)."""
    if isinstance(value, list):
        return all(map(_json_like, value))
    if isinstance(value, dict):
        return all(_json_like(key) and _json_like(item) for key, item in value.items())
    if isinstance(value, str):
        return value.isprintable() and "'" not in value and "\\" not in value
    return value is None or isinstance(value, (bool, int)) or (isinstance(value, float) and math.isfinite(value))


_TOKENS = st.sampled_from(["[", "]", "{", "}", ",", ":", " ", "\n", "\t", "-", "+", ".", "e", "E", "0", "1", "9",
                           "'", '"', "\\", "\\n", "\\'", "\\x41", "None", "True", "False", "null", "true", "NaN",
                           "Infinity", "nan", "a", "é", "\ud800", "\x00", "'''", "b'", "(", ")", "1_0", "#"])


@FUZZ
@given(st.lists(_TOKENS, max_size=40).map("".join))
def test_any_text_the_json_path_takes_reads_the_same_through_ast(text):
    check_same(text)


_ATOMS = st.sampled_from(["0", "-0", "1", "-12", "01", "1.5", "1.", ".5", "1e5", "1E-5", "-0.0", "1e400", "1_0", "+1",
                          "- 1", "None", "True", "False", "null", "true", "NaN", "nan", "''", "'a'", "'a\"b'", '"a"',
                          "\"it's\"", r"'\n'", r"'\\'", r"'\x41'", r"'\''", "'é'", "'\t'", "'\x7f'", "'a' 'b'",
                          "b'a'", r"'\u00e9'", "'''a'''"])
_SEPARATORS = st.sampled_from([",", ", ", " ,\n ", ",\t", ",,"])


def _container(inner):
    items = st.lists(inner, max_size=4)
    pairs = st.lists(st.tuples(_ATOMS, inner).map(": ".join), max_size=3)
    return st.tuples(st.sampled_from(["[]", "{}", "()"]), st.one_of(items, pairs), _SEPARATORS,
                     st.sampled_from(["", ","])).map(lambda parts: parts[0][0] + parts[2].join(parts[1]) + parts[3]
                                                     + parts[0][1])


@FUZZ
@given(st.recursive(_ATOMS, _container, max_leaves=20))
def test_literal_like_text_reads_the_same_through_json_and_ast(text):
    check_same(text)
