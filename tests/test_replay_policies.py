"""Issue 13, trustworthy replay, on real python runs: ``[general] sealed``, ``on_best_match`` and
``report_unused``, and the explanation the decorator and pytest plugin give of a transcript mismatch."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from capturemock.explain import word_diff

WEATHER = "def forecast(city, when='today'):\n    return ['real']\n\n\ndef temperature(city):\n    return 1.0\n"
MOCK = ("<-PYT:import weather\n<-PYT:weather.forecast('Malmo')\n->RET:['sun']\n"
        "<-PYT:weather.temperature('Lund')\n->RET:3.5\n")
SUT = """\
import sys, capturemock
handler = capturemock.interceptPython(0, "out.mock", "in.mock", ["rc"], [])
import weather, time
try:
    print(weather.forecast("Malmo"))
    print(weather.forecast("Lund", "tomorrow"))
    print(time.time() > 0)
except Exception as err:
    print(type(err).__name__, err)
handler.resetIntercepts()
print("reset")
"""


def run_sut(tmp_path: Path, general: str, mock: str = MOCK) -> subprocess.CompletedProcess:
    (tmp_path / "weather.py").write_text(WEATHER)
    (tmp_path / "in.mock").write_text(mock)
    (tmp_path / "rc").write_text(f"[python]\nintercepts = weather, time\n\n[general]\n{general}\n")
    (tmp_path / "sut.py").write_text(SUT)
    return subprocess.run([sys.executable, "sut.py"], cwd=tmp_path, capture_output=True, text=True, timeout=60)


def test_defaults_stay_silent_and_run_unmentioned_modules_for_real(tmp_path: Path) -> None:
    proc = run_sut(tmp_path, "")
    assert proc.stdout == "['sun']\n['sun']\nTrue\nreset\n"
    assert proc.stderr == ""


def test_warn_and_report_unused_print_at_reset(tmp_path: Path) -> None:
    proc = run_sut(tmp_path, "on_best_match = warn\nreport_unused = true")
    assert proc.stdout == "['sun']\n['sun']\nTrue\nreset\n"
    assert proc.stderr == (
        "capturemock: best match: '<-PYT:weather.forecast('Lund', 'tomorrow')' was answered by "
        "in.mock:2: <-PYT:weather.forecast('Malmo')\n"
        "capturemock: unused: in.mock:4: <-PYT:weather.temperature('Lund') was recorded but never replayed\n")


def test_report_unused_leaves_other_families_traffic_to_them(tmp_path: Path) -> None:
    """TextTest's single traffic file: its command lines are the traffic server's to report."""
    proc = run_sut(tmp_path, "report_unused = true", MOCK + "<-CMD:date\n->OUT:Monday\n")
    assert proc.stderr == (
        "capturemock: unused: in.mock:4: <-PYT:weather.temperature('Lund') was recorded but never replayed\n")


def test_warn_reports_at_process_exit_without_reset(tmp_path: Path) -> None:
    proc = run_sut(tmp_path, "on_best_match = warn")
    (tmp_path / "sut.py").write_text(SUT.replace("handler.resetIntercepts()\n", ""))
    proc = subprocess.run([sys.executable, "sut.py"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert proc.stdout.endswith("reset\n")
    assert proc.stderr.startswith("capturemock: best match: '<-PYT:weather.forecast('Lund', 'tomorrow')'")


def test_on_best_match_error_names_the_closest_requests_word_by_word(tmp_path: Path) -> None:
    proc = run_sut(tmp_path, "on_best_match = error")
    assert proc.stdout == (
        "['sun']\n"
        "CaptureMockReplayError '<-PYT:weather.forecast('Lund', 'tomorrow')' is not recorded in in.mock and "
        "[general] on_best_match = error forbids answering it with another request's answer\n"
        "closest recorded requests:\n"
        "  in.mock:2: <-PYT:weather.forecast('Malmo')\n"
        "    <-PYT:weather.forecast([-'Malmo'-]{+'Lund', 'tomorrow'+})\n"
        "  in.mock:4: <-PYT:weather.temperature('Lund')\n"
        "    [-<-PYT:weather.temperature-]{+<-PYT:weather.forecast+}([-'Lund'-]{+'Lund', 'tomorrow'+})\n"
        "reset\n")


def test_sealed_refuses_an_intercepted_call_the_mock_never_mentions(tmp_path: Path) -> None:
    proc = run_sut(tmp_path, "sealed = true")
    assert proc.stdout == (
        "['sun']\n['sun']\n"
        "SealedReplayError sealed replay: 'time.time()' is not recorded in in.mock, so it was not run "
        "([general] sealed = true)\nreset\n")


def test_a_bad_on_best_match_names_the_rc_line(tmp_path: Path) -> None:
    proc = run_sut(tmp_path, "on_best_match = loud")
    assert "rc:5: on_best_match = 'loud' is not 'silent', 'warn' or 'error'" in proc.stderr


def test_exact_matching_error_keeps_its_line_and_carries_the_explanation(tmp_path: Path) -> None:
    from capturemock.errors import CaptureMockReplayError
    from capturemock.replay import ReplayIndex

    index = ReplayIndex(MOCK, exact=True)
    with pytest.raises(CaptureMockReplayError) as info:
        index.lookup("<-PYT:weather.forecast('Lund')")
    assert str(info.value) == "Could not find any replay request matching '<-PYT:weather.forecast('Lund')'"
    assert info.value.explanation == (
        "closest recorded requests:\n"
        "  replay file:4: <-PYT:weather.temperature('Lund')\n"
        "    [-<-PYT:weather.temperature-]{+<-PYT:weather.forecast+}('Lund')\n"
        "  replay file:2: <-PYT:weather.forecast('Malmo')\n"
        "    <-PYT:weather.forecast([-'Malmo'-]{+'Lund'+})")


def test_word_diff() -> None:
    assert word_diff("<-CMD:git log", "<-CMD:git status --short") == "<-CMD:git [-log-]{+status --short+}"


DECORATED = """\
import capturemock
from capturemock import capturemock as mocked

@mocked("weather", mode=capturemock.REPLAY)
def test_weekend():
    import weather
    weather.forecast("Lund")

try:
    test_weekend()
except capturemock.CaptureMockReplayError as err:
    print("CaptureMockReplayError:", err)
"""


def test_decorator_mismatch_names_the_mock_and_the_first_difference(tmp_path: Path) -> None:
    (tmp_path / "weather.py").write_text(WEATHER)
    (tmp_path / "mocks").mkdir()
    (tmp_path / "mocks" / "weekend.mock").write_text("<-PYT:import weather\n<-PYT:weather.forecast('Malmo')\n"
                                                     "->RET:['sun']\n")
    (tmp_path / "sut.py").write_text(DECORATED)
    env = {key: value for key, value in os.environ.items() if not key.startswith("CAPTUREMOCK")}
    proc = subprocess.run([sys.executable, "sut.py"], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                          env=env)
    message = ("Replayed calls do not match those recorded. Either rerun with capturemock in record mode or "
               "update the stored mock file by hand.")
    assert proc.stdout == f"CaptureMockReplayError: {message}\n"  # the §14 line, unchanged
    mock = tmp_path / "mocks" / "weekend.mock"
    assert proc.stderr == (
        f"capturemock: {message}\n"
        f"mock file: {mock} (replayed transcript: {mock}.tmp)\n"
        f"first difference, in interaction 2 ({mock}:2):\n"
        "  recorded: <-PYT:weather.forecast('Malmo')\n"
        "  replayed: <-PYT:weather.forecast('Lund')\n"
        "  words:    <-PYT:weather.forecast([-'Malmo'-]{+'Lund'+})\n")


def test_pytest_plugin_mismatch_names_the_mock_and_the_first_difference(tmp_path: Path) -> None:
    (tmp_path / "weather.py").write_text(WEATHER)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_sut.py").write_text(textwrap.dedent("""\
        def test_rain(capturemock):
            capturemock.intercept("weather")
            import weather
            assert weather.forecast("Lund") == ["sun"]
        """))
    mock = tmp_path / "mocks" / "test_sut" / "test_rain.mock"
    mock.parent.mkdir(parents=True)
    mock.write_text("<-PYT:import weather\n<-PYT:weather.forecast('Malmo')\n->RET:['sun']\n")
    env = {key: value for key, value in os.environ.items() if not key.startswith("CAPTUREMOCK")}
    env.pop("PYTEST_ADDOPTS", None)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert "1 failed" in proc.stdout, proc.stdout
    assert (f"mock file: {mock} (replayed transcript: {mock}.tmp)\n"
            f"first difference, in interaction 2 ({mock}:2):\n"
            "  recorded: <-PYT:weather.forecast('Malmo')\n"
            "  replayed: <-PYT:weather.forecast('Lund')\n"
            "  words:    <-PYT:weather.forecast([-'Malmo'-]{+'Lund'+})\n") in proc.stdout, proc.stdout
