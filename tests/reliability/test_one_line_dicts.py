"""The recorder's one-line dict formatter (``values._one_line_dict``) writes exactly what ``pprint`` writes.

It exists for the per-call cost of recording (pprint costs a call returning a small dict ~60k
instructions) and must never change a mock file's text: for any dict it either gives up or agrees. Each
test runs with the C accelerator's ``one_line_dict`` and with the Python function alone (the reference)."""
from __future__ import annotations

import pytest
from fuzz_settings import FUZZ
from hypothesis import given
from hypothesis import strategies as st

from capturemock import values
from capturemock.values import render
from tests.conftest import built_speedups

SCALARS = (st.none() | st.booleans() | st.integers() | st.integers(min_value=-2**70, max_value=2**70)
           | st.floats() | st.text(max_size=40))
KEYS = st.text(max_size=12) | st.text(max_size=60) | st.integers() | st.booleans() | st.none()
DICTS = st.dictionaries(KEYS, SCALARS | st.lists(SCALARS, max_size=3) | st.binary(max_size=5), max_size=8) \
    | st.dictionaries(st.text(max_size=8), SCALARS, max_size=40)


@pytest.fixture(autouse=True, params=["c", "python"])
def one_line(request, monkeypatch):
    """What ``render`` writes one-line dicts with: the C accelerator's function, or the Python one."""
    one_line = built_speedups().one_line_dict if request.param == "c" else values._one_line_dict
    monkeypatch.setattr(values, "_one_line", one_line)
    return one_line


def by_pprint(value, full_floats: bool) -> str:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(values, "_one_line", lambda mapping, full: None)
        return render(value, full_floats=full_floats)


@FUZZ
@given(DICTS, st.booleans())
def test_a_dict_is_written_as_pprint_writes_it(value, full_floats):
    assert render(value, full_floats=full_floats) == by_pprint(value, full_floats)


@pytest.mark.parametrize("value, text", [
    ({"i": 17, "sq": 289, "name": "item-17"}, "{'i': 17, 'name': 'item-17', 'sq': 289}"),
    ({"t": 1 / 3, "ok": True, "none": None}, "{'none': None, 'ok': True, 't': 0.33}"),
    ({}, "{}"),
])
def test_a_small_dict_is_one_sorted_line(one_line, value, text):
    assert one_line(value, False) == text == by_pprint(value, False)


@pytest.mark.parametrize("value", [
    {"k": "x" * 130},  # longer than one line: pprint wraps it
    {"k": [1]},  # a list inside: pprint lays it out
    {1: "a"},  # keys other than str
    {"k": 10 ** 5000},  # beyond repr's digits
    {"k": b"x"},
    {"k": True, 2: 3},  # one key other than str among str keys
    {f"k{n}": n for n in range(33)},  # more keys than fit one line
])
def test_anything_else_is_left_to_pprint(one_line, value):
    assert one_line(value, False) is None
