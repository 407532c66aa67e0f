"""Change reports between two recordings."""
from capturemock.diff import compare, interactions, report
from capturemock.mockfile import parse

OLD = """<-PYT:import weather
<-PYT:weather.get_temperature('Oslo')
->RET:-4.0
<-CMD:fortune --short
->OUT:Lucky 7
<-CMD:date
->OUT:Mon
"""
NEW = """<-PYT:import weather
<-PYT:weather.get_temperature('Oslo')
->RET:-3.5
<-CMD:fortune --long
->OUT:Lucky 7
<-CMD:date
->OUT:Mon
<-CMD:ls
"""


def test_interactions_group_top_level_requests_with_everything_after():
    got = interactions(parse("<-PYT:g(cb)\n--->PYT:cb(1)\n<---RET:2\n->RET:3\n<-PYT:h()\n"))
    assert [(i.request, i.responses) for i in got] == [
        ("<-PYT:g(cb)", ("--->PYT:cb(1)", "<---RET:2", "->RET:3")), ("<-PYT:h()", ())]


def test_compare_classifies_changes():
    changes = compare(interactions(parse(OLD)), interactions(parse(NEW)))
    assert [(c.kind, c.request) for c in changes] == [
        ("changed", "<-PYT:weather.get_temperature('Oslo')"),
        ("changed", "<-CMD:fortune --long"),  # the same program with other arguments
        ("added", "<-CMD:ls"),
    ]
    assert changes[1].old_request == "<-CMD:fortune --short"


def test_report_text_and_status(tmp_path):
    old, new = tmp_path / "old.mock", tmp_path / "new.mock"
    old.write_text(OLD)
    new.write_text(NEW)
    text, differs = report(str(old), str(new))
    assert differs
    assert text.splitlines()[1:] == [
        "  changed  <-PYT:weather.get_temperature('Oslo')",
        "           - ->RET:-4.0",
        "           + ->RET:-3.5",
        "  changed  <-CMD:fortune --long",
        "           (was <-CMD:fortune --short)",
        "  added    <-CMD:ls",
        "5 interactions now: 2 changed, 1 added, 0 removed, 2 unchanged",
    ]
    assert report(str(old), str(old))[1] is False


def test_diff_command_exit_status_and_errors(tmp_path):
    import subprocess
    import sys

    old, new = tmp_path / "old.mock", tmp_path / "new.mock"
    old.write_text(OLD)
    new.write_text(NEW)
    command = [sys.executable, "-m", "capturemock", "diff"]
    same = subprocess.run([*command, str(old), str(old)], capture_output=True, text=True)
    assert same.returncode == 0 and "0 changed, 0 added, 0 removed, 4 unchanged" in same.stdout
    changed = subprocess.run([*command, str(old), str(new)], capture_output=True, text=True)
    assert changed.returncode == 1 and "  added    <-CMD:ls" in changed.stdout
    missing = subprocess.run([*command, str(old), str(tmp_path / "gone.mock")], capture_output=True, text=True)
    assert missing.returncode == 2
    gone = tmp_path / "gone.mock"
    assert missing.stderr == f"capturemock: {gone}: cannot read mock file: No such file or directory\n"


def test_imports_and_attribute_reads_are_not_paired_as_changed():
    old = interactions(parse("<-PYT:import os\n<-PYT:weather.UNITS\n->RET:'C'\n"))
    new = interactions(parse("<-PYT:import sys\n<-PYT:weather.SCALE\n->RET:'C'\n"))
    assert sorted(change.kind for change in compare(old, new)) == ["added", "added", "removed", "removed"]


def test_output_escaped_for_exact_bytes_is_reported_as_the_mock_file_shows_it(tmp_path):
    old, new = tmp_path / "old.mock", tmp_path / "new.mock"
    old.write_text("<-CMD:tool\n->OUT:a\n")
    new.write_text("<-CMD:tool\n->OUT:a\\xff\n|capturemock|bytes, no newline at end\n")
    text, changed = report(str(old), str(new))
    assert changed and text.splitlines()[2:4] == ["           - ->OUT:a", "           + ->OUT:a\\xff"]
    text.encode("utf-8")
