"""The README's demo command: record the bundled example for real, replay it with the real things gone."""
import subprocess
import sys


def test_demo_records_then_replays_identically():
    proc = subprocess.run([sys.executable, "-m", "capturemock.demo"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "<-PYT:weather.get_temperature('Oslo')" in proc.stdout
    assert "<-CMD:fortune --short" in proc.stdout
    assert "replayed output identical to recorded output: True" in proc.stdout
    assert "replay transcript identical to the mock file:   True" in proc.stdout
