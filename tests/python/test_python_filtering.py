"""Who is intercepted and what gets written: callers, repeats, alterations, late interception."""
from __future__ import annotations

import os
import sys
import threading

import pytest

from capturemock import RECORD, REPLAY, REPLAY_OLD_RECORD_NEW

COUNTER = """
    _value = [0]

    def bump(label):
        _value[0] += 1
        return "%s=%d" % (label, _value[0])

    def bump_twice(label):
        bump(label)
        return bump(label)
"""


def test_stdlib_callers_including_frozen_modules_are_not_intercepted(sandbox):
    with sandbox.intercept(RECORD, ["os.fspath"]):
        assert os.fspath("here") == "here"
        assert os.path.join("a", "b") == "a/b"  # posixpath (frozen on 3.11+) calls os.fspath itself
    assert sandbox.recorded() == "<-PYT:os.fspath('here')\n->RET:'here'\n"
    assert os.path.join.__code__.co_filename.startswith(("<frozen", "/"))


def test_ignore_callers_and_calls_made_inside_intercepted_code(sandbox):
    sandbox.module("counter", COUNTER)
    sandbox.module("audit", "import counter\n\ndef log(name):\n    return counter.bump(name)\n")
    rc = sandbox.rc("[python]\nintercepts = counter\nignore_callers = audit\n")
    with sandbox.intercept(RECORD, rc=rc):
        import audit
        import counter
        assert [counter.bump("main"), audit.log("ignored"), counter.bump_twice("nested")] == \
            ["main=1", "ignored=2", "nested=4"]
    assert sandbox.recorded().endswith(
        "<-PYT:counter.bump('main')\n->RET:'main=1'\n<-PYT:counter.bump_twice('nested')\n->RET:'nested=4'\n")


AUDIT = """
    import counter

    def log(name):
        return counter.bump(name)

    def limit():
        return counter.LIMIT, type(counter.Box()).__module__
"""


@pytest.mark.parametrize("mode", [REPLAY, REPLAY_OLD_RECORD_NEW])
def test_ignored_callers_reach_the_real_module_in_replay_too(sandbox, mode):
    sandbox.module("counter", COUNTER + "\n    LIMIT = 7\n\n    class Box:\n        pass\n")
    sandbox.module("audit", AUDIT)
    rc = sandbox.rc("[python]\nintercepts = counter\nignore_callers = audit\n")
    with sandbox.intercept(RECORD, rc=rc):
        import audit
        import counter
        assert [counter.bump("main"), audit.log("ignored"), counter.bump("again")] == \
            ["main=1", "ignored=2", "again=3"]
    recorded = sandbox.recorded()
    replay = sandbox.mock(recorded.replace("main=1", "main=replayed"))
    with sandbox.intercept(mode, rc=rc, replay=replay):
        import audit
        import counter
        assert counter.bump("main") == "main=replayed"
        assert (audit.log("ignored"), audit.limit()) == ("ignored=1", (7, "counter"))  # real, unrecorded
        assert counter.bump("again") == "again=3"
    assert sandbox.recorded() == recorded.replace("main=1", "main=replayed")


def test_stdlib_callers_reach_the_real_module_in_replay_as_while_recording(sandbox):
    sandbox.module("counter", COUNTER)

    def run():
        import counter
        worker = threading.Thread(target=counter.bump, args=("thread",))  # threading calls it: stdlib
        worker.start()
        worker.join()
        return counter.bump("main")

    with sandbox.intercept(RECORD, ["counter"]):
        assert run() == "main=2"
    recorded = sandbox.recorded()
    with sandbox.intercept(REPLAY, ["counter"], replay=sandbox.mock(recorded)):
        assert run() == "main=2"
    assert sandbox.recorded() == recorded


def test_check_repeated_calls_per_intercept_entry(sandbox):
    sandbox.module("sensor", COUNTER)
    sandbox.module("probe", COUNTER)
    rc = sandbox.rc("[python]\nintercepts = sensor, probe\n\n[sensor]\ncheck_repeated_calls = False\n")
    with sandbox.intercept(RECORD, rc=rc):
        import probe
        import sensor
        assert [sensor.bump("a"), sensor.bump("b"), probe.bump("p"), probe.bump("p")] == \
            ["a=1", "b=2", "p=1", "p=2"]
    recorded = sandbox.recorded()
    assert "sensor.bump('a')" in recorded and "sensor.bump('b')" not in recorded
    assert recorded.count("<-PYT:probe.bump('p')") == 2


def test_alterations_rewrite_text_and_variables_do_not_crash(sandbox):
    sandbox.module("auth", """
        def login(user):
            return "token=%s session=S-%d" % (user[::-1], len(user) * 1000 + 1)
        def whoami(session):
            return session
    """)
    rc = sandbox.rc("""
        [general]
        alterations = token
        [python]
        intercepts = auth
        alterations = session_id
        [token]
        match_pattern = token=[a-z]+
        replacement = $token
        [session_id]
        match_pattern = S-(\\d)\\d+
        replacement = S-\\1xxx
    """)
    with sandbox.intercept(RECORD, rc=rc):
        import auth
        assert auth.login("eve") == "token=eve session=S-3001"
        auth.login("bob")
        auth.whoami("S-3001")
    assert sandbox.recorded().endswith(sandbox.lines("""
        <-PYT:auth.login('eve')
        ->RET:'$token session=S-3xxx'
        <-PYT:auth.login('bob')
        ->RET:'$token_2 session=S-3xxx'
        <-PYT:auth.whoami('S-3xxx')
        ->RET:'S-3xxx'
    """))
    replay = sandbox.mock(sandbox.recorded())
    sandbox.remove("auth")
    with sandbox.intercept(REPLAY, rc=rc, replay=replay):
        import auth
        assert auth.whoami("S-3999") == "S-3xxx"  # the live text is altered before lookup


def test_late_interception_warns_and_reset_leaves_no_dead_proxy(sandbox, capsys):
    sandbox.module("ledger", "def balance():\n    return 120\n")
    sandbox.module("app", "import ledger as books\n\ndef run():\n    return books.balance()\n")
    import app
    with sandbox.intercept(RECORD, ["ledger"]):
        assert app.run() == 120
        assert type(app.books).__name__ == "Proxy"
    assert capsys.readouterr().out == (
        "WARNING: having to reset the variable 'app.books'.\n"
        "This implies you are intercepting the module 'ledger' after importing it.\n"
        "While this might work, it may well be very slow and is not recommended.\n\n")
    assert sandbox.recorded() == "<-PYT:import ledger\n<-PYT:ledger.balance()\n->RET:120\n"
    assert type(app.books).__name__ == "module" and "ledger" not in sys.modules  # the sandbox forgot it
    assert app.run() == 120


def test_a_proxy_kept_after_reset_forwards_to_the_real_module(sandbox):
    sandbox.module("ledger", "def balance():\n    return 120\n")
    with sandbox.intercept(RECORD, ["ledger"]):
        import ledger
        assert ledger.balance() == 120
    recorded = sandbox.recorded()
    assert ledger.balance() == 120
    assert sandbox.recorded() == recorded


def test_global_check_repeated_calls(sandbox):
    sandbox.module("sensor", COUNTER)
    rc = sandbox.rc("[python]\nintercepts = sensor\ncheck_repeated_calls = false\n")
    with sandbox.intercept(RECORD, rc=rc):
        import sensor
        assert [sensor.bump("a"), sensor.bump("a"), sensor.bump_twice("b")] == ["a=1", "a=2", "b=4"]
    assert sandbox.recorded().endswith(
        "<-PYT:sensor.bump('a')\n->RET:'a=1'\n<-PYT:sensor.bump_twice('b')\n->RET:'b=4'\n")
