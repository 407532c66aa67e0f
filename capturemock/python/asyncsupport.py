"""Awaited calls of intercepted code: coroutine functions and methods, ``async for`` and ``async with``.

An awaited call is one item pair, the request marked ``await`` and the response what awaiting it gave::

    <-PYT:await mymod.fetch(1)
    ->RET:10

The marker is what tells replay, which has no real function to ask, to answer with an awaitable (a
coroutine, so ``asyncio.create_task`` takes it) that gives the value or raises the recorded exception
when awaited. ``async for`` steps are ``await x.__anext__()`` items ending in ``StopAsyncIteration``,
``async with`` is ``await x.__aenter__()`` and ``await x.__aexit__(...)``; ``x.__aiter__()`` is a plain call.

Ordering: items are written in the order the calls were made (§4.5), whole. While an awaited call is in
flight its request and the items made after it are held back; they are written as soon as every awaited
call before them has its answer. Replay looks a call up when it is made, so the n-th call of a request
gets the n-th recorded answer, whichever task awaits it and whenever.

Loaded on first use (``function_proxy`` for a coroutine function, ``Session.awaited``): a program that
awaits nothing intercepted does not pay for this module at start-up.
"""
from __future__ import annotations

import sys
from collections import deque

from ..mockfile import format_item, mock_prefix, sut_prefix
from ..modes import RECORD
from .bypass import TRAFFIC
from .naming import hint_from
from .objects import SCALARS
from .proxies import AWAIT, MISSING, OWN_ERRORS, Handle, Proxy, surfaced

TYPE_CHECKING = False  # typing is not imported at run time: it costs every intercepted process ~3 ms
if TYPE_CHECKING:
    from typing import Any, Awaitable, Optional

class AwaitedFunctionProxy(Proxy):
    """A coroutine function or method: the call is recorded or replayed together with what awaiting gave."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        handle = self._cm
        try:
            return handle.session.awaited.call(handle, args, kwargs)
        except OWN_ERRORS as error:
            raise surfaced(handle.session, error) from None


class _Slot:
    """An awaited call's place in the record file: its request, and its response once the call completes."""

    __slots__ = ("request", "response")

    def __init__(self, request: str) -> None:
        self.request = request
        self.response: Optional[str] = None  # the formatted response item ("" for none) once known

    def abandon(self) -> None:
        """The call was never awaited, or closed before it ended: its request stands alone."""
        if self.response is None:
            self.response = ""


class AwaitedCalls:
    """One session's awaited calls: started and recorded or replayed here, answers written in call order."""

    def __init__(self, session: Any):
        self.session = session
        self._held: deque = deque()  # formatted items and slots waiting for an earlier slot's answer

    # -- calls -----------------------------------------------------------------------------------------
    def call(self, handle: Handle, args: tuple, kwargs: dict, callers: bool = True) -> Any:
        """What calling an awaited proxy gives: a coroutine that records or replays the awaited call."""
        session = self.session
        real = session.bypass.route(handle, callers)
        if real is not TRAFFIC:
            return _settled(None, None) if real is MISSING else session._direct(real, args, kwargs)
        with session.traffic:
            name = handle.name
            level = session.state.level
            prefix = sut_prefix(level)
            text = AWAIT + session.request_text(name, args, kwargs)
            record = session._records(name)
            if handle.target is MISSING or (session.mode != RECORD and session._replays_call(handle, name)):
                if record:
                    session.write(prefix, "PYT", text)
                try:
                    value = session.replayer.call(f"{prefix}PYT:{text}", level, record)
                except OWN_ERRORS:
                    raise
                except BaseException as error:  # the recorded exception: raised where the call is awaited
                    return _named(_settled(None, error.with_traceback(None)), name)
                return _named(_settled(value, None), name)
            hint = hint_from(args, kwargs)
            awaitable = self._start(handle.target, name, args, kwargs, level, record)
            slot = self._hold(prefix, text) if record else None
            coroutine = _named(self._recorded(awaitable, slot, name, hint, level), name)
            import weakref  # here: a process that awaits nothing does not pay for it at start-up

            weakref.finalize(coroutine, _dropped, slot, awaitable)
            return coroutine

    def call_special(self, obj: Any, handle: Handle, method: str, args: tuple) -> Any:
        """``__anext__``, ``__aenter__``, ``__aexit__`` of an instance: awaited calls from whoever makes them."""
        target = getattr(handle.target, method) if handle.has_target else MISSING
        return self.call(Handle(self.session, None, target, owner=handle, attr=method), args, {}, False)

    def _start(self, target: Any, name: str, args: tuple, kwargs: dict, level: int, record: bool) -> Any:
        """Make the real awaitable. An error making it (wrong arguments) is raised now, as it would be,
        and recorded as the call's answer."""
        session = self.session
        real_args, real_kwargs = session.real_arguments(args, kwargs)
        session.state.guard += 1
        try:
            return target(*real_args, **real_kwargs)
        except BaseException as exc:
            wrapped = session.objects.wrap(exc, hint_from(args, kwargs))
            if record:
                session.write(sut_prefix(level), "PYT", AWAIT + session.request_text(name, args, kwargs))
                session.write(mock_prefix(level), "RET", session._raise_text(wrapped, exc, name))
            if wrapped is exc:
                raise
            raise wrapped.with_traceback(exc.__traceback__) from None
        finally:
            session.state.guard -= 1

    async def _recorded(self, awaitable: Awaitable, slot: Optional[_Slot], name: str, hint: Optional[str],
                        level: int) -> Any:
        session = self.session
        try:
            result = await _Guarded(session.state, awaitable)
        except GeneratorExit:
            if slot is not None:
                slot.abandon()
            raise
        except BaseException as exc:  # CancelledError and StopAsyncIteration too: what the awaiter saw
            with session.traffic:
                wrapped = session.objects.wrap(exc, hint)
                self._answer(slot, level, session._raise_text(wrapped, exc, name))
            if wrapped is exc:
                raise
            raise wrapped.with_traceback(exc.__traceback__) from None
        with session.traffic:
            wrapped = result if type(result) in SCALARS else session.objects.wrap(result, hint)
            text = "" if result is None else session.render(wrapped)
            self._answer(slot, level, session.settings.alter(text, name) if text else text)
        return wrapped

    # -- writing in call order -------------------------------------------------------------------------
    def _hold(self, prefix: str, text: str) -> _Slot:
        """Queue the call's slot; until its answer is in, the call and what follows it wait (``flush``)."""
        session = self.session
        session.flush = self.flush  # the session's own flush again once nothing is held
        held = self._held
        held.extend(session._pending)
        session._pending.clear()
        slot = _Slot(format_item(prefix, "PYT", text))
        held.append(slot)
        return slot

    def _answer(self, slot: Optional[_Slot], level: int, text: str) -> None:
        if slot is not None:
            slot.response = format_item(mock_prefix(level), "RET", text) if text else ""

    def flush(self) -> None:
        """The session's flush while awaited calls are held: write everything before the first call still
        in flight (everything once the session is closed: an unanswered call's request stands alone)."""
        session = self.session
        if session._real_calls_running:
            return
        held = self._held
        held.extend(session._pending)
        session._pending.clear()
        ready = []
        closed = session.closed
        while held:
            item = held[0]
            if type(item) is _Slot:
                if item.response is None and not closed:
                    break
                item = item.request + (item.response or "")
            ready.append(item)
            held.popleft()
        if not held:
            session.__dict__.pop("flush", None)
        if ready:
            session.writer.write_text("".join(ready))


def _named(coroutine: Any, name: str) -> Any:
    """Named after the function called, as Python's warning about a coroutine never awaited shows it."""
    coroutine.__name__ = coroutine.__qualname__ = name.rpartition(".")[2]
    return coroutine


def _dropped(slot: Optional[_Slot], awaitable: Any) -> None:
    """Our coroutine is gone: if it never ran, its call's request stands alone, and the real awaitable is
    closed (one warning that it was never awaited, ours)."""
    if slot is not None:
        slot.abandon()
    close = getattr(awaitable, "close", None)
    if close is not None:
        close()


def _settled(value: Any, error: Optional[BaseException]) -> Any:
    """A replayed awaited call's answer, as a coroutine."""
    async def settled() -> Any:
        await _Pause()
        if error is not None:
            raise error
        return value
    return settled()


class _Pause:
    """One turn of the asyncio event loop, as a real awaited call would give: other tasks run meanwhile,
    so a replayed polling loop does not starve them. Under no running asyncio loop, no pause."""

    def __await__(self) -> Any:
        asyncio = sys.modules.get("asyncio")
        if asyncio is not None and asyncio._get_running_loop() is not None:
            yield


class _Guarded:
    """Awaits the real awaitable a step at a time, the re-entrancy guard up during each step only: the
    intercepted code's own use of proxies is not traffic, other tasks' use in between is."""

    __slots__ = ("state", "awaitable")

    def __init__(self, state: Any, awaitable: Awaitable):
        self.state = state
        self.awaitable = awaitable

    def __await__(self) -> Any:
        steps = self.awaitable.__await__()
        state = self.state
        value: Any = None
        error: Optional[BaseException] = None
        while True:
            state.guard += 1
            try:
                yielded = steps.send(value) if error is None else steps.throw(error)
            except StopIteration as stop:
                return stop.value
            finally:
                state.guard -= 1
            try:
                value, error = (yield yielded), None
            except GeneratorExit:
                steps.close()
                raise
            except BaseException as exc:  # thrown in by the event loop (cancellation): passed on
                value, error = None, exc
