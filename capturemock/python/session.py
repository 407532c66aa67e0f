"""One process's python interception: every proxy operation comes here to be recorded or replayed.

Whether an operation goes straight to the real object (an excluded caller, or intercepted code calling
itself, §6.8) is one rule, ``Bypass.route`` (bypass.py); otherwise the session decides whether it is
replayed (§5.2) or runs for real and is recorded (§6.5, §6.6). All traffic is serialised by one
re-entrant lock; per-thread state says whether we are inside a real intercepted call (the re-entrancy
guard) and at which callback nesting level (§4.1).
"""
from __future__ import annotations

import _thread  # not threading: its import costs every intercepted process ~1 ms at start-up
import contextlib
import types

from ..accelerator import load_speedups
from ..mockfile import ESCAPE, MockWriter, format_item, mock_prefix, sut_prefix
from ..modes import RECORD, REPLAY, REPLAY_OLD_RECORD_NEW
from ..values import render, render_call, render_exception
from .bypass import TRAFFIC, Bypass
from .callstack import OWN, CallerFilter
from .naming import hint_from
from .objects import NO_CALL, SCALARS, ObjectRegistry, proxy_class_of
from .proxies import (
    ALIAS,
    EXCEPTION_TRAFFIC,
    FUNCTION,
    INSTANCE,
    MISSING,
    MODULE,
    Handle,
    Proxy,
    function_proxy,
    handle_of,
    is_coroutine_function,
    raw_new,
)
from .settings import PythonSettings

TYPE_CHECKING = False  # typing is not imported at run time: it costs every intercepted process ~3 ms
if TYPE_CHECKING:
    from typing import Any, Iterator, Optional, Sequence

    from .asyncsupport import AwaitedCalls
    from .callbacks import Callbacks

# Names never traffic on any proxy (§6.3): the import machinery's probes, and ``__notes__``, which
# printing an exception reads (Python 3.11+); the original answers AttributeError for all of them.
NEVER_TRAFFIC = frozenset({"__loader__", "__package__", "__initializing__", "__spec__", "__notes__"})
_BASIC = frozenset({type(None), bool, int, float, str, list, dict, tuple})
PACKAGE_PATH = "['Fake value just to mark that it exists']"
_speedups = load_speedups()  # its call_recorder settles the session's part of the usual recorded call
_LOGGED_READ = "capturemock read "  # with the replay log on: the owner's key of a proxy kept for its reads


def _cacheable(owner: Any, attr: str) -> bool:
    """Whether a read's proxy may be kept on ``owner``: not on a class, nor over a property such as an
    exception's ``args``, whose reads must stay traffic. The class attribute is looked up without
    reading it: a real base's method on a generated class would be a read itself."""
    if owner is None or isinstance(owner, type):
        return False
    found = next((klass.__dict__[attr] for klass in type(owner).__mro__ if attr in klass.__dict__), None)
    return not hasattr(found, "__set__")


class _ThreadState(_thread._local):  # threading.local itself
    guard = 0  # > 0 while intercepted code runs for real: its own use of proxies is not traffic
    level = 0  # callback nesting: 0 normally, 2 inside a callback invoked by intercepted code


class _Traffic:
    """``with session.traffic:`` holds the lock, guards capturemock's own work (so an intercepted
    ``os.write`` or ``os.fspath`` used by the writer is not traffic) and writes queued items on the way out."""

    __slots__ = ("session",)

    def __init__(self, session: Session):
        self.session = session

    def __enter__(self) -> None:
        self.session.lock.acquire()
        self.session.state.guard += 1

    def __exit__(self, *exc_info: Any) -> None:
        session = self.session
        try:
            session.flush()
        finally:
            session.state.guard -= 1
            session.lock.release()


class Session:
    """Records or replays the python traffic of one process."""

    def __init__(self, settings: PythonSettings, writer: MockWriter, module_names: list[str],
                 replayer_factory: Any = None):
        self.settings = settings
        self.mode = settings.mode
        self.full_floats = settings.full_floats  # decided once: every rendered value reads it
        self.always_record = settings.always_record  # and every call this
        self.writer = writer
        self.lock = _thread.RLock()  # threading.RLock's C lock
        self.traffic = _Traffic(self)
        self.state = _ThreadState()
        self.bypass = Bypass(self.state, CallerFilter(settings.ignore_callers), self.lock)
        self.objects = ObjectRegistry(self, module_names)
        self.replayer = replayer_factory(self) if replayer_factory is not None else None
        # where a read's proxy is kept: decided once, so that unlogged reads pay nothing for the log
        logged = self.replayer is not None and self.replayer.index.logged
        self.keep_read_proxy = self._keep_logged_read_proxy if logged else self.cache_attribute
        self.importer: Any = None  # set by the import hook: knows how to import real modules
        self.attribute_texts: dict[str, str] = {}  # attribute text -> value text last recorded
        self.attribute_objects: dict[str, Any] = {}  # attribute text -> the proxy first read there
        self.seen_calls: set[str] = set()
        self._pending: list[str] = []  # formatted items not yet written (see write)
        self._real_calls_running = 0  # while > 0, items are held back (see flush)
        self.mock_error: Optional[Exception] = None  # the first malformed-mock error the application met
        self._callbacks: Optional[Callbacks] = None  # made on first use: see callbacks
        self._awaited: Optional[AwaitedCalls] = None  # and awaited
        whole = self._whole_calls_in_c()
        if whole is not None:
            self.call = whole  # the usual replayed call settled in C, every other one given to Session.call

    def _whole_calls_in_c(self) -> Any:
        """The C ``call`` where its fixed conditions hold: every call recorded (it writes each one), no
        alterations or redaction of the texts, the plain writer; then in replay ``Replayer.whole_calls``, in
        record mode ``_speedups.call_recorder`` (the session's part of a real call: see _speedups.c)."""
        if not self.always_record or self.settings.has_alterations or type(self.writer) is not MockWriter:
            return None
        fallback = types.MethodType(Session.call, self)
        if self.replayer is not None:
            return self.replayer.whole_calls(fallback)
        if self.mode != RECORD or _speedups is None:
            return None
        return _speedups.call_recorder(fallback, self, Handle, MISSING, self.full_floats, self.bypass.callers.cache,
                                       OWN)

    # Made on first use: a program that passes intercepted code no callable, and awaits nothing intercepted,
    # never loads callbacks or asyncsupport (~0.6-1 M instructions each). Properties over plain attributes
    # (not cached properties, which would materialise the session's __dict__: every attribute read of the
    # hot path a little slower); the hot path reads ``_callbacks`` itself.
    @property
    def callbacks(self) -> Callbacks:
        """Calls from intercepted code back into the application (callbacks)."""
        return self._callbacks or self._made_callbacks()

    def _made_callbacks(self) -> Callbacks:
        from .callbacks import Callbacks

        return self._made("_callbacks", Callbacks)

    @property
    def awaited(self) -> AwaitedCalls:
        """The session's awaited calls (asyncsupport)."""
        from .asyncsupport import AwaitedCalls

        return self._awaited or self._made("_awaited", AwaitedCalls)

    def _made(self, name: str, make: Any) -> Any:
        with self.lock:  # one for the session, whichever threads ask first
            if getattr(self, name) is None:
                setattr(self, name, make(self))
        return getattr(self, name)

    # -- decisions ---------------------------------------------------------------------------------
    @property
    def closed(self) -> bool:
        """After ``resetIntercepts`` a proxy kept by the application just forwards: no dead proxies."""
        return self.bypass.closed

    def _replays_call(self, handle: Handle, name: str) -> bool:
        if not handle.has_target:
            return True
        if self.mode == REPLAY:
            return True
        return self.mode == REPLAY_OLD_RECORD_NEW and self.replayer.knows_function(name)

    def _replays_attribute(self, handle: Handle, description: str) -> bool:
        if not handle.has_target or self.mode == REPLAY:
            return True
        return self.mode == REPLAY_OLD_RECORD_NEW and self.replayer.knows(description)

    def _records(self, name: str) -> bool:
        if self.always_record or self.settings.check_repeated(name):
            return True
        if name in self.seen_calls:
            return False
        self.seen_calls.add(name)
        return True

    def write(self, prefix: str, type_: str, text: str) -> None:
        """Queue one item; ``flush`` writes the queue at the end of each operation, before a real call
        and before application code runs, so a replayed call's request and response cost one write."""
        if text:  # format_item's line; built here when the text needs no escaping (the usual one-line value)
            self._pending.append(f"{prefix}{type_}:{text}\n" if "\n" not in text and not text.startswith(ESCAPE)
                                 else format_item(prefix, type_, text))

    def flush(self) -> None:
        """Write what is queued at the end of each operation. While a real call runs, its request waits
        for its answer, so a plain call is one write that another process recording to the same file
        cannot split (but see ``calling_back``)."""
        if self._pending and not self._real_calls_running:
            text = "".join(self._pending)
            self._pending.clear()
            self.writer.write_text(text)

    @contextlib.contextmanager
    def calling_back(self) -> Iterator[None]:
        """Application code called back from inside a real call runs as if outside it: a callback may
        run for as long as the program does (an event loop), and what it did must be on disk as it
        happens, in case the program is killed there."""
        running, self._real_calls_running = self._real_calls_running, 0
        try:
            self.flush()
            yield
        finally:
            self._real_calls_running = running

    def close(self) -> None:
        """Stop intercepting: proxies still held by the application forward to their targets."""
        with self.traffic:
            self.bypass.closed = True
        self.writer.close()

    def tell(self) -> int:
        """The record file's size once everything queued is written."""
        self.flush()
        return self.writer.tell()

    def render(self, value: Any) -> str:
        return render(value, self.objects.text_of, self.full_floats)

    # -- imports (§6.3) ----------------------------------------------------------------------------
    def import_module(self, name: str) -> Proxy:
        """The module proxy for an intercepted import, recording ``import name``."""
        with self.traffic:
            level = self.state.level
            description = f"{sut_prefix(level)}PYT:import {name}"
            self.write(sut_prefix(level), "PYT", f"import {name}")
            if self.mode == REPLAY:
                self.replayer.replay_import(description, level)
            proxy = self.objects.module_proxy(name)
            handle = object.__getattribute__(proxy, "_cm")
            if handle.has_target:
                return proxy
            if self.mode == REPLAY:
                self.bypass.note_replayed_module(name, name in self.importer.real_modules)
                return proxy
            try:
                handle.target = self.importer.import_with_submodules(name)
            except Exception as exc:
                if self.mode == REPLAY_OLD_RECORD_NEW and self.replayer.knows(description):
                    return proxy  # the replay file has the import: replay what we cannot run
                self.write(mock_prefix(level), "RET", render_exception(exc))
                raise
            return proxy

    # -- attribute reads (§6.5) --------------------------------------------------------------------
    def get_attribute(self, owner: Any, handle: Handle, attr: str, *, check_callers: bool = True) -> Any:
        """An attribute read; on an instance it is traffic whoever reads it (the original records what
        ``traceback`` or ``string.Formatter`` read of an intercepted object), elsewhere not from an
        excluded caller (§6.8)."""
        if attr in NEVER_TRAFFIC:
            raise AttributeError(attr)
        real = self.bypass.route(handle, check_callers and handle.kind is not INSTANCE)
        if real is not TRAFFIC:
            if real is MISSING:
                raise AttributeError(attr)
            return getattr(real, attr)
        with self.traffic:
            text = f"{handle.name}.{attr}"
            if self._replays_attribute(handle, f"{sut_prefix(self.state.level)}PYT:{text}"):
                return self.replayer.attribute(owner, handle, attr, text)
            return self._real_attribute(owner, handle, attr, text)

    def _real_attribute(self, owner: Any, handle: Handle, attr: str, text: str) -> Any:
        try:
            value = getattr(handle.target, attr)
        except Exception as exc:
            if attr == "__all__" and handle.kind == MODULE:
                value = [name for name in dir(handle.target) if not name.startswith("__")]
            else:
                wrapped = self.objects.wrap(exc, None)
                self.record_attribute(text, self._raise_text(wrapped, exc, text))
                if wrapped is exc:
                    raise
                raise wrapped from None
        if attr == "__path__" and handle.kind == MODULE:
            self.record_attribute(text, PACKAGE_PATH)
            return value
        return self.attribute_value(owner, handle, attr, text, value, record=True)

    def attribute_value(self, owner: Any, handle: Handle, attr: str, text: str, value: Any, *,
                        record: bool) -> Any:
        """What the application gets for a real attribute value: callables as proxies, values recorded."""
        if isinstance(value, types.ModuleType):
            if self.objects.is_intercepted_module(value.__name__):
                return self.objects.module_proxy(value.__name__, value)
            return self.keep_read_proxy(owner, attr, Proxy(Handle(self, None, value, owner=handle, attr=attr)))
        if isinstance(value, type):
            return self.objects.class_proxy(value, text)
        if callable(value):
            proxy = function_proxy(Handle(self, None, value, owner=handle, attr=attr), is_coroutine_function(value))
            return self.keep_read_proxy(owner, attr, proxy)
        if not record:
            return value
        if type(value) in _BASIC or value is NotImplemented:
            wrapped = self.objects.wrap(value, None)
            self.record_attribute(text, self.render(wrapped))
            return wrapped
        known = self.attribute_objects.get(text)
        if known is not None:
            return known  # §6.5: as in the original, even if the real attribute now holds another object
        wrapped = self.objects.wrap(value, None)
        self.attribute_texts.pop(text, None)
        self.record_attribute(text, self.render(wrapped))
        if handle_of(wrapped) is not None:  # an intercepted object: recorded once per attribute text
            self.attribute_objects[text] = wrapped
        return wrapped

    @staticmethod
    def cache_attribute(owner: Any, attr: str, proxy: Any) -> Any:
        """Keep a callable's proxy on its (non-class) owner so later reads are plain lookups."""
        if _cacheable(owner, attr):
            object.__setattr__(owner, attr, proxy)
        return proxy

    @staticmethod
    def _keep_logged_read_proxy(owner: Any, attr: str, proxy: Any) -> Any:
        """``cache_attribute`` while the replay log is on: 2.10 looked up every read of ``mod.func`` (the
        log shows each), so the proxy is kept where attribute lookup does not find it; the next read is
        looked up and logged again, and gets the same proxy back."""
        if not _cacheable(owner, attr):
            return proxy
        return vars(owner).setdefault(_LOGGED_READ + attr, proxy)

    def record_attribute(self, text: str, value_text: str) -> None:
        """An attribute read is written only when its value text differs from the last one (§6.5)."""
        if self.settings.redactor is not None:
            value_text = self.settings.redact(self.settings.redactor.attribute_value(text, value_text))
        if self.attribute_texts.get(text) == value_text:
            return
        self.attribute_texts[text] = value_text
        level = self.state.level
        self.write(sut_prefix(level), "PYT", text)
        if value_text != "None":
            self.write(mock_prefix(level), "RET", value_text)

    def _raise_text(self, wrapped: Any, exc: BaseException, name: str) -> str:
        if wrapped is exc:
            return self.settings.alter(render_exception(exc), name)
        return f"raise {self.render(wrapped)}"

    # -- attribute assignment (§6.3) ---------------------------------------------------------------
    def set_attribute(self, owner: Any, handle: Handle, attr: str, value: Any) -> None:
        if handle.kind == MODULE and attr.startswith("__") and attr.endswith("__"):
            object.__setattr__(owner, attr, value)  # the import machinery's bookkeeping (__spec__ etc.)
            return
        value_handle = handle_of(value)
        is_module = isinstance(value, types.ModuleType) or (value_handle is not None and value_handle.kind == MODULE)
        real_value = self.objects.unwrap(value)
        real = self.bypass.route(handle)
        if is_module or real is not TRAFFIC:
            real = handle.target if real is TRAFFIC else real
            if real is not MISSING:
                setattr(real, attr, real_value)
            elif isinstance(owner, BaseException) and attr in EXCEPTION_TRAFFIC:
                getattr(BaseException, attr).__set__(owner, value)  # the slot under the property
            else:
                object.__setattr__(owner, attr, value)
            return
        with self.traffic:
            text = f"{handle.name}.{attr}"
            self.write(sut_prefix(self.state.level), "PYT", self.settings.redact(f"{text} = {self.render(value)}"))
            self.attribute_texts.pop(text, None)
            if handle.has_target and self.mode != REPLAY:
                setattr(handle.target, attr, real_value)
            self._remember_assignment(owner, handle, attr, value)

    def _remember_assignment(self, owner: Any, handle: Handle, attr: str, value: Any) -> None:
        """What later reads of an assigned attribute give, unrecorded, as in the original: on a module the
        value itself; on an object, for an intercepted value, a proxy named ``car_a.engine`` (so
        ``car_a.engine.start()`` is one call, and the argument ``car_a.engine``); other values are read
        as traffic again (a proxy cached by an earlier read is dropped)."""
        vars(owner).pop(_LOGGED_READ + attr, None)  # a proxy kept for the replay log's reads is stale too
        if handle.kind == MODULE:
            self.cache_attribute(owner, attr, value)
            return
        value_handle = handle_of(value)
        if value_handle is not None:
            kind = FUNCTION if value_handle.kind == FUNCTION else ALIAS  # only functions are callbacks when passed
            self.cache_attribute(owner, attr, Proxy(Handle(self, None, value_handle.target, kind, handle, attr)))
        else:
            vars(owner).pop(attr, None)

    # -- calls (§6.6) ------------------------------------------------------------------------------
    def call(self, handle: Handle, args: tuple, kwargs: dict, callers: bool = True) -> Any:
        """A call of a proxy; ``callers``: whether an excluded caller makes it a real, unrecorded one
        (not for the special methods of instances, which the original records from anywhere)."""
        # the hot path (product spec §3): plain locals and dict lookups, the traffic context inlined; the
        # routing rule is asked only when it may answer other than TRAFFIC (not for a plain replayed call)
        state, bypass = self.state, self.bypass
        if state.guard or handle.target is not MISSING or bypass.reaches_real or bypass.closed:
            real = bypass.route(handle, callers)
            if real is not TRAFFIC:
                return self._direct(real, args, kwargs)
        self.lock.acquire()
        state.guard += 1
        try:
            owner = handle.owner
            if owner is not None and owner.renamable and handle.attr[:3] in ("set", "Set"):
                hint = hint_from(args, kwargs)
                if hint:
                    self._rename(owner, hint)
            name = handle.fixed_name or handle.name  # a module's function: no property call
            level = state.level
            text = self.request_text(name, args, kwargs)
            record = self.always_record or self._records(name)
            prefix = sut_prefix(level) if level else "<-"
            description = f"{prefix}PYT:{text}"
            if record:  # as ``write`` would, from the description already built
                self._pending.append(f"{description}\n" if "\n" not in text and not text.startswith(ESCAPE)
                                     else format_item(prefix, "PYT", text))
            if handle.target is MISSING or (self.mode != RECORD and self._replays_call(handle, name)):
                return self.replayer.call(description, level, record)
            return self._real_call(handle.target, name, args, kwargs, record)
        finally:
            try:
                self.flush()
            finally:
                state.guard -= 1
                self.lock.release()

    def call_special(self, obj: Any, handle: Handle, method: str, args: tuple) -> Any:
        """``len(x)``, ``x[k]``, ``str(x)``, iteration...: recorded as ``x.__len__()`` etc. (§4.2)."""
        target = getattr(handle.target, method) if handle.has_target else MISSING
        result = self.call(Handle(self, None, target, owner=handle, attr=method), args, {}, False)
        if method in ("__str__", "__repr__") and not isinstance(result, str):
            return handle.name
        if method == "__len__" and not isinstance(result, int):
            return 0
        return result

    def truth(self, obj: Any, handle: Handle) -> bool:
        """Truth tests: ``__bool__()``, else ``__len__()``, else true, each step being traffic (§4.2),
        whoever tests (``traceback`` tests the exception it prints), as with other special methods."""
        real = self.bypass.route(handle, check_callers=False)
        if real is not TRAFFIC:
            return True if real is MISSING else bool(real)
        try:
            method = self.get_attribute(obj, handle, "__bool__")
        except AttributeError:
            try:
                method = self.get_attribute(obj, handle, "__len__")
            except AttributeError:
                return True
        method_handle = handle_of(method)
        return bool(method() if method_handle is None else self.call(method_handle, (), {}, False))

    def request_text(self, name: str, args: tuple, kwargs: dict) -> str:
        """``name(args)`` as recorded: callables among the arguments named after this call (§4.2)."""
        objects = self.objects
        objects.call_context = (name, args, kwargs)  # the hint is worked out only if a callback is named
        text = render_call(name, args, kwargs, objects.argument_text_of, self.full_floats)
        objects.call_context = NO_CALL  # the arguments are not kept alive past the call
        return self.settings.alter(text, name) if self.settings.has_alterations else text

    def _direct(self, real: Any, args: tuple, kwargs: dict) -> Any:
        """A call that is not traffic (``Bypass.route``): the real object called with real arguments."""
        if real is MISSING:
            return None
        unwrap = self.objects.unwrap
        return real(*[unwrap(arg) for arg in args], **{k: unwrap(v) for k, v in kwargs.items()})

    def real_arguments(self, args: tuple, kwargs: dict) -> tuple[Sequence, dict]:
        """What the real call gets: proxies unwrapped, the application's callables wrapped as callbacks."""
        if not kwargs and SCALARS.issuperset(map(type, args)):  # the usual: plain values, nothing to unwrap
            return args, kwargs
        unwrap, wrap_callback = self.objects.unwrap, (self._callbacks or self._made_callbacks()).wrapper
        real_args = [unwrap(arg, wrap_callback) for arg in args]
        return real_args, {key: unwrap(value, wrap_callback) for key, value in kwargs.items()} if kwargs else kwargs

    def _real_call(self, target: Any, name: str, args: tuple, kwargs: dict, record: bool) -> Any:
        """Run the real call and record its result; the naming hint (§4.2) is worked out only when a
        new object is named, which plain values never are. The result is written at the level the call
        ends at: the top one if it called back (callbacks.py), as in the original."""
        real_args, real_kwargs = self.real_arguments(args, kwargs)
        state = self.state
        state.guard += 1
        self._real_calls_running += 1
        try:
            result = target(*real_args, **real_kwargs)
        except BaseException as exc:
            state.guard -= 1
            self._real_calls_running -= 1
            error = self.real_call_raised(exc, name, args, kwargs, record)
            if error is exc:
                raise
        else:
            state.guard -= 1
            self._real_calls_running -= 1
            return self.real_call_returned(result, name, args, kwargs, record)
        # raised outside the handler, so its context is the application's, not the real exception (whose
        # own ``__suppress_context__`` is what printing the proxy reads, recorded as in the original)
        raise error

    def real_call_returned(self, result: Any, name: str, args: tuple, kwargs: dict, record: bool) -> Any:
        """What the application gets for a real call's result (intercepted objects as proxies), its line
        queued. Its own method: the C recorder (``_speedups.call_recorder``) hands over the results it
        does not write itself."""
        wrapped = result if type(result) in SCALARS else self.objects.wrap(result, hint_from(args, kwargs))
        if record and result is not None:
            text = render(wrapped, self.objects.text_of, self.full_floats)
            self.write(mock_prefix(self.state.level), "RET", self.settings.alter(text, name)
                       if self.settings.has_alterations else text)
        return wrapped

    def real_call_raised(self, exc: BaseException, name: str, args: tuple, kwargs: dict,
                         record: bool) -> BaseException:
        """What the application gets raised for a real call's exception: ``exc`` itself, or its proxy with
        its traceback; the ``raise`` line queued. Shared with the C recorder, as ``real_call_returned``."""
        wrapped = self.objects.wrap(exc, hint_from(args, kwargs))
        if record:
            self.write(mock_prefix(self.state.level), "RET", self._raise_text(wrapped, exc, name))
        return exc if wrapped is exc else wrapped.with_traceback(exc.__traceback__)

    def _rename(self, handle: Handle, hint: str) -> None:
        """§4.2 set* rename, rewriting the file from the instance's first description. Unlike the
        original, only whole names are replaced (``item1`` never hits ``item10``), and only in a file
        no other process is writing to: there the name stays as it is (``MockWriter.rewrite_from``)."""
        import re  # rare: not at import

        self.flush()
        whole_name = re.compile(rf"\b{re.escape(handle.own_name)}\b")
        new, _ = self.objects.names.free(handle.base, hint, bare_suffix=True)
        if not self.writer.rewrite_from(handle.offset, lambda text: whole_name.sub(new, text)):
            handle.renamable = False
            return
        self.objects.rename(handle, hint)
        self._pending[:] = [whole_name.sub(new, text) for text in self._pending]  # held back

    # -- construction of intercepted classes -------------------------------------------------------
    def construct(self, cls: type, handle: Handle, args: tuple, kwargs: dict) -> Any:
        """``Class(...)`` on a generated class (or an application subclass of one)."""
        real = self.bypass.route(handle)
        if real is not TRAFFIC:
            if real is MISSING:
                return raw_new(cls)
            if self._real_calls_running and self.state.guard and not self.closed:
                return self._made_by_intercepted_code(cls, real, args, kwargs)
            return self._direct(real, args, kwargs)
        with self.traffic:
            name = handle.name
            hint = hint_from(args, kwargs)
            level = self.state.level
            text = self.request_text(name, args, kwargs)
            record = self._records(name)
            if record:
                self.write(sut_prefix(level), "PYT", text)
            obj = raw_new(cls)
            if self._replays_call(handle, name):
                return self.replayer.construct(f"{sut_prefix(level)}PYT:{text}", level, record, obj, name)
            real_cls = handle.target if cls is proxy_class_of(cls) else self.callbacks.hooked_class(cls, handle.target)
            self._real_call(self._binder(obj, real_cls, hint), name, args, kwargs, record)
            return obj

    def _made_by_intercepted_code(self, cls: type, real_cls: type, args: tuple, kwargs: dict) -> Any:
        """A class intercepted by name (``mod.Class``, patched into its module) constructed by intercepted
        code running for real: as in the original, an unrecorded proxy of the new object, named from its own
        arguments (``error_custom_failure``), so what the application later does with it is traffic and a
        raised one is written ``raise mod.Error('...')``."""
        real = self._direct(real_cls, args, kwargs)
        obj = raw_new(cls, real)
        self.objects.bind(obj, real, proxy_class_of(cls).__name__, hint_from(args, kwargs))
        return obj

    def _binder(self, obj: Any, real_cls: type, hint: Optional[str]) -> Any:
        """Constructs the real object and makes ``obj`` its proxy, so the result renders as ``obj``."""
        def construct(*args: Any, **kwargs: Any) -> Any:
            real = real_cls(*args, **kwargs)
            self.objects.bind(obj, real, proxy_class_of(type(obj)).__name__, hint)
            return real
        return construct
