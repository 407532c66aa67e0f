"""User stories of Python interception: each function is one test's program (options.cm names it)."""
import datetime
import logging
import os
import random
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


# modules
def module_function():
    import weatherapi

    for city in ("Oslo", "Lima"):
        print(city, weatherapi.get_temperature(city))


def module_constants():
    import weatherapi

    print("API", weatherapi.API_VERSION, "logged in as", weatherapi.SESSION)


def from_import():
    from weatherapi import API_VERSION, get_temperature

    print(f"v{API_VERSION}: Oslo is {get_temperature('Oslo')}")


def module_assignment():
    import weatherapi

    weatherapi.units = "F"
    print("converted:", weatherapi.convert(20))


# attributes
def instance_attributes():
    import weatherapi

    station = weatherapi.Station("Bergen")
    print(station.name, "at", station.altitude, "m")


def property_read():
    import weatherapi

    station = weatherapi.Station("Bergen")
    print("status now:", station.status, "and again:", station.status)


def attribute_object():
    import weatherapi

    sensor = weatherapi.Station("Bergen").sensor
    print(sensor.kind, "reads", sensor.read())


def assigned_attribute():
    import weatherapi

    main, backup = weatherapi.Station("Bergen"), weatherapi.Station("Voss")
    main.backup = backup
    print("backup reads", main.backup.reading())


# bound methods and classes
def bound_method_only():
    import weatherapi

    station = weatherapi.Station("Bergen")
    print(station.name, "reads", station.reading())


def class_only():
    import weatherapi

    station = weatherapi.Station("Bergen")
    print("is an instrument:", isinstance(station, weatherapi.Instrument))
    print(station.describe(), "reads", station.reading())


def method_returning_dict():
    import weatherapi

    forecast = weatherapi.Station("Bergen").forecast(days=3)
    print("forecast for", forecast["station"], "issued", forecast["issued"], ":", forecast["days"])


# instances
def named_instances():
    import weatherapi

    bergen, oslo = weatherapi.Station("Bergen"), weatherapi.Station("Oslo")
    print("Bergen:", bergen.reading())
    print("Oslo:", oslo.reading())


def instance_list():
    import weatherapi

    for station in weatherapi.stations("Bodo", "Tromso"):
        print(station.name, station.reading())


def instance_as_argument():
    import weatherapi

    print(weatherapi.compare(weatherapi.Station("Bergen"), weatherapi.Station("Oslo")))


def callable_instance():
    import weatherapi

    to_kelvinish = weatherapi.scale()
    print("scaled:", to_kelvinish(2), to_kelvinish(5))


def instance_from_function():
    import weatherapi

    station = weatherapi.nearest("Oslo")
    print("nearest is", station.name, "reading", station.reading())


def instance_str_and_repr():
    import weatherapi

    station = weatherapi.Station("Bergen")
    print("str:", str(station))
    print("repr:", repr(station).split(" object at ")[0])


# exceptions
def vendor_exception_caught():
    import weatherapi

    try:
        weatherapi.Station("Atlantis")
    except weatherapi.StationError as err:
        print("refused:", err.args[0], "| station:", err.station)


def builtin_exception_caught():
    import weatherapi

    try:
        weatherapi.storm_warning("north")
    except ValueError as err:
        print("no warning:", err)
    print("south:", weatherapi.storm_warning("south"))


def uncaught_exception():
    import weatherapi

    print("asking about the north")
    sys.stdout.flush()
    weatherapi.storm_warning("north")


def submodule_exception_caught():
    from shop import payments

    for card in ("4111222233334444", "4111222233330000"):
        try:
            print("charged:", payments.charge(12.5, card))
        except payments.PaymentDeclined as err:
            print("declined:", err)


# callbacks
def callback_called():
    import weatherapi

    def on_reading(value):
        print("callback got", value)
        return True

    print("accepted", weatherapi.subscribe(on_reading), "readings")


def callback_decides():
    import weatherapi

    def warm_only(value):
        return value > 12

    print("warm readings:", weatherapi.subscribe(warm_only, count=5))


def same_callback_twice():
    import weatherapi

    def ack(value):
        print("ack", value)
        return True

    print("first batch", weatherapi.subscribe(ack, count=1))
    print("second batch", weatherapi.subscribe(ack, count=2))


# iterators
def for_loop_over_generator():
    import weatherapi

    for value in weatherapi.readings(3):
        print("reading", value)


def list_of_generator():
    import weatherapi

    print("all readings:", list(weatherapi.readings(4)))


def next_until_exhausted():
    import weatherapi

    stream = weatherapi.readings(2)
    print("first", next(stream))
    print("second", next(stream))
    print("third", next(stream, "none left"))


def sum_of_generator():
    import weatherapi

    print("total", round(sum(weatherapi.readings(5)), 1))


# sub-modules
def submodule_import():
    import shop.payments

    print("paid:", shop.payments.charge(30, "4111222233334444"))


def package_own_submodule():
    import shop

    cart = shop.cart.open_cart("ann")
    print("SDK", shop.VERSION, "line", cart.add("tea", 2), "total", cart.total())


def submodule_only():
    from shop import cart, payments

    basket = cart.open_cart("ann")  # the real cart: deterministic parts only are printed
    basket.add("tea")
    print("owner", basket.owner, "items", basket.items)
    print("paid:", payments.charge(3, "4111222233334444"))


def from_submodule_import():
    from shop.cart import open_cart

    cart = open_cart("bob")
    print("line", cart.add("coffee"), "for", cart.owner)


# partial interception
def time_elapsed():
    start = time.time()
    time.sleep(0.01)
    print("started at", start, "took", round(time.time() - start, 2), "s")


def random_choice():
    colours = ["red", "green", "blue"]
    print("picked", random.choice(colours), "then", random.choice(colours))


def datetime_now():
    now = datetime.datetime.now()
    print("stamp", now.strftime("%Y-%m-%d %H:%M"), "weekday", now.isoweekday())


def vendor_function_only():
    import weatherapi

    print(weatherapi.describe_service(), "says Oslo is", weatherapi.get_temperature("Oslo"))


# child processes
def child_process():
    print("parent starts a child")
    sys.stdout.flush()
    subprocess.run([sys.executable, os.path.join(HERE, "child_report.py"), "Oslo"], check=True)


def parent_and_children():
    import weatherapi

    print("parent sees", weatherapi.get_temperature("Bergen"))
    sys.stdout.flush()
    for city in ("Oslo", "Lima"):
        subprocess.run([sys.executable, os.path.join(HERE, "child_report.py"), city], check=True)
    print("parent sees", weatherapi.get_temperature("Bergen"))


# ignore_callers
def ignored_helper():
    import audit
    import weatherapi

    audit.log_service()
    print("Oslo", weatherapi.get_temperature("Oslo"))


def stdlib_formats_instance():
    import weatherapi

    logging.basicConfig(stream=sys.stdout, format="%(levelname)s %(message)s", level=logging.INFO)
    station = weatherapi.nearest("Bergen")
    logging.info("using %s", station)  # logging calls str() on it
    print("reading", station.reading())


# alterations
def altered_path():
    import weatherapi

    path = weatherapi.upload_dir()
    print("upload to a file called", os.path.basename(path))


def altered_exception_text():
    import weatherapi

    try:
        weatherapi.storm_warning("north")
    except ValueError as err:
        print("no warning:", str(err).split(" at ")[0])


# repeated calls
def polling_loop():
    import weatherapi

    print("polled", [weatherapi.get_temperature("Oslo") for _ in range(4)])
