"""rc files are reviewed as text like mock files: a hostile or careless one gets one clear line naming
its file and line, and never costs unbounded time or memory."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from capturemock.cmdline.settings import intercepted_programs
from capturemock.config import RcConfig
from capturemock.errors import CaptureMockError, ConfigError
from capturemock.python import api
from capturemock.writable import check_writable

LEVELS = "abcdefghij"


def alias_bomb() -> str:
    """Ten levels of nine aliases each: 400 bytes of YAML that stand for 9^10 names."""
    lines = ["defs:", f"  a: &a [{', '.join(['x'] * 9)}]"]
    for previous, level in zip(LEVELS, LEVELS[1:]):
        lines.append(f"  {level}: &{level} [{', '.join([f'*{previous}'] * 9)}]")
    return "\n".join([*lines, "python:", f"  intercepts: [*{LEVELS[-1]}]", ""])


def test_a_yaml_rc_whose_aliases_expand_without_bound_is_refused(tmp_path):
    rc = tmp_path / "capturemockrc.yaml"
    rc.write_text(alias_bomb())
    assert len(rc.read_bytes()) < 600
    with pytest.raises(ConfigError, match="expands to more than") as caught:
        RcConfig([str(rc)])
    assert caught.value.path == str(rc)


def test_yaml_aliases_of_reasonable_size_still_work(tmp_path):
    rc = tmp_path / "capturemockrc.yaml"
    rc.write_text("defs:\n  common: &common [smtplib, datetime.date.today]\npython:\n  intercepts: *common\n")
    assert RcConfig([str(rc)]).getlist("intercepts", ["python"]) == ["smtplib", "datetime.date.today"]


@pytest.mark.parametrize("name", ["..", ".", "a..b", "os.", "my module", "x/y"])
def test_a_python_intercept_that_is_no_dotted_name_is_refused_with_its_line(tmp_path, name):
    rc = tmp_path / "capturemockrc"
    rc.write_text(f"[python]\n# what to intercept\nintercepts = os.getcwd, {name}\n")
    with pytest.raises(CaptureMockError) as caught:  # a TextTestError too once TextTest is loaded
        api.setUpPython(1, str(tmp_path / "rec.mock"), rcFiles=[str(rc)], environment={})
    assert str(caught.value) == f"{rc}:3: intercepts: {name!r} is not a module or dotted name"


@pytest.mark.parametrize("name", ["..", ".", "bad\tname"])
def test_a_program_intercept_that_names_no_file_is_refused_with_its_line(tmp_path, name):
    rc = tmp_path / "capturemockrc"
    rc.write_text(f"[command line]\nintercepts = git, {name}\n")
    with pytest.raises(ConfigError) as caught:
        intercepted_programs(RcConfig([str(rc)]), warn=print)
    assert str(caught.value) == f"{rc}:2: intercepts: {name!r} is not a program name"


def test_inline_comments_after_intercepted_names_are_not_part_of_them(tmp_path):
    rc = tmp_path / "capturemockrc"
    rc.write_text("[python]\nintercepts = weather            # a module, or dotted names: a.b\n"
                  "[command line]\nintercepts = fortune ; programs found on PATH\n")
    config = RcConfig([str(rc)])
    assert api._rc_intercepts(config) == ["weather"]
    assert intercepted_programs(config, warn=print) == ["fortune"]


def test_twenty_thousand_intercepts_are_handled_in_linear_time():
    """Each name used to be compared with every other one, twice (minutes for 20k names)."""
    script = textwrap.dedent("""
        from capturemock.python import api
        from capturemock.python.objects import ObjectRegistry
        names = [f"mod{i}.attr" for i in range(20000)]
        assert api._intercept_names([], names + names, None) == names
        registry = ObjectRegistry(None, names)
        assert all(registry.is_intercepted_module(f"{name}.sub") for name in names)
        assert not registry.is_intercepted_module("mod1")
        loaded = ["mod1", "mod1.attr", "mod1.attr.sub", "mod1.attrs", "other", "other.mod1.attr", "mod19999.attr"]
        assert registry.intercepted_modules_in(loaded) == ["mod1.attr", "mod1.attr.sub", "mod19999.attr"]
    """)
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)


@pytest.mark.skipif(not os.path.isfile("/proc/version"), reason="needs /proc")
@pytest.mark.parametrize("record", ["/proc/version", "/proc/capturemock-record.mock"])
def test_a_record_path_nothing_can_be_written_to_is_refused_up_front_even_for_root(record):
    with pytest.raises(ConfigError, match=f"cannot record to {record}: /proc.* is not writable"):
        check_writable(record, "record to", directory=False)


@pytest.mark.skipif(not os.path.isfile("/proc/version"), reason="needs /proc")
def test_the_command_says_in_one_line_that_it_cannot_replace_the_record_file(tmp_path):
    result = subprocess.run([sys.executable, "-m", "capturemock", "-m", "1", "-r", "/proc/version", "true"],
                            capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == ("capturemock: cannot replace the record file /proc/version: "
                             "Operation not permitted\n")


def interpolation_bomb() -> str:
    """Eight levels of ten ``%(...)s`` references each: under 500 bytes that expand to 10^9 characters."""
    lines = ["[python]", "a = xxxxxxxxxx"]
    for previous, level in zip(LEVELS, LEVELS[1:8]):
        lines.append(f"{level} = {f'%({previous})s' * 10}")
    return "\n".join([*lines, "intercepts = weather, %(h)s", ""])


def test_an_ini_rc_whose_interpolation_expands_without_bound_is_refused_with_its_line(tmp_path):
    rc = tmp_path / "capturemockrc"
    rc.write_text(interpolation_bomb())
    assert len(rc.read_bytes()) < 500
    with pytest.raises(ConfigError) as caught:
        RcConfig([str(rc)]).getlist("intercepts", ["python"])
    assert str(caught.value) == f"{rc}:10: [python] intercepts: expands to more than 1048576 characters through %(...)s"


def test_interpolation_of_reasonable_size_still_works(tmp_path):
    rc = tmp_path / "capturemockrc"
    rc.write_text("[DEFAULT]\nbase = smtplib\n[python]\nmore = %(base)s.SMTP\nintercepts = %(base)s, %(more)s\n")
    assert RcConfig([str(rc)]).getlist("intercepts", ["python"]) == ["smtplib", "smtplib.SMTP"]


def test_a_yaml_rc_nested_too_deeply_for_the_parser_is_one_line(tmp_path):
    rc = tmp_path / "capturemockrc.yaml"
    rc.write_text("x: " + "[" * 1000 + "]" * 1000 + "\n")
    with pytest.raises(ConfigError, match="nested too deeply") as caught:
        RcConfig([str(rc)])
    assert caught.value.path == str(rc)


@pytest.mark.parametrize("name", ["subprocess.Popen", "os.system", "socket.socket", "antigravity.X", "Popen"])
def test_replay_constructors_never_name_classes_that_act_on_the_system(tmp_path, name):
    """An rc file comes from a repository too: with ``subprocess.Popen`` there, mock text ran commands."""
    rc = tmp_path / "capturemockrc"
    rc.write_text(f"[python]\nintercepts = weather\nreplay_constructors = shapes.Point, {name}\n")
    with pytest.raises(CaptureMockError) as caught:
        api.setUpPython(1, str(tmp_path / "rec.mock"), rcFiles=[str(rc)], environment={})
    assert str(caught.value) == (f"{rc}:3: replay_constructors: {name!r} is not a class of a module that only "
                                 "holds data")


def test_replay_constructors_of_data_classes_are_accepted(tmp_path):
    rc = tmp_path / "capturemockrc"
    rc.write_text("[python]\nintercepts = weather\nreplay_constructors = shapes.Point, geo.types.Box\n")
    assert api.setUpPython(1, str(tmp_path / "rec.mock"), rcFiles=[str(rc)], environment={})
