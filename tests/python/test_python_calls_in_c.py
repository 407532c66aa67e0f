"""The usual replayed python call settled whole in C (``Lookup.call_replayer``, the session's ``call``)
against ``Session.call``, the Python reference: the same values and the same transcript bytes from real
replays, every call it does not settle handed to ``Session.call`` untouched, its errors the writer's."""
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

from capturemock import REPLAY, replay
from capturemock.errors import MockFileError
from capturemock.mockfile import format_item
from capturemock.python.api import interceptPython
from capturemock.python.proxies import handle_of
from capturemock.python.session import Session
from capturemock.values import render_call
from tests.conftest import assert_blocks_stay_flat, built_speedups, on_a_full_disk

ANSWERS = ("{n}", "'v{n}é'", "{{'k': {n}, 'name': 'x'}}", "[{n}, None]")  # plain: Lookup.answer reads them


def mock_text(calls: list) -> str:
    """A replay file answering ``calls`` (method?, args, kwargs) in order, each request as Python writes it."""
    items = [("<-", "PYT", "import calc"), ("<-", "PYT", "calc.Counter()"),
             ("->", "RET", "Instance('Counter', 'counter1')")]
    for n, (method, args, kwargs) in enumerate(calls):
        items += [("<-", "PYT", render_call("counter1.add" if method else "calc.f", args, kwargs)),
                  ("->", "RET", ANSWERS[n % len(ANSWERS)].format(n=n))]
    return "".join(format_item(*item) for item in items)


@contextlib.contextmanager
def replaying(directory: Path, text: str, core: str):
    """``calc`` replayed from ``text`` (the module exists nowhere) with the C accelerator or Python alone; yields
    (calc, the names of the calls that reached ``Session.call``), the transcript in ``directory/record.mock``."""
    (directory / "replay.mock").write_text(text)
    reached_python: list[str] = []
    plain_call = Session.call

    def noted_call(self, handle, args, kwargs, callers=True):
        reached_python.append(handle.name)
        return plain_call(self, handle, args, kwargs, callers)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(replay, "_speedups", built_speedups() if core == "c" else None)
        patch.setattr(Session, "call", noted_call)
        handler = interceptPython(REPLAY, str(directory / "record.mock"), str(directory / "replay.mock"), [], ["calc"])
        try:
            import calc

            yield calc, reached_python
        finally:
            handler.resetIntercepts()
            sys.modules.pop("calc", None)


def run_calls(directory: Path, calls: list, core: str) -> tuple[list, bytes, list[bool]]:
    """The values (or errors) ``calls`` get, the transcript, and which calls reached ``Session.call``."""
    results, in_python = [], []
    with replaying(directory, mock_text(calls), core) as (calc, reached_python):
        counter = calc.Counter()
        for method, args, kwargs in calls:
            before = len(reached_python)
            try:
                results.append((counter.add if method else calc.f)(*args, **kwargs))
            except Exception as error:  # compared, not hidden: both cores must fail alike
                results.append(f"{type(error).__name__}: {error}")
            in_python.append(len(reached_python) > before)
    return results, (directory / "record.mock").read_bytes(), in_python


def settled_in_c(args: tuple, kwargs: dict) -> bool:
    """Whether the C call settles a first call with these arguments: ints, strs, floats, bools, None only,
    written on one line by repr (not ints beyond repr's digits, nor strs pformat splits), at most 16."""
    def plain(value) -> bool:
        if type(value) is int:
            return value.bit_length() < 14_000
        if type(value) is str:
            return len(repr(value)) <= 130
        return type(value) in (float, bool) or value is None
    return len(args) + len(kwargs) <= 16 and all(map(plain, (*args, *kwargs.values())))


_int_edges = st.sampled_from([0, -1, 2 ** 63 - 1, -2 ** 63, 2 ** 63, -2 ** 63 - 1, 10 ** 18, -10 ** 19])
_plain = st.one_of(st.integers(), st.integers(-2 ** 200, 2 ** 200), _int_edges, st.booleans(), st.none(), st.floats(),
                   st.text(max_size=12), st.text(st.sampled_from("'\"\\\n\r\téa €😀\x00\udc80"), max_size=70))
_value = st.one_of(_plain, _plain, st.just(10 ** 5000), st.lists(st.integers(), max_size=2),
                   st.dictionaries(st.text(max_size=2), st.integers(), max_size=2), st.tuples(st.integers()))
_args = st.one_of(st.lists(_value, max_size=4).map(tuple), st.lists(st.integers(), min_size=15, max_size=18).map(tuple))
_kwargs = st.dictionaries(st.sampled_from(["a", "b", "key", "é", "_x"]), _value, max_size=3)


@settings(max_examples=int(os.environ.get("CAPTUREMOCK_FUZZ_EXAMPLES", 100)), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(calls=st.lists(st.tuples(st.booleans(), _args, _kwargs), min_size=1, max_size=5))
def test_calls_settled_in_c_replay_and_record_as_the_python_reference(calls):
    built_speedups()
    with tempfile.TemporaryDirectory() as c_dir, tempfile.TemporaryDirectory() as python_dir:
        c_results, c_record, c_in_python = run_calls(Path(c_dir), calls, "c")
        python_results, python_record, _ = run_calls(Path(python_dir), calls, "python")
    assert c_record == python_record
    assert c_results == python_results
    seen = set()
    first_uses = []
    for method, args, kwargs in calls:
        request = render_call("counter1.add" if method else "calc.f", args, kwargs)
        first_uses.append(request not in seen)
        seen.add(request)
    assert c_in_python == [not (first and settled_in_c(args, kwargs))
                           for first, (_, args, kwargs) in zip(first_uses, calls)]


@pytest.mark.usefixtures("replay_core")
def test_a_call_that_may_rename_its_instance_goes_to_python(tmp_path, replay_core):
    """A set* call on an instance named with a bare suffix and no hint may rename it (§4.2): Session.call
    decides, with either core; its other methods stay the usual call."""
    calls = [(True, (5,), {}), (True, (6,), {})]
    text = mock_text(calls).replace("counter1.add(5)", "counter1.setTotal(5)")
    with replaying(tmp_path, text, replay_core) as (calc, reached_python):
        counter = calc.Counter()
        handle_of(counter).renamable = True  # as ``ObjectRegistry.bind`` leaves such an instance
        assert [counter.setTotal(5), counter.add(6)] == [0, "v1é"]
    assert reached_python == ["counter1.setTotal"] if replay_core == "c" else ["counter1.setTotal", "counter1.add"]
    assert (tmp_path / "record.mock").read_text() == text


@pytest.mark.parametrize("core", ["c", "python"])
def test_a_full_disk_is_one_line_naming_the_record_file(tmp_path, core):
    """write(2) failing (the record file's descriptor now on /dev/full): the writer's MockFileError, alike."""
    built_speedups()
    with replaying(tmp_path, mock_text([(False, (1,), {}), (False, (2,), {})]), core) as (calc, reached_python):
        assert calc.f(1) == 0
        with on_a_full_disk(tmp_path / "record.mock"), pytest.raises(MockFileError) as raised:
            calc.f(2)
    assert str(raised.value) == f"{tmp_path / 'record.mock'}: cannot write the record file: No space left on device"
    assert reached_python == ([] if core == "c" else ["calc.f", "calc.f"])


@pytest.mark.usefixtures("replay_core")
def test_threads_keep_each_request_with_its_answer(tmp_path, replay_core):
    """The session's lock, then the writer's, as in Python: every request line is followed by its answer."""
    calls = [(False, (n,), {}) for n in range(800)]
    with replaying(tmp_path, mock_text(calls), replay_core) as (calc, _):
        answers: dict[int, object] = {}

        def replay_some(first: int) -> None:
            for n in range(first, 800, 4):
                answers[n] = calc.f(n)

        threads = [threading.Thread(target=replay_some, args=(first,)) for first in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    lines = (tmp_path / "record.mock").read_text().splitlines()[1:]  # after ``import calc``
    pairs = sorted(zip(lines[::2], lines[1::2]))
    assert pairs == sorted(zip(mock_text(calls).splitlines()[3::2], mock_text(calls).splitlines()[4::2]))
    assert answers[2] == {"k": 2, "name": "x"} and answers[1] == "v1é" and len(answers) == 800


def test_calls_settled_or_handed_over_neither_leak_nor_free_twice(tmp_path, monkeypatch):
    """Under ``-X dev``: settled calls (ints, floats, strs, keywords, methods) and handed-over ones (a
    list argument, a long str, the repeated requests) many times, the block count flat (a call best match
    answers is left out: the Python replayer keeps a line per such call for its end-of-replay report)."""
    built_speedups()
    monkeypatch.delenv("CAPTUREMOCK_PURE_PYTHON", raising=False)  # the C call is the one looked at
    calls = [(False, (1, 2.5, "é", None, True), {"key": -3}), (True, (7,), {}), (False, ([1],), {}),
             (False, ("x" * 200,), {})]
    (tmp_path / "replay.mock").write_text(mock_text(calls))
    assert_blocks_stay_flat(f"""
        import sys
        from capturemock import REPLAY
        from capturemock.python.api import interceptPython
        interceptPython(REPLAY, {str(tmp_path / 'record.mock')!r}, {str(tmp_path / 'replay.mock')!r}, [], ["calc"])
        import calc
        counter = calc.Counter()
        assert type(calc.f.__dict__["_cm"].session.call).__name__ == "CallReplayer"
        def run():
            for _ in range(300):
                calc.f(1, 2.5, "é", None, True, key=-3)
                counter.add(7)
                calc.f([1])
                calc.f("x" * 200)
    """)


@pytest.mark.usefixtures("replay_core")
def test_a_forked_child_opens_its_own_record_file_on_its_first_call(tmp_path, replay_core):
    """After ``fork`` the child's writer has no descriptor (``_forget_inherited_files``): its first call goes
    to Python, which opens the record file, and the next ones are settled as usual; nothing is lost."""
    calls = [(False, (n,), {}) for n in range(4)]
    with replaying(tmp_path, mock_text(calls), replay_core) as (calc, reached_python):
        assert calc.f(0) == 0
        child = os.fork()
        if child == 0:
            status = 0 if [calc.f(1), calc.f(2)] == ["v1é", {"k": 2, "name": "x"}] else 1
            status |= 0 if reached_python == (["calc.f"] * (1 if replay_core == "c" else 3)) else 2
            os._exit(status)
        _, status = os.waitpid(child, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert calc.f(3) == [3, None]
    assert (tmp_path / "record.mock").read_text().splitlines()[1:] == [
        "<-PYT:calc.f(0)", "->RET:0", "<-PYT:calc.f(1)", "->RET:'v1é'", "<-PYT:calc.f(2)",
        "->RET:{'k': 2, 'name': 'x'}", "<-PYT:calc.f(3)", "->RET:[3, None]"]
