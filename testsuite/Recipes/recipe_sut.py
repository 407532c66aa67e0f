#!/usr/bin/env python3
"""The system under test of the recipe tests: the first argument names the recipe whose traffic it makes.

Recording needs the real things: an SMTP server on 127.0.0.1:8025 (``python3.11 -m smtpd -n -c
DebuggingServer 127.0.0.1:8025``) and a web server on 127.0.0.1:8026 serving page.txt (``python3 -m
http.server -b 127.0.0.1 8026`` in a directory holding it), and the requests package; replay needs none of them.
"""
import os
import subprocess
import sys


def run(*argv):
    result = subprocess.run(argv, capture_output=True, text=True)
    print(f"{' '.join(argv)}: status {result.returncode}, out {result.stdout.strip()!r}, err {result.stderr.strip()!r}")


def smtplib_scenario():
    import smtplib

    with smtplib.SMTP("127.0.0.1", 8025) as server:
        refused = server.sendmail("ci@example.com", ["team@example.com"], "Subject: nightly\n\nall green\n")
    print("mail sent, refused:", refused)


def urllib_scenario():
    import urllib.error
    import urllib.request

    with urllib.request.urlopen("http://127.0.0.1:8026/page.txt") as response:
        print(response.status, response.headers["Content-Type"], response.read().decode().strip())
    try:
        urllib.request.urlopen("http://127.0.0.1:8026/missing")
    except urllib.error.HTTPError as error:
        print("error", error.code)


def requests_scenario():  # the same pages as urllib_scenario, through the requests package
    import requests

    response = requests.get("http://127.0.0.1:8026/page.txt", timeout=10)
    print(response.status_code, response.headers["Content-Type"], response.text.strip())
    try:
        requests.get("http://127.0.0.1:8026/missing", timeout=10).raise_for_status()
    except requests.HTTPError as error:
        print("error", error.response.status_code)


def datetime_scenario():
    import datetime
    import time

    print("today", datetime.date.today(), "now", datetime.datetime.now(), "utc", datetime.datetime.utcnow())
    print("time", int(time.time()), time.strftime("%Y-%m-%d %H:%M"), time.ctime())  # time.time: 2 decimals recorded


def hostname_scenario():
    import platform
    import socket

    print("host", socket.gethostname(), "node", platform.node())


def username_scenario():
    import getpass

    print("user", getpass.getuser())


def environ_scenario():
    print("HOME", os.environ["HOME"], "SHELL", os.environ.get("SHELL"), "LANG", os.getenv("LANG"),
          "CI set:", "CI" in os.environ)


def uuid_scenario():
    import uuid

    print("uuid4", uuid.uuid4(), "uuid1 version", uuid.uuid1().version)


def random_scenario():  # floats are recorded to 2 decimals (float_precision)
    import random

    print("random", round(random.random(), 2), random.randint(1, 6), random.choice("abc"), random.sample(range(10), 3))
    print("dice", random.Random().randint(1, 6))


SCENARIOS = {
    "smtplib": smtplib_scenario, "urllib": urllib_scenario, "requests": requests_scenario, "datetime": datetime_scenario,
    "hostname": hostname_scenario, "username": username_scenario, "environ": environ_scenario,
    "uuid": uuid_scenario, "random": random_scenario,
    "git": lambda: (run("git", "--version"), run("git", "rev-parse", "--is-inside-work-tree")),
    "ssh": lambda: (run("ssh", "-V"), run("scp")),
    "docker": lambda: run("docker", "--version"),
    "kubectl": lambda: run("kubectl", "version", "--client"),
}

if __name__ == "__main__":
    for name in sys.argv[1:]:
        SCENARIOS[name]()
