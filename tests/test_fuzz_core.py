"""Fuzzing the core parsers: whatever the input, only clean errors, never a crash.

Fast by default (CI). ``CAPTUREMOCK_FUZZ=long`` runs 10^4 generated inputs per property
(``CAPTUREMOCK_FUZZ_EXAMPLES`` sets another count):

    CAPTUREMOCK_FUZZ=long .venv/bin/python -m pytest tests/test_fuzz_core.py
"""
from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from capturemock import mockfile
from capturemock.config import RcConfig
from capturemock.errors import ConfigError
from capturemock.mockfile import Item, MockWriter, format_item, is_item_start, parse
from capturemock.replay import ReplayIndex

LONG = os.environ.get("CAPTUREMOCK_FUZZ") == "long"
# long mode: 10^4 inputs per property (7 minutes for this and the reliability suite on 2 cores,
# see the README); CAPTUREMOCK_FUZZ_EXAMPLES sets another count
EXAMPLES = int(os.environ.get("CAPTUREMOCK_FUZZ_EXAMPLES", 10_000 if LONG else 300))
FUZZ = settings(max_examples=EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
# the replay index with the C accelerator and with the Python reference (the fixture holds for every input)
BOTH_REPLAY_CORES = pytest.mark.usefixtures("replay_core")

# text biased towards the format's own syntax, so inputs hit the interesting paths
_syntax = st.sampled_from(["<-", "->", "--->", "<---", "PYT", "RET", "CMD", "OUT", ":", "\n", "\r", "(", ")",
                           "/", " ", "[", "]", "=", "%(", ")s", "<CR>", "<LF>", "é", "\x00", "a", "1"])
_mocklike = st.lists(st.one_of(_syntax, st.text(max_size=5)), max_size=40).map("".join)


@BOTH_REPLAY_CORES
@FUZZ
@given(_mocklike)
def test_mock_parser_and_index_accept_any_text(text):
    items = parse(text)
    index = ReplayIndex(items)
    for item in items:
        if item.is_request:
            index.lookup(item.description)
    index.lookup("<-PYT:anything(1)")


@FUZZ
@given(_mocklike)
def test_rc_parser_gives_only_config_errors(text):
    config = RcConfig(warn=lambda message: None)
    try:
        config.add_text(text, "fuzz.rc")
        for section in config.sections():
            config.options(section)
            config.getlist("intercepts", [section])
    except ConfigError as err:
        assert "\n" not in str(err) and str(err).startswith("fuzz.rc")


# values as the traffic produces them: any unicode, CR/LF, undecodable bytes (surrogateescape), lines
# that look like item starts or escape marks, trailing blank lines
_value_line = st.one_of(st.text(max_size=12), _mocklike, st.sampled_from([mockfile.ESCAPE, "<-CMD:x", "->OUT:",
                                                                          "--->PYT:f()", "", "\r"]))
_binary = st.binary(max_size=40).map(lambda data: data.decode(mockfile.ENCODING, mockfile.ERRORS))
_value = st.one_of(st.lists(_value_line, min_size=1, max_size=5).map("\n".join), _binary).filter(bool)
_item = st.tuples(st.sampled_from(["<-", "->", "--->", "<---"]), st.sampled_from(["CMD", "OUT", "ERR", "PYT", "RET"]),
                  _value)


@FUZZ
@given(items=st.lists(_item, min_size=1, max_size=8))
def test_write_then_read_gives_the_same_items(tmp_path_factory, items):
    path = tmp_path_factory.mktemp("roundtrip") / "rec.mock"
    writer = MockWriter(str(path))
    for item in items:
        writer.write(*item)
    writer.close()
    assert [(i.prefix, i.type, i.text) for i in mockfile.read(str(path))] == items


@BOTH_REPLAY_CORES
@FUZZ
@given(st.lists(_item, max_size=8))
def test_replay_keys_and_groups_survive_the_escape(items):
    text = "".join(format_item(*item) for item in items)
    index = ReplayIndex(text)
    requests = [Item(*item) for item in items if Item(*item).is_request and Item(*item).level == 0]
    for request in requests:
        assert request.description.strip() in index
    for request in requests[:1]:
        position = items.index((request.prefix, request.type, request.text))
        expected = []
        for prefix, type_, value in items[position + 1:]:
            item = Item(prefix, type_, value)
            if item.level == 0 and item.is_request:
                break
            if item.level == 0 or (item.level == 1 and item.is_request):
                expected.append((prefix, type_, value))
        assert [(i.prefix, i.type, i.text) for i in index.lookup_exact(request.description)] == expected


@FUZZ
@given(_value)
def test_values_the_original_format_holds_are_written_exactly_as_the_original_writes_them(value):
    lines = value.split("\n")
    if any(line.startswith(mockfile.ESCAPE) for line in lines) or any(is_item_start(line) for line in lines[1:]):
        assert format_item("->", "OUT", value).endswith(f"\n{mockfile.ESCAPE}\n")
    else:
        assert format_item("->", "OUT", value) == f"->OUT:{value}\n"


@FUZZ
@given(_mocklike)
def test_preserved_line_breaks_round_trip(value):
    value = value.replace("<CR>", "").replace("<LF>", "")
    if not value:
        return
    text = format_item("<-", "CLI", value, preserve_cr=True, preserve_lf=True)
    assert text.count("\n") == 1
    assert parse(text, preserve_cr=True, preserve_lf=True) == [Item("<-", "CLI", value, 1)]
