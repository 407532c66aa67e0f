"""Alterations on command-line traffic (issue 13, item 9): opt-in through ``[command line] alterations``.

2.10 applies no alteration to ``<-CMD``/``->OUT``/``->ERR`` (spec §3.4), whether listed in ``[general]``,
``[command line]`` or a program's section: that stays the default. The sections listed in
``[command line] alterations`` rewrite the command line and its output in the mock file, in record and in
replay, and replay looks the command up in its altered form. The SUT always gets the real output when
recording, and the stored text when replaying.
Every test runs with the native and the Python fallback shim (the ``sut`` fixture)."""
from __future__ import annotations

import pytest

import capturemock
from capturemock.errors import CaptureMockError

DATE = "[date]\nmatch_pattern = [0-9]{4}-[0-9]{2}-[0-9]{2}\nreplacement = <DATE>\n"
PID = "[pid]\nmatch_pattern = pid [0-9]+\nreplacement = pid <PID>\n"
TMP = "[tmp]\nmatch_pattern = /tmp/tmp\\.[A-Za-z0-9]+\nreplacement = <TMPDIR>\n"
RC = f"[command line]\nintercepts = tool\nalterations = date, pid, tmp\n\n{DATE}\n{PID}\n{TMP}"
# prints a different date, PID and temporary directory on every run
TOOL = """\
d=$(mktemp -d)
echo "made $d at $(date +%Y-%m-%d) pid $$ for $1"
echo "warning: $d kept" >&2
rmdir "$d"
exit 2
"""


def record(sut, rc_text: str, *argv: str, record_file: str = "rec.mock"):
    assert sut.start(capturemock.RECORD, rc=sut.rc(rc_text), record=record_file)
    result = sut.run(*argv)
    capturemock.terminate()
    return result


def test_recorded_command_line_and_output_are_altered_and_the_sut_gets_the_real_output(sut):
    sut.program("tool", TOOL)
    result = record(sut, RC, "tool", "2023-04-05")
    assert result.stdout.startswith("made /tmp/tmp.") and " for 2023-04-05\n" in result.stdout
    assert result.stderr.startswith("warning: /tmp/tmp.") and result.returncode == 2
    assert sut.text("rec.mock") == ("<-CMD:tool <DATE>\n"
                                    "->OUT:made <TMPDIR> at <DATE> pid <PID> for <DATE>\n"
                                    "->ERR:warning: <TMPDIR> kept\n"
                                    "->EXC:2\n")


def test_two_records_of_a_run_dependent_program_are_identical(sut):
    sut.program("tool", TOOL)
    record(sut, RC, "tool", "x", record_file="first.mock")
    record(sut, RC, "tool", "x", record_file="second.mock")
    assert sut.text("first.mock") == sut.text("second.mock")


def test_replay_matches_the_altered_command_line_and_records_the_altered_form(sut):
    """With exact matching, ``tool 2031-12-31`` is found only as the recorded ``tool <DATE>``."""
    sut.write("stored.mock", "<-CMD:tool other\n->OUT:wrong\n<-CMD:tool <DATE>\n->OUT:due <DATE>\n")
    rc = sut.rc(RC.replace("[command line]\n", "[general]\nuse_exact_matching = true\n\n[command line]\n"))
    assert sut.start(capturemock.REPLAY, rc=rc, replay="stored.mock", real_programs=False)
    result = sut.run("tool", "2031-12-31")
    capturemock.terminate()
    assert (result.stdout, result.returncode) == ("due <DATE>\n", 0)
    assert sut.text("rec.mock") == "<-CMD:tool <DATE>\n->OUT:due <DATE>\n"


def test_replayed_output_is_recorded_altered_as_record_would_have_written_it(sut):
    sut.write("stored.mock", "<-CMD:tool\n->OUT:at 2020-01-01\n")
    assert sut.start(capturemock.REPLAY, rc=sut.rc(RC), replay="stored.mock", real_programs=False)
    result = sut.run("tool")
    capturemock.terminate()
    assert result.stdout == "at 2020-01-01\n"  # the SUT gets what the mock holds
    assert sut.text("rec.mock") == "<-CMD:tool\n->OUT:at <DATE>\n"


def test_variable_replacements_number_each_distinct_value(sut):
    sut.program("tool", 'echo "from $1 to $2, back to $1"\n')
    rc = "[command line]\nintercepts = tool\nalterations = day\n\n[day]\nmatch_pattern = 20[0-9]{2}-[0-9-]{5}\n" \
         "replacement = $day\n"
    record(sut, rc, "tool", "2024-01-01", "2024-02-02")
    assert sut.text("rec.mock") == "<-CMD:tool $day $day_2\n->OUT:from $day to $day_2, back to $day\n"


def test_exact_output_keeps_its_missing_final_newline_through_an_alteration(sut):
    sut.program("tool", "printf 'on 2024-01-01'\n")
    record(sut, RC.replace("intercepts = tool\n", "intercepts = tool\nexact_output = true\n"), "tool")
    assert sut.text("rec.mock") == "<-CMD:tool\n->OUT:on <DATE>\n|capturemock|no newline at end\n"


@pytest.mark.parametrize("listed", ["[general]\nalterations = date\n",
                                    "[tool]\nalterations = date\n"])
def test_alterations_listed_elsewhere_leave_command_traffic_alone_as_in_2_10(sut, listed):
    sut.program("tool", 'echo "on 2024-01-01"\n')
    record(sut, f"{listed}\n[command line]\nintercepts = tool\n\n{DATE}", "tool", "2024-01-01")
    assert sut.text("rec.mock") == "<-CMD:tool 2024-01-01\n->OUT:on 2024-01-01\n"


def test_a_bad_command_line_alteration_stops_the_start_naming_it(sut):
    rc = "[command line]\nintercepts = tool\nalterations = bad\n\n[bad]\nmatch_pattern = (unclosed\n"
    with pytest.raises(CaptureMockError) as caught:
        sut.start(capturemock.RECORD, rc=sut.rc(rc))
    assert "alteration [bad] match_pattern '(unclosed'" in str(caught.value)
