"""The session's part of the usual recorded python call settled in C (``_speedups.call_recorder``, the
session's ``call`` in record mode) against ``Session.call``, the Python reference: the same values, errors
and record bytes from real recordings, every call it does not settle handed to ``Session.call`` untouched,
the real call made in the session's state (callbacks, excluded callers, threads, a full disk)."""
from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from capturemock import RECORD
from capturemock.errors import MockFileError
from capturemock.python import session as session_module
from capturemock.python.api import interceptPython
from capturemock.python.proxies import handle_of
from capturemock.python.session import Session
from tests.conftest import assert_blocks_stay_flat, built_speedups, on_a_full_disk

CALC = '''\
import calcdata


class Thing:
    pass


class Oops(Exception):
    pass


def f(*args, **kwargs):
    return answer(calcdata.RESULTS.pop(0))


def answer(result):
    if result is calcdata.THING:
        return Thing()
    if type(result) is calcdata.Raise:
        raise (Oops if result.own else ValueError)(result.message)
    return result


class Counter:
    def add(self, *args, **kwargs):
        return answer(calcdata.RESULTS.pop(0))


_callbacks = []


def register(callback):
    _callbacks.append(callback)


def fire(n):
    return [callback(n) for callback in _callbacks][-1] + 1
'''
CALCDATA = '''\
RESULTS = []
THING = object()


class Raise:
    def __init__(self, own, message):
        self.own, self.message = own, message


class BadRepr:
    def __repr__(self):
        raise RuntimeError("no text")
'''


@contextlib.contextmanager
def recording(directory: Path, core: str, rc_files: tuple = ()):
    """``calc`` (a real module) recorded to ``directory/record.mock`` with the C accelerator or Python alone;
    yields (calc, calcdata, the names of the calls that reached ``Session.call``)."""
    (directory / "calc.py").write_text(CALC)
    (directory / "calcdata.py").write_text(CALCDATA)
    reached_python: list[str] = []
    plain_request_text = Session.request_text

    def noted_request_text(self, name, args, kwargs):  # Session.call's (and construct's): not in C
        reached_python.append(name)
        return plain_request_text(self, name, args, kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(session_module, "_speedups", built_speedups() if core == "c" else None)
        # noted where Session.call asks for the request text: a wrapper of Session.call itself would be a
        # caller frame outside capturemock, which the caller walk in C stops at
        patch.setattr(Session, "request_text", noted_request_text)
        patch.syspath_prepend(str(directory))
        handler = interceptPython(RECORD, str(directory / "record.mock"), None, list(rc_files), ["calc"])
        try:
            import calc
            import calcdata

            assert type(vars(calc.f)["_cm"].session.call).__name__ == ("CallRecorder" if core == "c" else "method")
            yield calc, calcdata, reached_python
        finally:
            handler.resetIntercepts()
            sys.modules.pop("calc", None)
            sys.modules.pop("calcdata", None)


def traffic(directory: Path) -> list[str]:
    """The record file's lines after ``import calc`` (and the import system's reads of its name and path)."""
    lines = (directory / "record.mock").read_text().splitlines()
    return lines[lines.index("<-PYT:calc.__path__") + 2:]


def outcome(value) -> object:
    """A returned value as compared: a proxy by its class and name (reading more of it would be traffic)."""
    handle = handle_of(value)
    if handle is not None:
        return ("proxy", type(value).__name__, handle.name)
    return repr(value)  # nan != nan


def run_calls(directory: Path, calls: list, core: str) -> tuple[list, bytes, list[bool]]:
    """What ``calls`` (method?, args, kwargs, result) get, the record file, and which reached ``Session.call``."""
    outcomes, in_python = [], []
    with recording(directory, core) as (calc, calcdata, reached_python):
        counter = calc.Counter()
        reached_python.clear()
        for method, args, kwargs, result in calls:
            calcdata.RESULTS.append(calcdata.THING if result == "<thing>" else
                                    calcdata.Raise(*result[1:]) if type(result) is tuple and result[:1] == ("<raise>",)
                                    else result)
            before = len(reached_python)
            try:
                outcomes.append(outcome((counter.add if method else calc.f)(*args, **kwargs)))
            except Exception as error:  # compared: both cores must raise alike
                outcomes.append(("raised", type(error).__name__, type(error).__module__, error.args))
            in_python.append(len(reached_python) > before)
    return outcomes, (directory / "record.mock").read_bytes(), in_python


def settled_in_c(args: tuple, kwargs: dict) -> bool:
    """Whether C settles the session's part of a call with these arguments: ints, strs, floats, bools, None
    only, written on one line by repr (not ints beyond repr's digits, nor strs pformat splits), at most 16."""
    def plain(value) -> bool:
        if type(value) is int:
            return value.bit_length() < 14_000
        if type(value) is str:
            return len(repr(value)) <= 130
        return type(value) in (float, bool) or value is None
    return len(args) + len(kwargs) <= 16 and all(map(plain, (*args, *kwargs.values())))


_int_edges = st.sampled_from([0, -1, 2 ** 63 - 1, -2 ** 63, 2 ** 63, -2 ** 63 - 1, 10 ** 18, -10 ** 19])
_text = st.one_of(st.text(max_size=12), st.text(st.sampled_from("'\"\\\n\r\téa €😀\x00\udc80|"), max_size=70))
_plain = st.one_of(st.integers(), st.integers(-2 ** 200, 2 ** 200), _int_edges, st.booleans(), st.none(),
                   st.floats(), _text)
_value = st.one_of(_plain, _plain, st.just(10 ** 5000), st.lists(st.integers(), max_size=2),
                   st.dictionaries(st.text(max_size=2), st.integers(), max_size=2), st.tuples(st.integers()))
_args = st.one_of(st.lists(_value, max_size=4).map(tuple), st.lists(st.integers(), min_size=15, max_size=18).map(tuple))
_kwargs = st.dictionaries(st.sampled_from(["a", "b", "key", "é", "_x"]), _value, max_size=3)
_dict = st.dictionaries(st.one_of(_text, _text, st.integers()), st.one_of(_plain, st.lists(_plain, max_size=3)),
                        max_size=5)
_result = st.one_of(_plain, _plain, _dict, _dict, st.just(10 ** 5000), st.lists(_plain, max_size=3),
                    st.tuples(_plain), st.just("<thing>"),
                    st.tuples(st.just("<raise>"), st.booleans(), st.text(max_size=8)))


@settings(max_examples=int(os.environ.get("CAPTUREMOCK_FUZZ_EXAMPLES", 100)), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(calls=st.lists(st.tuples(st.booleans(), _args, _kwargs, _result), min_size=1, max_size=5))
def test_calls_recorded_in_c_as_the_python_reference(calls):
    built_speedups()
    with tempfile.TemporaryDirectory() as c_dir, tempfile.TemporaryDirectory() as python_dir:
        c_outcomes, c_record, c_in_python = run_calls(Path(c_dir), calls, "c")
        python_outcomes, python_record, python_in_python = run_calls(Path(python_dir), calls, "python")
    assert c_record == python_record
    assert c_outcomes == python_outcomes
    assert python_in_python == [True] * len(calls)
    # the first call meets ``Proxy.__call__``'s frame unclassified: Python classifies it (CallerFilter.excluded)
    assert c_in_python == [True] + [not settled_in_c(args, kwargs) for _, args, kwargs, _ in calls[1:]]


def test_a_recorded_call_is_on_disk_when_it_returns(tmp_path, replay_core):
    """Each call's request and answer are in the file when it returns (a SIGKILL next loses nothing), the
    first one too (the file is opened then); an exception's ``raise`` line as well."""
    with recording(tmp_path, replay_core) as (calc, calcdata, _):
        calcdata.RESULTS.extend([{"i": 1, "name": "é"}, 3.14159, calcdata.Raise(False, "no")])
        record = tmp_path / "record.mock"
        assert calc.f(1) == {"i": 1, "name": "é"}
        assert record.read_text().splitlines()[-2:] == ["<-PYT:calc.f(1)", "->RET:{'i': 1, 'name': 'é'}"]
        assert calc.f("x", key=2.5) == 3.14159
        assert record.read_text().splitlines()[-2:] == ["<-PYT:calc.f('x', key=2.5)", "->RET:3.14"]
        with pytest.raises(ValueError, match="^no$"):
            calc.f()
        assert record.read_text().splitlines()[-2:] == ["<-PYT:calc.f()", "->RET:raise ValueError('no')"]


def test_a_callback_during_a_settled_call_is_recorded_as_in_python(tmp_path, replay_core):
    """``calc.fire(2)`` is settled in C (a plain argument) and its real code calls back into the application:
    the callback's own traffic is written between the request and the answer, as Session.call writes it."""
    with recording(tmp_path, replay_core) as (calc, calcdata, reached_python):
        calcdata.RESULTS.extend([10, 20])

        def callback(n):
            return calc.f(n) + calc.f(n + 1)

        calc.register(callback)
        assert calc.fire(2) == 31
    assert reached_python.count("calc.fire") == (0 if replay_core == "c" else 1)
    assert traffic(tmp_path) == [
        "<-PYT:calc.register(Callback('calc_callback'))", "<-PYT:calc.fire(2)", "--->PYT:calc_callback(2)",
        "<-----PYT:calc.f(2)", "----->RET:10", "<-----PYT:calc.f(3)", "----->RET:20", "<---RET:30", "->RET:31"]


def test_a_call_from_an_excluded_caller_is_the_real_one_unrecorded(tmp_path, replay_core):
    """The standard library's code calling an intercepted function (``Thread.run`` here) reaches it directly,
    with either core: the caller walk in C reads the same verdicts."""
    with recording(tmp_path, replay_core) as (calc, calcdata, _):
        calcdata.RESULTS.extend([5, 6, 7])
        assert calc.f(1) == 5
        for n in (2, 3):  # the first classifies ``Thread.run``'s code in Python, the second meets its verdict in C
            threading.Thread(target=calc.f, args=(n,)).run()
        assert calcdata.RESULTS == []
    assert traffic(tmp_path) == ["<-PYT:calc.f(1)", "->RET:5"]


def test_threads_keep_each_request_with_its_answer(tmp_path, replay_core):
    """The session's lock held over the real call, then the writer's, as in Python: each request is followed
    by its answer, whichever thread made it."""
    with recording(tmp_path, replay_core) as (calc, calcdata, _):
        calcdata.RESULTS.extend(range(800))
        answers: list[int] = []

        def record_some(first: int) -> None:
            answers.extend(calc.f(n) for n in range(first, 800, 4))

        threads = [threading.Thread(target=record_some, args=(first,)) for first in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    lines = traffic(tmp_path)
    assert sorted(answers) == list(range(800)) and len(lines) == 1600
    assert all(request.startswith("<-PYT:calc.f(") and answer.startswith("->RET:")
               for request, answer in zip(lines[::2], lines[1::2]))


@pytest.mark.parametrize("core", ["c", "python"])
def test_a_full_disk_is_one_line_naming_the_record_file(tmp_path, core):
    """write(2) failing (the record file's descriptor now on /dev/full): the writer's MockFileError, alike."""
    with recording(tmp_path, core) as (calc, calcdata, reached_python):
        calcdata.RESULTS.extend([1, 2])
        assert calc.f(1) == 1
        with on_a_full_disk(tmp_path / "record.mock"), pytest.raises(MockFileError) as raised:
            calc.f(2)
    assert str(raised.value) == f"{tmp_path / 'record.mock'}: cannot write the record file: No space left on device"
    assert reached_python == (["calc.f"] if core == "c" else ["calc.f", "calc.f"])  # the first: see above


def test_calls_settled_or_handed_over_neither_leak_nor_free_twice(tmp_path, monkeypatch):
    """Under ``-X dev``: settled calls (results of every plain kind, a small dict, None, an exception, a
    method) and handed-over ones (a list argument, a list, dict or tuple result) many times, the block count
    flat (a new object returned is named and kept by the session: not among them)."""
    built_speedups()
    monkeypatch.delenv("CAPTUREMOCK_PURE_PYTHON", raising=False)  # the C call is the one looked at
    (tmp_path / "calc.py").write_text(CALC)
    (tmp_path / "calcdata.py").write_text(CALCDATA)
    assert_blocks_stay_flat(f"""
        import sys
        sys.path.insert(0, {str(tmp_path)!r})
        from capturemock import RECORD
        from capturemock.python.api import interceptPython
        interceptPython(RECORD, {str(tmp_path / 'record.mock')!r}, None, [], ["calc"])
        import calc, calcdata
        counter = calc.Counter()
        assert type(calc.f.__dict__["_cm"].session.call).__name__ == "CallRecorder"
        thing = calc.f  # warm: the attribute's proxy is kept
        def run():
            for n in range(200):
                calcdata.RESULTS.extend([n, "é" * n, 2.5, None, {{"k": n, "s": "x"}}, calcdata.Raise(False, "m"),
                                         7, [n], {{1: [n]}}, (n,)])
                calc.f(1, 2.5, "é", None, True, key=-3)
                calc.f(n)
                calc.f()
                calc.f(x=1)
                calc.f(n)
                try:
                    calc.f(n)
                except Exception:
                    pass
                counter.add(7)
                calc.f([1])
                calc.f(n)
                calc.f(n)
    """)


def test_a_real_exception_reaches_the_application_chained_as_in_python(tmp_path, replay_core):
    """Raised inside the application's own ``except``: the builtin one is the real exception itself, the
    intercepted one its proxy, each with the application's exception as its context and the real code's
    frame at the end of its traceback, with either core."""
    seen = []
    with recording(tmp_path, replay_core) as (calc, calcdata, _):
        calcdata.RESULTS.extend([0, calcdata.Raise(False, "builtin"), calcdata.Raise(True, "own")])
        assert calc.f(0) == 0  # the first call classifies its caller in Python: the next ones are C's
        for _ in range(2):
            try:
                try:
                    raise KeyError("application")
                except KeyError:
                    calc.f(1)
            except Exception as error:
                frames = []
                traceback = error.__traceback__
                while traceback is not None:
                    frames.append(traceback.tb_frame.f_code.co_name)
                    traceback = traceback.tb_next
                seen.append((type(error).__name__, repr(error.__context__), error.__cause__, frames[-1]))
    assert seen == [("ValueError", "KeyError('application')", None, "answer"),
                    ("Oops", "KeyError('application')", None, "answer")]
    assert traffic(tmp_path)[-4:] == ["<-PYT:calc.f(1)", "->RET:raise ValueError('builtin')", "<-PYT:calc.f(1)",
                                      "->RET:raise Instance('Oops(Exception)', 'oops1')"]


def test_a_result_that_cannot_be_written_still_writes_its_request(tmp_path, replay_core):
    """A result whose ``repr`` raises: the error reaches the application, the request already queued is
    written as Session.call's ``finally`` writes it, and the next call is recorded as usual."""
    with recording(tmp_path, replay_core) as (calc, calcdata, _):
        calcdata.RESULTS.extend([0, calcdata.BadRepr(), 3])
        assert calc.f(0) == 0  # the first call classifies its caller in Python: the next ones are C's
        with pytest.raises(RuntimeError, match="^no text$"):
            calc.f(1)
        assert traffic(tmp_path)[-1:] == ["<-PYT:calc.f(1)"]
        assert calc.f(2) == 3
    assert traffic(tmp_path)[-3:] == ["<-PYT:calc.f(1)", "<-PYT:calc.f(2)", "->RET:3"]
