"""Best match from text searches (issue #16): the choice must be exactly what scoring every key makes."""
from array import array

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capturemock import quickmatch
from capturemock.replay import ReplayIndex
from tests.test_bestmatch import brute_force

pytestmark = pytest.mark.usefixtures("replay_core")  # the C accelerator and the Python reference

_word = st.sampled_from(["f", "g", "a", "b", "c", "d", "x/y", "(1)", "e", "f(a)"])
_request = st.tuples(st.sampled_from(["<-PYT:", "<-CMD:"]), st.lists(_word, min_size=1, max_size=5).map(" ".join))
_key = _request.map("".join)


def _mock(keys: list[str], recorded: list[int], values: list[str]) -> str:
    """Every key once in order (so key ids are list positions), then its further recordings."""
    items = [(key, values[n % len(values)]) for n, key in enumerate(keys)]
    items += [(key, "again") for key, times in zip(keys, recorded) for _ in range(times - 1)]
    return "".join(f"{key}\n->RET:{answer}\n" for key, answer in items)


def _expected(keys: list[str], counts: array, uses: array, request: str):
    same_type = [(key_id, key) for key_id, key in enumerate(keys) if key[2:5] == request[2:5]]
    chosen = brute_force(same_type, counts, uses, request)
    return None if chosen is None else keys[chosen]


@settings(max_examples=400, deadline=None)
@given(rare=st.sampled_from([0, 1, 2, 32]), probes=st.sampled_from([1, 64]), answers=st.sampled_from([3, 64]),
       keys=st.lists(_key, min_size=1, max_size=12, unique=True),
       recorded=st.lists(st.integers(1, 3), min_size=12, max_size=12),
       values=st.lists(_word, min_size=1, max_size=3),
       requests=st.lists(st.one_of(_key, st.integers(0, 11)), min_size=1, max_size=30))
def test_replay_misses_choose_what_scoring_every_key_chooses(rare, probes, answers, keys, recorded, values, requests):
    """Misses consume their choice as replay does; a number is an exact hit on that key in between.
    Recorded values reuse the request words, so text searches also find them outside requests; after
    ``answers`` misses the word index takes over."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(quickmatch, "RARE", rare)
        patch.setattr(quickmatch, "PROBES", probes)
        patch.setattr(quickmatch, "ANSWERS", answers)
        index = ReplayIndex(_mock(keys, recorded, values))
        counts, uses = array("i", recorded[:len(keys)]), array("i", [0] * len(keys))
        for request in requests:
            if isinstance(request, int):
                key_id = request % len(keys)
                index.lookup_exact(keys[key_id])
                uses[key_id] += 1
            elif request not in keys:
                expected = _expected(keys, counts, uses, request)
                assert index.best_match(request) == expected
                if expected is not None:
                    index.lookup(request)
                    uses[keys.index(expected)] += 1


def test_a_miss_among_calls_of_one_function_needs_no_word_index():
    """The benchmark's miss: 10^4 calls of one function, the first 3000 replayed, a call never recorded."""
    keys = [f"<-PYT:mod.compute({n})" for n in range(10_000)]
    index = ReplayIndex("".join(f"{key}\n->RET:{n * n}\n" for n, key in enumerate(keys)))
    for key in keys[:3000]:
        index.lookup(key)
    assert index.best_match("<-PYT:mod.compute(-1)") == "<-PYT:mod.compute(3000)"
    assert index.best_match("<-PYT:mod.compute(7, 12)") == "<-PYT:mod.compute(12)"  # "12" is rare: it wins
    assert index._word_indexes == {}


def test_a_miss_the_text_cannot_settle_builds_the_word_index():
    """Only the last key scores the best a key sharing just the function name can: more keys come
    before it than are tried, so the word index answers (and is kept for later misses)."""
    keys = [f"<-PYT:mod.compute({n})" for n in range(100)] + ["<-PYT:mod.compute()"]
    index = ReplayIndex("".join(f"{key}\n->RET:0\n" for key in keys))
    assert index.best_match("<-PYT:mod.compute") == "<-PYT:mod.compute()"
    assert set(index._word_indexes) == {"PYT"}


def test_positions_are_whole_items_only():
    """A byte search may match across two items (256 then 0 hold 00 01 00 00 00 00 00 00)."""
    assert list(quickmatch._positions(array("i", [256, 0, 5, 0]).tobytes(), 0)) == [1, 3]
    assert list(quickmatch._positions(array("i", [256, 1]).tobytes(), 1)) == [1]
    assert list(quickmatch._positions(array("i", [256]).tobytes(), 1)) == []
