"""Replay never executes mock text (product spec §3 "Safe replay"): hostile RET values are clean errors.

Every refusal is a MockFileError naming file and line; nothing is run (a marker file proves it), no
value is built that is far larger than its text, and arbitrary text gives nothing but MockFileError.
"""
from __future__ import annotations

import subprocess
import sys

import pytest
from fuzz_settings import FUZZ
from harness import EmptyNamespace
from hypothesis import given
from hypothesis import strategies as st

from capturemock.errors import MockFileError
from capturemock.python.api import interceptPython
from capturemock.values import Raised, ValueParser


def parse(text: str):
    return ValueParser(EmptyNamespace()).parse(text, "mocks/evil.mock", 12)


def hostile(marker: str) -> list[str]:
    """Ways a hand-edited RET could try to run code, reach functions or exhaust the machine."""
    touch = f"open({marker!r}, 'w')"
    return [
        f"__import__('os').system('touch {marker}')",
        f"os.system('touch {marker}')",
        touch,
        f"[{touch}]",
        f"{{'k': {touch}}}",
        f"raise os.system('touch {marker}')",
        f"exec('{touch}')",
        f"eval('{touch}')",
        f"(lambda: {touch})()",
        f"[{touch} for x in 'a']",
        f"{{x: {touch} for x in 'a'}}",
        f"(x for x in [{touch}])",
        f"pathlib.Path({marker!r}).touch()",
        f"pathlib.Path({marker!r}).write_text('x')",
        "datetime.datetime.now()",
        "().__class__.__base__.__subclasses__()",
        "datetime.datetime.__class__",
        f"collections.abc.Callable.__class__('X', (), {{'a': {touch}}})",
        "uuid.SafeUUID.__class__",
        "decimal.Decimal.__init__",
        "collections.namedtuple('A', 'b')",
        "builtins.getattr",
        "getattr(datetime, 'datetime')",
        f"Instance({touch}, 'x')",
        "f'{1}'",
        "'a' * 10**9",
        "'a' * 1000000000",
        "[0] * 1000000000",
        "bytes(4000000000)",
        "bytearray(4000000000)",
        "list(range(10000000000))",
        "tuple(range(1000000000000000000000))",
        "collections.deque(range(4000000000))",
        "collections.Counter(range(4000000000))",
        "frozenset(range(4000000000))",
        "2 ** 100000000",
        "9" * 5000,
        "-" * 100_000 + "1",
        "not " * 100_000 + "1",
        "[" * 100_000 + "]" * 100_000,
        "(" * 100_000 + "1" + ")" * 100_000,
        "a." * 100_000 + "b",
        "{**{}}",
        "[*range(3)]",
        "x := 1",
        "1 if True else 2",
        "yield 1",
        "await x",
    ]


@pytest.mark.parametrize("index", range(len(hostile("m"))))
def test_hostile_values_are_refused_naming_file_and_line(index, tmp_path):
    marker = tmp_path / "executed"
    text = hostile(str(marker))[index]
    with pytest.raises(MockFileError) as caught:
        parse(text)
    message = str(caught.value)
    assert message.startswith("mocks/evil.mock:12: ") and "\n" not in message
    assert len(message) < 400
    assert not marker.exists()


def test_long_values_are_refused_but_proportional_ones_are_rebuilt():
    assert parse("range(0, 10**6)".replace("10**6", str(10 ** 6))) == range(10 ** 6)  # lazy: fine
    assert len(parse("list(range(1000))")) == 1000
    assert len(parse("[" + "1, " * 100_000 + "]")) == 100_000
    assert parse("[" * 150 + "]" * 150) == eval("[" * 150 + "]" * 150)  # noqa: S307 - test oracle only


def test_huge_ints_round_trip_through_hex():
    from capturemock.values import render
    value = [10 ** 5000, -(10 ** 5000), {"n": 7 ** 9000}]
    text = render(value)
    assert parse(text) == value


def test_recorded_exceptions_still_replay(tmp_path):
    assert isinstance(parse("raise ValueError('bad')"), Raised)
    assert isinstance(parse("raise no.such.module.Error('x')").exception, Exception)
    # an unknown exception name is a stand-in class, never whatever the name means here
    marker = tmp_path / "executed"
    assert type(parse(f"raise open({str(marker)!r}, 'w')").exception).__name__ == "open"
    assert not marker.exists()


_ATOMS = st.sampled_from(["(", ")", "[", "]", "{", "}", ",", ":", ".", "'", '"', "*", "**", "-", "+",
                          "lambda", "__import__", "os", "system", "__class__", "Instance", "Callback",
                          "raise ", "datetime", "collections.Counter", "range", "bytes", "10", "10**9",
                          "1e999", "0x", "\n", " ", "\\", "j", "=", "for", "in", "if", "not", "_", "x"])
_EXPRESSIONS = st.lists(st.one_of(_ATOMS, st.text(max_size=4)), max_size=30).map("".join)


@FUZZ
@given(st.one_of(_EXPRESSIONS, st.text(max_size=60)))
def test_any_text_gives_a_value_or_a_mock_file_error(text):
    modules = set(sys.modules)
    try:
        parse(text)
    except MockFileError as err:
        assert str(err).startswith("mocks/evil.mock") and "\n" not in str(err)
    assert set(sys.modules) <= modules | {"uuid", "decimal", "fractions", "ipaddress", "pathlib"}


def test_a_hostile_replay_file_fails_the_call_cleanly_and_runs_nothing(tmp_path, monkeypatch):
    """End to end: the real module is absent; its replayed return value tries to run a command."""
    marker = tmp_path / "executed"
    replay = tmp_path / "replay.mock"
    replay.write_text("<-PYT:import weatherstation\n"
                      "<-PYT:weatherstation.forecast(3)\n"
                      f"->RET:__import__('os').system('touch {marker}')\n")
    rc = tmp_path / "capturemockrc"
    rc.write_text("[python]\nintercepts = weatherstation\n")
    monkeypatch.chdir(tmp_path)
    handler = interceptPython(0, str(tmp_path / "record.mock"), str(replay), [str(rc)], [])
    try:
        import weatherstation
        with pytest.raises(MockFileError, match=rf"^{replay}:3: refused expression"):
            weatherstation.forecast(3)
    finally:
        handler.resetIntercepts()
        sys.modules.pop("weatherstation", None)
    assert not marker.exists()


def test_odd_literals_in_mock_text_warn_nobody():
    """The compiler warns about "1if" as source; as mock text it is only a refused value (no stderr noise
    in the SUT), while the application's own warnings stay as they were."""
    script = ("from capturemock.values import ValueParser\n"
              "from capturemock.errors import MockFileError\n"
              "try:\n    ValueParser(None).parse('[1if 1 else 2]')\n"
              "except MockFileError as err:\n    print(err)\n"
              "import ast\nast.parse('1if 1 else 2')\n")
    result = subprocess.run([sys.executable, "-W", "error::SyntaxWarning", "-c", script], capture_output=True,
                            text=True, timeout=60)
    assert result.stdout.startswith("refused expression '1if 1 else 2'")
    assert "SyntaxError: invalid decimal literal" in result.stderr  # the app's own code still warns
