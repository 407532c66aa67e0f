"""``plainini.PlainIni`` holds exactly what ``ConfigParser(strict=False)`` holds for plain rc text, and
refuses the rest (``RcConfig`` then reads it with configparser)."""
from __future__ import annotations

import configparser

from hypothesis import given
from hypothesis import strategies as st

from capturemock.config import RcConfig
from capturemock.plainini import PlainIni

LINES = st.lists(st.sampled_from([
    "[python]", "[general]", "[Python]", "[a]b]", "[x] y", "[]", "[DEFAULT]", "intercepts = a, b", "Intercepts=c",
    "key: value", "key = v = w", "x:y=z", " = v", "novalue", "  continued", "# comment", "; comment", "  # indented",
    "", "   ", "sealed = true\r", "path = 50%", "[general]\t", "k =", "UPPER = Case",
]), max_size=10)


def configparser_view(parser) -> dict:
    return {section: {option: parser.get(section, option) for option in parser.options(section)}
            for section in parser.sections()}


@given(st.lists(LINES, min_size=1, max_size=3))
def test_plain_text_reads_as_configparser_reads_it(files):
    texts = ["\n".join(lines) for lines in files]
    plain, full = PlainIni(), configparser.ConfigParser(strict=False)
    for text in texts:
        if not plain.read_string(text):
            return  # refused: configparser decides (tested through RcConfig below)
        full.read_string(text)
    assert configparser_view(plain) == configparser_view(full)
    assert all(plain.has_option(section, option.upper()) for section in full.sections() for option in full[section])


@given(LINES)
def test_rc_config_reads_any_text_as_configparser_does(lines):
    text = "\n".join(lines)
    full = configparser.ConfigParser(strict=False)
    try:
        full.read_string(text)
        expected = configparser_view(full)
    except configparser.Error:
        expected = None
    config = RcConfig([])
    try:
        config.add_text(text)
        got = {section: config.options(section) for section in config.sections()}
    except Exception:
        got = None
    assert got == expected


def test_unusual_text_is_refused_and_nothing_merged():
    plain = PlainIni()
    assert plain.read_string("[python]\nintercepts = a\n")
    for unusual in ("[general]\nx = 1\n  continued\n", "[DEFAULT]\nx = 1\n", "[general]\nx = %(y)s\n",
                    "x = 1\n", "[general]\nnovalue\n", "[general] # note\n"):
        assert not plain.read_string(unusual)
    assert configparser_view(plain) == {"python": {"intercepts": "a"}}


def test_rc_config_switches_to_configparser_for_every_file_read(tmp_path):
    first, second = tmp_path / "first.rc", tmp_path / "second.rc"
    first.write_text("[python]\nintercepts = a\n[general]\nname = x\n")
    second.write_text("[general]\nlabel = %(name)s-y\nlines = one\n  two\n")
    config = RcConfig([str(first), str(second)])
    assert config.get("intercepts", ["python"]) == "a"
    assert config.get("label", ["general"]) == "x-y"
    assert config.get("lines", ["general"]) == "one\ntwo"
