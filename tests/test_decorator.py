"""The ``@capturemock`` decorator and ``set_defaults`` (§6.10).

Decorated tests are run as real scripts in a temporary directory, because the decorator reads its
defaults at import time and writes ``mocks/`` beside the file that applies it.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from weather_example import IMPORT_ARTEFACTS, WEATHER

from capturemock import RECORD, REPLAY, REPLAY_OLD_RECORD_NEW, ConfigError, capturemock, set_defaults
from capturemock.decorator import MISMATCH_MESSAGE, CaptureMockDecorator

STORED = '''\
<-PYT:import weather
<-PYT:weather.forecast('Uppsala', days=2)
->RET:['snow', 'hail']
<-PYT:weather.temperature('Uppsala')
->RET:-12.5
'''
WEEKEND_TEST = '''
from capturemock import CaptureMockReplayError, capturemock


@capturemock("weather")
def test_weekend():
    import weather
    print("forecast:", weather.forecast("Uppsala", days=DAYS))
    print("temperature:", weather.temperature("Uppsala"))
    return "weekend done"


try:
    print("returned:", test_weekend())
except CaptureMockReplayError as exc:
    print("CaptureMockReplayError:", exc)
'''


def run_sut(directory: Path, source: str, mode: str | None = None, script: str = "sut.py",
            weather: bool = True) -> str:
    """Run ``source`` as a script in ``directory`` (beside a real weather module) and return its stdout."""
    (directory / script).parent.mkdir(parents=True, exist_ok=True)
    (directory / script).write_text(textwrap.dedent(source))
    if weather:
        (directory / script).parent.joinpath("weather.py").write_text(WEATHER)
    env = {key: value for key, value in os.environ.items() if not key.startswith("CAPTUREMOCK")}
    if mode is not None:
        env["CAPTUREMOCK_MODE"] = mode
    proc = subprocess.run([sys.executable, script], cwd=directory, env=env, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def store_mock(directory: Path, name: str, text: str) -> Path:
    path = directory / "mocks" / f"{name}.mock"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    return path


def test_bare_decorator_records_with_cwd_rc_and_environment_mode(tmp_path: Path) -> None:
    (tmp_path / ".capturemockrc").write_text("[python]\nintercepts = weather\n")
    out = run_sut(tmp_path, '''
        from capturemock import capturemock


        @capturemock
        def test_forecast():
            import weather
            print("forecast:", weather.forecast("Uppsala", days=2))
            return "done"


        print("name:", test_forecast.__name__)
        print("returned:", test_forecast())
        ''', mode="1")
    assert out == "name: test_forecast\nforecast: ['sun', 'sun']\nreturned: done\n"
    assert (tmp_path / "mocks" / "forecast.mock").read_text() == (
        "<-PYT:import weather\n" + IMPORT_ARTEFACTS
        + "<-PYT:weather.forecast('Uppsala', days=2)\n->RET:['sun', 'sun']\n")


def test_record_then_replay_without_the_real_module(tmp_path: Path) -> None:
    source = '''
        from capturemock import capturemock


        @capturemock("weather")
        def test_roundtrip():
            import weather
            return weather.temperature("Uppsala")


        print(test_roundtrip())
        '''
    assert run_sut(tmp_path, source, mode="1") == "3.14159\n"
    recorded = (tmp_path / "mocks" / "roundtrip.mock").read_text()
    (tmp_path / "weather.py").unlink()
    assert run_sut(tmp_path, source, weather=False) == "3.14\n"
    assert (tmp_path / "mocks" / "roundtrip.mock").read_text() == recorded
    assert not (tmp_path / "mocks" / "roundtrip.mock.tmp").exists()


def test_replay_answers_from_a_hand_written_mock(tmp_path: Path) -> None:
    mock = store_mock(tmp_path, "weekend", STORED)
    out = run_sut(tmp_path, WEEKEND_TEST.replace("DAYS", "2"), weather=False)
    assert out == "forecast: ['snow', 'hail']\ntemperature: -12.5\nreturned: weekend done\n"
    assert mock.read_text() == STORED
    assert sorted(os.listdir(tmp_path / "mocks")) == ["weekend.mock"]


def test_replay_mismatch_raises_after_the_test_and_keeps_the_transcript(tmp_path: Path) -> None:
    mock = store_mock(tmp_path, "weekend", STORED)
    out = run_sut(tmp_path, WEEKEND_TEST.replace("DAYS", "3"), weather=False)
    assert out == ("forecast: ['snow', 'hail']\ntemperature: -12.5\n"
                   f"CaptureMockReplayError: {MISMATCH_MESSAGE}\n")
    assert mock.read_text() == STORED
    assert (tmp_path / "mocks" / "weekend.mock.tmp").read_text() == STORED.replace("days=2", "days=3")


def test_exception_of_the_test_propagates_without_comparison(tmp_path: Path) -> None:
    mock = store_mock(tmp_path, "broken", STORED)
    out = run_sut(tmp_path, '''
        from capturemock import capturemock


        class Boom(Exception):
            pass


        @capturemock("weather")
        def test_broken():
            import weather
            weather.forecast("Uppsala", days=5)
            raise Boom("the test itself failed")


        try:
            test_broken()
        except Boom as exc:
            print("raised:", repr(exc))
        ''', weather=False)
    assert out == "raised: Boom('the test itself failed')\n"
    assert mock.read_text() == STORED
    assert sorted(os.listdir(tmp_path / "mocks")) == ["broken.mock"]


def test_replay_without_a_mock_leaves_the_function_undecorated(tmp_path: Path) -> None:
    out = run_sut(tmp_path, '''
        import os

        from capturemock import capturemock


        def test_weekend():
            import weather
            return weather.forecast("Uppsala", days=2)


        print(capturemock("weather")(test_weekend) is test_weekend, test_weekend())
        print(os.listdir("mocks"), sorted(k for k in os.environ if k.startswith("CAPTUREMOCK")))
        ''')
    assert out == "True ['sun', 'sun']\n[] []\n"


def test_mixed_mode_with_a_missing_mock_records(tmp_path: Path) -> None:
    out = run_sut(tmp_path, '''
        from capturemock import REPLAY_OLD_RECORD_NEW, capturemock


        @capturemock("weather", mode=REPLAY_OLD_RECORD_NEW)
        def test_fresh():
            import weather
            return weather.temperature("Lund")


        print(test_fresh())
        ''')
    assert out == "8.0\n"
    assert (tmp_path / "mocks" / "fresh.mock").read_text() == (
        "<-PYT:import weather\n" + IMPORT_ARTEFACTS + "<-PYT:weather.temperature('Lund')\n->RET:8.0\n")


def test_mixed_mode_replays_known_calls_and_rewrites_the_mock(tmp_path: Path) -> None:
    mock = store_mock(tmp_path, "week", "<-PYT:weather.forecast('Uppsala', days=2)\n->RET:['storm', 'storm']\n")
    out = run_sut(tmp_path, '''
        from capturemock import REPLAY_OLD_RECORD_NEW, capturemock


        @capturemock("weather", mode=REPLAY_OLD_RECORD_NEW)
        def test_week():
            import weather
            return weather.forecast("Uppsala", days=2), weather.temperature("Lund")


        print(test_week())
        ''')
    assert out == "(['storm', 'storm'], 8.0)\n"
    assert mock.read_text() == (
        "<-PYT:import weather\n" + IMPORT_ARTEFACTS
        + "<-PYT:weather.forecast('Uppsala', days=2)\n->RET:['storm', 'storm']\n"
        + "<-PYT:weather.temperature('Lund')\n->RET:8.0\n")


def test_ignored_callers_use_the_real_module_in_replay_as_while_recording(tmp_path: Path) -> None:
    (tmp_path / "stats.py").write_text("import weather\n\n\ndef lund():\n    return weather.temperature('Lund')\n")
    (tmp_path / "rc").write_text("[python]\nintercepts = weather\nignore_callers = stats\n")
    source = '''
        from capturemock import capturemock


        @capturemock(rcFiles=["rc"])
        def test_both():
            import stats
            import weather
            return weather.temperature("Uppsala"), stats.lund()


        print(test_both())
        '''
    assert run_sut(tmp_path, source, mode="1") == "(3.14159, 8.0)\n"
    mock = tmp_path / "mocks" / "both.mock"
    assert "Lund" not in mock.read_text()
    mock.write_text(mock.read_text().replace("->RET:3.14", "->RET:-12.5"))
    stored = mock.read_text()
    assert run_sut(tmp_path, source) == "(-12.5, 8.0)\n"  # stats reaches the real weather module
    assert mock.read_text() == stored


def test_recording_nothing_keeps_the_old_mock_and_creates_no_new_one(tmp_path: Path) -> None:
    mock = store_mock(tmp_path, "idle", STORED)
    out = run_sut(tmp_path, '''
        from capturemock import RECORD, capturemock


        @capturemock("weather", mode=RECORD)
        def test_idle():
            return "idle"


        @capturemock("weather", mode=RECORD)
        def test_fresh():
            return "fresh"


        print(test_idle(), test_fresh())
        ''')
    assert out == "idle fresh\n"
    assert mock.read_text() == STORED
    assert sorted(os.listdir(tmp_path / "mocks")) == ["idle.mock"]


def test_mocks_go_beside_the_applying_file_with_every_test_prefix_removed(tmp_path: Path) -> None:
    out = run_sut(tmp_path, '''
        from capturemock import RECORD, capturemock


        @capturemock("weather", mode=RECORD)
        def check_test_twice_test_():
            import weather
            return weather.temperature("Lund")


        print(check_test_twice_test_())
        ''', script="tests/test_weather.py")
    assert out == "8.0\n"
    assert not (tmp_path / "mocks").exists()
    assert os.listdir(tmp_path / "tests" / "mocks") == ["check_twice_.mock"]


def test_unittest_methods_record_one_mock_each_and_replay_mismatch_is_an_error(tmp_path: Path) -> None:
    source = '''
        import io
        import unittest

        from capturemock import capturemock


        class WeatherTest(unittest.TestCase):
            @capturemock("weather")
            def test_temperature(self):
                import weather
                self.assertEqual(weather.temperature(CITY), 8.0)

            @capturemock("weather")
            def test_forecast(self):
                import weather
                self.assertEqual(len(weather.forecast("Lund", days=3)), 3)


        runner = unittest.TextTestRunner(stream=io.StringIO())
        result = unittest.main(argv=["sut"], testRunner=runner, exit=False).result
        print(result.testsRun, [(test.id(), trace.strip().splitlines()[-1]) for test, trace in result.errors])
        '''
    assert run_sut(tmp_path, source.replace("CITY", '"Lund"'), mode="1") == "2 []\n"
    assert sorted(os.listdir(tmp_path / "mocks")) == ["forecast.mock", "temperature.mock"]
    (tmp_path / "weather.py").unlink()
    out = run_sut(tmp_path, source.replace("CITY", '"Malmo"'), weather=False)
    assert out == ("2 [('__main__.WeatherTest.test_temperature', "
                   f"'capturemock.errors.CaptureMockReplayError: {MISMATCH_MESSAGE}')]\n")
    assert "weather.temperature('Malmo')" in (tmp_path / "mocks" / "temperature.mock.tmp").read_text()


def test_set_defaults_names_mode_and_rc_files(tmp_path: Path) -> None:
    (tmp_path / "weather.rc").write_text("[python]\nintercepts = weather.temperature\n")
    out = run_sut(tmp_path, '''
        import capturemock

        capturemock.set_defaults(pythonAttrs=["weather"], mode=capturemock.RECORD)


        @capturemock.capturemock
        def test_names():
            import weather
            return weather.forecast("Lund")


        capturemock.set_defaults(rcFiles=["weather.rc"])


        @capturemock.capturemock
        def test_rc():
            import weather
            return weather.forecast("Lund"), weather.temperature("Lund")


        print(test_names(), test_rc())
        ''')
    assert out == "['sun'] (['sun'], 8.0)\n"
    assert (tmp_path / "mocks" / "names.mock").read_text() == (
        "<-PYT:import weather\n" + IMPORT_ARTEFACTS + "<-PYT:weather.forecast('Lund')\n->RET:['sun']\n")
    assert (tmp_path / "mocks" / "rc.mock").read_text() == "<-PYT:weather.temperature('Lund')\n->RET:8.0\n"


@pytest.fixture
def restore_defaults():
    saved = (CaptureMockDecorator.defaultMode, CaptureMockDecorator.defaultPythonAttrs,
             CaptureMockDecorator.defaultRcFiles)
    yield
    (CaptureMockDecorator.defaultMode, CaptureMockDecorator.defaultPythonAttrs,
     CaptureMockDecorator.defaultRcFiles) = saved


def test_set_defaults_rules(restore_defaults) -> None:
    set_defaults(pythonAttrs="weather", mode=RECORD, rcFiles=["a.rc"])
    set_defaults(mode=None, rcFiles=[])
    decorator = CaptureMockDecorator()
    assert (decorator.pythonAttrs, decorator.mode, decorator.rcFiles) == ([], RECORD, ["a.rc"])
    decorator = CaptureMockDecorator("mail", mode=REPLAY_OLD_RECORD_NEW, rcFiles="b.rc")
    assert (decorator.pythonAttrs, decorator.mode, decorator.rcFiles) == (["mail"], REPLAY_OLD_RECORD_NEW, ["b.rc"])


@pytest.mark.parametrize("mode", ["fast", "3", 7, 3, True])
def test_an_unknown_mode_is_a_clean_config_error(mode, restore_defaults) -> None:
    with pytest.raises(ConfigError, match="unknown capturemock mode") as caught:
        capturemock("weather", mode=mode)
    assert "\n" not in str(caught.value)
    with pytest.raises(ConfigError):
        set_defaults(mode=mode)


def test_a_bad_environment_mode_is_a_clean_error_when_decorating(tmp_path: Path) -> None:
    (tmp_path / "sut.py").write_text("from capturemock import capturemock\n\n@capturemock('weather')\n"
                                     "def test_x():\n    pass\n")
    env = dict(os.environ, CAPTUREMOCK_MODE="recrod")
    proc = subprocess.run([sys.executable, "sut.py"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.splitlines()[-1] == (
        "capturemock.errors.ConfigError: unknown capturemock mode 'recrod' in environment variable "
        "CAPTUREMOCK_MODE: use 0 (REPLAY, replay), 1 (RECORD, record), 2 (REPLAY_OLD_RECORD_NEW, mixed)")
    assert not (tmp_path / "mocks").exists()


def test_default_mode_is_replay_without_environment() -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("CAPTUREMOCK")}
    proc = subprocess.run([sys.executable, "-c", "from capturemock import CaptureMockDecorator as D; "
                           "print(D.defaultMode)"], env=env, capture_output=True, text=True, timeout=60)
    assert proc.stdout == f"{REPLAY}\n"
