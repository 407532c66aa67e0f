"""Instances, classes, exceptions, iterators and special methods through proxies (§4.2, §6.6, §6.9)."""
from __future__ import annotations

import pytest

from capturemock import RECORD, REPLAY

SHOP = """
    class Item:
        def __init__(self, name="", price=1.0):
            self.name = name
            self.price = price
        def label(self):
            return "<%s>" % self.name

    class Basket:
        def __init__(self):
            self.items = []
        def setOwner(self, owner):
            self.owner = owner
        def add(self, item):
            self.items.append(item)
            return len(self.items)
        def first(self):
            return self.items[0]
"""


def test_names_from_hints_suffixes_and_sanitising(sandbox):
    sandbox.module("shop", SHOP)
    with sandbox.intercept(RECORD, ["shop"]):
        import shop
        shop.Item("apple"), shop.Item("apple"), shop.Item("a name far too long to be a hint")
        shop.Item("X-ray 1"), shop.Item("9lives"), shop.Item(name="kw")
    returned = [line for line in sandbox.recorded().splitlines() if line.startswith("->RET:Instance")]
    assert returned == ["->RET:Instance('Item', 'item_apple')", "->RET:Instance('Item', 'item_apple1')",
                        "->RET:Instance('Item', 'item1')", "->RET:Instance('Item', 'item_x_ray_1')",
                        "->RET:Instance('Item', 'item__9lives')", "->RET:Instance('Item', 'item_kw')"]


def test_set_rename_rewrites_whole_names_only_even_with_other_instances(sandbox):
    sandbox.module("shop", SHOP)
    with sandbox.intercept(RECORD, ["shop"]):
        import shop
        baskets = [shop.Basket() for _ in range(11)]  # basket1 .. basket11
        apple = shop.Item("apple")
        baskets[0].add(apple)
        baskets[10].add(apple)
        baskets[0].setOwner("Eve")
        assert baskets[0].first() is apple
    recorded = sandbox.recorded()
    assert "->RET:Instance('Basket', 'basket_eve')\n" in recorded
    assert "<-PYT:basket_eve.add(item_apple)\n" in recorded and "<-PYT:basket11.add(item_apple)\n" in recorded
    assert "basket1." not in recorded and "'basket1'" not in recorded
    assert recorded.endswith("<-PYT:basket_eve.setOwner('Eve')\n<-PYT:basket_eve.first()\n->RET:item_apple\n")


def test_replayed_instances_keep_their_identity(sandbox):
    replay = sandbox.mock("""
        <-PYT:shop.Item('apple')
        ->RET:Instance('Item', 'item_apple')
        <-PYT:shop.Basket()
        ->RET:Instance('Basket', 'basket1')
        <-PYT:basket1.add(item_apple)
        ->RET:1
        <-PYT:basket1.first()
        ->RET:item_apple
        <-PYT:item_apple.label()
        ->RET:'<from mock>'
    """)
    with sandbox.intercept(REPLAY, ["shop"], replay=replay):
        import shop
        apple = shop.Item("apple")
        basket = shop.Basket()
        assert basket.add(apple) == 1
        assert basket.first() is apple
        assert apple.label() == "<from mock>"
        assert isinstance(apple, shop.Item) and not isinstance(apple, shop.Basket)


def test_one_function_returning_instances_of_two_classes_replays_both(sandbox):
    replay = sandbox.mock("""
        <-PYT:zoo.adopt('Rex')
        ->RET:Instance('Dog(Animal)', 'dog_rex')
        <-PYT:zoo.adopt('Tom')
        ->RET:Instance('Cat(Animal)', 'cat_tom')
    """)
    with sandbox.intercept(REPLAY, ["zoo"], replay=replay):
        import zoo
        rex, tom = zoo.adopt("Rex"), zoo.adopt("Tom")
        assert (type(rex).__name__, type(tom).__name__) == ("Dog", "Cat")
        assert isinstance(rex, zoo.Dog) and isinstance(tom, zoo.Animal) and not isinstance(tom, zoo.Dog)


def test_a_class_called_instance_does_not_break_replay(sandbox):
    replay = sandbox.mock("""
        <-PYT:odd.make()
        ->RET:Instance('Instance(Callback)', 'instance1')
        <-PYT:instance1.name()
        ->RET:'fine'
    """)
    with sandbox.intercept(REPLAY, ["odd"], replay=replay):
        import odd
        made = odd.make()
        assert made.name() == "fine" and isinstance(made, odd.Callback)


def test_exceptions_of_intercepted_and_other_modules(sandbox):
    sandbox.module("quota", "class QuotaExceeded(Exception):\n    pass\n")
    sandbox.module("payments", """
        import quota
        class PaymentError(Exception):
            pass
        class CardDeclined(PaymentError):
            pass
        def refund(ref):
            raise PaymentError("unknown reference " + ref)
        def pay(card):
            raise CardDeclined("card %s declined" % card)
        def limit():
            raise quota.QuotaExceeded("limit reached")
    """)
    with sandbox.intercept(RECORD, ["payments"]):
        import payments
        for call, arg in ((payments.refund, "R-17"), (payments.pay, "1234")):
            with pytest.raises(payments.PaymentError) as info:
                call(arg)
            assert str(info.value).endswith(arg if call is payments.refund else "declined")
        assert isinstance(info.value, payments.CardDeclined)
        with pytest.raises(Exception, match="limit reached"):
            payments.limit()
    recorded = sandbox.recorded()
    assert "->RET:raise Instance('PaymentError(Exception)', 'paymenterror_r_17')\n" in recorded
    assert "->RET:raise Instance('CardDeclined(PaymentError, Exception)', 'carddeclined__1234')\n" in recorded
    assert "->RET:raise quota.QuotaExceeded('limit reached')\n" in recorded

    replay = sandbox.mock(recorded.replace("'limit reached'", "'mock limit'"))
    sandbox.remove("payments")
    sandbox.remove("quota")
    with sandbox.intercept(REPLAY, ["payments"], replay=replay):
        import payments
        with pytest.raises(payments.PaymentError):
            payments.pay("1234")
        with pytest.raises(Exception, match="mock limit") as info:
            payments.limit()
        assert type(info.value).__name__ == "QuotaExceeded"


def test_generators_and_list_of_a_proxy(sandbox):
    sandbox.module("feeds", """
        def headlines(count):
            for i in range(count):
                yield "headline %d" % (i + 1)
    """)
    with sandbox.intercept(RECORD, ["feeds"]):
        import feeds
        assert list(feeds.headlines(2)) == ["headline 1", "headline 2"]
    assert sandbox.recorded().endswith(sandbox.lines("""
        <-PYT:feeds.headlines(2)
        ->RET:Instance('generator', 'generator1')
        <-PYT:generator1.__iter__()
        ->RET:generator1
        <-PYT:generator1.__next__()
        ->RET:'headline 1'
        <-PYT:generator1.__next__()
        ->RET:'headline 2'
        <-PYT:generator1.__next__()
        ->RET:raise StopIteration('')
    """))
    replay = sandbox.mock(sandbox.recorded().replace("headline 2", "replayed"))
    sandbox.remove("feeds")
    with sandbox.intercept(REPLAY, ["feeds"], replay=replay):
        import feeds
        assert list(feeds.headlines(2)) == ["headline 1", "replayed"]


def test_an_iteration_step_the_mock_never_recorded_ends_the_iteration(sandbox):
    """Not None for ever (``list()`` never ended), nor another request's answer borrowed by best match."""
    replay = sandbox.mock("""
        <-PYT:import feeds
        <-PYT:feeds.headlines(2)
        ->RET:Instance('generator', 'generator1')
        <-PYT:generator1.__iter__()
        ->RET:generator1
    """)
    with sandbox.intercept(REPLAY, ["feeds"], replay=replay):
        import feeds
        assert list(feeds.headlines(2)) == []


def test_special_methods_truth_tests_and_assignment(sandbox):
    sandbox.module("inventory", """
        class Shelf:
            def __init__(self):
                self.slots = {"a1": "bolts"}
            def __len__(self):
                return len(self.slots)
            def __getitem__(self, key):
                return self.slots[key]
    """)
    with sandbox.intercept(RECORD, ["inventory"]):
        import inventory
        shelf = inventory.Shelf()
        assert (len(shelf), shelf["a1"], bool(shelf)) == (1, "bolts", True)
        shelf.label = "main"
        assert shelf.label == "main"
    assert sandbox.recorded().endswith(sandbox.lines("""
        <-PYT:shelf1.__len__()
        ->RET:1
        <-PYT:shelf1.__getitem__('a1')
        ->RET:'bolts'
        <-PYT:shelf1.__bool__
        ->RET:raise AttributeError("'Shelf' object has no attribute '__bool__'")
        <-PYT:shelf1.__len__()
        ->RET:1
        <-PYT:shelf1.label = 'main'
        <-PYT:shelf1.label
        ->RET:'main'
    """))


def test_membership_asks_the_objects_own_contains_and_replays_it(sandbox):
    """``x in obj`` calls the class's ``__contains__`` as it does without interception (2.10 iterated the object
    instead, answering False here); a 2.10 mock of the iteration still replays (the class has no
    ``__contains__`` in replay unless the recording saw one)."""
    sandbox.module("catalogue", """
        class Range:
            def __iter__(self):
                return iter([1, 2])
            def __contains__(self, value):
                return value in (1, 2, 5)
    """)
    with sandbox.intercept(RECORD, ["catalogue"]):
        import catalogue
        assert (5 in catalogue.Range(), 3 in catalogue.Range()) == (True, False)
    recorded = sandbox.recorded()
    assert recorded.endswith(sandbox.lines("""
        <-PYT:catalogue.Range()
        ->RET:Instance('Range', 'range1')
        <-PYT:range1.__contains__(5)
        ->RET:True
        <-PYT:catalogue.Range()
        ->RET:Instance('Range', 'range2')
        <-PYT:range2.__contains__(3)
        ->RET:False
    """))
    sandbox.remove("catalogue")
    with sandbox.intercept(REPLAY, ["catalogue"], replay=sandbox.mock(recorded)):
        import catalogue
        assert (5 in catalogue.Range(), 3 in catalogue.Range()) == (True, False)
    assert sandbox.recorded() == recorded
    as_2_10_recorded = sandbox.lines("""
        <-PYT:import catalogue
        <-PYT:catalogue.Range()
        ->RET:Instance('Range', 'range1')
        <-PYT:range1.__iter__()
        ->RET:Instance('list_iterator', 'list_iterator1')
        <-PYT:list_iterator1.__next__()
        ->RET:1
        <-PYT:list_iterator1.__next__()
        ->RET:2
    """)
    with sandbox.intercept(REPLAY, ["catalogue"], replay=sandbox.mock(as_2_10_recorded)):
        import catalogue
        assert 2 in catalogue.Range()
    assert sandbox.recorded() == as_2_10_recorded


def test_application_subclass_hooks_are_called_back(sandbox):
    sandbox.module("widgets", """
        class Widget:
            def __init__(self, name):
                self.name = name
            def render(self):
                return "[%s: %s]" % (self.name, self.content())
    """)

    def use(widgets):
        class Banner(widgets.Widget):
            def content(self):
                return "SALE"
        return Banner("top").render()

    with sandbox.intercept(RECORD, ["widgets"]):
        import widgets
        assert use(widgets) == "[top: SALE]"
    recorded = sandbox.recorded()
    assert recorded.endswith(sandbox.lines("""
        <-PYT:widgets.Widget('top')
        ->RET:Instance('Widget', 'widget_top')
        <-PYT:widget_top.render()
        --->PYT:widget_top.content()
        <---RET:'SALE'
        ->RET:'[top: SALE]'
    """))
    sandbox.remove("widgets")
    replay = sandbox.mock(recorded.replace("'[top: SALE]'", "'replayed'"))
    with sandbox.intercept(REPLAY, ["widgets"], replay=replay):
        import widgets
        assert use(widgets) == "replayed"
    assert "--->PYT:widget_top.content()\n<---RET:'SALE'\n" in sandbox.recorded()


def test_replayed_classes_have_the_special_methods_the_recording_saw(sandbox):
    """A class with only ``__repr__`` (every dataclass), a callable one, an iterable without ``__len__``:
    Python calls the same special methods in replay as it did while recording, so the transcript is
    the same."""
    sandbox.module("geo", """
        import dataclasses
        @dataclasses.dataclass
        class Point:
            x: int
            y: int
        class Scale:
            def __call__(self, value):
                return value * 3
        class Route:
            def __iter__(self):
                return iter(["Oslo", "Lund"])
        def origin():
            return Point(0, 0)
        def scale():
            return Scale()
        def route():
            return Route()
    """)

    def use(geo):
        return str(geo.origin()), geo.scale()(2), list(geo.route()), sorted(geo.route())

    with sandbox.intercept(RECORD, ["geo"]):
        import geo
        recorded_results = use(geo)
    recorded = sandbox.recorded()
    # str() is traffic as such even where only __repr__ is defined, as the original records it
    assert "<-PYT:point1.__str__()\n" in recorded and "__repr__" not in recorded and "__len__" not in recorded
    sandbox.remove("geo")
    with sandbox.intercept(REPLAY, ["geo"], replay=sandbox.mock(recorded)):
        import geo
        assert use(geo) == recorded_results == ("Point(x=0, y=0)", 6, ["Oslo", "Lund"], ["Lund", "Oslo"])
    assert sandbox.recorded() == recorded


def test_exception_args_are_instance_traffic(sandbox):
    """Recording must not change what the program sees: ``exc.args`` of an intercepted module's exception
    is the real one while recording (it used to be empty), and replays from the mock (§4.2 ``name.args``)."""
    sandbox.module("vault", """
        class Locked(Exception):
            pass
        def open_door():
            raise Locked("door 7", 7)
    """)

    def args_of_failure(vault):
        with pytest.raises(vault.Locked) as info:
            vault.open_door()
        return info.value.args

    with sandbox.intercept(RECORD, ["vault"]):
        import vault
        assert args_of_failure(vault) == ("door 7", 7)
    recorded = sandbox.recorded()
    assert "<-PYT:locked1.args\n->RET:('door 7', 7)\n" in recorded
    sandbox.remove("vault")
    with sandbox.intercept(REPLAY, ["vault"], replay=sandbox.mock(recorded.replace("'door 7'", "'door 8'"))):
        import vault
        assert args_of_failure(vault) == ("door 8", 7)
        with pytest.raises(vault.Locked) as info:
            vault.open_door()
        # printed as while recording if uncaught ("vault.Locked: ..."), not as one of capturemock's
        assert (type(info.value).__module__, type(info.value).__qualname__) == ("vault", "Locked")


def test_an_exception_class_deriving_from_an_outside_exception_replays_as_one(sandbox):
    """``Failed(subprocess.SubprocessError)``: the outside base is inherited in replay (it is already
    imported), so the replayed instance can be raised and caught as that base."""
    import subprocess

    sandbox.module("deploy", """
        import subprocess
        class Failed(subprocess.SubprocessError):
            pass
        def push(target):
            raise Failed("push to " + target + " failed")
    """)

    def failure(deploy):
        with pytest.raises(subprocess.SubprocessError) as info:
            deploy.push("prod")
        return str(info.value)

    with sandbox.intercept(RECORD, ["deploy"]):
        import deploy
        assert failure(deploy) == "push to prod failed"
    recorded = sandbox.recorded()
    assert "->RET:raise Instance('Failed(subprocess.SubprocessError)', 'failed_prod')\n" in recorded
    sandbox.remove("deploy")
    with sandbox.intercept(REPLAY, ["deploy"], replay=sandbox.mock(recorded)):
        import deploy
        assert failure(deploy) == "push to prod failed"
    assert sandbox.recorded() == recorded


def test_recording_instances_of_builtin_subclasses_does_not_change_them(sandbox):
    """A dict, str, int or tuple subclass (or an IntEnum) from an intercepted module: the builtin's own
    methods never reach the proxy's forwarding, so its builtin part must hold the real contents."""
    sandbox.module("shapes", """
        import enum
        class Headers(dict): pass
        class Name(str): pass
        class Count(int): pass
        class Pair(tuple): pass
        class Level(enum.IntEnum):
            LOW = 1
            HIGH = 2
        def headers(): return Headers({"a": 2})
        def name(): return Name("bob")
        def count(): return Count(5)
        def pair(): return Pair((1, 2))
        def level(): return Level.HIGH
    """)
    with sandbox.intercept(RECORD, ["shapes"]):
        import shapes
        headers, name, count, pair, level = (shapes.headers(), shapes.name(), shapes.count(), shapes.pair(),
                                             shapes.level())
        assert (headers.get("a"), dict(headers), name.upper(), count + 1, pair == (1, 2)) == (
            2, {"a": 2}, "BOB", 6, True)
        assert int(level) == 2 and level > 1
    assert "->RET:Instance('Headers(dict)', 'headers1')" in sandbox.recorded()


def test_exception_args_missing_from_the_mock_are_the_empty_slot(sandbox):
    """Mocks recorded before ``args`` was traffic: reading it is ``()`` (it recursed), setting it works."""
    replay = sandbox.mock("""
        <-PYT:vault.open_door()
        ->RET:raise Instance('Locked(Exception)', 'locked1')
    """)
    with sandbox.intercept(REPLAY, ["vault"], replay=replay):
        import vault
        with pytest.raises(vault.Locked) as info:
            vault.open_door()
        assert info.value.args == () and info.value.args == ()
    info.value.args = ("more context",)
    assert info.value.args == ("more context",)
