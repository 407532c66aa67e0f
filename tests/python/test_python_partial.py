"""Partial interception by dotted name, and putting everything back (§6.2, §6.4)."""
from __future__ import annotations

import datetime
import sys

import pytest

from capturemock import RECORD, REPLAY
from capturemock.errors import CaptureMockError
from capturemock.python.api import interceptPython

TARIFFS = """
    VAT_RATE = 0.25
    CURRENCY = "SEK"

    def gross(net):
        return net * (1 + VAT_RATE)

    class Base:
        def ident(self):
            return "base-ident"

    class Client(Base):
        DEFAULT_PORT = 8080
        def __init__(self, host):
            self.host = host
        @staticmethod
        def protocol():
            return "rpc/2"
        def url(self):
            return "rpc://" + self.host

    class Account:
        def __init__(self, owner):
            self.owner = owner
        def balance(self, currency):
            return {"eve": 10, "bob": 20}[self.owner]
"""


def test_constant_is_fetched_once_at_interception_time(sandbox):
    sandbox.module("tariffs", TARIFFS)
    with sandbox.intercept(RECORD, ["tariffs.VAT_RATE"]):
        import tariffs
        assert (tariffs.VAT_RATE, tariffs.VAT_RATE, tariffs.CURRENCY) == (0.25, 0.25, "SEK")
    assert sandbox.recorded() == "<-PYT:tariffs.VAT_RATE\n->RET:0.25\n"
    replay = sandbox.mock("<-PYT:tariffs.VAT_RATE\n->RET:0.12\n")
    with sandbox.intercept(REPLAY, ["tariffs.VAT_RATE"], replay=replay):
        import tariffs
        assert (tariffs.VAT_RATE, round(tariffs.gross(100), 2)) == (0.12, 112.0)
    import tariffs
    assert tariffs.VAT_RATE == 0.25  # restored


def test_class_by_dotted_name(sandbox):
    sandbox.module("tariffs", TARIFFS)
    with sandbox.intercept(RECORD, ["tariffs.Client"]):
        import tariffs
        client = tariffs.Client("db")
        assert (tariffs.Client.protocol(), tariffs.Client.DEFAULT_PORT, client.url(), client.ident()) == \
            ("rpc/2", 8080, "rpc://db", "base-ident")
        assert tariffs.gross(100) == 125.0
    assert sandbox.recorded() == sandbox.lines("""
        <-PYT:tariffs.Client('db')
        ->RET:Instance('Client(tariffs.Base)', 'client_db')
        <-PYT:tariffs.Client.protocol()
        ->RET:'rpc/2'
        <-PYT:tariffs.Client.DEFAULT_PORT
        ->RET:8080
        <-PYT:client_db.url()
        ->RET:'rpc://db'
        <-PYT:client_db.ident()
        ->RET:'base-ident'
    """)


def test_bound_method_interception(sandbox):
    sandbox.module("tariffs", TARIFFS)
    with sandbox.intercept(RECORD, ["tariffs.Account.balance"]):
        import tariffs
        assert (tariffs.Account("eve").balance("SEK"), tariffs.Account("bob").balance("SEK")) == (10, 20)
    assert sandbox.recorded() == sandbox.lines("""
        <-PYT:tariffs.Account.balance('SEK')
        ->RET:10
        <-PYT:tariffs.Account.balance('SEK')
        ->RET:20
    """)
    replay = sandbox.mock(sandbox.recorded().replace("->RET:10", "->RET:99"))
    with sandbox.intercept(REPLAY, ["tariffs.Account.balance"], replay=replay):
        import tariffs
        assert tariffs.Account("eve").balance("SEK") == 99
    import tariffs
    assert tariffs.Account("eve").balance("SEK") == 10  # the real method is back


def test_builtin_class_attribute_via_forwarding_class(sandbox):
    replay = sandbox.mock("<-PYT:datetime.date.today()\n->RET:datetime.date(2011, 6, 15)\n")
    real_date = datetime.date
    with sandbox.intercept(REPLAY, ["datetime.date.today"], replay=replay):
        today = datetime.date.today()
        assert today == real_date(2011, 6, 15) and type(today).__name__ == "date"
        assert datetime.date(2010, 5, 4).isoformat() == "2010-05-04"
        assert isinstance(real_date(2000, 1, 1), datetime.date)
    assert datetime.date is real_date
    assert sandbox.recorded() == "<-PYT:datetime.date.today()\n->RET:datetime.date(2011, 6, 15)\n"


def test_missing_names_are_silently_ignored(sandbox):
    sandbox.module("tariffs", TARIFFS)
    with sandbox.intercept(RECORD, ["tariffs.NO_SUCH", "no_such_package.thing"]):
        import tariffs
        assert tariffs.gross(1) == 1.25
    assert not sandbox.record.exists()


def test_a_dotted_name_not_yet_importable_is_patched_when_its_module_is_imported(sandbox, tmp_path, monkeypatch):
    """As under sitecustomize, where the program's own directory is not on sys.path yet."""
    later = tmp_path / "later"
    later.mkdir()
    (later / "billing.py").write_text("def total(n):\n    return n * 100\n")
    with sandbox.intercept(RECORD, ["billing.total"]) as handler:
        finder = handler.patcher._on_import
        assert finder in sys.meta_path and "billing" not in sys.modules
        monkeypatch.syspath_prepend(str(later))
        import billing
        assert billing.total(2) == 200
        assert finder not in sys.meta_path  # every pending name patched: the finder steps out
    assert sandbox.recorded() == "<-PYT:billing.total(2)\n->RET:200\n"
    assert billing.total(3) == 300  # put back by resetIntercepts
    with sandbox.intercept(RECORD, ["never.there.at_all"]) as handler:
        assert handler.patcher._on_import in sys.meta_path
    assert handler.patcher is None and not any(type(f).__name__ == "PatchOnImport" for f in sys.meta_path)


def test_a_dotted_module_is_intercepted_without_importing_it_first(sandbox, capsys):
    """Deciding that ``geo.shapes.square`` is a module must not import it (which made every run warn
    "intercepting ... after importing it" and gave the proxy a real target in replay)."""
    sandbox.module("geo.shapes.square", """
        class Shape:
            pass
        class Square(Shape):
            def __init__(self, side):
                self.side = side
        def make(side):
            return Square(side)
    """)
    with sandbox.intercept(RECORD, ["geo.shapes.square"]):
        from geo.shapes import square
        assert isinstance(square.make(3), square.Shape)
    recorded = sandbox.recorded()
    assert "->RET:Instance('Square(Shape)', 'square1')" in recorded
    with sandbox.intercept(REPLAY, ["geo.shapes.square"], replay=sandbox.mock(recorded)):
        import geo.shapes.square as square
        made = square.make(3)
        assert isinstance(made, square.Square) and isinstance(made, square.Shape)
    assert "WARNING" not in capsys.readouterr().out


def test_a_submodule_already_imported_by_its_package_is_taken_over_quietly(sandbox, capsys):
    """Its package's attribute for it is not the application holding it (no warning), and in replay the
    taken-over module answers from the mock like any other."""
    sandbox.module("geo.shapes.square", "class Square:\n    pass\ndef make():\n    return Square()\n")
    (sandbox.root / "geo" / "shapes" / "__init__.py").write_text("from . import square\n")
    replay = sandbox.mock("""
        <-PYT:geo.shapes.square.make()
        ->RET:Instance('Square', 'square1')
    """)
    import geo.shapes  # noqa: F401 - loads geo.shapes.square before interception starts
    with sandbox.intercept(REPLAY, ["geo.shapes.square"], replay=replay):
        from geo.shapes import square
        assert isinstance(square.make(), square.Square)
        assert square.__spec__.name == "geo.shapes.square"
    assert "WARNING" not in capsys.readouterr().out


def test_intercepting_a_name_twice_is_refused_until_the_first_is_reset(sandbox):
    """Undone in either order, two interceptions of one module would leave sys.modules wrong."""
    sandbox.module("billing", "def total(n):\n    return n * 100\n")
    with sandbox.intercept(RECORD, ["billing"]):
        for clashing in (["billing"], ["billing.total"]):
            with pytest.raises(CaptureMockError, match="'billing.*' is intercepted already"):
                interceptPython(RECORD, str(sandbox.root / "other.mock"), None, [], clashing)
        import billing
        assert billing.total(2) == 200
    with sandbox.intercept(RECORD, ["billing"]):  # after the reset it may be intercepted again
        import billing
        assert billing.total(3) == 300
