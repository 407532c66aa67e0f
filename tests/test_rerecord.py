"""``capturemock rerecord``, end to end: TextTest 4.4.7 re-records a small suite whose "external world"
(a stand-in weather module and a station program, reading files outside the suite) changed between
record runs; the report names the changed mocks per interaction and --save updates exactly them.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
pytestmark = pytest.mark.skipif(not (BIN / "texttest").exists(), reason="TextTest is not installed beside Python")

SUT = """\
import subprocess, sys, weather
city = sys.argv[1]
print(city, weather.forecast(city))
print(weather.gust())
print(subprocess.run(["station"], capture_output=True, text=True).stdout, end="")
"""
WEATHER = """\
import os
def read(name):
    with open(os.path.join(os.environ["WORLD"], name)) as f:
        return f.read().strip()
def forecast(city):
    return read(city)
def gust():
    return "gust " + read("gust")
"""
STATION = "#!/bin/sh\necho station $(cat \"$WORLD/station\")\n"
CONFIG = """\
executable:${TEXTTEST_ROOT}/sut.py
interpreter:python3
import_config_file:capturemock_config
[run_dependent_text]
pythonmocks:gust [0-9]+{REPLACE gust <n>}
output:gust [0-9]+{REPLACE gust <n>}
"""
TESTS = ("Sunny", "Rainy")


def make_suite(tmp_path: Path) -> Path:
    suite = tmp_path / "suite"
    (suite / "bin").mkdir(parents=True)
    (suite / "sut.py").write_text(SUT)
    (suite / "weather.py").write_text(WEATHER)
    (suite / "bin" / "station").write_text(STATION)
    (suite / "bin" / "station").chmod(0o755)
    (suite / "config.wx").write_text(CONFIG)
    (suite / "environment.wx").write_text("PYTHONPATH:$TEXTTEST_ROOT\nPATH:$TEXTTEST_ROOT/bin:$PATH\n")
    (suite / "capturemockrc.wx").write_text("[python]\nintercepts = weather\n[command line]\nintercepts = station\n")
    (suite / "testsuite.wx").write_text("".join(f"{name}\n" for name in TESTS))
    for name in TESTS:
        (suite / name).mkdir()
        (suite / name / "options.wx").write_text(name)
    return suite


def set_world(tmp_path: Path, **values: str) -> None:
    world = tmp_path / "world"
    world.mkdir(exist_ok=True)
    for name, value in values.items():
        (world / name).write_text(value + "\n")


def environment(tmp_path: Path) -> dict:
    env = {name: value for name, value in os.environ.items() if not name.startswith("CAPTUREMOCK_")}
    return dict(env, WORLD=str(tmp_path / "world"), TEXTTEST_TMP=str(tmp_path / "tt-tmp"),
                TEXTTEST_PERSONAL_CONFIG=str(tmp_path / "tt-home"), PYTHONPATH=str(ROOT),
                PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")


def rerecord(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "capturemock"), "rerecord", *args], env=environment(tmp_path), cwd=tmp_path,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)


def snapshot(suite: Path) -> dict[str, bytes]:
    return {str(path.relative_to(suite)): path.read_bytes() for path in suite.rglob("*") if path.is_file()}


def run_dir_of(proc: subprocess.CompletedProcess) -> str:
    return next(line for line in proc.stdout.splitlines() if line.startswith("run directory: ")).split(": ", 1)[1]


@pytest.fixture
def recorded_suite(tmp_path):
    """A suite recorded from scratch by rerecord --save: every result is new, and saved."""
    suite = make_suite(tmp_path)
    set_world(tmp_path, Sunny="sunny", Rainy="dry", gust="3", station="7")
    proc = rerecord(tmp_path, "--save", "-d", str(suite), "-a", "wx")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("capturemock rerecord: 2 tests, mocks changed in 2: Rainy, Sunny\n")
    assert "saved into the suite: 8 changed results\n" in proc.stdout
    assert (suite / "Rainy" / "output.wx").read_text() == "Rainy dry\ngust 3\nstation 7\n"
    return suite


def test_rerecord_reports_the_changed_mocks_per_interaction_and_leaves_them_for_review(tmp_path, recorded_suite):
    before = snapshot(recorded_suite)
    set_world(tmp_path, Rainy="rain <b>heavy</b> & cold", gust="9")  # gust: hidden by the suite's filters
    proc = rerecord(tmp_path, "-d", str(recorded_suite), "-a", "wx")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    run_dir = run_dir_of(proc)
    expected = (
        "capturemock rerecord: 2 tests, mocks changed in 1: Rainy\n"
        "TextTest: Tests Run: 2, Failures: 1\n"
        f"run directory: {run_dir}\n"
        "\n"
        "Rainy: mocks changed\n"
        "  output.wx changed\n"
        "  pythonmocks.wx changed\n"
        "      changed  <-PYT:weather.forecast('Rainy')\n"
        "               - ->RET:'dry'\n"
        "               + ->RET:'rain <b>heavy</b> & cold'\n"
        "    5 interactions now: 1 changed, 0 added, 0 removed, 4 unchanged\n"
        "\n"
        "left for review: 2 changed results; to save them: capturemock rerecord --save "
        f"--from-run {run_dir} -d {recorded_suite} -a wx\n")
    assert proc.stdout == expected + f"reports: {run_dir}/capturemock-rerecord.txt, .html\n"
    assert Path(run_dir, "capturemock-rerecord.txt").read_text() == expected
    page = Path(run_dir, "capturemock-rerecord.html").read_text()
    assert "+ -&gt;RET:&#x27;rain &lt;b&gt;heavy&lt;/b&gt; &amp; cold&#x27;" in page
    assert "<b>heavy" not in page
    assert snapshot(recorded_suite) == before  # nothing saved

    saved = rerecord(tmp_path, "--save", "--from-run", run_dir, "-d", str(recorded_suite), "-a", "wx")
    assert saved.returncode == 0, saved.stdout + saved.stderr
    assert "saved into the suite: 2 changed results\n" in saved.stdout
    after = snapshot(recorded_suite)
    assert sorted(name for name in after if after[name] != before.get(name)) == ["Rainy/output.wx",
                                                                                 "Rainy/pythonmocks.wx"]
    assert after.keys() == before.keys()  # Rainy's unchanged externalmocks, all of Sunny: untouched
    assert "->RET:'rain <b>heavy</b> & cold'" in after["Rainy/pythonmocks.wx"].decode()


def test_rerecord_then_the_suite_replays_and_rerecords_clean(tmp_path, recorded_suite):
    set_world(tmp_path, station="8")
    proc = rerecord(tmp_path, "--save", "-d", str(recorded_suite), "-a", "wx", "-t", "Sunny")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("capturemock rerecord: 1 tests, mocks changed in 1: Sunny\n")
    assert "  externalmocks.wx changed\n" in proc.stdout
    assert (recorded_suite / "Sunny" / "output.wx").read_text() == "Sunny sunny\ngust 3\nstation 8\n"
    replay = subprocess.run([str(BIN / "texttest"), "-d", str(recorded_suite), "-a", "wx", "-b", "ci", "-t", "Sunny"],
                            env=environment(tmp_path), stdin=subprocess.DEVNULL, capture_output=True, text=True,
                            timeout=300)
    assert replay.returncode == 0, replay.stdout + replay.stderr
    again = rerecord(tmp_path, "-d", str(recorded_suite), "-a", "wx", "-t", "Sunny")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "nothing changed: the stored results are up to date\n" in again.stdout


def test_rerecord_saves_a_version_results_where_texttest_would(tmp_path, recorded_suite):
    """-v v2: a result of exactly that version is overwritten; a result the run compared with the unversioned
    file becomes a new .v2 file, and the unversioned one (other versions use it) stays as it was."""
    (recorded_suite / "Rainy" / "output.wx.v2").write_text("Rainy long ago\ngust 3\nstation 7\n")
    before = snapshot(recorded_suite)
    set_world(tmp_path, Rainy="rain")
    proc = rerecord(tmp_path, "--save", "-d", str(recorded_suite), "-a", "wx", "-v", "v2", "-t", "Rainy")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "  output.wx.v2 changed\n  pythonmocks.wx changed\n" in proc.stdout
    after = snapshot(recorded_suite)
    assert sorted(name for name in after if after[name] != before.get(name)) == ["Rainy/output.wx.v2",
                                                                                 "Rainy/pythonmocks.wx.v2"]
    assert after["Rainy/output.wx.v2"] == b"Rainy rain\ngust 3\nstation 7\n"
    for version in (["-v", "v2"], []):  # each version replays its own mocks
        replay = subprocess.run([str(BIN / "texttest"), "-d", str(recorded_suite), "-a", "wx", "-b", "ci", *version],
                                env=environment(tmp_path), stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                timeout=300)
        assert replay.returncode == 0, replay.stdout + replay.stderr


def test_rerecord_refuses_the_options_it_sets_itself(tmp_path):
    proc = rerecord(tmp_path, "-d", str(tmp_path), "-a", "wx", "-o")
    assert proc.returncode == 2
    assert proc.stderr.endswith("capturemock rerecord: error: -o is set by rerecord itself\n")


def test_rerecord_without_a_run_says_so(tmp_path):
    proc = rerecord(tmp_path, "-d", str(tmp_path / "nosuite"), "-a", "wx")
    assert proc.returncode != 0
    assert f"capturemock rerecord: TextTest ran no test (no run directory in {tmp_path / 'tt-tmp'}); " \
           "its output is above\n" in proc.stderr


def test_a_test_running_texttest_itself_is_one_test_not_several(tmp_path):
    """A sandbox can hold a TextTest run of its own (our acceptance suite has such tests): not searched."""
    from texttest_plugin.runresults import collect

    sandbox = tmp_path / "run" / "wx" / "Errors" / "Inner"
    (sandbox / "framework_tmp").mkdir(parents=True)
    (sandbox / "tt-tmp" / "in.01Jan" / "in" / "Ask" / "framework_tmp").mkdir(parents=True)
    outcomes = collect(tmp_path / "run", "wx", tmp_path / "suite")
    assert [(outcome.path, outcome.compared) for outcome in outcomes] == [("Errors/Inner", False)]


def test_texttest_batch_pages_link_each_changed_test_to_its_part_of_the_report(tmp_path, recorded_suite):
    """With config_module:texttest_plugin, a changed test's details (stored in TextTest's batch repository
    during the run) end with a link to the report, which TextTest's own web pages (-coll web) show."""
    reports, pages = tmp_path / "reports", tmp_path / "pages"
    config = recorded_suite / "config.wx"
    config.write_text(f"config_module:texttest_plugin\nbatch_result_repository:{tmp_path / 'repository'}\n"
                      f"historical_report_location:{pages}\n"
                      f"[file_to_url]\n{reports}:http://ci.example/rerecord\n[end]\n" + config.read_text())
    set_world(tmp_path, Rainy="rain")
    proc = rerecord(tmp_path, "-d", str(recorded_suite), "-a", "wx", "--report-dir", str(reports))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert '<h2 id="test-Rainy">Rainy: mocks changed</h2>' in (reports / "capturemock-rerecord.html").read_text()
    web_pages = [str(BIN / "texttest"), "-d", str(recorded_suite), "-a", "wx", "-b", "nightly", "-coll", "web"]
    web = subprocess.run(web_pages, env=environment(tmp_path), stdin=subprocess.DEVNULL, capture_output=True,
                         text=True, timeout=300)
    assert web.returncode == 0, web.stdout + web.stderr
    details = "".join(path.read_text() for path in (pages / "wx").glob("test_default_*[0-9].html"))
    assert '<A HREF="http://ci.example/rerecord/capturemock-rerecord.html#test-Rainy">capturemock rerecord report' \
           in details


class _Test:
    """The parts of a TextTest test report_line reads."""

    class app:  # noqa: N801 - TextTest's attribute
        writeDirectory = "/tmp/tt/wx.03Dec"

    def __init__(self, file_to_url):
        self.file_to_url = file_to_url

    def getRelPath(self):  # noqa: N802
        return "Family/Rainy Day"

    def getConfigValue(self, key):  # noqa: N802
        assert key == "file_to_url"
        return self.file_to_url


def test_the_report_line_is_a_link_only_where_file_to_url_maps_the_report(monkeypatch):
    from texttest_plugin.reportlink import REPORT_DIR_VARIABLE, report_line

    monkeypatch.delenv(REPORT_DIR_VARIABLE, raising=False)
    assert report_line(_Test({})) is None  # not under rerecord
    monkeypatch.setenv(REPORT_DIR_VARIABLE, "")  # the report goes into the run directory
    assert report_line(_Test({})) == \
        "capturemock rerecord report: /tmp/tt/wx.03Dec/capturemock-rerecord.html#test-Family/Rainy%20Day\n"
    assert report_line(_Test({"/tmp/tt": "https://ci.example/runs"})) == \
        "capturemock rerecord report URL=https://ci.example/runs/wx.03Dec/capturemock-rerecord.html#test-Family/Rainy%20Day\n"


def test_saving_a_version_keeps_what_other_versions_share(tmp_path):
    """A result no longer produced under v2 but shared with other versions gets TextTest's missing-file
    marker as its .v2 file; the run's file edits go to file_edits.v2."""
    from texttest_plugin.rerecord import save
    from texttest_plugin.runresults import ResultChange, TestOutcome

    sandbox, test_dir = tmp_path / "sandbox", tmp_path / "Rainy"
    (sandbox / "file_edits").mkdir(parents=True)
    (sandbox / "file_edits" / "report.txt").write_text("new\n")
    test_dir.mkdir()
    (test_dir / "errors.wx").write_text("shared\n")
    (test_dir / "traffic.wx.v2").write_text("v2 only\n")
    changes = [ResultChange("errors.wx", "missing", False), ResultChange("traffic.wx.v2", "missing", True),
               ResultChange("file_edits", "new", True)]
    save([TestOutcome("Rainy", sandbox, test_dir, compared=True, version="v2", changes=changes)])
    assert sorted(str(path.relative_to(test_dir)) for path in test_dir.rglob("*") if path.is_file()) == [
        "errors.wx", "errors.wx.v2", "file_edits.v2/report.txt"]
    assert (test_dir / "errors.wx").read_text() == "shared\n"
    assert (test_dir / "errors.wx.v2").read_text().startswith("Auto-generated by TextTest to simulate missing file")
