"""The pytest plugin: ``capturemock`` fixture and marker, ``--capturemock-mode``.

Each scenario is a real pytest run in a subprocess on a test file in a temporary directory, so the
plugin is loaded through its ``pytest11`` entry point exactly as users get it.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from weather_example import IMPORT_ARTEFACTS, WEATHER

from capturemock.decorator import MISMATCH_MESSAGE

FIXTURE_TEST = '''
def test_temperature(capturemock):
    capturemock.intercept("weather")
    import weather
    assert weather.temperature(CITY) == 8.0
'''


def run_pytest(directory: Path, source: str, *args: str, env_mode: str | None = None,
               weather: bool = True) -> str:
    """Run pytest on ``source`` as ``test_sut.py`` in ``directory``; return the report (stdout)."""
    (directory / "pytest.ini").write_text("[pytest]\n")
    (directory / "test_sut.py").write_text(textwrap.dedent(source))
    if weather:
        (directory / "weather.py").write_text(WEATHER)
    elif (directory / "weather.py").exists():
        (directory / "weather.py").unlink()
    env = {key: value for key, value in os.environ.items() if not key.startswith("CAPTUREMOCK")}
    env.pop("PYTEST_ADDOPTS", None)
    if env_mode is not None:
        env["CAPTUREMOCK_MODE"] = env_mode
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rA", "-W", "error",
                           "--strict-markers", *args], cwd=directory, env=env, capture_output=True, text=True,
                          timeout=120)
    return proc.stdout + proc.stderr


def test_fixture_records_then_replays_without_the_real_module(tmp_path: Path) -> None:
    report = run_pytest(tmp_path, FIXTURE_TEST.replace("CITY", '"Lund"'), "--capturemock-mode=record")
    assert "1 passed" in report, report
    mock = tmp_path / "mocks" / "test_sut" / "test_temperature.mock"
    expected = "<-PYT:import weather\n" + IMPORT_ARTEFACTS + "<-PYT:weather.temperature('Lund')\n->RET:8.0\n"
    assert mock.read_text() == expected
    report = run_pytest(tmp_path, FIXTURE_TEST.replace("CITY", '"Lund"'), weather=False)
    assert "1 passed" in report, report
    assert mock.read_text() == expected
    assert os.listdir(tmp_path / "mocks" / "test_sut") == ["test_temperature.mock"]


def test_replay_mismatch_fails_the_test_with_the_message_and_a_diff(tmp_path: Path) -> None:
    mock = tmp_path / "mocks" / "test_sut" / "test_temperature.mock"
    mock.parent.mkdir(parents=True)
    mock.write_text("<-PYT:import weather\n<-PYT:weather.temperature('Lund')\n->RET:8.0\n")
    report = run_pytest(tmp_path, FIXTURE_TEST.replace("CITY", '"Malmo"'), weather=False)
    assert "FAILED test_sut.py::test_temperature" in report, report
    assert "= 1 failed in " in report
    assert MISMATCH_MESSAGE in report and "During handling of the above exception" not in report
    assert "-<-PYT:weather.temperature('Lund')\n+<-PYT:weather.temperature('Malmo')" in report
    assert "weather.temperature('Malmo')" in (mock.parent / "test_temperature.mock.tmp").read_text()
    assert mock.read_text() == "<-PYT:import weather\n<-PYT:weather.temperature('Lund')\n->RET:8.0\n"


def test_marker_intercepts_methods_and_parametrised_tests_without_the_fixture(tmp_path: Path) -> None:
    report = run_pytest(tmp_path, '''
        import os

        import pytest


        class TestWeather:
            @pytest.mark.capturemock("weather", mode="record")
            @pytest.mark.parametrize("city", ["Lund", "Uppsala"])
            def test_forecast(self, city):
                import weather
                assert weather.forecast(city) == ["sun"]


        def test_environment_restored():
            assert [key for key in os.environ if key.startswith("CAPTUREMOCK")] == []
        ''')
    assert "3 passed" in report, report
    assert sorted(os.listdir(tmp_path / "mocks" / "test_sut")) == [
        "TestWeather.test_forecast[Lund].mock", "TestWeather.test_forecast[Uppsala].mock"]
    assert (tmp_path / "mocks" / "test_sut" / "TestWeather.test_forecast[Uppsala].mock").read_text() == (
        "<-PYT:import weather\n" + IMPORT_ARTEFACTS + "<-PYT:weather.forecast('Uppsala')\n->RET:['sun']\n")


def test_environment_mode_and_rc_files_beside_the_test(tmp_path: Path) -> None:
    (tmp_path / "weather.rc").write_text("[python]\nintercepts = weather.temperature\n")
    report = run_pytest(tmp_path, '''
        import pytest


        @pytest.mark.capturemock(rcFiles=["weather.rc"])
        def test_partial():
            import weather
            assert weather.forecast("Lund") == ["sun"]
            assert weather.temperature("Lund") == 8.0
        ''', env_mode="1")
    assert "1 passed" in report, report
    assert (tmp_path / "mocks" / "test_sut" / "test_partial.mock").read_text() == (
        "<-PYT:weather.temperature('Lund')\n->RET:8.0\n")


def test_replay_without_a_mock_uses_the_real_module_and_records_nothing(tmp_path: Path) -> None:
    report = run_pytest(tmp_path, FIXTURE_TEST.replace("CITY", '"Lund"'), "--capturemock-mode=replay")
    assert "1 passed" in report, report
    assert not (tmp_path / "mocks" / "test_sut").exists()


def test_bad_marker_mode_is_one_clean_error(tmp_path: Path) -> None:
    report = run_pytest(tmp_path, '''
        import pytest


        @pytest.mark.capturemock("weather", mode="recrod")
        def test_x():
            pass
        ''')
    assert "1 error" in report, report
    assert "ConfigError: unknown capturemock mode 'recrod' in the capturemock mode of test_sut.py::test_x" in report


def test_a_decorated_test_that_replays_differently_fails_without_capturemock_frames(tmp_path: Path) -> None:
    """The ``@capturemock`` decorator under pytest: the failure shows the message, not our comparison."""
    mock = tmp_path / "mocks" / "temperature.mock"
    mock.parent.mkdir()
    mock.write_text("<-PYT:import weather\n<-PYT:weather.temperature('Lund')\n->RET:8.0\n")
    source = FIXTURE_TEST.replace("(capturemock)", "()").replace('    capturemock.intercept("weather")\n', "")
    source = "from capturemock import capturemock\n\n@capturemock('weather')" + source.replace("CITY", '"Malmo"')
    report = run_pytest(tmp_path, source, weather=False)
    assert "FAILED test_sut.py::test_temperature" in report, report
    assert f"CaptureMockReplayError: {MISMATCH_MESSAGE}" in report
    assert "decorator.py" not in report, report


def test_tests_of_one_name_in_two_files_and_odd_parameter_ids_get_a_mock_each(tmp_path: Path) -> None:
    (tmp_path / "test_other.py").write_text(FIXTURE_TEST.replace("CITY", '"Lund"'))
    report = run_pytest(tmp_path, '''
        import pytest

        @pytest.mark.parametrize("city", ["a/b", "a_b", "a b", "a:b"])
        def test_temperature(capturemock, city):
            capturemock.intercept("weather")
            import weather
            weather.forecast(city)
        ''', "--capturemock-mode=record")
    assert "5 passed" in report, report
    assert sorted(os.listdir(tmp_path / "mocks" / "test_sut")) == [
        "test_temperature[a%20b].mock", "test_temperature[a%2Fb].mock", "test_temperature[a%3Ab].mock",
        "test_temperature[a_b].mock"]
    assert os.listdir(tmp_path / "mocks" / "test_other") == ["test_temperature.mock"]


def test_a_failing_or_skipped_unittest_method_keeps_its_mock(tmp_path: Path) -> None:
    """pytest reports a TestCase's failure after the call: the mock must not be stored meanwhile."""
    source = '''
        import os, unittest, pytest

        class TestWeather(unittest.TestCase):
            @pytest.mark.capturemock("weather")
            def test_fails(self):
                import weather
                weather.forecast(os.environ.get("CITY", "Lund"))
                self.assertEqual(os.environ.get("ONE", "1"), "1")

            @pytest.mark.capturemock("weather")
            def test_skips(self):
                import weather
                weather.forecast(os.environ.get("CITY", "Lund"))
                if "ONE" in os.environ:
                    self.skipTest("not today")
        '''
    assert "2 passed" in run_pytest(tmp_path, source, "--capturemock-mode=record")
    stored = {path.name: path.read_text() for path in (tmp_path / "mocks" / "test_sut").iterdir()}
    os.environ["CITY"], os.environ["ONE"] = "Rome", "2"
    try:
        report = run_pytest(tmp_path, source, "--capturemock-mode=record")
    finally:
        del os.environ["CITY"], os.environ["ONE"]
    assert "1 failed, 1 skipped" in report, report
    assert {path.name: path.read_text() for path in (tmp_path / "mocks" / "test_sut").iterdir()} == stored


def test_the_environment_mode_is_read_once_before_any_test_sets_it(tmp_path: Path) -> None:
    """A decorated test's set-up leaves CAPTUREMOCK_MODE behind; later fixture tests must not pick it up."""
    report = run_pytest(tmp_path, '''
        import capturemock

        @capturemock.capturemock("weather", mode=capturemock.RECORD)
        def test_a_decorated_recording():
            import weather
            weather.forecast("Oslo")

        def test_b_fixture(capturemock):
            assert capturemock.mode == 0  # replay: nothing asked for another mode
        ''')
    assert "2 passed" in report, report


def test_a_malformed_mock_the_test_caught_is_reported_and_the_mock_kept(tmp_path: Path) -> None:
    """Mixed mode would otherwise store a transcript without the item it could not read."""
    mock = tmp_path / "mocks" / "test_sut" / "test_fallback.mock"
    mock.parent.mkdir(parents=True)
    stored = "<-PYT:import weather\n<-PYT:weather.forecast('Lima')\n->RET:{'temp': os.getcwd()}\n"
    mock.write_text(stored)
    report = run_pytest(tmp_path, '''
        def test_fallback(capturemock):
            capturemock.intercept("weather")
            import weather
            try:
                weather.forecast("Lima")
            except Exception:
                pass  # the application's own fallback
        ''', "--capturemock-mode=mixed")
    assert "1 failed" in report, report
    assert "test_fallback.mock:3: refused expression" in report
    assert mock.read_text() == stored
