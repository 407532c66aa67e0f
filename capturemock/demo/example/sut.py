"""The system under test of the demo: uses a Python module and an external program."""
import subprocess

import weather

print("Temperature in Oslo:", weather.get_temperature("Oslo"))
station = weather.Station("Bergen")
print("Bergen station reports", station.reading())
fortune = subprocess.run(["fortune", "--short"], capture_output=True, text=True)
print("fortune says:", fortune.stdout.strip())
