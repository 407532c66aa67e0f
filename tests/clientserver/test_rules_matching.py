"""Run-time HTTP rules (issue 14 item 4): which requests they answer, how often, after how long, and
responses computed from the request (templates, callables)."""
from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from test_http import call
from test_rules import RC, change

import capturemock
from capturemock.clientserver import httprules
from capturemock.clientserver.httprules import Rules

EVENTS = [{"at": f"2024-05-0{day}T12:00", "name": f"event {day}"} for day in range(1, 8)]


def body(rules: Rules, method: str, target: str, sent: bytes = b"", headers=()):
    answer = rules.answer(method, target, sent, headers)
    return None if answer is None else answer.body.decode()


def test_query_parameters_in_any_order_absent_or_present():
    rules = Rules()
    rules.add({"query": {"tag": ["a", "b"]}, "response": {"body": "a and b"}})
    rules.add({"path": "/items", "query": {"debug": None}, "response": {"body": "no debug"}})
    rules.add({"path": "/items", "query": {"page": True, "debug": None}, "response": {"body": "a page"}})
    assert body(rules, "GET", "/x?tag=b&z=1&tag=a") == "a and b"
    assert body(rules, "GET", "/x?tag=a") is None
    assert body(rules, "GET", "/items") == "no debug"
    assert body(rules, "GET", "/items?page=") == "a page"
    assert body(rules, "GET", "/items?size=3&page=9") == "a page"
    assert body(rules, "GET", "/items?page=2&debug=1") is None


def test_glob_and_regex_paths():
    rules = Rules()
    rules.add({"path_glob": "/items/*", "response": {"body": "one segment"}})
    rules.add({"path_glob": "/files/**.txt", "response": {"body": "any depth"}})
    rules.add({"path_regex": r"/users/(?P<user>\w+)/orders/(?P<order>\d+)",
               "template": {"body": "{match.order} of {match.user}"}})
    assert body(rules, "GET", "/items/3?x=1") == "one segment"
    assert body(rules, "GET", "/items/3/parts") is None
    assert body(rules, "GET", "/files/a/b/c.txt") == "any depth"
    assert body(rules, "GET", "/files/c.txt.bak") is None
    assert body(rules, "GET", "/users/ann/orders/12") == "12 of ann"
    assert body(rules, "GET", "/users/ann/orders/x") is None


def test_body_text_and_json_fields():
    rules = Rules()
    rules.add({"method": "POST", "body": {"contains": "urgent"}, "response": {"body": "urgent"}})
    rules.add({"method": "POST", "body": {"json": {"user": {"id": 3}, "admin": True}},
               "response": {"status": 201, "body": {"created": True}}})
    sent = json.dumps({"user": {"id": 3, "name": "Ann"}, "admin": True, "note": "x"}).encode()
    assert body(rules, "POST", "/orders", sent) == '{"created": true}'
    assert body(rules, "POST", "/orders", sent.replace(b"true", b"1")) is None  # 1 is not true
    assert body(rules, "POST", "/orders", b'{"user": {"id": 4}, "admin": true}') is None
    assert body(rules, "POST", "/orders", b"not json, but urgent") == "urgent"
    assert body(rules, "POST", "/orders", b"[1, 2]") is None


def test_times_then_falls_through_and_listing_counts_answers():
    rules = Rules()
    rules.add({"path": "/status", "response": {"body": "up"}})
    rules.add({"path": "/status", "query": {"probe": True}, "times": 2, "response": {"status": 503}})
    answers = [rules.answer("GET", "/status?probe=1").first for _ in range(3)]
    assert answers == ["503", "503", "200"]
    assert [(rule["id"], rule["answered"]) for rule in rules.listing()] == [("1", 1), ("2", 2)]


def test_delay_waits_before_answering(monkeypatch):
    slept = []
    monkeypatch.setattr(httprules.time, "sleep", slept.append)
    rules = Rules()
    rules.add({"path": "/slow", "delay": 1.5, "response": {"body": "late"}})
    rules.add({"path": "/fast", "response": {"body": "at once"}})
    assert (body(rules, "GET", "/slow"), body(rules, "GET", "/fast")) == ("late", "at once")
    assert slept == [1.5]


def test_template_pagination_with_defaults_for_absent_parameters():
    rules = Rules()
    page, size = "int(query.page ?? 1)", "int(query.size ?? 3)"
    rules.add({"method": "GET", "path": "/items", "data": {"items": [f"item {n}" for n in range(1, 8)]},
               "template": {"headers": {"X-Page": f"{{{page}}} of {{(len(data.items) + {size} - 1) / {size}}}"},
                            "body": {"page": f"{{{page}}}",
                                     "items": f"{{data.items[({page} - 1) * {size} : {page} * {size}]}}"}}})
    pages = [rules.answer("GET", target) for target in ("/items", "/items?size=3&page=3", "/items?page=2&size=4")]
    assert [json.loads(answer.body) for answer in pages] == [
        {"page": 1, "items": ["item 1", "item 2", "item 3"]}, {"page": 3, "items": ["item 7"]},
        {"page": 2, "items": ["item 5", "item 6", "item 7"]}]
    assert [dict(answer.headers) for answer in pages][1] == {"Content-Type": "application/json", "X-Page": "3 of 3"}


def test_template_echoes_query_headers_and_json_fields():
    rules = Rules()
    rules.add({"method": "POST", "path": "/echo",
               "template": {"status": 202, "headers": {"Content-Type": "text/plain"},
                            "body": "{method} {path} for {headers.x_user}: {json.order.id * 10}, "
                                    "{query.from} to {query.to ?? 'now'}, {{literal}} {json.order}"}})
    answer = rules.answer("POST", "/echo?from=2024-05-01", b'{"order": {"id": 4}}', [("X-User", "ann")])
    assert (answer.first, answer.body.decode()) == (
        "202", 'POST /echo for ann: 40, 2024-05-01 to now, {literal} {"id": 4}')


def test_a_callable_computes_the_time_window():
    def window(request: httprules.Request) -> dict:
        start, end = request.param("start"), request.param("end")
        return {"body": [event for event in EVENTS if start <= event["at"] < end]}

    rules = Rules()
    rules.add({"path": "/events", "query": {"start": True, "end": True}}, respond=window)
    answer = rules.answer("GET", "/events?end=2024-05-04T00:00&start=2024-05-02T00:00")
    assert json.loads(answer.body) == EVENTS[1:3]
    assert rules.listing()[0]["respond"].endswith("test_a_callable_computes_the_time_window.<locals>.window")


def test_a_rule_that_cannot_answer_says_why_with_500(capsys):
    rules = Rules()
    rules.add({"path": "/t", "template": {"body": "{query.page * 2}"}})
    rules.add({"path": "/c"}, respond=lambda request: 1 / 0)
    rules.add({"path": "/l"}, respond=lambda request: ["not", "a", "response"])
    rules.add({"path": "/n", "template": {"body": "{query.n * 999999999 * 999999999}"}})
    targets = ("/t?page=two", "/t", "/c", "/l", "/n?n=999999999")
    answers = [rules.answer("GET", target) for target in targets]
    reasons = ['query.page is "two", not a whole number', "query.page is missing",
               "ZeroDivisionError: division by zero",
               "the callable's answer must be an object (status, body, headers), not a list",
               "the number 999999997000000002999999999 is too large (at most 1000000000000000000)"]
    lines = [f"CaptureMock: rule {rule} could not answer GET {target}: {reason}"
             for rule, target, reason in zip("11234", targets, reasons)]
    assert [(answer.first, answer.body.decode()) for answer in answers] == [("500", f"{line}\n") for line in lines]
    assert capsys.readouterr().err == "".join(f"{line}\n" for line in lines)


def test_a_computed_header_cannot_break_the_response(capsys):
    rules = Rules()
    rules.add({"path": "/h", "template": {"headers": {"X-Echo": "{query.v}"}, "body": "ok"}})
    assert dict(rules.answer("GET", "/h?v=plain").headers)["X-Echo"] == "plain"
    answer = rules.answer("GET", "/h?v=a%0d%0aSet-Cookie:%20x=1")
    line = ("CaptureMock: rule 1 could not answer GET /h?v=a%0d%0aSet-Cookie:%20x=1: header 'X-Echo': "
            "'a\\r\\nSet-Cookie: x=1' is not a valid header (name, or line break in the value)")
    assert (answer.first, answer.body.decode(), answer.headers) == ("500", f"{line}\n", [
        ("Content-Type", "text/plain; charset=utf-8")])
    assert capsys.readouterr().err == f"{line}\n"


@pytest.mark.parametrize(("rule", "reason"), [
    ({"path_glob": "items/*", "response": {}},
     "path_glob 'items/*' must start with '/' and have no query (put that under 'query')"),
    ({"path": "/a", "path_regex": "/a", "response": {}}, "give only one of path, path_glob, path_regex"),
    ({"path_regex": "/(", "response": {}},
     "path_regex '/(' is not a regular expression: missing ), unterminated subpattern at position 1"),
    ({"body": {"json": {}, "size": 3}, "response": {}}, "unknown body key(s) size (use contains, json)"),
    ({"body": {"contains": 3}, "response": {}}, "body contains must be a string"),
    ({"times": 0, "response": {}}, "times 0 must be a whole number from 1"),
    ({"response": {"headers": {"X-A": "1\nX-B: 2"}}},
     "header 'X-A': '1\\nX-B: 2' is not a valid header (name, or line break in the value)"),
    ({"response": {"headers": {"X A": "1"}}},
     "header 'X A': '1' is not a valid header (name, or line break in the value)"),
    ({"delay": 61, "response": {}}, "delay 61 must be a number of seconds from 0 to 60"),
    ({"response": {}, "template": {}}, "give only one of response, template"),
    ({"data": [], "response": {}}, "data is read only by a template"),
    ({"template": "{query.page}"}, "template must be an object (status, body, headers), not a string"),
    ({"template": {"body": "{query.page"}},
     "template: a '{' without its '}' in '{query.page' (write '{{' for a brace)"),
    ({"template": {"body": "{os.system('x')}"}},
     "template: unknown name 'os' in {os.system('x')} (use method, path, match, query, headers, json, body, data)"),
    ({"template": {"body": "{query.page +}"}}, "template: {query.page +} ends too early"),
    ({"template": {"headers": {"X": "}"}}}, "template: a lone '}' in '}' (write '}}' for a brace)"),
    ({"template": {"body": "{12345678901234567890}"}},
     "template: the number 12345678901234567890 is too large (at most 1000000000000000000)"),
])
def test_bad_rules_are_refused_when_added(rule, reason):
    with pytest.raises(ValueError) as refused:
        Rules().add(rule)
    assert str(refused.value) == reason


# -- with the real server and real clients on 127.0.0.1 --------------------------------------------------
def fetch(url: str, timeout: float = 10) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def test_rules_at_the_sut_paths_beside_recording_and_replay(rig):
    """One proxy: rules answer some of the SUT's own paths (no prefix), the real server the rest, which
    is recorded; in replay the rules still answer first and the mock the rest."""
    class Real(BaseHTTPRequestHandler):
        def do_GET(self):
            text = f"real {self.path}".encode()
            self.send_response_only(200)  # no Server or Date header
            self.send_header("Content-Length", str(len(text)))
            self.end_headers()
            self.wfile.write(text)

        def log_message(self, *args):
            pass

    real = rig.real(ThreadingHTTPServer(("127.0.0.1", 0), Real))
    base = rig.start(capturemock.RECORD, RC, recordFromUrl=real.url)
    rule = {"path": "/items", "query": {"page": True}, "times": 1,
            "template": {"body": {"page": "{int(query.page)}", "items": []}}}
    assert change(rig, base, "POST", "/capturemock/rules", rule)[0] == 201
    assert fetch(f"{base}/items?size=5&page=2") == (200, '{"page": 2, "items": []}')
    assert fetch(f"{base}/items?page=3") == (200, "real /items?page=3")  # used up: the real server answers
    assert fetch(f"{base}/health") == (200, "real /health")
    rig.stop()
    real.stop()
    recorded = rig.read("rec.mock")
    assert recorded == ('<-CLI:GET /items?size=5&page=2\n->SRV:200 {"page": 2, "items": []}\n'
                        "--HEA:Content-Type=application/json\n"
                        "<-CLI:GET /items?page=3\n->SRV:200 real /items?page=3\n"
                        "<-CLI:GET /health\n->SRV:200 real /health\n")
    base = rig.start(capturemock.REPLAY, RC, replay="rec.mock", record="replayed.mock")
    assert change(rig, base, "POST", "/capturemock/rules", dict(rule, times=2))[0] == 201
    assert fetch(f"{base}/items?page=7") == (200, '{"page": 7, "items": []}')
    assert fetch(f"{base}/health") == (200, "real /health")  # from the mock: the real server is gone


def test_a_delayed_rule_outlasts_a_client_timeout(rig):
    base = rig.start(capturemock.RECORD, RC)
    assert change(rig, base, "POST", "/capturemock/rules", {"path": "/slow", "delay": 3, "response": {}})[0] == 201
    assert change(rig, base, "POST", "/capturemock/rules", {"path": "/fast", "response": {"body": "ok"}})[0] == 201
    with pytest.raises((socket.timeout, urllib.error.URLError)):
        fetch(f"{base}/slow", timeout=0.5)
    assert fetch(f"{base}/fast") == (200, "ok")


def test_clearing_all_rules_needs_the_token(rig):
    base = rig.start(capturemock.RECORD, RC)
    for path in ("/a", "/b"):
        assert change(rig, base, "POST", "/capturemock/rules", {"path": path, "response": {}})[0] == 201
    assert change(rig, base, "DELETE", "/capturemock/rules", token="wrong")[0] == 403
    assert change(rig, base, "DELETE", "/capturemock/rules") == (200, '{"deleted": ["1", "2"]}')
    assert call(base, "GET", "/capturemock/rules")[::2] == (200, b"[]")
