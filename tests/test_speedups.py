"""The C accelerator of replay lookups (capturemock/_speedups.c) against the Python reference: the same
answers, consumption and errors on any mock, the usual hit answered in C alone, and the rest handed over."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from array import array

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from capturemock import replay
from capturemock.mockfile import KNOWN_TYPES, Item, format_item
from capturemock.replay import ReplayIndex
from tests.conftest import assert_blocks_stay_flat, built_speedups

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def both_indexes(text: str, **options) -> tuple[ReplayIndex, ReplayIndex]:
    """(accelerated, Python-only) indexes of the same text."""
    speedups = built_speedups()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(replay, "_speedups", speedups)
        accelerated = ReplayIndex(text, **options)
        patch.setattr(replay, "_speedups", None)
        reference = ReplayIndex(text, **options)
    return accelerated, reference


def outcome(lookup, description: str):
    try:
        group = lookup(description)
    except Exception as err:  # compared, not hidden: both must fail alike
        return type(err).__name__, str(err)
    assert group is None or all(type(item) is Item for item in group)
    return group


# mocks in the format's own syntax: levels, unknown types, several lines, escapes, whitespace, every str kind
_prefix = st.sampled_from(["<-", "->", "--->", "<---", "<-----", "----->"])
_type = st.sampled_from(["PYT", "RET", "CMD", "OUT", "SRV", "XYZ"])
_text = st.lists(st.sampled_from(["f(1)", "g()", " ", "\t", "\n", "é", "€", "😀", ":", "<-PYT:x", "|capturemock|",
                                  "\r", "a b", "'s'", "1"]), max_size=6).map("".join)
_one_line = _text.map(lambda text: text.replace("\n", ""))
# any items, and the usual shape: a request and its one answer on one line (what C answers itself)
_items = st.lists(st.one_of(st.tuples(_prefix, _type, _text).map(lambda item: [item]),
                            st.tuples(_one_line, _one_line).map(lambda pair: [("<-", "PYT", pair[0]),
                                                                              ("->", "RET", pair[1])])),
                  max_size=8).map(lambda chunks: [item for chunk in chunks for item in chunk])


@settings(max_examples=int(os.environ.get("CAPTUREMOCK_FUZZ_EXAMPLES", 300)), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(items=_items, raw=st.booleans(), exact=st.booleans(), picks=st.lists(st.tuples(st.integers(0, 40),
       st.sampled_from(["", " ", "\n", "x"]), st.booleans()), max_size=20))
def test_the_accelerator_answers_exactly_as_the_python_reference(items, raw, exact, picks):
    """Written by the writer (escaped where needed) or raw; requests looked up as recorded, padded with
    whitespace or changed, by ``lookup`` and ``lookup_exact``; afterwards the same uses and report."""
    if raw:
        text = "".join(f"{prefix}{type_}:{value}\n" for prefix, type_, value in items)
    else:
        text = "".join(format_item(prefix, type_, value) for prefix, type_, value in items)
    accelerated, reference = both_indexes(text, exact=exact, report_unused=True)
    assert type(accelerated.lookup).__name__ == "builtin_function_or_method"
    assert type(reference.lookup).__name__ == "method"
    descriptions = [f"{prefix}{type_}:{value}" for prefix, type_, value in items] + ["<-PYT:f(1)", "<-CMD:a b"]
    for pick, padding, exact_lookup in picks:
        description = descriptions[pick % len(descriptions)]
        description = description + padding if padding != "x" else description.replace("1", "2")
        method = "lookup_exact" if exact_lookup else "lookup"
        assert outcome(getattr(accelerated, method), description) == outcome(getattr(reference, method),
                                                                              description)
    assert list(accelerated._uses) == list(reference._uses)
    assert accelerated.report(KNOWN_TYPES) == reference.report(KNOWN_TYPES)


class NotingBuilds:
    """The built accelerator, noting whether each ``index_items`` call settled its file (or gave up)."""

    def __init__(self):
        self.speedups, self.settled = built_speedups(), []

    def __getattr__(self, name):
        return getattr(self.speedups, name)

    def index_items(self, *args):
        built = self.speedups.index_items(*args)
        self.settled.append(built is not None)
        return built


def built_state(index: ReplayIndex) -> dict:
    """Everything the build made that lookups read (not the key slots' order, which follows the table's size)."""
    return {"spans": index._spans.tolist(), "next": index._next_occurrence.tolist(),
            "levels": index._key_level.tolist(), "first": index._first_occurrence.tolist(),
            "counts": index._occurrence_count.tolist(), "calls": index._calls_in_order.tolist(),
            "recurrences": {key_id: list(ends) for key_id, ends in index._recurrences.items()},
            "keys": list(index.keys()), "key ids": [index._key_ids.find(key) for key in index.keys()],
            "kinds": index._kinds, "uses": index._uses.tolist(),
            "spans typecode": getattr(index._spans, "typecode", None) or index._spans.format}  # array or memoryview


def both_builds(text: str) -> tuple[dict, dict, list[bool]]:
    """(built in C where it settles, built in Python) states of indexes of ``text``, and what C settled."""
    noting = NotingBuilds()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(replay, "_speedups", noting)
        accelerated = built_state(ReplayIndex(text))
        patch.setattr(replay, "_speedups", None)
        reference = built_state(ReplayIndex(text))
    return accelerated, reference, noting.settled


@settings(max_examples=int(os.environ.get("CAPTUREMOCK_FUZZ_EXAMPLES", 300)), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(items=_items, raw=st.booleans(), repeats=st.integers(1, 3))
def test_the_index_built_in_c_is_the_python_build(items, raw, repeats):
    """Whether C settles the file or gives up (an escaped request, a request head not starting '<-'),
    the index holds the same numbers, keys and item kinds; ``repeats`` makes keys recur (attributes too)."""
    items = [*items, ("<-", "PYT", "mod.attr"), ("->", "RET", "1")] * repeats
    if raw:
        text = "".join(f"{prefix}{type_}:{value}\n" for prefix, type_, value in items)
    else:
        text = "".join(format_item(prefix, type_, value) for prefix, type_, value in items)
    accelerated, reference, settled = both_builds(text)
    assert accelerated == reference
    assert len(settled) == 1


def test_the_usual_file_is_built_in_c_and_the_rest_in_python():
    usual = "<-PYT:import m\n<-PYT:m.f(1)\n->RET:2\n<-PYT:m.x\n->RET:3\n<-PYT:m.f(1)\n->RET:4\n<-PYT:m.x\n"
    assert both_builds(usual)[2] == [True]
    accelerated, _, _ = both_builds(usual)
    assert accelerated["counts"] == [1, 2, 2] and accelerated["recurrences"] == {2: [1]}  # after 1 call key
    escaped = format_item("<-", "PYT", "f(\n<-PYT:x") + "->RET:1\n"
    odd_request = "<-PYT:f()\n->RET:1\n x->ABC:y\n"  # a request (odd level, not from the SUT) after a space
    for text in (escaped, odd_request):
        accelerated, reference, settled = both_builds(text)
        assert settled == [False]
        assert accelerated == reference


def test_index_items_refuses_bad_arguments_with_a_type_error():
    speedups = built_speedups()
    numbers = [array("i", [-1] * 8), array("q"), array("i"), array("i"), array("b"), array("i"), array("i"),
               array("i")]
    assert speedups.index_items("", {}, print, *numbers) == (0, 0, 0, [])
    with pytest.raises(TypeError, match="^index_items: hashes: expected an array of typecode q$"):
        speedups.index_items("", {}, print, numbers[0], array("i"), *numbers[2:])
    with pytest.raises(TypeError, match="^index_items: slots: expected a power of two of C ints, hashes of long"):
        speedups.index_items("", {}, print, array("i", [-1] * 3), *numbers[1:])
    with pytest.raises(TypeError, match=r"^index_items\(text: str, kinds: dict, kind_of: callable"):
        speedups.index_items("", {}, print)
    with pytest.raises(ValueError, match="^index_items: expected empty slots$"):
        speedups.index_items("", {}, print, array("i", [0] * 8), *numbers[1:])


class Refused:
    """A Python lookup that must not be asked."""

    def __call__(self, description):
        raise AssertionError(f"handed to Python: {description}")


def accelerated_lookup(text: str, fallback=None) -> tuple[ReplayIndex, object]:
    """An index and its C lookup, with ``fallback`` (refusing by default) as the Python lookup."""
    index = ReplayIndex(text)
    slots, hashes = index._key_ids.probe_arrays
    lookup = built_speedups().Lookup(text, slots, hashes, index._first_occurrence, index._spans, index._uses,
                                     index._occurrence_count, index._key_level, index._kinds, Item,
                                     fallback or Refused(), Refused())
    return index, lookup


@pytest.mark.parametrize("answer", ["'ascii'", "'é'", "'€'", "'😀'"])
def test_the_usual_hit_is_answered_in_c_for_every_str_kind(answer):
    """A text of 1, 2 or 4 bytes a character; keys of another kind than the text are compared too."""
    text = f"<-PYT:f('€')\n->RET:1\n<-PYT:g(x)\n->RET:{answer}\n<-PYT:h('😀')\n->RET:2\n<-PYT:k()\n"
    index, lookup = accelerated_lookup(text)
    assert lookup.lookup("<-PYT:g(x)") == [Item("->", "RET", answer, 4)]
    assert lookup.lookup("<-PYT:f('€')") == [Item("->", "RET", "1", 2)]
    assert lookup.lookup("<-PYT:h('😀')") == [Item("->", "RET", "2", 6)]
    assert lookup.lookup("<-PYT:k()") == []
    assert lookup.lookup("<-PYT:g(x)") == [Item("->", "RET", answer, 4)]  # one group only: group 0 again
    assert list(index._uses) == [1, 2, 1, 1]


@pytest.mark.parametrize("text, request_text", [
    ("<-PYT:f()\n->RET:1\n<-PYT:g()\n", "<-PYT:zzz()"),                      # a miss: best match
    ("<-PYT:f()\n->RET:1\n", " <-PYT:f()"),                                   # to be stripped
    ("<-PYT:f()\n->RET:1\n->RET:2\n", "<-PYT:f()"),                           # two items
    ("<-PYT:f()\n->RET:1\nline -> 2\n", "<-PYT:f()"),                       # a line that might be an item
    ("<-PYT:f()\n->RET:1\n|capturemock|\n", "<-PYT:f()"),                     # an escape mark
    ("<-PYT:f(cb)\n--->PYT:cb()\n<---RET:1\n->RET:2\n", "<-PYT:f(cb)"),       # a callback
    ("<-PYT:f()\n->XYZ:1\n", "<-PYT:f()"),                                  # an unknown type: an error
    (format_item("<-", "PYT", "f(\n<-PYT:x") + "->RET:1\n", "<-PYT:f(\n<-PYT:x"),  # a key written escaped
])
def test_what_c_does_not_settle_goes_to_python_untouched(text, request_text):
    asked = []
    index, lookup = accelerated_lookup(text, lambda description: asked.append(description) or "python's")
    assert lookup.lookup(request_text) == "python's"
    assert asked == [request_text]
    assert not any(index._uses)


def test_a_value_running_on_over_plain_lines_is_settled_in_c():
    """An HTTP response and its headers (issue #16, session 9); ``answer`` gives it as a group, not read."""
    asked = []
    text = "<-CLI:GET /\n->SRV:200 ok\n--HEA:X-Id=7\n<-CLI:GET /b\n->SRV:200 b\n<x\n-HEA:a-b\n"
    index, lookup = accelerated_lookup(text, lambda description: asked.append(description) or "python's")
    assert lookup.lookup("<-CLI:GET /") == [Item("->", "SRV", "200 ok\n--HEA:X-Id=7", 2)]
    assert lookup.lookup_exact("<-CLI:GET /b") == [Item("->", "SRV", "200 b\n<x\n-HEA:a-b", 5)]
    assert lookup.answer("<-CLI:GET /") == [Item("->", "SRV", "200 ok\n--HEA:X-Id=7", 2)]
    assert asked == [] and list(index._uses) == [2, 1]


def test_later_groups_of_a_repeated_request_go_to_python():
    asked = []
    index, lookup = accelerated_lookup("<-PYT:f()\n->RET:1\n<-PYT:f()\n->RET:2\n",
                                       lambda description: asked.append(description) or index.lookup(description))
    assert [lookup.lookup("<-PYT:f()") for _ in range(3)] == [[Item("->", "RET", "1", 2)],
                                                             [Item("->", "RET", "2", 4)],
                                                             [Item("->", "RET", "1", 2)]]
    assert asked == ["<-PYT:f()"]  # the second use; the third wraps to group 0, answered in C again


def test_no_reference_is_leaked_or_lost():
    text = "<-PYT:f()\n->RET:1\n<-PYT:g()\n"
    index, lookup = accelerated_lookup(text)
    description = "<-PYT:f()"
    prefix, kind = index._kinds["->RET:"][0], index._kinds["->RET:"]
    lookup.lookup(description)  # the first call caches the head's kind
    before = [sys.getrefcount(obj) for obj in (text, description, prefix, kind, Item)]
    for _ in range(1000):
        group = lookup.lookup(description)
        del group
    assert [sys.getrefcount(obj) for obj in (text, description, prefix, kind, Item)] == before


def test_held_arrays_refuse_to_grow_rather_than_move():
    """The index's arrays are complete once built; the accelerator holds them, so a change that grew one
    later would fail loudly instead of leaving C reading freed memory: built in Python, arrays whose
    buffers it holds; built in C, fixed buffers (no ``array`` at start-up)."""
    built_speedups()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(replay, "_speedups", built_speedups())
        index = ReplayIndex("<-PYT:f()\n->RET:1\n")
        escaped = ReplayIndex(format_item("<-", "PYT", "f('\n->RET:x')") + "->RET:1\n")  # left to the Python build
    with pytest.raises(AttributeError):
        index._uses.append(0)
    assert isinstance(index._uses, memoryview) and isinstance(index._spans, memoryview)
    assert "array" not in type(index).__init__.__globals__
    with pytest.raises(BufferError):
        escaped._uses.append(0)
    assert isinstance(escaped._uses, array)


def test_bad_arguments_are_a_type_error_not_a_crash():
    speedups = built_speedups()
    index = ReplayIndex("<-PYT:f()\n->RET:1\n")
    slots, hashes = index._key_ids.probe_arrays
    arrays = [slots, hashes, index._first_occurrence, index._spans, index._uses, index._occurrence_count,
              index._key_level]
    with pytest.raises(TypeError, match="^hashes: expected an array of typecode q$"):
        speedups.Lookup(index.text, slots, array("i", [0]), *arrays[2:], {}, Item, print, print)
    with pytest.raises(TypeError, match="^item_type: expected a tuple subclass without instance fields$"):
        speedups.Lookup(index.text, *arrays, {}, dict, print, print)
    with pytest.raises(TypeError, match="^slots: expected a power of two of C ints, hashes of long longs$"):
        speedups.Lookup(index.text, array("i", [-1] * 3), *arrays[1:], {}, Item, print, print)


@pytest.mark.parametrize("pure, expected", [("1", "python"), ("0", "c")])
def test_capturemock_pure_python_chooses_the_python_code(pure, expected):
    """A real python replay in a fresh process, each way: same answer; the variable decides which code."""
    built_speedups()
    code = ("import capturemock, sys; from capturemock import replay\n"
            "index = replay.ReplayIndex('<-PYT:f()\\n->RET:41\\n')\n"
            "print(index.lookup('<-PYT:f()')[0].text, 'python' if replay._speedups is None else 'c')")
    env = dict(os.environ, CAPTUREMOCK_PURE_PYTHON=pure, PYTHONPATH=REPO)
    result = subprocess.run([sys.executable, "-X", "dev", "-c", code], capture_output=True, text=True, env=env,
                            check=True)
    assert result.stdout.split() == ["41", expected]
    assert result.stderr == ""


def test_an_index_and_its_accelerator_are_collected():
    """The accelerator and the index refer to each other (its Python lookups are the index's methods):
    the cycle must be visible to the garbage collector, or every replayed file would stay in memory."""
    import gc
    import weakref

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(replay, "_speedups", built_speedups())
        index = ReplayIndex("<-PYT:f()\n->RET:1\n")
    assert index.lookup("<-PYT:f()") == [Item("->", "RET", "1", 2)]
    gone = weakref.ref(index)
    del index
    gc.collect()
    assert gone() is None


def test_answers_caller_walks_and_one_line_dicts_neither_leak_nor_free_twice():
    """Under ``-X dev``, answering calls (read in C or handed to Python, values refused), walking callers
    (found, not classified yet, past the outermost frame) and writing one-line dicts (written, refused,
    rounded, beyond repr's digits) many times keeps the block count flat."""
    built_speedups()
    code = textwrap.dedent("""
        import sys
        from capturemock import replay
        from capturemock._speedups import caller_verdict, one_line_dict
        text = ("<-PYT:f(1)\\n->RET:{'i': 1, 'name': 'x'}\\n<-PYT:f(2)\\n->RET:Instance('A', 'a')\\n"
                "<-PYT:f(3)\\n->RET:007\\n<-PYT:f(4)\\n->RET:'a' 'b'\\n<-PYT:f(5)\\n->RET:" + "1" * 30 + "\\n")
        index = replay.ReplayIndex(text)
        assert index.answer.__self__.__class__.__name__ == "Lookup"
        dicts = [{"b": 1.234, "a": None}, {"k": [1]}, {1: 2}, {"k": 10 ** 5000}, {"k": "x" * 200}]
        own = "own"
        def walk(cache):
            return caller_verdict(cache, own)
        def run():
            for _ in range(500):
                for n in range(1, 7):
                    index.answer(f"<-PYT:f({n})")
                for value in dicts:
                    one_line_dict(value, False)
                    one_line_dict(value, True)
                code = walk.__code__
                walk({id(code): (code, own)})
                walk({})
                walk({id(code): (code, True)})
    """)
    assert_blocks_stay_flat(code)
