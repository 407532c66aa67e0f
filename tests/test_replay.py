"""The replay index (§5): keys, response groups, consumption, best match, attributes."""
import pytest

from capturemock.bestmatch import words
from capturemock.errors import CaptureMockReplayError
from capturemock.mockfile import format_item, parse
from capturemock.replay import ReplayIndex

pytestmark = pytest.mark.usefixtures("replay_core")  # the C accelerator and the Python reference


def index(text, **kw):
    return ReplayIndex(parse(text), **kw)


def texts(group):
    return [item.text for item in group]


def test_words_split_on_separators():
    assert words(r"<-CMD:cd /a/b; tool (x)\y  z") == ["<-CMD:cd", "a", "b;", "tool", "x", "y", "z"]


def test_repeated_request_takes_groups_in_order_then_wraps_to_first():
    idx = index("<-PYT:f(1)\n->RET:'first'\n<-PYT:g()\n<-PYT:f(1)\n->RET:'second'\n")
    got = [texts(idx.lookup("<-PYT:f(1)")) for _ in range(4)]
    assert got == [["'first'"], ["'second'"], ["'first'"], ["'first'"]]


def test_recurrence_without_responses_replays_as_empty():
    idx = index("<-CMD:tool\n->OUT:one\n<-CMD:tool\n")
    assert texts(idx.lookup("<-CMD:tool")) == ["one"]
    assert idx.lookup("<-CMD:tool") == []


def test_callbacks_nest_by_level():
    idx = index("<-PYT:g(cb)\n--->PYT:cb(1)\n<---RET:2\n--->PYT:cb(2)\n<-----PYT:h()\n"
                "----->RET:5\n<---RET:3\n->RET:7\n")
    assert [i.description for i in idx.lookup("<-PYT:g(cb)")] == ["--->PYT:cb(1)", "--->PYT:cb(2)", "->RET:7"]
    assert texts(idx.lookup("--->PYT:cb(1)")) == ["2"]
    assert texts(idx.lookup("<-----PYT:h()")) == ["5"]


@pytest.mark.parametrize("lines", [1, 200])
def test_a_large_group_keeps_its_items_and_their_lines(lines):
    """A group of 64 KiB or more (a recorded large body) is scanned line by line first: long or many lines."""
    long_value = "\n".join(["x" * (70000 // lines)] * lines)
    idx = index(f"<-PYT:g(cb)\n--->PYT:cb({long_value})\n<---RET:2\n->RET:{long_value}\n--TIM:0\n<-PYT:h()\n->RET:3\n")
    group = idx.lookup("<-PYT:g(cb)")
    assert [(i.description[:9], i.line) for i in group] == [("--->PYT:c", 2), ("->RET:" + "x" * 3, lines + 3)]
    assert group[1].text == long_value + "\n--TIM:0"
    assert texts(idx.lookup("<-PYT:h()")) == ["3"]


def test_exact_matching_refuses_unknown_requests():
    idx = index("<-CMD:tool a\n->OUT:x\n", exact=True)
    assert texts(idx.lookup("<-CMD:tool a")) == ["x"]
    with pytest.raises(CaptureMockReplayError,
                       match=r"^Could not find any replay request matching '<-CMD:tool b'$"):
        idx.lookup("<-CMD:tool b")


def test_best_match_prefers_most_words_in_common_of_the_same_type():
    idx = index("<-CMD:tool alpha beta\n->OUT:ab\n<-CMD:tool gamma\n->OUT:g\n"
                "<-PYT:tool alpha beta gamma\n->RET:py\n")
    assert texts(idx.lookup("<-CMD:tool alpha beta delta")) == ["ab"]
    assert texts(idx.lookup("<-CMD:tool gamma delta")) == ["g"]


def test_best_match_needs_a_shared_word():
    idx = index("<-CMD:tool a\n->OUT:x\n")
    assert idx.lookup("<-CMD:other b") is None


def test_best_match_tie_breaks_on_gaps_then_unconsumed_then_order():
    # same words in common (3); the later key has fewer separate gaps, so it wins
    idx = index("<-CMD:t a y b z\n->OUT:two-gaps\n<-CMD:t x a b\n->OUT:one-gap\n")
    assert texts(idx.lookup("<-CMD:t a b")) == ["one-gap"]
    # equal on words and gaps: more unconsumed responses wins, then the earlier key
    idx = index("<-CMD:t p\n->OUT:p1\n<-CMD:t q\n->OUT:q1\n<-CMD:t q\n->OUT:q2\n")
    assert texts(idx.lookup("<-CMD:t r")) == ["q1"]
    assert texts(idx.lookup("<-CMD:t r")) == ["p1"]


def test_attribute_advances_only_after_intermediate_calls_replayed():
    idx = index("<-PYT:obj.value\n->RET:'Initial'\n<-PYT:obj.setValue('v')\n"
                "<-PYT:obj.value\n->RET:'v'\n")
    assert texts(idx.lookup_attribute("<-PYT:obj.value")) == ["'Initial'"]
    assert texts(idx.lookup_attribute("<-PYT:obj.value")) == ["'Initial'"]
    idx.lookup("<-PYT:obj.setValue('v')")
    assert texts(idx.lookup_attribute("<-PYT:obj.value")) == ["'v'"]
    assert texts(idx.lookup_attribute("<-PYT:obj.value")) == ["'v'"]
    assert idx.lookup_attribute("<-PYT:obj.other") is None


def test_server_keys_collapse_to_one():
    idx = index("<-SRV:Listening on 1:2\n->CLI:hello\n<-SRV:42\n->CLI:bye\n", collapse_server_keys=True)
    assert texts(idx.lookup("<-SRV:anything")) == ["hello"]
    assert texts(idx.lookup("<-SRV:else")) == ["bye"]


def test_large_index_exact_lookup_and_miss():
    lines = []
    for i in range(20000):
        lines.append(f"<-PYT:svc.call('item{i}', {i})\n->RET:{i}\n")
    idx = index("".join(lines))
    assert texts(idx.lookup("<-PYT:svc.call('item777', 777)")) == ["777"]
    assert texts(idx.lookup("<-PYT:svc.call('item777', 123456789)")) == ["777"]


def test_keys_written_escaped_or_with_break_codes_are_found_by_their_decoded_text():
    """Keys are kept as offsets into the file; a request not written plainly is compared decoded."""
    request = "<-CMD:printf 'a\n<-CMD:b'"  # a line that looks like an item: written escaped
    text = format_item("<-", "CMD", request[6:]) + "->OUT:a\n" + "<-CMD:plain  \n->OUT:x\n->ERR:y\n"
    idx = ReplayIndex(text)
    assert "|capturemock|" in text and list(idx.keys()) == [request, "<-CMD:plain"]
    assert texts(idx.lookup(request)) == ["a"]
    assert texts(idx.lookup("<-CMD:plain")) == ["x", "y"]
    coded = ReplayIndex("<-CLI:GET /a<CR><LF>b\n->SRV:200 ok<LF>\n<-CLI:GET /a\n->SRV:404\n",
                        preserve_cr=True, preserve_lf=True)
    assert list(coded.keys()) == ["<-CLI:GET /a\r\nb", "<-CLI:GET /a"]
    assert texts(coded.lookup("<-CLI:GET /a")) == ["404"]
    assert texts(coded.lookup("<-CLI:GET /a\r\nb")) == ["200 ok\n"]


HTTP_MOCK = ("<-CLI:GET /a\n->SRV:200 ok\n--HEA:Content-Type=text/plain\n--HEA:X-Id=7\n"
             "<-CLI:GET /b\n->SRV:200 a->b\n--HEA:X-Arrow=a->b\n"
             "<-CLI:GET /c\n->SRV:200 one\n--HEA:X=1\n->SRV:200 two\n"
             + format_item("<-", "CLI", "GET /d") + format_item("->", "SRV", "200 x\n<-CLI:GET /e\n|capturemock|y"))


def test_a_response_running_on_over_plain_lines_is_read_whole_without_the_item_scan(replay_core, monkeypatch):
    """An HTTP response and its headers: one item, sliced (by the C lookup, else by Python's) not scanned."""
    def scanned(*args):
        raise AssertionError("scanned")

    monkeypatch.setattr(ReplayIndex, "_read_group" if replay_core == "c" else "_read_items", scanned)
    idx = ReplayIndex(HTTP_MOCK)
    assert idx.lookup_exact("<-CLI:GET /a") == [("->", "SRV", "200 ok\n--HEA:Content-Type=text/plain\n--HEA:X-Id=7", 2)]
    assert idx.lookup("<-CLI:GET /a") == [("->", "SRV", "200 ok\n--HEA:Content-Type=text/plain\n--HEA:X-Id=7", 2)]


def test_a_response_whose_lines_might_start_items_is_scanned_for_them():
    idx = ReplayIndex(HTTP_MOCK)
    assert idx.lookup_exact("<-CLI:GET /b") == [("->", "SRV", "200 a->b\n--HEA:X-Arrow=a->b", 6)]
    assert idx.lookup_exact("<-CLI:GET /c") == [("->", "SRV", "200 one\n--HEA:X=1", 9), ("->", "SRV", "200 two", 11)]
    assert idx.lookup_exact("<-CLI:GET /d") == [("->", "SRV", "200 x\n<-CLI:GET /e\n|capturemock|y", 13)]
    assert idx.lookup_exact("<-CLI:GET /e") is None
