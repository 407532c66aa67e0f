"""Record real programs through the shims, then replay them with the real programs absent from PATH."""
from __future__ import annotations

import capturemock
from capturemock.launcher import _manager

RC = """\
[command line]
intercepts = tool, git, date, ls
environment = STAGE
"""


def test_record_then_replay_own_script(sut):
    sut.program("tool", """\
        echo "tool got: $*"
        echo "complaint" >&2
        exit 3
    """)
    rc = sut.rc(RC)
    assert sut.start(capturemock.RECORD, rc=rc)
    first = sut.run("tool", "a b", "c")
    capturemock.terminate()
    assert (first.stdout, first.stderr, first.returncode) == ("tool got: a b c\n", "complaint\n", 3)
    assert sut.text("rec.mock") == ('<-CMD:tool "a b" c\n->OUT:tool got: a b c\n->ERR:complaint\n->EXC:3\n')

    (sut.root / "rec.mock").rename(sut.root / "stored.mock")
    assert sut.start(capturemock.REPLAY, rc=rc, replay="stored.mock", real_programs=False)
    again = sut.run("tool", "a b", "c")
    capturemock.terminate()
    assert (again.stdout, again.stderr, again.returncode) == (first.stdout, first.stderr, 3)
    assert sut.text("rec.mock") == sut.text("stored.mock")


def test_record_git_date_ls_and_replay_without_them(sut):
    rc = sut.rc(RC)
    (sut.root / "data").mkdir()
    (sut.root / "data" / "one.txt").write_text("1")
    assert sut.start(capturemock.RECORD, rc=rc)
    recorded = [sut.run("git", "--version"), sut.run("date", "-d", "@0", "+%Y"), sut.run("ls", "data"),
                sut.run("git", "rev-parse", "--is-inside-work-tree", cwd=sut.root / "data")]
    capturemock.terminate()
    assert recorded[1].stdout == "1970\n"
    assert recorded[2].stdout == "one.txt\n"
    assert recorded[3].returncode != 0  # not a git repository: stderr and exit code are recorded
    mock = sut.text("rec.mock")
    assert "<-CMD:date -d @0 +%Y\n->OUT:1970\n" in mock
    assert f"<-CMD:cd {(sut.root / 'data').resolve()}; git rev-parse --is-inside-work-tree\n->ERR:" in mock

    (sut.root / "rec.mock").rename(sut.root / "stored.mock")
    assert sut.start(capturemock.REPLAY, rc=rc, replay="stored.mock", real_programs=False)
    sut.env["PATH"] = sut.env["PATH"].split(":")[0]  # only the shims: git, date and ls themselves are gone
    replayed = [sut.run("git", "--version"), sut.run("date", "-d", "@0", "+%Y"), sut.run("ls", "data"),
                sut.run("git", "rev-parse", "--is-inside-work-tree", cwd=sut.root / "data")]
    capturemock.terminate()
    for real, mocked in zip(recorded, replayed):
        assert (mocked.stdout, mocked.stderr, mocked.returncode) == (real.stdout, real.stderr, real.returncode)
    assert sut.text("rec.mock") == mock


def test_hand_edited_mock_simulates_failure(sut):
    rc = sut.rc(RC)
    sut.write("stored.mock", """\
        <-CMD:git push origin main
        ->ERR:fatal: unable to access 'https://example.invalid/': Could not resolve host
        ->EXC:128
        <-CMD:env 'STAGE=prod' date
        ->OUT:Mon Jan  1 00:00:00 UTC 2024
    """)
    assert sut.start(capturemock.REPLAY, rc=rc, replay="stored.mock", real_programs=False)
    push = sut.run("git", "push", "origin", "main")
    dated = sut.run("date", env={**sut.env, "STAGE": "prod"})
    capturemock.terminate()
    assert push.returncode == 128 and push.stderr.startswith("fatal: unable to access")
    assert dated.stdout == "Mon Jan  1 00:00:00 UTC 2024\n"
    assert sut.text("rec.mock") == sut.text("stored.mock")


def test_replay_shims_only_programs_in_the_mock(sut):
    sut.program("tool", "echo real tool\n")
    sut.write("stored.mock", "<-CMD:date\n->OUT:mocked date\n")
    assert sut.start(capturemock.REPLAY, rc=sut.rc(RC), replay="stored.mock")
    assert sorted(p.name for p in (sut.root / "intercepts").iterdir()) == ["date"]
    assert sut.run("tool").stdout == "real tool\n"
    assert sut.run("date").stdout == "mocked date\n"
    capturemock.terminate()
    assert sut.text("rec.mock") == "<-CMD:date\n->OUT:mocked date\n"


def test_mixed_mode_replays_known_programs_and_records_others(sut):
    sut.program("tool", "echo real tool $*\n")
    sut.write("stored.mock", "<-CMD:date\n->OUT:mocked date\n")
    assert sut.start(capturemock.REPLAY_OLD_RECORD_NEW, rc=sut.rc(RC), replay="stored.mock")
    assert sut.run("date").stdout == "mocked date\n"
    assert sut.run("tool", "x").stdout == "real tool x\n"
    capturemock.terminate()
    assert sut.text("rec.mock") == "<-CMD:date\n->OUT:mocked date\n<-CMD:tool x\n->OUT:real tool x\n"


def test_inactive_replay_touches_nothing(sut):
    env_before = {"PATH": "/usr/bin:/bin"}
    sut.env = dict(env_before)
    assert not capturemock.setUpServer(capturemock.REPLAY, str(sut.root / "rec.mock"), None,
                                       rcFiles=[sut.rc(RC)], interceptDir=str(sut.root / "intercepts"),
                                       environment=sut.env)
    assert sut.env == env_before
    assert not (sut.root / "intercepts").exists()
    capturemock.terminate()  # a no-op


def test_no_traffic_means_no_record_file(sut):
    assert sut.start(capturemock.RECORD, rc=sut.rc(RC))
    assert sut.run("true").returncode == 0
    capturemock.terminate()
    assert not (sut.root / "rec.mock").exists()


def test_sut_pythonpath_is_left_alone(sut):
    sut.program("tool", "echo $PYTHONPATH\n")
    rc = sut.rc(RC)
    sut.env = {"PATH": f"{sut.bin}:/usr/bin:/bin", "PYTHONPATH": "/my/own/libs"}
    assert capturemock.setUpServer(capturemock.RECORD, str(sut.root / "rec.mock"), rcFiles=[rc],
                                   interceptDir=str(sut.root / "intercepts"), sutDirectory=str(sut.root),
                                   environment=sut.env)
    assert sut.env["PYTHONPATH"] == "/my/own/libs"
    assert sut.env["CAPTUREMOCK_TOKEN"] not in sut.env["CAPTUREMOCK_SERVER"]
    assert sut.run("tool").stdout == "/my/own/libs\n"


def test_stdin_is_forwarded_when_recording(sut):
    sut.program("tool", "tr a-z A-Z\n")
    assert sut.start(capturemock.RECORD, rc=sut.rc(RC))
    result = sut.run("tool", input="hello stdin\n")
    capturemock.terminate()
    assert result.stdout == "HELLO STDIN\n"
    assert sut.text("rec.mock") == "<-CMD:tool\n->OUT:HELLO STDIN\n"


def test_program_leaving_a_background_process_does_not_hang_the_shim(sut):
    sut.program("tool", "sleep 20 &\necho started\n")
    assert sut.start(capturemock.RECORD, rc=sut.rc(RC))
    result = sut.run("tool")
    capturemock.terminate()
    assert result.stdout == "started\n"
    assert sut.text("rec.mock") == "<-CMD:tool\n->OUT:started\n"


def test_a_second_set_up_stops_the_first_server_and_keeps_its_traffic(sut):
    """TextTest-style callers that forget ``terminate`` between two set-ups leave no server behind."""
    sut.program("tool", "echo real $1\n")
    rc = sut.rc("[command line]\nintercepts = tool\n")
    sut.start(capturemock.RECORD, rc=rc, record="first.mock")
    first_server = _manager.process
    assert sut.run("tool", "one").stdout == "real one\n"
    sut.start(capturemock.RECORD, rc=rc, record="second.mock")
    assert first_server.poll() is not None  # stopped, not orphaned
    assert sut.text("first.mock") == "<-CMD:tool one\n->OUT:real one\n"
    assert sut.run("tool", "two").stdout == "real two\n"
    capturemock.terminate()
    assert sut.text("second.mock") == "<-CMD:tool two\n->OUT:real two\n"


def test_replayed_asynchronous_edits_keep_their_place_after_the_output(sut):
    """§7.7: an asynchronous command's later edits were recorded after its output; the replay's
    transcript keeps them there, so it equals the mock it replayed."""
    stored = "<-CMD:daemon d\n->OUT:started\n->FIL:d\n<-CMD:check d\n->OUT:later\n"
    sut.replay_async_edit(stored)
    result = sut.run("sh", "-c", "daemon d && check d")
    capturemock.terminate()
    assert result.stdout == "started\nlater\n"
    assert (sut.root / "d" / "late.txt").read_text() == "later\n"
    assert sut.text("rec.mock") == stored
