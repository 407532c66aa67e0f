"""Callbacks from intercepted code into the application (§4.2, §6.7)."""
from __future__ import annotations

from capturemock import RECORD, REPLAY

EVENTS = """
    def publish(topic, handler):
        return handler("breaking " + topic) * 2

    def each(values, fn):
        return [fn(v) for v in values]

    def ack(msg):
        return "acked:" + msg
"""

RECORDED = """
    <-PYT:events.publish('news', Callback('events_news_callback'))
    --->PYT:events_news_callback('breaking news')
    <-----PYT:events.ack('breaking news')
    ----->RET:'acked:breaking news'
    <---RET:13
    ->RET:26
    <-PYT:events.publish('sport', events_news_callback)
    --->PYT:events_news_callback('breaking sport')
    <-----PYT:events.ack('breaking sport')
    ----->RET:'acked:breaking sport'
    <---RET:14
    ->RET:28
    <-PYT:events.each([1, 2], Callback('events_callback'))
    --->PYT:events_callback(1)
    <---RET:10
    --->PYT:events_callback(2)
    <---RET:20
    ->RET:[10, 20]
    <-PYT:events.each([3], str)
    ->RET:['3']
"""


def use_events(events, seen):
    def on_news(msg):
        seen.append((msg, events.ack(msg)))
        return len(msg)

    def tenfold(x):
        seen.append(x)
        return x * 10

    return [events.publish("news", on_news), events.publish("sport", on_news),
            events.each([1, 2], tenfold), events.each([3], str)]


def test_record_callbacks_with_nested_traffic(sandbox):
    sandbox.module("events", EVENTS)
    seen = []
    with sandbox.intercept(RECORD, ["events"]):
        import events
        assert use_events(events, seen) == [26, 28, [10, 20], ["3"]]
    assert seen[0] == ("breaking news", "acked:breaking news")
    assert sandbox.recorded().endswith(sandbox.lines(RECORDED))


def test_replay_runs_the_real_callbacks_including_two_in_one_call(sandbox):
    sandbox.module("events", EVENTS)
    replay = sandbox.mock(sandbox.lines(RECORDED).replace("'acked:breaking news'", "'mock ack'")
                          .replace("events_callback(2)", "events_callback(5)"))
    sandbox.remove("events")
    seen = []
    with sandbox.intercept(REPLAY, ["events"], replay=replay):
        import events
        assert use_events(events, seen) == [26, 28, [10, 20], ["3"]]
    assert seen == [("breaking news", "mock ack"), ("breaking sport", "acked:breaking sport"), 1, 5]
    assert "--->PYT:events_callback(5)\n<---RET:50\n" in sandbox.recorded()


def test_callback_receiving_a_new_intercepted_object(sandbox):
    sandbox.module("watcher", """
        class Event:
            def describe(self):
                return "created"
        def poll(handler):
            return handler(Event())
    """)
    described = []
    with sandbox.intercept(RECORD, ["watcher"]):
        import watcher
        assert watcher.poll(lambda event: described.append(event.describe()) or "handled") == "handled"
    assert described == ["created"]
    assert sandbox.recorded().endswith(sandbox.lines("""
        <-PYT:watcher.poll(Callback('watcher_callback'))
        --->PYT:watcher_callback(Instance('Event', 'event1'))
        <-----PYT:event1.describe()
        ----->RET:'created'
        <---RET:'handled'
        ->RET:'handled'
    """))


# recorded by CaptureMock 2.10.0 for use_nested_callbacks: one level of nesting only. A callback invoked from
# within a callback is written ``------->PYT``; after any callback returns, what follows is written as at the
# top level (``<---RET``, ``->RET``, ``<-PYT``), however deeply it is nested.
NESTED = """
    <-PYT:events.each([1], Callback('events_callback'))
    --->PYT:events_callback(1)
    <-----PYT:events.each([1, 2], Callback('events_callback1'))
    ------->PYT:events_callback1(1)
    <---RET:2
    --->PYT:events_callback1(2)
    <---RET:3
    ->RET:[2, 3]
    <-PYT:events.ack('inside')
    ->RET:'acked:inside'
    <-PYT:events.each([1], Callback('events_callback2'))
    --->PYT:events_callback2(1)
    ->RET:[None]
    <---RET:7
    ->RET:[7]
    <-PYT:events.ack('outside')
    ->RET:'acked:outside'
    <-PYT:events.each([2], Callback('events_callback3'))
    --->PYT:events_callback3(2)
    <-----PYT:events.each([2], Callback('events_callback4'))
    ------->PYT:events_callback4(2)
    <-----PYT:events.each([2], events_callback1)
    ------->PYT:events_callback1(2)
    <---RET:3
    ->RET:[3]
    <---RET:[3]
    ->RET:[[3]]
    <---RET:[[3]]
    ->RET:[[[3]]]
"""


def use_nested_callbacks(events) -> list:
    def inner(v):
        return v + 1

    def quiet(v):
        pass

    def outer(v):
        events.each([v, v + 1], inner)
        events.ack("inside")
        events.each([v], quiet)
        return 7

    def middle(v):
        return events.each([v], inner)

    def top(v):
        return events.each([v], middle)

    return [events.each([1], outer), events.ack("outside"), events.each([2], top)]


def test_callbacks_within_callbacks_are_recorded_at_the_original_s_levels(sandbox):
    sandbox.module("events", EVENTS)
    with sandbox.intercept(RECORD, ["events"]):
        import events
        assert use_nested_callbacks(events) == [[7], "acked:outside", [[[3]]]]
    assert sandbox.recorded().endswith(sandbox.lines(NESTED))


# recorded by CaptureMock 2.10.0 for use_handed_functions: a function of the intercepted module handed to a
# callback or returned is an instance of ``function``, and its calls are traffic
HANDED = """
    <-PYT:tools.run(Callback('tools_callback'))
    --->PYT:tools_callback(Instance('function', 'function1'))
    <-----PYT:function1(3)
    ----->RET:6
    <---RET:'done'
    ->RET:'done'
    <-PYT:tools.factory()
    ->RET:function1
    <-PYT:function1(5)
    ->RET:10
"""


def use_handed_functions(tools) -> list:
    def on_function(function):
        return "done" if function(3) == 6 else "wrong"

    return [tools.run(on_function), tools.factory()(5)]


def test_functions_handed_out_by_intercepted_code_are_recorded_and_replayed_as_by_the_original(sandbox):
    sandbox.module("tools", "def helper(x):\n    return x * 2\n\ndef run(callback):\n    return callback(helper)\n\n"
                            "def factory():\n    return helper\n")
    with sandbox.intercept(RECORD, ["tools"]):
        import tools
        assert use_handed_functions(tools) == ["done", 10]
    assert sandbox.recorded().endswith(sandbox.lines(HANDED))
    sandbox.remove("tools")
    with sandbox.intercept(REPLAY, ["tools"], replay=sandbox.mock(sandbox.recorded())):
        import tools
        assert use_handed_functions(tools) == ["done", 10]
    assert sandbox.recorded().endswith(sandbox.lines(HANDED))


# recorded by CaptureMock 2.10.0 for use_functions_handed_back: a function the application passed in and
# intercepted code returns is written by its name, and the application's later calls of it are callback
# traffic. 2.10.0 cannot replay this text ('str' object is not callable); we give back the function.
HANDED_BACK = """
    <-PYT:calc.back(calc.ack)
    ->RET:calc.ack
    --->PYT:calc.ack('x')
    <---RET:'acked:x'
    <-PYT:calc.back(calc.ack1)
    ->RET:calc.ack1
    --->PYT:calc.ack1('y')
    <---RET:'acked:y'
    --->PYT:calc.ack('z')
    <---RET:'acked:z'
    <-PYT:calc.back([Callback('calc_callback'), 3])
    ->RET:[calc_callback, 3]
    --->PYT:calc_callback('q')
    <---RET:'mine:q'
    <-PYT:calc.call_twice(calc_callback)
    --->PYT:calc_callback('one')
    <---RET:'mine:one'
    ->RET:calc_callback
    --->PYT:calc_callback('w')
    <---RET:'mine:w'
"""


def use_functions_handed_back(calc, seen) -> list:
    def mine(m):
        seen.append(m)
        return "mine:" + m

    ack = calc.back(calc.ack)
    first = ack("x")
    ack1 = calc.back(calc.ack)
    return [first, ack1("y"), ack("z"), calc.back([mine, 3])[0]("q"), calc.call_twice(mine)("w")]


def test_functions_handed_back_are_recorded_as_by_the_original_and_replayed(sandbox):
    sandbox.module("calc", "def ack(msg):\n    return 'acked:' + msg\n\ndef back(fn):\n    return fn\n\n"
                           "def call_twice(fn):\n    fn('one')\n    return fn\n")
    expected = ["acked:x", "acked:y", "acked:z", "mine:q", "mine:w"]
    seen = []
    with sandbox.intercept(RECORD, ["calc"]):
        import calc
        assert use_functions_handed_back(calc, seen) == expected
    assert sandbox.recorded().endswith(sandbox.lines(HANDED_BACK))
    assert seen == ["q", "one", "w"]
    sandbox.remove("calc")
    seen.clear()
    replay = sandbox.mock(sandbox.recorded().replace("'acked:y'", "'replayed y'"))
    with sandbox.intercept(REPLAY, ["calc"], replay=replay):
        import calc
        assert use_functions_handed_back(calc, seen) == ["acked:x", "replayed y", "acked:z", "mine:q", "mine:w"]
    assert seen == ["q", "one", "w"]  # the application's own function ran, once per call
    assert sandbox.recorded().endswith(sandbox.lines(HANDED_BACK.replace("'acked:y'", "'replayed y'")))
