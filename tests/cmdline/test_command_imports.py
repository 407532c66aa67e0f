"""What the ``capturemock`` command imports around one program (issue #16 item 4).

Each module below cost every command 3-17 M instructions (~1-4 ms) and is needed only by features
this run does not use, so a real command that records and replays ``true`` must work without them."""
from __future__ import annotations

import os
import subprocess
import sys

import capturemock
from capturemock.clientserver.classic import ClassicSession
from capturemock.clientserver.exchange import Exchange
from capturemock.cmdline.fileedits_scan import Edit

# typing: TYPE_CHECKING imports; explain/difflib: only for a replay report with something in it;
# datetime: only for record_timestamps; argparse: only for help and mistakes
AVOIDED = ("typing", "capturemock.explain", "difflib", "datetime", "argparse")


def _imported(stderr: str) -> set[str]:
    return {line.split("|")[-1].strip() for line in stderr.splitlines() if line.startswith("import time:")}


def _command(tmp_path, *args: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("CAPTUREMOCK_", "TEXTTEST_"))}
    return subprocess.run([sys.executable, "-X", "importtime", "-m", "capturemock", "-R", "rc", *args, "true"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


def test_the_command_records_and_replays_a_program_without_the_modules_it_does_not_need(tmp_path):
    (tmp_path / "rc").write_text("[command line]\nintercepts = true\n")
    record = _command(tmp_path, "-r", "rec.mock")
    assert record.returncode == 0, record.stderr
    assert (tmp_path / "rec.mock").read_text() == "<-CMD:true\n"
    replay = _command(tmp_path, "-p", "rec.mock")
    assert replay.returncode == 0, replay.stderr
    for proc in (record, replay):
        imported = _imported(proc.stderr)
        assert "capturemock.threadserver" in imported  # the traffic was served: the check means something
        assert sorted(imported & set(AVOIDED)) == []


# the stdlib modules the command's record of a program no longer imports (~45 M instructions together):
# re and its enum (the traffic server serves through _socket, the signals are _signal's), shutil
# (fnmatch, bz2, lzma), tempfile (random), socket (selectors)
AVOIDED_STDLIB = ("re", "enum", "shutil", "fnmatch", "bz2", "lzma", "tempfile", "random", "socket", "selectors",
                  "signal")
SCRIPT = os.path.join(os.path.dirname(capturemock.__file__), "bin", "capturemock")


def test_the_installed_command_records_and_replays_without_re_shutil_tempfile_or_socket(tmp_path):
    """The script pip installs as ``capturemock``, run without site (whose editable-install finder would
    import ``re`` itself), on the command's own path: a record with a shimmed program, one with nothing to
    intercept (the benchmark's row), and a replay that records (its programs filtered by the mock)."""
    (tmp_path / "rc").write_text("[command line]\nintercepts = true\n")
    (tmp_path / "empty.rc").write_text("")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("CAPTUREMOCK_", "TEXTTEST_"))}
    env["PYTHONPATH"] = os.path.dirname(os.path.dirname(capturemock.__file__))
    (tmp_path / "rep.mock").write_text("<-CMD:true\n")
    for args, expected in ((["-R", "rc", "-r", "rec.mock"], "<-CMD:true\n"),
                           (["-R", "empty.rc", "-r", "rec.mock"], None),
                           (["-R", "rc", "-p", "rep.mock", "-r", "rec.mock"], "<-CMD:true\n")):
        (tmp_path / "rec.mock").unlink(missing_ok=True)
        run = subprocess.run([sys.executable, "-S", "-X", "importtime", SCRIPT, *args, "true"],
                             cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr
        if expected is None:  # nothing intercepted: nothing recorded
            assert not (tmp_path / "rec.mock").exists()
        else:
            assert (tmp_path / "rec.mock").read_text() == expected
        imported = _imported(run.stderr)
        assert "capturemock.threadserver" in imported
        assert sorted(imported & set(AVOIDED_STDLIB)) == []


def test_generic_protocol_bases_are_the_classes_themselves_at_run_time():
    assert Exchange[bytes, str] is Exchange
    assert ClassicSession.__mro__[1] is Exchange


def test_an_edit_is_a_tuple_of_its_root_changed_and_removed_paths():
    assert Edit("/d") == ("/d", (), ())
    assert Edit("/d", ("/d/a",), removed=("/d/b",)).removed == ("/d/b",)


# the server thread's start noted: whether collections.abc is imported by then
SERVER_THREAD_START = """\
import sys, threading
start = threading.Thread.start
def noted_start(thread):
    if thread.name == "capturemock-server":
        print("collections.abc imported:", "collections.abc" in sys.modules, file=sys.__stdout__)
    start(thread)
threading.Thread.start = noted_start
sys.argv[0] = "capturemock"
from capturemock.cli import main
main()
"""


def test_the_server_thread_starts_with_collections_abc_imported(tmp_path):
    """The server thread imports ``collections.abc`` (with the replay modules) while the command's own thread
    may import it too (with subprocess): on Python 3.13.0 a thread importing it meanwhile can get a module
    without ``Mapping`` (CPython gh-125245), so the command imports it before the thread starts."""
    (tmp_path / "rc").write_text("[command line]\nintercepts = true\n")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("CAPTUREMOCK_", "TEXTTEST_"))}
    env["PYTHONPATH"] = os.path.dirname(os.path.dirname(capturemock.__file__))
    run = subprocess.run([sys.executable, "-c", SERVER_THREAD_START, "-R", "rc", "-r", "rec.mock", "true"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout == "collections.abc imported: True\n"
    assert (tmp_path / "rec.mock").read_text() == "<-CMD:true\n"
