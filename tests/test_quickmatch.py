"""Best match from text searches (issue #16): the choice must be exactly what scoring every key makes."""
import re
import sys
import tracemalloc
from array import array

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capturemock import quickmatch
from capturemock.bestmatch import NOT_SEPARATOR
from capturemock.replay import ReplayIndex
from tests.conftest import built_speedups
from tests.test_bestmatch import brute_force

pytestmark = pytest.mark.usefixtures("replay_core")  # the C accelerator and the Python reference

# some texts hold characters of 2 or 4 bytes: the C word search reads each str kind in its own width
_word = st.sampled_from(["f", "g", "a", "b", "c", "d", "x/y", "(1)", "e", "f(a)", "é", "€e", "a\u2003😀"])
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


def test_misses_among_calls_of_one_function_take_the_next_unused_then_the_least_used():
    """Each miss consumes its answer, exact hits consume keys out of order: the next miss still takes the
    earliest unused key; once every key is used, the earliest of those used least."""
    keys = [f"<-PYT:mod.compute({n})" for n in range(5000)]
    index = ReplayIndex("".join(f"{key}\n->RET:{n}\n" for n, key in enumerate(keys)))
    for key in keys[:2000]:
        index.lookup(key)
    assert index.lookup("<-PYT:mod.compute(-1)")[0].text == "2000"
    index.lookup(keys[2001])
    assert index.lookup("<-PYT:mod.compute(-2)")[0].text == "2002"
    for key in keys[2003:]:
        index.lookup(key)
    index.lookup(keys[0])
    assert index.lookup("<-PYT:mod.compute(-3)")[0].text == "1"  # key 0 was used twice, key 1 once
    assert index._word_indexes == {}


def test_a_miss_the_text_cannot_settle_builds_the_word_index():
    """Only the last key scores the best a key sharing just the function name can: more keys come
    before it than are tried, so the word index answers (and is kept for later misses)."""
    keys = [f"<-PYT:mod.compute({n})" for n in range(100)] + ["<-PYT:mod.compute()"]
    index = ReplayIndex("".join(f"{key}\n->RET:0\n" for key in keys))
    assert index.best_match("<-PYT:mod.compute") == "<-PYT:mod.compute()"
    assert set(index._word_indexes) == {"PYT"}


# separators of every kind (str.isspace: \x1c, \x85, \xa0, \u2003, \u3000), near misses of "ab", wide characters
_text_char = st.sampled_from(list("ab/()\\ \t\n\x1c\x85\xa0\u2003\u3000-1xé") + ["€", "😀"])


@settings(max_examples=500, deadline=None)
@given(text=st.lists(_text_char, max_size=80).map("".join),
       word=st.lists(_text_char.filter(lambda char: not quickmatch._SEPARATOR.match(char)), min_size=1,
                     max_size=4).map("".join))
def test_the_word_search_finds_what_the_regex_finds(text, word):
    """Each position where the word occurs followed by a separator or the end, in order, with neither
    text nor word confined to one str kind; texts long enough for several 16-byte blocks and a tail."""
    found = list(quickmatch._ending_a_word(text, word))
    assert found == [match.start() for match in re.finditer(f"{re.escape(word)}(?!{NOT_SEPARATOR})", text)]


def test_the_word_search_reads_every_block_and_the_tail():
    """A hit at every position of a 1-, 2- and 4-byte text (the first and last of a 16-byte block, one
    straddling two, the last possible one), ended by the text's end or a separator, and not when the
    word goes on."""
    for wide in ("", "é", "€", "😀"):
        for at in range(70):
            for tail, expected in (("", [len(wide) + at]), (" y", [len(wide) + at]), ("/" + "y" * 40, [len(wide) + at]),
                                   ("yy", [])):
                text = wide + "a" * at + "ab" + tail
                assert list(quickmatch._ending_a_word(text, "ab")) == expected, (text, tail)


def test_the_c_word_search_checks_its_arguments_and_frees_what_it_widens():
    speedups = built_speedups()
    for word, start in (("", 0), ("a", -1)):
        with pytest.raises(ValueError, match="^find_word: expected a word and a start >= 0$"):
            speedups.find_word("ab", word, start)
    with pytest.raises(TypeError, match=r"^find_word\(text, word, start\): expected a str, a str and an int$"):
        speedups.find_word(b"ab", "a", 0)
    with pytest.raises(OverflowError):
        speedups.find_word("ab", "a", 1 << 80)
    assert [speedups.find_word("ab", "ab", start) for start in (0, 1, 3, 1 << 40)] == [0, -1, -1, -1]
    assert speedups.find_word("ab", "€", 0) == -1  # wider than any character the text holds
    text, word = "😀" + "x ab " * 20, "ab"  # the word is widened to the text's 4 bytes a character
    assert speedups.find_word(text, word, 4) == 8
    references = sys.getrefcount(text), sys.getrefcount(word)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(1000):
            speedups.find_word(text, word, 4)
        assert tracemalloc.get_traced_memory()[0] - before < 1000
    finally:
        tracemalloc.stop()
    assert (sys.getrefcount(text), sys.getrefcount(word)) == references


def test_positions_are_whole_items_with_the_value():
    """Low bytes are searched: an item whose low byte matches but whose value does not is no hit."""
    assert list(quickmatch._positions(array("i", [256, 0, 5, 0]), 0)) == [1, 3]
    assert list(quickmatch._positions(array("i", [256, 1]), 1)) == [1]
    assert list(quickmatch._positions(array("i", [256]), 1)) == []
    assert list(quickmatch._positions(array("i", [255, -1, 511, -1]), -1)) == [1, 3]
    assert list(quickmatch._positions(array("i", [0, 7, 0, 7]), 7, start=2)) == [3]


def test_positions_cross_chunks():
    """The search copies growing chunks of the array: hits in every chunk, none twice, none missed."""
    values = array("i", [1]) * 300_000
    wanted = [0, 1023, 1024, 3071, 3072, 150_000, 299_999]
    for position in wanted:
        values[position] = 2
    assert list(quickmatch._positions(values, 2)) == wanted
    assert list(quickmatch._positions(values, 2, start=1024)) == wanted[2:]


def test_misses_prefer_a_repeated_key_while_it_has_more_left():
    """A key recorded three times answers misses while it has the most left; then the earliest unused
    key and the repeated one (one left) tie on unconsumed: the earlier wins. No subtraction over all keys."""
    keys = [f"<-PYT:mod.compute({n})" for n in range(5000)]
    text = "".join(f"{key}\n->RET:{n}\n" for n, key in enumerate(keys)) + "<-PYT:mod.compute(4000)\n->RET:again\n" * 2
    index = ReplayIndex(text)
    for key in keys[:10]:
        index.lookup(key)
    answers = [index.lookup(f"<-PYT:mod.compute(-{n})")[0].text for n in range(1, 5)]
    assert answers == ["4000", "again", "10", "11"]
    assert list(index._quick_match.repeated) == [4000]


def test_repeated_keys_are_found_or_given_up():
    assert list(quickmatch._repeated(array("i", [1, 2, 1, 1, 3, 1]), 9, 10)) == [1, 4]
    assert quickmatch._repeated(array("i", [1, 2, 1, 3]), 7, 1) is None  # more keys than the limit
    assert quickmatch._repeated(array("i", [1, 257]), 258, 10) is None  # its low byte is 1
    assert list(quickmatch._repeated(array("i", [1, 256]), 257, 10)) == [1]
    assert list(quickmatch._repeated(array("i"), 0, 10)) == []


def test_misses_after_every_key_was_used_follow_scoring_every_key():
    """The end of a replay: every key used once, one recorded three times; each miss consumes its choice,
    down to nothing left anywhere (then the earliest of those that have the most, which is least)."""
    keys = [f"<-PYT:f({n})" for n in range(40)]  # more than RARE: "<-PYT:f" is searched no further
    recorded = [1, 1, 3] + [1] * 37
    index = ReplayIndex(_mock(keys, recorded, ["r"]))
    counts, uses = array("i", recorded), array("i", [1] * len(keys))
    for key in keys:
        index.lookup_exact(key)
    chosen = []
    for n in range(1, 6):
        request = f"<-PYT:f(-{n})"
        expected = _expected(keys, counts, uses, request)
        assert index.best_match(request) == expected
        index.lookup(request)
        uses[keys.index(expected)] += 1
        chosen.append(expected)
    assert chosen == ["<-PYT:f(2)", "<-PYT:f(2)", "<-PYT:f(0)", "<-PYT:f(1)", "<-PYT:f(2)"]
    assert index._word_indexes == {}
