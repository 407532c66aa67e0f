"""Best-match scoring (§5.4): the indexed search must choose exactly what scoring every key would."""
import difflib
from array import array

from hypothesis import given, settings
from hypothesis import strategies as st

from capturemock import bestmatch
from capturemock.bestmatch import WordIndex, words


def brute_force(keys, counts, uses, request):
    """§5.4 literally: score every key, keep the first best; a key must share a word to be chosen."""
    request_words = words(request)
    best, best_id = (0, 0, 0, 0), None
    for key_id, key in keys:
        blocks = difflib.SequenceMatcher(None, words(key), request_words).get_matching_blocks()[:-1]
        common = sum(block.size for block in blocks)
        gaps = len(blocks)
        if blocks and blocks[-1].a + blocks[-1].size == len(words(key)) and \
                blocks[-1].b + blocks[-1].size == len(request_words):
            gaps -= 1
        score = (common, -gaps, counts[key_id] - uses[key_id])
        if common and (best_id is None or score > best):
            best, best_id = score, key_id
    return best_id


_word = st.sampled_from(["<-PYT:f", "<-PYT:g", "a", "b", "c", "d", "x/y", "(1)", "e"])
_description = st.lists(_word, min_size=1, max_size=5).map(" ".join)


@settings(max_examples=600, deadline=None)
@given(frequent=st.sampled_from([1, 2, 32]), keys=st.lists(_description, min_size=1, max_size=12, unique=True),
       recorded=st.lists(st.integers(1, 3), min_size=12, max_size=12),
       used=st.lists(st.integers(0, 3), min_size=12, max_size=12),
       request=_description)
def test_indexed_search_agrees_with_scoring_every_key(frequent, keys, recorded, used, request):
    original = bestmatch.FREQUENT
    bestmatch.FREQUENT = frequent
    try:
        numbered = list(enumerate(keys))
        counts, uses = array("i", recorded[:len(keys)]), array("i", used[:len(keys)])
        index = WordIndex(numbered, keys.__getitem__, counts, uses)
        assert index.best(request) == brute_force(numbered, counts, uses, request)
    finally:
        bestmatch.FREQUENT = original


def test_frequent_words_alone_pick_the_first_key_with_most_unconsumed_responses():
    keys = list(enumerate(f"<-PYT:svc.call('k{i}')" for i in range(100)))
    counts, uses = array("i", [1] * 100), array("i", [0] * 100)
    counts[7] = 2
    index = WordIndex(keys, dict(keys).__getitem__, counts, uses)
    assert index.best("<-PYT:svc.call('other')") == 7
    uses[7] = 2
    assert index.best("<-PYT:svc.call('other')") == 0
    assert index.best("<-PYT:svc.call('k42')") == 42


@settings(max_examples=300, deadline=None)
@given(frequent=st.sampled_from([1, 2, 32]), keys=st.lists(_description, min_size=1, max_size=12, unique=True),
       recorded=st.lists(st.integers(1, 2), min_size=12, max_size=12),
       requests=st.lists(st.one_of(_description, st.integers(0, 11)), min_size=1, max_size=40))
def test_consuming_lookups_keep_agreeing(frequent, keys, recorded, requests):
    """Each chosen key is consumed, as replay does, so later choices see the new counts; a number
    stands for an exact hit on that key between misses (consumed outside the word index)."""
    original = bestmatch.FREQUENT
    bestmatch.FREQUENT = frequent
    try:
        numbered = list(enumerate(keys))
        counts, uses = array("i", recorded[:len(keys)]), array("i", [0] * len(keys))
        index = WordIndex(numbered, keys.__getitem__, counts, uses)
        for request in requests:
            if isinstance(request, int):
                uses[request % len(keys)] += 1
                continue
            chosen = index.best(request)
            assert chosen == brute_force(numbered, counts, uses, request)
            if chosen is not None:
                uses[chosen] += 1
    finally:
        bestmatch.FREQUENT = original


def test_misses_after_every_key_was_used_stay_cheap():
    """The end of a long replay: every key of one function used (the first ones twice), then calls
    never recorded. The search must stand at each answer, so the next miss goes on from there."""
    keys = list(enumerate(f"<-PYT:svc.call({i})" for i in range(50_000)))
    counts, uses = array("i", [1] * 50_000), array("i", [0] * 50_000)
    index = WordIndex(keys, dict(keys).__getitem__, counts, uses)
    assert index.best("<-PYT:svc.call(-1)") == 0
    for key_id in range(50_000):
        uses[key_id] += 2 if key_id < 20_000 else 1
    group = index._groups()["<-PYT:svc.call"][0]
    for expected in (20_000, 20_001, 20_002):
        assert index.best("<-PYT:svc.call(-1)") == expected
        assert (group.most, group.cursor) == (0, expected)  # not back at 0: O(1) per further miss
        uses[expected] += 1
