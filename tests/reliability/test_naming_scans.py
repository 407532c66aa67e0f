"""The scans of replay text for instance classes and special calls agree with the regexes they replaced.

A replaying process finds them with str methods so that its start-up imports no ``re`` (~15 M instructions);
these are the regexes replay used before, kept here as the specification."""
from __future__ import annotations

import re

from fuzz_settings import FUZZ
from hypothesis import given
from hypothesis import strategies as st

from capturemock.python import naming
from capturemock.python.naming import described_classes, instance_calls, named_instances, special_calls
from tests.conftest import built_speedups

DESCRIBED = re.compile(r"Instance\('([^']*)'")
NAMED_INSTANCE = re.compile(r"Instance\('(\w+)[^']*', '([^']+)'\)")
SPECIAL_CALL = re.compile(r"(?m)^<-+PYT:(?:await )?([\w.]+)\.(__\w+__)\(")
INSTANCE_CALL = re.compile(r"(?m)^<-+PYT:(\w+)\(")

TOKENS = ["<-PYT:", "<---PYT:", "<PYT:", "->RET:", "PYT:", "\n", "\r\n", " ", "await ", "Instance('", "', '", "')",
          "'", "(", ")", ".", "__", "__eq__", "__call__", "_", "a", "point1", "Point(Base)", "é", "x.y", "1", "-",
          "€", "\U0001d11e"]  # texts of 1, 2 and 4 bytes a character (the C scan reads each kind)


def agree(text: str, request_callees=naming._request_callees_in_python) -> None:
    assert list(described_classes(text)) == DESCRIBED.findall(text)
    assert list(named_instances(text)) == NAMED_INSTANCE.findall(text)
    callees = request_callees(text)
    assert list(special_calls(callees)) == SPECIAL_CALL.findall(text)
    assert list(instance_calls(callees)) == INSTANCE_CALL.findall(text)


@FUZZ
@given(st.lists(st.sampled_from(TOKENS), max_size=30))
def test_the_scans_find_what_the_regexes_found(tokens):
    agree("".join(tokens))


@FUZZ
@given(st.lists(st.sampled_from(TOKENS), max_size=30))
def test_the_c_scan_of_request_lines_finds_what_the_python_one_does(tokens):
    text = "".join(tokens)
    agree(text, built_speedups().request_callees)
    assert built_speedups().request_callees(text) == naming._request_callees_in_python(text)


def test_a_recorded_mock_is_scanned_alike():
    agree("<-PYT:import geometry\n<-PYT:geometry.Point(1, 2)\n->RET:Instance('Point(Base)', 'point1')\n"
          "<-PYT:point1.__eq__(Instance('Point', 'point2'))\n->RET:True\n<-PYT:await point1.__aenter__()\n"
          "<-PYT:point1(3)\n<---PYT:cb1.__call__(1)\n<-PYT:point1.x.__len__()\n")
    assert list(special_calls(naming.request_callees("<-PYT:point1.__eq__(1)\n"))) == [("point1", "__eq__")]
    assert naming.request_callees("<-PYT:point1.__eq__(1)\n->RET:x\n<--PYT:f\n<PYT:g(1)\n<-PYT:await h(") == [
        "point1.__eq__", "", "await h"]
