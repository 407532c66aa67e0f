"""Redaction of command-line traffic (issue #13): ``[general] redact`` keeps secrets in a command's
arguments, its watched environment and its output out of the mock file, and replay still matches.
Every test runs with the native and the Python fallback shim (the ``sut`` fixture)."""
from __future__ import annotations

import os
import subprocess
import sys

import capturemock

RC = """\
[general]
redact = defaults, API_TOKEN
use_exact_matching = true

[command line]
intercepts = tool
environment = API_TOKEN
"""
TOOL = 'echo "logged in as $2, session token=sess-$API_TOKEN"\necho "password: $1 refused once" >&2\n'
RECORDED = ("<-CMD:env 'API_TOKEN=<redacted>' tool --password=<redacted> bob\n"
            "->OUT:logged in as bob, session token=<redacted>\n"
            "->ERR:password: <redacted>\n")


def test_secrets_in_arguments_environment_and_output_are_recorded_redacted(sut):
    sut.program("tool", TOOL)
    assert sut.start(capturemock.RECORD, rc=sut.rc(RC))
    result = sut.run("tool", "--password=hunter2", "bob", env={**sut.env, "API_TOKEN": "t0k3n"})
    capturemock.terminate()
    assert result.stdout == "logged in as bob, session token=sess-t0k3n\n"  # the SUT gets the real output
    assert result.stderr == "password: --password=hunter2 refused once\n"
    assert sut.text("rec.mock") == RECORDED


def test_replay_with_the_real_secrets_matches_the_redacted_recording_exactly(sut):
    sut.write("stored.mock", RECORDED)
    assert sut.start(capturemock.REPLAY, rc=sut.rc(RC), replay="stored.mock", real_programs=False)
    result = sut.run("tool", "--password=hunter2", "bob", env={**sut.env, "API_TOKEN": "t0k3n"})
    capturemock.terminate()
    assert (result.stdout, result.stderr, result.returncode) == (
        "logged in as bob, session token=<redacted>\n", "password: <redacted>\n", 0)
    assert sut.text("rec.mock") == RECORDED


def test_the_capturemock_command_warns_once_about_a_likely_secret_left_in(sut, tmp_path):
    sut.program("tool", 'echo "db_password=$1"\n')
    (tmp_path / "rc").write_text("[general]\nredact = defaults\n[command line]\nintercepts = tool\n")
    env = {**os.environ, "PATH": f"{sut.bin}:/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-m", "capturemock", "-r", "rec.mock", "-R", "rc", "sh", "-c",
                             "tool --api-key=k1 && tool pw2"], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.stdout == "db_password=--api-key=k1\ndb_password=pw2\n"
    assert result.stderr == (  # the traffic server's stderr, relayed as 2.10's launcher relays it
        "Error from CaptureMock Server :\n"
        "capturemock: WARNING: 'api-key' looks like a secret and is recorded unredacted: add it to "
        "[general] redact in the rc file\n"
        "capturemock: WARNING: 'db_password' looks like a secret and is recorded unredacted: add it to "
        "[general] redact in the rc file\n")
