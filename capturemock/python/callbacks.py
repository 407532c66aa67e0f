"""Calls from intercepted code back into the application (§4.2, §6.7).

Callables the application passes in are wrapped so that, when intercepted code calls them, the call
is written as ``--->PYT:<name>(...)`` and its result as ``<---RET:...``, with the application's own
traffic inside at the next level (``<-----PYT``). Methods an application subclass adds to an
intercepted class are reached the same way, through a real subclass that forwards them.

As in the original, there is one level of nesting only: a callback invoked from within a callback is
written ``------->PYT``, and leaving any callback goes back to the top level, so what follows it is
written as at the top (``<---RET``, ``->RET``, ``<-PYT``) however deeply it is nested. Deeper levels
could not be read back anyway: an item's prefix is shorter than 10 characters (§4.1).
"""
from __future__ import annotations

import types

from ..mockfile import mock_prefix, sut_prefix
from ..values import render_exception
from .naming import hint_from

TYPE_CHECKING = False  # typing is not imported at run time: it costs every intercepted process ~3 ms
if TYPE_CHECKING:
    from typing import Any

CALLBACK, IN_CALLBACK = 1, 2  # the levels of a callback's result (``<---RET``) and of traffic inside it


class Callbacks:
    """The callback machinery of one session."""

    def __init__(self, session: Any):
        self.session = session
        self._hooked: dict[type, type] = {}

    def hooked_class(self, app_cls: type, real_cls: type) -> type:
        """A real subclass whose methods overridden by the application call back into it (§4.2)."""
        hooked = self._hooked.get(app_cls)
        if hooked is None:
            methods = {}
            for klass in app_cls.__mro__:
                if "_cm" in klass.__dict__:
                    break
                for attr, value in klass.__dict__.items():
                    if not attr.startswith("__") and attr not in methods and isinstance(value, types.FunctionType):
                        methods[attr] = self._forwarder(attr)
            try:
                hooked = type(real_cls.__name__, (real_cls,), methods)
            except TypeError:
                hooked = real_cls
            self._hooked[app_cls] = hooked
        return hooked

    def _forwarder(self, attr: str) -> Any:
        session = self.session

        def forward(real_self: Any, *args: Any, **kwargs: Any) -> Any:
            proxy = session.objects.by_id[id(real_self)][1]
            name = f"{object.__getattribute__(proxy, '_cm').name}.{attr}"
            return session.callbacks.invoke(name, getattr(proxy, attr), args, kwargs)
        forward.__name__ = attr
        return forward

    # -- callbacks (§6.7) --------------------------------------------------------------------------
    def wrapper(self, func: Any) -> Any:
        name = self.session.objects.callback_name(func)
        if name is None:
            return func
        session = self.session

        def callback(*args: Any, **kwargs: Any) -> Any:
            return session.callbacks.invoke(name, func, args, kwargs, callback.handed_out)
        return self._named(callback, name)  # passed back to intercepted code: its name again

    def intercepted(self, name: str, target: Any) -> Any:
        """What real code gets for an intercepted function passed as an argument (``mod.ack1``)."""
        session = self.session

        def callback(*args: Any, **kwargs: Any) -> Any:
            return session.callbacks.invoke_intercepted(name, target, args, kwargs, callback.handed_out)
        return self._named(callback, name)

    def _named(self, callback: Any, name: str) -> Any:
        """A wrapper is written by its name; once it is handed to the application (returned by intercepted
        code: ``->RET:calc_callback``), the application's calls of it are traffic too, as in the original."""
        callback.handed_out = False
        self.session.objects.name_wrapper(callback, name)
        return callback

    def invoke_intercepted(self, name: str, target: Any, args: tuple, kwargs: dict, handed_out: bool = False) -> Any:
        """Intercepted code calling an intercepted function it was passed: ``--->PYT:mod.ack1('y')`` and
        ``<---RET:...`` around the real call, which stays intercepted code (nothing inside is traffic); an
        exception is written as the answer of the call that passed it (``->RET:raise``), as in the original."""
        session = self.session
        state = session.state
        if (state.guard == 0 and not handed_out) or session.closed:
            return target(*args, **kwargs)
        with session.traffic:
            level = state.level
            wrap = session.objects.wrap
            shown_args = tuple(wrap(arg, None) for arg in args)
            shown_kwargs = {key: wrap(value, None) for key, value in kwargs.items()}
            session.write(mock_prefix(level + 1), "PYT", session.request_text(name, shown_args, shown_kwargs))
            try:
                result = target(*args, **kwargs)
            except BaseException as exc:
                session.write(mock_prefix(level), "RET", render_exception(exc))
                raise
            if result is not None:
                session.write(sut_prefix(level + 1), "RET", session.render(wrap(result, None)))
            return result

    def invoke(self, name: str, func: Any, args: tuple, kwargs: dict, handed_out: bool = False) -> Any:
        """Intercepted code (or the application, once handed the wrapper) calling application code:
        ``--->PYT``/``<---RET`` around the real call."""
        session = self.session
        state = session.state
        if (state.guard == 0 and not handed_out) or session.closed:
            return func(*args, **kwargs)
        with session.traffic:
            level = state.level + 1
            hint = hint_from(args, kwargs)
            wrap = session.objects.wrap
            app_args = [wrap(arg, hint) for arg in args]
            app_kwargs = {key: wrap(value, hint) for key, value in kwargs.items()}
            session.write(mock_prefix(level), "PYT", session.request_text(name, tuple(app_args), app_kwargs))
            result = self.run_application(func, app_args, app_kwargs)
            if result is not None:
                session.write(sut_prefix(CALLBACK), "RET", session.render(result))
            return session.objects.unwrap(result)

    def run_application(self, func: Any, args: Any, kwargs: dict) -> Any:
        """Run application code called back: its own use of proxies is traffic again, one level down;
        afterwards the level is the top one, whatever it was before (see the module's docstring)."""
        session = self.session
        state = session.state
        guard = state.guard
        try:
            with session.calling_back():  # writes what is queued while our own guard is still up
                state.guard, state.level = 0, IN_CALLBACK
                return func(*args, **kwargs)
        except BaseException as exc:
            session.write(sut_prefix(CALLBACK), "RET", render_exception(exc))
            raise
        finally:
            state.guard, state.level = guard, 0

