"""asyncio (issue 13): awaited calls of intercepted modules are recorded with what awaiting gave and replay
as coroutines; ``async for`` and ``async with`` go through their special methods; concurrent tasks get
whole items, in the order the calls were made, and their own answers in replay."""
from __future__ import annotations

import asyncio
import textwrap

import pytest

from capturemock import RECORD, REPLAY, REPLAY_OLD_RECORD_NEW
from capturemock.errors import MockFileError

SERVICE = """
    import asyncio

    async def fetch(x):
        await asyncio.sleep(0)
        if x < 0:
            raise ValueError("negative %d" % x)
        return x * 10

    async def count(n):
        for i in range(n):
            await asyncio.sleep(0)
            yield i

    class Conn:
        async def __aenter__(self):
            return self

        async def __aexit__(self, *exc_info):
            return False

        async def get(self, key):
            return key.upper()

    class Stream:
        def __init__(self, n):
            self.left = n

        def __aiter__(self):
            return self

        async def __anext__(self):
            if not self.left:
                raise StopAsyncIteration
            self.left -= 1
            return self.left

    def note(text):
        return "noted " + text

    _tickets = {"taken": 0}

    async def ticket():
        # the first caller is answered only after the second: real answers come in reverse call order
        _tickets["taken"] += 1
        mine = _tickets["taken"]
        if mine == 1:
            _tickets["second_done"] = asyncio.Event()
            await _tickets["second_done"].wait()
        else:
            _tickets["second_done"].set()
        return mine

    _order = []

    async def slow_first(x):
        # fetches finishing in reverse call order: x=1 waits until x=2 has finished
        _order.append(x)
        if x == 1:
            while 2 in _order:
                await asyncio.sleep(0)
        return x * 100
"""

IMPORT = """
    <-PYT:import service
    <-PYT:service.__name__
    ->RET:'service'
    <-PYT:service.__path__
    ->RET:raise AttributeError("module 'service' has no attribute '__path__'")
"""


def transcript(calls: str = "") -> str:
    """The expected record: the import's artefacts, then ``calls`` (written indented)."""
    return textwrap.dedent(IMPORT).lstrip("\n") + textwrap.dedent(calls).lstrip("\n")


def record_then_replay(sandbox, program, rc=None):
    """Run ``program(service)`` recording, then replaying with the real module gone; both results, the
    recorded transcript and the replay's transcript."""
    sandbox.module("service", SERVICE)
    with sandbox.intercept(RECORD, ["service"], rc=rc):
        import service
        recorded_result = asyncio.run(program(service))
    recorded = sandbox.recorded()
    sandbox.replay.write_text(recorded)
    sandbox.remove("service")
    with sandbox.intercept(REPLAY, ["service"], rc=rc, replay=str(sandbox.replay)):
        import service
        replayed_result = asyncio.run(program(service))
    return recorded_result, replayed_result, recorded, sandbox.recorded()


async def fetch_two(service):
    return [await service.fetch(2), await service.fetch(3)]


def test_an_awaited_call_is_recorded_with_what_awaiting_gave_and_replays_as_an_awaitable(sandbox):
    recorded_result, replayed_result, recorded, rerecorded = record_then_replay(sandbox, fetch_two)
    assert recorded == transcript("""
        <-PYT:await service.fetch(2)
        ->RET:20
        <-PYT:await service.fetch(3)
        ->RET:30
    """)
    assert recorded_result == replayed_result == [20, 30]
    assert rerecorded == recorded


async def fetch_negative(service):
    pending = service.fetch(-1)  # calling does not raise: awaiting does
    try:
        await pending
    except ValueError as error:
        return f"caught {error}"
    return "nothing raised"


def test_an_exception_of_an_awaited_call_is_raised_where_it_is_awaited(sandbox):
    recorded_result, replayed_result, recorded, _ = record_then_replay(sandbox, fetch_negative)
    assert recorded.endswith("<-PYT:await service.fetch(-1)\n->RET:raise ValueError('negative -1')\n")
    assert recorded_result == replayed_result == "caught negative -1"


async def tasks_of_fetches(service):
    tasks = [asyncio.create_task(service.fetch(x)) for x in (4, 5)]
    return [await task for task in tasks]


def test_a_replayed_awaited_call_is_a_coroutine_that_asyncio_can_run_as_a_task(sandbox):
    recorded_result, replayed_result, _, _ = record_then_replay(sandbox, tasks_of_fetches)
    assert recorded_result == replayed_result == [40, 50]


async def iterate(service):
    return [item async for item in service.count(3)] + [item async for item in service.Stream(2)]


def test_async_for_records_each_step_and_replays_them(sandbox):
    recorded_result, replayed_result, recorded, rerecorded = record_then_replay(sandbox, iterate)
    assert recorded == transcript("""
        <-PYT:service.count(3)
        ->RET:Instance('async_generator', 'async_generator1')
        <-PYT:async_generator1.__aiter__()
        ->RET:async_generator1
        <-PYT:await async_generator1.__anext__()
        ->RET:0
        <-PYT:await async_generator1.__anext__()
        ->RET:1
        <-PYT:await async_generator1.__anext__()
        ->RET:2
        <-PYT:await async_generator1.__anext__()
        ->RET:raise StopAsyncIteration('')
        <-PYT:service.Stream(2)
        ->RET:Instance('Stream', 'stream1')
        <-PYT:stream1.__aiter__()
        ->RET:stream1
        <-PYT:await stream1.__anext__()
        ->RET:1
        <-PYT:await stream1.__anext__()
        ->RET:0
        <-PYT:await stream1.__anext__()
        ->RET:raise StopAsyncIteration('')
    """)
    assert recorded_result == replayed_result == [0, 1, 2, 1, 0]
    assert rerecorded == recorded


async def use_connection(service):
    async with service.Conn() as conn:
        return await conn.get("key")


def test_async_with_records_enter_and_exit_and_async_methods(sandbox):
    recorded_result, replayed_result, recorded, rerecorded = record_then_replay(sandbox, use_connection)
    assert recorded == transcript("""
        <-PYT:service.Conn()
        ->RET:Instance('Conn', 'conn1')
        <-PYT:await conn1.__aenter__()
        ->RET:conn1
        <-PYT:await conn1.get('key')
        ->RET:'KEY'
        <-PYT:await conn1.__aexit__(None, None, None)
        ->RET:False
    """)
    assert recorded_result == replayed_result == "KEY"
    assert rerecorded == recorded


async def two_workers(service):
    async def worker(label):
        got = await service.ticket()
        service.note(label)
        return f"{label} got ticket {got}"
    return await asyncio.gather(worker("a"), worker("b"))


def test_concurrent_awaits_are_written_whole_in_call_order_and_replay_to_the_task_that_made_them(sandbox):
    recorded_result, replayed_result, recorded, rerecorded = record_then_replay(sandbox, two_workers)
    # b's ticket was answered first and b noted first; a's call was made first, so its item comes first
    assert recorded == transcript("""
        <-PYT:await service.ticket()
        ->RET:1
        <-PYT:await service.ticket()
        ->RET:2
        <-PYT:service.note('b')
        ->RET:'noted b'
        <-PYT:service.note('a')
        ->RET:'noted a'
    """)
    assert recorded_result == replayed_result == ["a got ticket 1", "b got ticket 2"]
    # replayed answers come one event-loop turn after the call, in call order: a, answered first, notes first
    assert rerecorded == transcript("""
        <-PYT:await service.ticket()
        ->RET:1
        <-PYT:await service.ticket()
        ->RET:2
        <-PYT:service.note('a')
        ->RET:'noted a'
        <-PYT:service.note('b')
        ->RET:'noted b'
    """)


async def gathered(service):
    return await asyncio.gather(service.slow_first(1), service.slow_first(2), service.fetch(7))


def test_results_completing_in_reverse_order_go_to_their_own_awaits(sandbox):
    recorded_result, replayed_result, recorded, _ = record_then_replay(sandbox, gathered)
    assert recorded.endswith(sandbox.lines("""
        <-PYT:await service.slow_first(1)
        ->RET:100
        <-PYT:await service.slow_first(2)
        ->RET:200
        <-PYT:await service.fetch(7)
        ->RET:70
    """))
    assert recorded_result == replayed_result == [100, 200, 70]


async def held_back(service, record_path):
    """What is on disk while a call is in flight: everything before it, nothing after it."""
    started = asyncio.Event()

    async def first():
        started.set()
        return await service.ticket()

    task = asyncio.create_task(first())
    await started.wait()
    await asyncio.sleep(0)  # the first ticket is now waiting for the second
    service.note("during")
    on_disk = record_path.read_text()
    second = await service.ticket()
    return on_disk, await task, second


def test_items_after_a_call_in_flight_wait_for_its_answer_and_those_before_it_do_not(sandbox):
    sandbox.module("service", SERVICE)
    with sandbox.intercept(RECORD, ["service"]):
        import service
        on_disk, first, second = asyncio.run(held_back(service, sandbox.record))
    assert on_disk == transcript()
    assert (first, second) == (1, 2)
    assert sandbox.recorded() == transcript("""
        <-PYT:await service.ticket()
        ->RET:1
        <-PYT:service.note('during')
        ->RET:'noted during'
        <-PYT:await service.ticket()
        ->RET:2
    """)


def test_a_call_never_awaited_is_recorded_alone_and_holds_nothing_back(sandbox):
    sandbox.module("service", SERVICE)
    with sandbox.intercept(RECORD, ["service"]):
        import service
        with pytest.warns(RuntimeWarning, match="^coroutine 'fetch' was never awaited$"):
            service.fetch(1)
        service.note("after")
    assert sandbox.recorded() == transcript("""
        <-PYT:await service.fetch(1)
        <-PYT:service.note('after')
        ->RET:'noted after'
    """)


async def cancelled(service):
    task = asyncio.create_task(service.ticket())  # the first ticket waits for a second that never comes
    await asyncio.sleep(0)
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        return "cancelled"
    return "not cancelled"


def test_a_cancelled_await_is_recorded_as_the_cancellation_the_awaiter_saw(sandbox):
    recorded_result, replayed_result, recorded, rerecorded = record_then_replay(sandbox, cancelled)
    assert recorded == transcript("""
        <-PYT:await service.ticket()
        ->RET:raise asyncio.exceptions.CancelledError('')
    """)
    assert recorded_result == replayed_result == "cancelled"
    assert rerecorded == recorded


def test_a_hand_written_awaited_call_replays_without_the_module(sandbox):
    mock = sandbox.mock("""
        <-PYT:await service.fetch(1)
        ->RET:'from the mock'
        <-PYT:await service.fetch(2)
        ->RET:raise service.Unavailable('try later')
    """)

    async def program(service):
        first = await service.fetch(1)
        try:
            await service.fetch(2)
        except service.Unavailable as error:
            return first, str(error)

    with sandbox.intercept(REPLAY, ["service"], replay=mock):
        import service
        assert asyncio.run(program(service)) == ("from the mock", "try later")


def test_mixed_mode_replays_known_awaited_calls_and_records_new_ones(sandbox):
    sandbox.module("service", SERVICE)
    mock = sandbox.mock("""
        <-PYT:await service.fetch(2)
        ->RET:'replayed'
    """)

    async def program(service):
        return [await service.fetch(2), await service.slow_first(3)]

    with sandbox.intercept(REPLAY_OLD_RECORD_NEW, ["service"], replay=mock):
        import service
        assert asyncio.run(program(service)) == ["replayed", 300]
    assert sandbox.recorded().endswith("<-PYT:await service.fetch(2)\n->RET:'replayed'\n"
                                       "<-PYT:await service.slow_first(3)\n->RET:300\n")


def test_a_coroutine_recorded_by_capturemock_2_10_is_named_in_one_error_line(sandbox):
    # 2.10 writes the coroutine object itself, not what awaiting it gave: nothing to replay
    mock = sandbox.mock("""
        <-PYT:service.fetch(1)
        ->RET:<coroutine object fetch at 0x7f64914512a0>
    """)
    with sandbox.intercept(REPLAY, ["service"], replay=mock):
        import service
        with pytest.raises(MockFileError) as caught:
            service.fetch(1)
    assert str(caught.value) == (f"{mock}:2: cannot parse value '<coroutine object fetch at 0x7f64914512a0>': "
                                 "invalid syntax")


def test_partly_intercepted_coroutine_functions_and_methods_are_awaited_calls(sandbox):
    sandbox.module("service", SERVICE)

    async def program(service):
        return [await service.fetch(2), await service.Conn().get("key")]

    with sandbox.intercept(RECORD, ["service.fetch", "service.Conn.get"]):
        import service
        assert asyncio.run(program(service)) == [20, "KEY"]
    recorded = sandbox.recorded()
    assert recorded == sandbox.lines("""
        <-PYT:await service.fetch(2)
        ->RET:20
        <-PYT:await service.Conn.get('key')
        ->RET:'KEY'
    """)
    edited = recorded.replace("->RET:20", "->RET:21").replace("'KEY'", "'from the mock'")
    sandbox.replay.write_text(edited)
    with sandbox.intercept(REPLAY, ["service.fetch", "service.Conn.get"], replay=str(sandbox.replay)):
        import service
        assert asyncio.run(program(service)) == [21, "from the mock"]
    assert sandbox.recorded() == edited
