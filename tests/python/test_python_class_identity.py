"""Class identity of what replay and interception hand out: ``isinstance`` and ``except`` (§6.4, §6.9).

Mixed mode has the real module behind its proxy: a replayed instance or exception must be of the very
class ``mod.Class`` gives the program, whichever comes first, without mock text calling that real class.
"""
from __future__ import annotations

import sys

import pytest

from capturemock import RECORD, REPLAY, REPLAY_OLD_RECORD_NEW

QUOTES = """
    CONSTRUCTED = []

    class QuoteError(Exception):
        pass

    class Base:
        def __new__(cls, *args):
            CONSTRUCTED.append(cls.__name__)
            return super().__new__(cls)

        def kind(self):
            return "base"

    class Session(Base):
        def __init__(self, user):
            self.user = user

        def price(self, symbol):
            if symbol == "NOPE":
                raise QuoteError("unknown symbol " + symbol)
            return 1.5

    def connect(user):
        return Session(user)

    def volume(symbol):
        return 1000
"""

QUOTES_MOCK = """
    <-PYT:import quotes
    <-PYT:quotes.connect('alice')
    ->RET:Instance('Session(Base)', 'session_alice')
    <-PYT:session_alice.price('NOPE')
    ->RET:raise Instance('QuoteError(Exception)', 'quoteerror_nope')
    <-PYT:quoteerror_nope.__str__()
    ->RET:'unknown symbol NOPE'
"""


def real_module(name):
    """The real module behind a module proxy: its own state, read without traffic."""
    return object.__getattribute__(sys.modules[name], "_cm").target


@pytest.mark.parametrize("classes_first", [False, True], ids=["replayed-first", "classes-first"])
def test_mixed_mode_replays_instances_and_exceptions_of_the_modules_own_classes(sandbox, classes_first):
    sandbox.module("quotes", QUOTES)
    replay = sandbox.mock(QUOTES_MOCK)
    with sandbox.intercept(REPLAY_OLD_RECORD_NEW, ["quotes"], replay=replay):
        import quotes
        if classes_first:
            early = (quotes.Session, quotes.Base, quotes.QuoteError)
        session = quotes.connect("alice")
        try:
            session.price("NOPE")
        except quotes.QuoteError as exc:
            caught = str(exc)
        assert caught == "unknown symbol NOPE"
        assert isinstance(session, quotes.Session) and isinstance(session, quotes.Base)
        assert issubclass(quotes.Session, quotes.Base)
        if classes_first:
            assert early == (quotes.Session, quotes.Base, quotes.QuoteError)
        assert quotes.volume("ACME") == 1000  # new traffic after the replayed raise is recorded
        assert real_module("quotes").CONSTRUCTED == []  # the mock text made no real Session
    assert sandbox.recorded().endswith("<-PYT:quotes.volume('ACME')\n->RET:1000\n")


def test_mixed_mode_objects_made_for_real_are_of_the_class_replay_used(sandbox):
    sandbox.module("quotes", QUOTES)
    replay = sandbox.mock(QUOTES_MOCK)
    with sandbox.intercept(REPLAY_OLD_RECORD_NEW, ["quotes"], replay=replay):
        import quotes
        replayed = quotes.connect("alice")
        made = quotes.Session("bob")  # never recorded: constructed for real
        assert type(made) is type(replayed) is quotes.Session
        assert made.price("ACME") == 1.5
    assert "<-PYT:quotes.Session('bob')\n->RET:Instance('Session(Base)', 'session_bob')\n" in sandbox.recorded()


def test_intercepting_a_class_keeps_its_non_intercepted_bases(sandbox):
    sandbox.module("quotes", QUOTES)
    rc = sandbox.rc("[python]\nintercepts = quotes.Session\n")
    with sandbox.intercept(RECORD, rc=rc):
        import quotes
        session = quotes.Session("alice")
        assert isinstance(session, quotes.Session) and isinstance(session, quotes.Base)
        assert issubclass(quotes.Session, quotes.Base)
        assert (session.price("ACME"), session.kind()) == (1.5, "base")  # both traffic, Base's too
    recorded = sandbox.recorded()
    assert recorded == sandbox.lines("""
        <-PYT:quotes.Session('alice')
        ->RET:Instance('Session(quotes.Base)', 'session_alice')
        <-PYT:session_alice.price('ACME')
        ->RET:1.5
        <-PYT:session_alice.kind()
        ->RET:'base'
    """)
    replay = sandbox.mock(recorded.replace("'base'", "'replayed'"))
    with sandbox.intercept(REPLAY, rc=rc, replay=replay):
        import quotes
        quotes.CONSTRUCTED.clear()
        session = quotes.Session("alice")
        assert isinstance(session, quotes.Base)
        assert (session.price("ACME"), session.kind()) == (1.5, "replayed")
        assert quotes.CONSTRUCTED == []  # Base.__new__ is real code: replay never runs it
    assert sandbox.recorded() == recorded.replace("'base'", "'replayed'")


def test_mixed_mode_exception_of_an_intercepted_packages_sub_module_is_caught(sandbox):
    # the package is intercepted, the exception's class lives in a sub-module the program imports: the
    # replayed raise must be of the class ``payments.Declined`` gives the program (2.10 catches it too)
    sandbox.module("shop.payments", """
        class Declined(Exception):
            pass

        def charge(card):
            raise Declined("card " + card)
    """)
    replay = sandbox.mock("""
        <-PYT:import shop.payments
        <-PYT:shop.payments.charge('0000')
        ->RET:raise Instance('Declined(Exception)', 'declined_0000')
        <-PYT:declined_0000.__str__()
        ->RET:'card 0000 declined'
    """)
    with sandbox.intercept(REPLAY_OLD_RECORD_NEW, ["shop"], replay=replay):
        from shop import payments
        try:
            payments.charge("0000")
        except payments.Declined as exc:  # read after the raise, as a program's except clause does
            caught = exc
        assert str(caught) == "card 0000 declined"
        assert type(caught).__module__ == "shop.payments"
