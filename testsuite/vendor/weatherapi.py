"""Stands in for a vendor's weather service client: every answer changes from run to run, as a live
service's would, so only a replayed mock gives a test stable output."""
import random
import time

API_VERSION = "3.1"
SESSION = f"session-{random.randint(1000, 9999)}"  # decided at import, like a login token


def live_temperature():
    """A fresh reading, always with a 5 in the hundredths: the mocks hold readings with one decimal,
    so a live answer can never happen to equal a recorded one and a test expecting a difference
    cannot pass or fail by chance (one decimal alone coincided once in ~350 runs)."""
    return round(random.randint(-50, 299) / 10 + 0.05, 2)


class StationError(Exception):
    """The service's own error: carries the station's name as a second argument."""

    def __init__(self, message, station):
        super().__init__(message, station)
        self.station = station


class Sensor:
    def __init__(self, kind):
        self.kind = kind

    def read(self):
        return live_temperature()


class Instrument:
    """A plain base class: a program may check isinstance against it."""

    def describe(self):
        return f"{type(self).__name__} {self.name}"


class Station(Instrument):
    def __init__(self, name):
        if name == "Atlantis":
            raise StationError(f"no station called {name}", name)
        self.name = name
        self.altitude = random.randint(0, 2000)
        self.sensor = Sensor("thermometer")

    def __str__(self):
        return f"station {self.name} ({self.altitude} m)"

    @property
    def status(self):
        return random.choice(["ok", "degraded", "maintenance"])

    def reading(self):
        return f"{live_temperature()} C at {time.strftime('%H:%M:%S')}"

    def forecast(self, days=2):
        return {"station": self.name, "days": [live_temperature() for _ in range(days)],
                "issued": time.strftime("%H:%M:%S")}


class Scale:
    """A callable object: converts a temperature with a factor chosen at random per instance."""

    def __init__(self):
        self.factor = random.randint(2, 9)

    def __call__(self, value):
        return value * self.factor


def get_temperature(city):
    return live_temperature()


def stations(*names):
    return [Station(name) for name in names]


def nearest(city):
    return Station(f"{city}-{random.randint(1, 99)}")


def compare(first, second):
    return f"{first.name} is {random.randint(1, 500)} km from {second.name}"


def readings(count):
    """A generator: the service streams readings."""
    for _ in range(count):
        yield live_temperature()


def subscribe(callback, count=3):
    """Calls the program back with each new reading; returns how many the program accepted."""
    return sum(1 for _ in range(count) if callback(live_temperature()))


def scale():
    return Scale()


def describe_service():
    """Deterministic: what a logging helper asks."""
    return f"weather service v{API_VERSION}"


def storm_warning(region):
    if region == "north":
        raise ValueError(f"no forecasts for region {region!r} at {time.strftime('%H:%M:%S')}")
    return random.choice([True, False])


def upload_dir():
    """A run-dependent path, as services hand out temporary locations."""
    return f"/tmp/upload-{random.randint(100000, 999999)}/data.csv"


units = "C"


def convert(value):
    return f"{value} {units} ({random.randint(1, 9)})"
