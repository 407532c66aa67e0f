"""What is recorded while the application prints and reads intercepted objects equals what CaptureMock
2.10 recorded (issue 12); the expected texts were recorded by the original for the same program."""
from __future__ import annotations

import io
import traceback

from capturemock import RECORD, REPLAY

SHOP = """
    import dataclasses

    class Refused(Exception):
        pass

    @dataclasses.dataclass
    class Point:
        x: int

    class Label:
        def __str__(self):
            return "label"

    class Shop:
        @property
        def basket(self):
            return Basket()

    class Basket:
        def total(self):
            return 3

    def order(item):
        raise Refused("no " + item)

    def shop():
        return Shop()

    def things():
        return [Point(1), Label()]
"""

# recorded by CaptureMock 2.10.0 for print_refusal: printing the exception, then its traceback (the
# traceback module reads __str__, __suppress_context__ and tests its truth; __notes__ is never traffic)
REFUSAL = """
    <-PYT:import shop
    <-PYT:shop.__name__
    ->RET:'shop'
    <-PYT:shop.__path__
    ->RET:raise AttributeError("module 'shop' has no attribute '__path__'")
    <-PYT:shop.order('tea')
    ->RET:raise Instance('Refused(Exception)', 'refused_tea')
    <-PYT:refused_tea.__str__()
    ->RET:'no tea'
    <-PYT:refused_tea.__str__()
    ->RET:'no tea'
    <-PYT:refused_tea.__suppress_context__
    ->RET:False
    <-PYT:refused_tea.__bool__
    ->RET:raise AttributeError("'Refused' object has no attribute '__bool__'")
    <-PYT:refused_tea.__len__
    ->RET:raise AttributeError("'Refused' object has no attribute '__len__'")
"""


def print_refusal(shop) -> list[str]:
    try:
        shop.order("tea")
    except shop.Refused as error:
        caught = f"caught {error}"
        out = io.StringIO()
        traceback.print_exc(file=out)
        return [caught, out.getvalue().splitlines()[-1]]
    return []


def test_printing_an_intercepted_exception_records_what_the_traceback_module_reads(sandbox):
    sandbox.module("shop", SHOP)
    with sandbox.intercept(RECORD, ["shop"]):
        import shop
        assert print_refusal(shop) == ["caught no tea", "shop.Refused: no tea"]
    assert sandbox.recorded() == sandbox.lines(REFUSAL)


def test_replaying_a_printed_exception_prints_its_recorded_text_and_no_proxy_for_its_notes(sandbox):
    """Python 3.11+ reads ``__notes__`` when printing a traceback: it is no traffic, so no
    ``<capturemock proxy for refused_tea.__notes__>`` line, and the transcript is the recorded one."""
    replay = sandbox.mock(REFUSAL)
    with sandbox.intercept(REPLAY, ["shop"], replay=replay):
        import shop
        assert print_refusal(shop) == ["caught no tea", "shop.Refused: no tea"]
    assert sandbox.recorded() == sandbox.lines(REFUSAL)


# recorded by CaptureMock 2.10.0 for use_shop: a property making a new object each time is recorded once
# and the first object's proxy answers later reads; str() and repr() are traffic also where only object
# defines them (a dataclass has only __repr__, Label only __str__)
SHOPPING = """
    <-PYT:import shop
    <-PYT:shop.__name__
    ->RET:'shop'
    <-PYT:shop.__path__
    ->RET:raise AttributeError("module 'shop' has no attribute '__path__'")
    <-PYT:shop.shop()
    ->RET:Instance('Shop', 'shop1')
    <-PYT:shop1.basket
    ->RET:Instance('Basket', 'basket1')
    <-PYT:basket1.total()
    ->RET:3
    <-PYT:basket1.total()
    ->RET:3
    <-PYT:shop.things()
    ->RET:[Instance('Point', 'point1'), Instance('Label', 'label1')]
    <-PYT:point1.__str__()
    ->RET:'Point(x=1)'
    <-PYT:label1.__str__()
    ->RET:'label'
    <-PYT:point1.__repr__()
    ->RET:'Point(x=1)'
"""


def use_shop(shop) -> list:
    store = shop.shop()
    totals = [store.basket.total(), store.basket.total()]
    point, label = shop.things()
    return [*totals, str(point), str(label), str([point])]


def test_factory_attributes_and_printed_instances_are_recorded_as_by_the_original(sandbox):
    sandbox.module("shop", SHOP)
    with sandbox.intercept(RECORD, ["shop"]):
        import shop
        assert use_shop(shop) == [3, 3, "Point(x=1)", "label", "[Point(x=1)]"]
    assert sandbox.recorded() == sandbox.lines(SHOPPING)
    sandbox.remove("shop")
    with sandbox.intercept(REPLAY, ["shop"], replay=sandbox.mock(SHOPPING)):
        import shop
        assert use_shop(shop) == [3, 3, "Point(x=1)", "label", "[Point(x=1)]"]
    assert sandbox.recorded() == sandbox.lines(SHOPPING)


STORE = """
    class Refused(Exception):
        pass

    def order(item):
        raise Refused("no stock", item)

    def check(count):
        Refused(count)  # made and dropped: its name is taken all the same
        raise Refused(count + 1)
"""
STORE_NAMES = ["store.Refused", "store.order", "store.check"]

# recorded by CaptureMock 2.10.0 for refusals: an exception of a class intercepted by name, made by intercepted
# code, is written as ``raise store.Refused(str)`` and named from its own arguments when the program uses it
REFUSALS = """
    <-PYT:store.order('tea')
    ->RET:raise store.Refused("('no stock', 'tea')")
    <-PYT:refused_no_stock.args
    ->RET:('no stock', 'tea')
    <-PYT:refused_no_stock.__str__()
    ->RET:"('no stock', 'tea')"
    <-PYT:store.check(1)
    ->RET:raise store.Refused('2')
    <-PYT:refused2.args
    ->RET:(2,)
    <-PYT:refused2.__str__()
    ->RET:'2'
"""


def refusals(store) -> list[str]:
    caught = []
    for call, arg in ((store.order, "tea"), (store.check, 1)):
        try:
            call(arg)
        except store.Refused as error:
            args = error.args  # read before printing it, as print(error, error.args) does
            caught.append(f"{error} {args}")
    return caught


def test_an_exception_of_a_class_intercepted_by_name_is_recorded_as_by_the_original(sandbox):
    sandbox.module("store", STORE)
    with sandbox.intercept(RECORD, STORE_NAMES):
        import store
        assert refusals(store) == ["('no stock', 'tea') ('no stock', 'tea')", "2 (2,)"]
    assert sandbox.recorded() == sandbox.lines(REFUSALS)
    # replayed, as by the original: an exception of the class the program sees, made from the written text
    with sandbox.intercept(REPLAY, STORE_NAMES, replay=sandbox.mock(REFUSALS)):
        import store
        assert refusals(store) == ["('no stock', 'tea') (\"('no stock', 'tea')\",)", "2 ('2',)"]
    assert sandbox.recorded() == sandbox.lines("""
        <-PYT:store.order('tea')
        ->RET:raise store.Refused("('no stock', 'tea')")
        <-PYT:store.check(1)
        ->RET:raise store.Refused('2')
    """)


def test_the_earlier_form_of_such_an_exception_still_replays(sandbox):
    """Mock files recorded by earlier versions of ours describe the exception as an instance."""
    sandbox.module("store", STORE)
    earlier = """
        <-PYT:store.order('tea')
        ->RET:raise Instance('Refused(Exception)', 'refused_tea')
        <-PYT:refused_tea.args
        ->RET:('no stock', 'tea')
        <-PYT:refused_tea.__str__()
        ->RET:'no stock'
    """
    with sandbox.intercept(REPLAY, STORE_NAMES[:2], replay=sandbox.mock(earlier)):
        import store
        try:
            store.order("tea")
        except store.Refused as error:
            assert (error.args, str(error)) == (("no stock", "tea"), "no stock")
    assert sandbox.recorded() == sandbox.lines(earlier)


def test_an_object_made_by_intercepted_code_is_named_from_its_own_arguments(sandbox):
    """2.10 names it so (``->RET:thing_made``) but never describes it, and then cannot replay its mock
    (NameError): ours describes it (a deliberate difference, tests/differential/comparer.py)."""
    sandbox.module("store", "class Thing:\n    def make(self, name):\n        return Thing(name)\n"
                            "    def __init__(self, name):\n        self.name = name\n")
    with sandbox.intercept(RECORD, ["store.Thing"]):
        import store
        assert store.Thing("first").make("made").name == "made"
    recorded = sandbox.lines("""
        <-PYT:store.Thing('first')
        ->RET:Instance('Thing', 'thing_first')
        <-PYT:thing_first.make('made')
        ->RET:Instance('Thing', 'thing_made')
        <-PYT:thing_made.name
        ->RET:'made'
    """)
    assert sandbox.recorded() == recorded
    with sandbox.intercept(REPLAY, ["store.Thing"], replay=sandbox.mock(recorded)):
        import store
        assert store.Thing("first").make("made").name == "made"
    assert sandbox.recorded() == recorded


# recorded by CaptureMock 2.10.0 for reading None attributes (after the import): the reads have no answer line
NONE_READS = """
    <-PYT:nothing.NOTHING
    <-PYT:nothing.Thing()
    ->RET:Instance('Thing', 'thing1')
    <-PYT:thing1.kind
"""


def test_attributes_recorded_as_none_replay_as_none_and_are_written_again(sandbox):
    """2.10 replays them as proxy objects and leaves them out of the new transcript (a deliberate difference,
    tests/differential/comparer.py)."""
    sandbox.module("nothing", "NOTHING = None\n\nclass Thing:\n    kind = None\n")
    with sandbox.intercept(RECORD, ["nothing"]):
        import nothing
        assert (nothing.NOTHING, nothing.Thing().kind) == (None, None)
    assert sandbox.recorded().endswith(sandbox.lines(NONE_READS))
    sandbox.remove("nothing")
    with sandbox.intercept(REPLAY, ["nothing"], replay=sandbox.mock(sandbox.recorded())):
        import nothing
        assert (nothing.NOTHING, nothing.Thing().kind) == (None, None)
    assert sandbox.recorded().endswith(sandbox.lines(NONE_READS))
