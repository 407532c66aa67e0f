"""Fuzzing the core parsers: whatever the input, only clean errors, never a crash.

Fast by default (CI). ``CAPTUREMOCK_FUZZ=long`` runs 10^5 generated inputs per property:

    CAPTUREMOCK_FUZZ=long .venv/bin/python -m pytest tests/test_fuzz_core.py
"""
from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from capturemock.config import RcConfig
from capturemock.errors import ConfigError
from capturemock.mockfile import Item, format_item, parse
from capturemock.replay import ReplayIndex

LONG = os.environ.get("CAPTUREMOCK_FUZZ") == "long"
FUZZ = settings(max_examples=100_000 if LONG else 300, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])

# text biased towards the format's own syntax, so inputs hit the interesting paths
_syntax = st.sampled_from(["<-", "->", "--->", "<---", "PYT", "RET", "CMD", "OUT", ":", "\n", "\r", "(", ")",
                           "/", " ", "[", "]", "=", "%(", ")s", "<CR>", "<LF>", "é", "\x00", "a", "1"])
_mocklike = st.lists(st.one_of(_syntax, st.text(max_size=5)), max_size=40).map("".join)


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


_single_line_text = st.text(st.characters(blacklist_characters="\n\r"), min_size=1, max_size=30)


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(["<-", "->"]), st.sampled_from(["CMD", "OUT", "ERR", "PYT"]),
                          st.lists(_single_line_text, min_size=1, max_size=3).map("\n".join)), max_size=8))
def test_write_then_read_gives_the_same_items(items):
    # values whose lines could look like item starts are the documented exception of the format (§4.1)
    items = [(p, t, v.strip("\n")) for p, t, v in items if all(":" not in line[:10] for line in v.split("\n"))]
    items = [(p, t, v) for p, t, v in items if v]
    text = "".join(format_item(p, t, v) for p, t, v in items)
    assert [(i.prefix, i.type, i.text) for i in parse(text)] == items


@FUZZ
@given(_mocklike)
def test_preserved_line_breaks_round_trip(value):
    value = value.replace("<CR>", "").replace("<LF>", "")
    if not value:
        return
    text = format_item("<-", "CLI", value, preserve_cr=True, preserve_lf=True)
    assert text.count("\n") == 1
    assert parse(text, preserve_cr=True, preserve_lf=True) == [Item("<-", "CLI", value, 1)]
