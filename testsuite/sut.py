#!/usr/bin/env python3
"""The system under test of capturemock's acceptance suite; the first argument picks the scenario:
a name below, or `module:story [args]` for a story function of a module in stories/."""
import datetime
import importlib
import os
import subprocess
import sys


def quotes_scenario():
    import quotes

    session = quotes.connect("alice")
    print("ACME:", session.price("ACME"))
    print("history:", session.history("ACME", days=2))
    try:
        session.price("NOPE")
    except quotes.QuoteError as err:
        print("error:", err)


def today_scenario():
    print("report date:", datetime.date.today().isoformat())


def deploy_scenario():
    os.makedirs("site", exist_ok=True)  # must exist before the call so its edits are watched
    result = subprocess.run(["deploy", "site"], capture_output=True, text=True)
    print("deploy said:", result.stdout.strip(), "status", result.returncode)
    with open(os.path.join("site", "status.txt")) as status:
        print("status file:", status.read().strip())


def failing_scenario():
    result = subprocess.run(["deploy", "prod"], capture_output=True, text=True)
    print("status", result.returncode, "stderr:", result.stderr.strip())


SCENARIOS = {"quotes": quotes_scenario, "today": today_scenario, "deploy": deploy_scenario,
             "failing": failing_scenario}


def run_story(spec, args):
    module, _, function = spec.partition(":")
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "stories"))
    getattr(importlib.import_module(module), function)(*args)


if __name__ == "__main__":
    if ":" in sys.argv[1]:
        run_story(sys.argv[1], sys.argv[2:])
    else:
        for name in sys.argv[1:]:
            SCENARIOS[name]()
