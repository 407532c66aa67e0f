"""Redaction (issue #13): the rule of ``[general] redact``, python traffic on a real run, the warning
about likely secrets left in, and ``capturemock redact`` on existing files. HTTP and command-line
traffic: tests/clientserver/test_redaction_http.py, tests/cmdline/test_redaction_cmdline.py."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from capturemock.config import RcConfig
from capturemock.errors import ConfigError
from capturemock.redaction import Redactor, entries


def rule(value: str, tmp_path: Path) -> Redactor:
    (tmp_path / "rc").write_text(f"[general]\nredact = {value}\n")
    redactor = Redactor.from_config(RcConfig([str(tmp_path / "rc")]))
    assert redactor is not None
    return redactor


@pytest.mark.parametrize("text, redacted", [
    ("GET /a?token=abc&page=2", "GET /a?token=<redacted>&page=2"),
    ("user=bob&password=x y", "user=bob&password=<redacted> y"),
    ('POST /login {"user": "bob", "password": "a\\"b", "pin": 12}',
     'POST /login {"user": "bob", "password": "<redacted>", "pin": 12}'),
    ('{"token": 12345, "n": 1}', '{"token": "<redacted>", "n": 1}'),  # a bare value gets the key's quotes
    ("{'access_token': 'abc', 'ok': True}", "{'access_token': '<redacted>', 'ok': True}"),
    ("api.login('bob', password='hunter2', token=tok)", "api.login('bob', password='<redacted>', token=<redacted>)"),
    ("GET /\n--HEA:Authorization=Bearer abc.def\n--HEA:Cookie=a=1; b=2",
     "GET /\n--HEA:Authorization=Bearer <redacted>\n--HEA:Cookie=<redacted>"),
    ('curl -H "Authorization: Basic Ym9iOng=" http://h/', 'curl -H "Authorization: Basic <redacted>" http://h/'),
    ("env 'API_TOKEN=t0k' tool --Password=x", "env 'API_TOKEN=<redacted>' tool --Password=<redacted>"),
    ("X-Auth-Token: q1", "X-Auth-Token: <redacted>"),  # '-' separates words: token is a whole word here
    ("access_token_x=1 tokens=2 mytoken=3 token= password=''",) * 2,  # no whole name, or no value
    ("key sk-abcdefgh12 and pin 4321", "key <redacted> and pin <redacted>"),
])
def test_the_rule_redacts_values_after_names_and_regex_matches_and_is_idempotent(tmp_path, text, redacted):
    redactor = rule("defaults, API_TOKEN\n re:sk-[a-z0-9]{8,}\n re:pin ([0-9]+)", tmp_path)
    assert redactor.redact_counted(text)[0] == redacted
    assert redactor.redact_counted(redacted) == (redacted, 0)  # what replay looks up of a redacted recording


def test_regex_entries_run_to_the_end_of_their_line_so_they_may_hold_commas():
    assert list(entries("defaults, X-Key, re:[0-9]{3,5}, still the regex\n re:a,b\nname")) == [
        "defaults", "X-Key", "re:[0-9]{3,5}, still the regex", "re:a,b", "name"]


@pytest.mark.parametrize("value, message", [
    ("defaults,\n re:[a-", "redact: bad regex '[a-': unterminated character set at position 0"),
    ("password, db password", "redact: 'db password' is neither a name (letters, digits, '_', '-'), 'defaults' "
                              "nor a 're:' regex"),
])
def test_a_bad_entry_is_refused_naming_the_rc_line(tmp_path, value, message):
    (tmp_path / "rc").write_text(f"[general]\nuse_exact_matching = true\nredact = {value}\n")
    with pytest.raises(ConfigError) as caught:
        Redactor.from_config(RcConfig([str(tmp_path / "rc")]))
    assert str(caught.value) == f"{tmp_path / 'rc'}:3: {message}"


def test_capturemock_check_reports_a_bad_entry_with_its_rc_line(tmp_path):
    (tmp_path / "capturemockrc").write_text("[general]\nredact = defaults\n  re:*x\n")
    result = subprocess.run([sys.executable, "-m", "capturemock", "check", "capturemockrc"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert (result.stdout, result.returncode) == (
        "capturemockrc:2: redact: bad regex '*x': nothing to repeat at position 0\n", 1)


def test_unset_builds_no_rule(tmp_path):
    (tmp_path / "rc").write_text("[general]\nuse_exact_matching = true\n")
    assert Redactor.from_config(RcConfig([str(tmp_path / "rc")])) is None


# -- python traffic, on a real run --------------------------------------------------------------------------
SERVICE = '''\
api_token = "t0k-live"


def login(user, password):
    return {"access_token": "live-" + password[::-1], "user": user}
'''
SUT = '''
from capturemock import capturemock


@capturemock(rcFiles=["service.rc"])
def test_login():
    import service
    print(service.login("bob", password="hunter2"), service.api_token)


test_login()
'''
RECORDED = """\
<-PYT:import service
<-PYT:service.__name__
->RET:'service'
<-PYT:service.__path__
->RET:raise AttributeError("module 'service' has no attribute '__path__'")
<-PYT:service.login('bob', password='<redacted>')
->RET:{'access_token': '<redacted>', 'user': 'bob'}
<-PYT:service.api_token
->RET:'<redacted>'
"""


def run_sut(cwd: Path, mode: str, rc: str) -> subprocess.CompletedProcess:
    (cwd / "sut.py").write_text(textwrap.dedent(SUT))
    (cwd / "service.rc").write_text(rc)
    env = {key: value for key, value in os.environ.items() if not key.startswith("CAPTUREMOCK")}
    env["CAPTUREMOCK_MODE"] = mode
    return subprocess.run([sys.executable, "sut.py"], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_python_arguments_answers_and_secret_attributes_are_recorded_redacted_and_replay_matches(tmp_path):
    (tmp_path / "service.py").write_text(SERVICE)
    rc = "[python]\nintercepts = service\n[general]\nredact = defaults, api_token\nuse_exact_matching = true\n"
    recorded = run_sut(tmp_path, "1", rc)
    assert (recorded.stdout, recorded.stderr) == ("{'access_token': 'live-2retnuh', 'user': 'bob'} t0k-live\n", "")
    assert (tmp_path / "mocks" / "login.mock").read_text() == RECORDED
    (tmp_path / "service.py").unlink()  # replay must not need the real module
    replayed = run_sut(tmp_path, "0", rc)
    assert (replayed.stdout, replayed.stderr) == ("{'access_token': '<redacted>', 'user': 'bob'} <redacted>\n", "")
    assert (tmp_path / "mocks" / "login.mock").read_text() == RECORDED


def test_python_warns_about_a_likely_secret_left_in_and_not_at_all_without_redact(tmp_path):
    (tmp_path / "service.py").write_text(SERVICE)
    rc = "[python]\nintercepts = service\n[general]\nredact = password\n"
    assert run_sut(tmp_path, "1", rc).stderr == (
        "capturemock: WARNING: 'access_token' looks like a secret and is recorded unredacted: add it to "
        "[general] redact in the rc file\n")
    assert run_sut(tmp_path, "1", "[python]\nintercepts = service\n").stderr == ""  # 2.10's stderr, and its mock:
    assert "password='hunter2'" in (tmp_path / "mocks" / "login.mock").read_text()


# -- capturemock redact -------------------------------------------------------------------------------------
OLD = """\
<-PYT:service.login('bob', password='hunter2')
->RET:{'access_token': 'live-2retnuh', 'user': 'bob'}
<-PYT:service.api_token
->RET:'t0k-live'
<-CMD:tool --password=hunter2
->OUT:line with token=abc
|capturemock|item-looking line
|capturemock|
<-CLI:GET /a?token=abc
--HEA:Authorization=Bearer abc
->SRV:200 ok
"""
NEW = """\
<-PYT:service.login('bob', password='<redacted>')
->RET:{'access_token': '<redacted>', 'user': 'bob'}
<-PYT:service.api_token
->RET:'<redacted>'
<-CMD:tool --password=<redacted>
->OUT:line with token=<redacted>
|capturemock|item-looking line
|capturemock|
<-CLI:GET /a?token=<redacted>
--HEA:Authorization=Bearer <redacted>
->SRV:200 ok
"""


def redact_command(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "capturemock", "redact", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=60)


def test_the_redact_command_rewrites_existing_files_in_place_keeping_their_mode(tmp_path):
    (tmp_path / "rc").write_text("[general]\nredact = defaults, api_token\n")
    (tmp_path / "a.mock").write_text(OLD)
    (tmp_path / "b.mock").write_text("<-CMD:tool\n->OUT:nothing secret\n")
    os.chmod(tmp_path / "a.mock", 0o600)
    result = redact_command(tmp_path, "-R", "rc", "a.mock", "b.mock")
    assert (result.stdout, result.stderr, result.returncode) == (
        "a.mock: 7 secrets redacted\nb.mock: 0 secrets redacted\n", "", 0)
    assert (tmp_path / "a.mock").read_text() == NEW
    assert os.stat(tmp_path / "a.mock").st_mode & 0o777 == 0o600
    assert sorted(os.listdir(tmp_path)) == ["a.mock", "b.mock", "rc"]  # no temporary file left
    again = redact_command(tmp_path, "-R", "rc", "a.mock")
    assert (again.stdout, again.returncode) == ("a.mock: 0 secrets redacted\n", 0)


def test_the_redact_command_check_changes_nothing_and_exits_1_if_a_file_would_change(tmp_path):
    (tmp_path / "rc").write_text("[general]\nredact = defaults\n")
    (tmp_path / "a.mock").write_text(OLD)
    result = redact_command(tmp_path, "--check", "--rcfiles", "rc", "a.mock")
    assert (result.stdout, result.stderr, result.returncode) == ("a.mock: 6 secrets to redact\n", "", 1)
    assert (tmp_path / "a.mock").read_text() == OLD


@pytest.mark.parametrize("rc, files, message", [
    ("[general]\nuse_exact_matching = true\n", ["a.mock"],
     "capturemock redact: [general] redact is not set in rc: nothing says what to redact\n"),
    ("[general]\nredact = re:(\n", ["a.mock"],
     "capturemock redact: rc:2: redact: bad regex '(': missing ), unterminated subpattern at position 0\n"),
    ("[general]\nredact = defaults\n", ["missing.mock"],
     "capturemock redact: missing.mock: cannot read mock file: No such file or directory\n"),
])
def test_the_redact_command_says_what_is_wrong_in_one_line(tmp_path, rc, files, message):
    (tmp_path / "rc").write_text(rc)
    (tmp_path / "a.mock").write_text(OLD)
    result = redact_command(tmp_path, "-R", "rc", *files)
    assert (result.stdout, result.stderr, result.returncode) == ("", message, 2)
    assert (tmp_path / "a.mock").read_text() == OLD
