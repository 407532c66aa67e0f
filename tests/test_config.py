"""rc files (§3) and modes (§2)."""
from pathlib import Path

import pytest

from capturemock.alterations import Alterations
from capturemock.config import RcConfig
from capturemock.errors import ConfigError
from capturemock.modes import DISABLED, RECORD, REPLAY, REPLAY_OLD_RECORD_NEW, is_active, parse_mode


def rc(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_later_files_override_and_lists_concatenate(tmp_path):
    base = rc(tmp_path, "base.rc", "[command line]\nintercepts = git, ssh\nenvironment = A\n"
                                   "[git]\nenvironment = B\n")
    override = rc(tmp_path, "override.rc", "[command line]\nintercepts = svn\n[git]\nasynchronous = yes\n")
    config = RcConfig([base, override])
    assert config.getlist("intercepts", ["command line"]) == ["svn"]
    assert config.getlist("environment", ["git", "command line"]) == ["B", "A"]
    assert config.getboolean("asynchronous", ["git", "command line"]) is True
    assert config.get("missing", ["git"], "dflt") == "dflt"


def test_option_names_case_insensitive_sections_case_sensitive(tmp_path):
    config = RcConfig([rc(tmp_path, "a.rc", "[General]\nUSE_EXACT_MATCHING = true\n")])
    assert config.getboolean("use_exact_matching", ["General"]) is True
    assert config.getboolean("use_exact_matching", ["general"]) is False


def test_interpolation_from_default_section(tmp_path):
    config = RcConfig([rc(tmp_path, "a.rc", "[DEFAULT]\nbase = <H\n[msg]\nformat = %(base)sI\n")])
    assert config.get("format", ["msg"]) == "<HI"


def test_missing_file_warns_once_and_is_skipped(tmp_path):
    warnings = []
    good = rc(tmp_path, "a.rc", "[python]\nintercepts = x\n")
    config = RcConfig([str(tmp_path / "missing.rc"), good], warn=warnings.append)
    assert warnings == [f"WARNING: RC file at {tmp_path / 'missing.rc'} does not exist, ignoring."]
    assert config.getlist("intercepts", ["python"]) == ["x"]


def test_default_rc_file_in_home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".capturemock").mkdir()
    (tmp_path / ".capturemock" / "config").write_text("[python]\nintercepts = smtplib\n")
    assert RcConfig().getlist("intercepts", ["python"]) == ["smtplib"]


@pytest.mark.parametrize("text, message", [
    ("intercepts = x\n", r"bad\.rc:1: expected a \[section\] header"),
    ("[python]\nintercepts = x\n  \nthis line is junk\n", r"bad\.rc:4: cannot parse line 'this line is junk'"),
])
def test_malformed_rc_names_file_and_line(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        RcConfig([rc(tmp_path, "bad.rc", text)])


def test_bad_boolean_and_number_are_clean_errors(tmp_path):
    config = RcConfig([rc(tmp_path, "a.rc", "[general]\nuse_exact_matching = perhaps\ntimeout = soon\n")])
    with pytest.raises(ConfigError, match="not a boolean"):
        config.getboolean("use_exact_matching", ["general"])
    with pytest.raises(ConfigError, match="not a number"):
        config.getfloat("timeout", ["general"], 0.2)


def test_modes():
    assert parse_mode(0) == REPLAY and parse_mode("1") == RECORD and parse_mode("mixed") == REPLAY_OLD_RECORD_NEW
    with pytest.raises(ConfigError, match="unknown capturemock mode 7"):
        parse_mode(7)
    with pytest.raises(ConfigError, match="unknown capturemock mode 'fast'"):
        parse_mode("fast")


def test_activity_rule(tmp_path):
    mock = tmp_path / "m.mock"
    assert not is_active(REPLAY, None)
    assert not is_active("0", str(mock))
    mock.write_text("<-CMD:x\n")
    assert is_active(REPLAY, str(mock))
    assert is_active(RECORD, None) and is_active(REPLAY_OLD_RECORD_NEW, str(tmp_path / "absent"))
    assert is_active(DISABLED, None) and is_active("3", None)  # §2.1: as mixed mode; rigs expect a server


def test_alterations_reverse_order_backrefs_and_variables(tmp_path):
    config = RcConfig([rc(tmp_path, "a.rc",
                          "[general]\nalterations = first, second, ids\n"
                          "[first]\nmatch_pattern = b+\nreplacement = B\n"
                          "[second]\nmatch_pattern = (a)(B)\nreplacement = \\2\\1\n"
                          "[ids]\nmatch_pattern = id=\\d+\nreplacement = $ID\n")])
    alterations = Alterations(config)
    # last listed first: ids, then second (no 'B' yet), then first
    assert alterations.apply("abb id=7 id=9 id=7", ["general"]) == "aB $ID $ID_2 $ID"
    assert alterations.restore_variables("$ID_2 $ID") == "id=9 id=7"


def test_alteration_server_placeholders_and_env_patterns(tmp_path, monkeypatch):
    monkeypatch.setenv("HOSTNAME_UNDER_TEST", "box1")
    config = RcConfig([rc(tmp_path, "a.rc",
                          "[general]\nalterations = host\n"
                          "[host]\nmatch_pattern = $HOSTNAME_UNDER_TEST:\\d+\n"
                          "replacement = ${CAPTUREMOCK_SERVER} port ${CAPTUREMOCK_PORT}\n")])
    alterations = Alterations(config, server_address="127.0.0.1:4000")
    assert alterations.apply("at box1:80", ["general"]) == "at 127.0.0.1:4000 port 4000"


def test_bad_alteration_pattern_is_a_config_error(tmp_path):
    config = RcConfig([rc(tmp_path, "a.rc", "[general]\nalterations = bad\n[bad]\nmatch_pattern = (\n")])
    with pytest.raises(ConfigError, match=r"alteration \[bad\] match_pattern"):
        Alterations(config).apply("x", ["general"])


RECIPES = sorted((Path(__file__).resolve().parent.parent / "rc").glob("*.rc"))


@pytest.mark.parametrize("recipe", RECIPES, ids=[path.stem for path in RECIPES])
def test_rc_recipes_parse_and_intercept_something(recipe):
    config = RcConfig([str(recipe)], warn=pytest.fail)
    assert config.getlist("intercepts", ["python", "command line"])


def test_yaml_rc_files_are_the_same_settings(tmp_path):
    yaml_rc = rc(tmp_path, "capturemock.yaml", "python:\n  intercepts: [weather, datetime.date.today]\n"
                                              "general:\n  use_exact_matching: true\n  connection_timeout: 0.5\n"
                                              "command line:\n  intercepts: git\n")
    override = rc(tmp_path, "override.rc", "[command line]\nintercepts = ssh\n")
    config = RcConfig([yaml_rc, override])
    assert config.getlist("intercepts", ["python"]) == ["weather", "datetime.date.today"]
    assert config.getboolean("use_exact_matching", ["general"]) is True
    assert config.getfloat("connection_timeout", ["general"], 0.2) == 0.5
    assert config.getlist("intercepts", ["command line"]) == ["ssh"]


@pytest.mark.parametrize("text, message", [
    ("python:\n  intercepts: [a\n", r"bad\.yaml:3: invalid YAML"),
    ("- just\n- a list\n", r"bad\.yaml: a YAML rc file must map section names to mappings of options"),
])
def test_malformed_yaml_rc_names_file_and_line(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        RcConfig([rc(tmp_path, "bad.yaml", text)])


def test_command_line_alterations_is_a_known_key_and_names_its_sections(tmp_path):
    """The opt-in of command-line alterations (issue 13, item 9) is no typo, nor is the section it names."""
    config = RcConfig([rc(tmp_path, "a.rc", "[command line]\nintercepts = tool\nalterations = stamp\n"
                                             "[stamp]\nmatch_pattern = [0-9]+\nreplacement = N\n")])
    assert config.unknown_settings() == []
    assert config.setting("command line", "alterations") == ["stamp"]
