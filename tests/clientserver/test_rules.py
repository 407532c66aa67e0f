"""HTTP replay rules added and removed at run time over /capturemock/rules (product spec §3)."""
from __future__ import annotations

import json

from test_http import call

import capturemock
from capturemock.clientserver.httprules import Rules

RC = "[general]\nserver_protocol = http\nrecord_for_client = true\n"


def change(rig, base: str, method: str, path: str, rule=None, token=None):
    headers = {"X-CaptureMock-Token": rig.env["CAPTUREMOCK_TOKEN"] if token is None else token}
    status, _, body = call(base, method, path, json.dumps(rule).encode() if rule is not None else None, headers)
    return status, body.decode()


def test_rules_answer_before_the_mock_and_are_recorded(rig):
    rig.write("stored.mock", "<-CLI:GET /items?page=2\n->SRV:200 from the mock\n")
    base = rig.start(capturemock.REPLAY, RC, replay="stored.mock")
    composite = {"method": "get", "path": "/items", "query": {"page": "2", "tag": ["a", "b"]},
                 "response": {"status": 206, "body": "page two, a and b", "headers": {"X-Part": "1"}}}
    status, created = change(rig, base, "POST", "/capturemock/rules", composite)
    assert (status, json.loads(created)) == (201, {"id": "1"})
    by_method = {"method": "DELETE", "response": {"status": 204}}
    by_path = {"path": "/items", "response": {"body": {"items": []}}}
    assert [change(rig, base, "POST", "/capturemock/rules", rule)[0] for rule in (by_method, by_path)] == [201, 201]
    status, _, listing = call(base, "GET", "/capturemock/rules")  # reading needs no token
    assert (status, json.loads(listing)) == (200, [dict(composite, id="1", answered=0),
                                                   dict(by_method, id="2", answered=0),
                                                   dict(by_path, id="3", answered=0)])

    status, headers, body = call(base, "GET", "/items?tag=a&page=2&tag=b")
    assert (status, headers["X-Part"], body) == (206, "1", b"page two, a and b")
    assert call(base, "GET", "/items?page=2")[::2] == (200, b'{"items": []}')  # rule 1 is more specific
    assert call(base, "DELETE", "/orders/4")[0] == 204
    assert [rule["answered"] for rule in json.loads(call(base, "GET", "/capturemock/rules")[2])] == [1, 1, 1]
    assert change(rig, base, "DELETE", "/capturemock/rules/3") == (200, '{"deleted": "3"}')
    assert change(rig, base, "DELETE", "/capturemock/rules/3")[0] == 404
    assert call(base, "GET", "/items?page=2")[::2] == (200, b"from the mock")  # rule 3 gone: the mock answers
    rig.stop()
    assert rig.read("rec.mock") == (
        "<-CLI:GET /items?tag=a&page=2&tag=b\n->SRV:206 page two, a and b\n--HEA:X-Part=1\n"
        '<-CLI:GET /items?page=2\n->SRV:200 {"items": []}\n--HEA:Content-Type=application/json\n'
        "<-CLI:DELETE /orders/4\n->SRV:204 \n"
        "<-CLI:GET /items?page=2\n->SRV:200 from the mock\n")


def test_changing_rules_needs_the_session_token(rig):
    base = rig.start(capturemock.RECORD, RC)
    rule = {"path": "/x", "response": {"body": "stub"}}
    for token in ("", "not-the-token"):
        status, message = change(rig, base, "POST", "/capturemock/rules", rule, token=token)
        assert (status, message) == (403, "CaptureMock: changing replay rules needs this session's "
                                          "CAPTUREMOCK_TOKEN in the X-CaptureMock-Token header\n")
    assert change(rig, base, "POST", "/capturemock/rules", rule) == (201, '{"id": "1"}')
    assert change(rig, base, "DELETE", "/capturemock/rules/1", token="")[0] == 403
    assert call(base, "GET", "/x")[::2] == (200, b"stub")  # still there; record mode answers from rules too
    rig.stop()
    assert rig.read("rec.mock") == "<-CLI:GET /x\n->SRV:200 stub\n"


def test_bad_rules_are_refused_with_the_reason(rig):
    base = rig.start(capturemock.RECORD, RC)
    refused = [change(rig, base, "POST", "/capturemock/rules", rule) for rule in (
        {"path": "/x"}, {"path": "x", "response": {}}, {"path": "/x?a=1", "response": {}},
        {"methd": "GET", "response": {}}, {"query": {"a": 1}, "response": {}}, {"response": {"status": 42}})]
    assert refused == [(400, f"CaptureMock: not a replay rule: {reason}\n") for reason in (
        "a rule needs a response object (status, body, headers) or a template",
        "path 'x' must start with '/' and have no query (put that under 'query')",
        "path '/x?a=1' must start with '/' and have no query (put that under 'query')",
        "unknown rule key(s) methd (use body, data, delay, method, path, path_glob, path_regex, query, "
        "response, template, times)",
        "query parameter 'a' must be a string, a list of strings, null (absent) or true (present)",
        "status 42 is not an HTTP status")]
    assert change(rig, base, "PUT", "/capturemock/rules", {})[0] == 405
    rig.stop()
    assert not rig.exists("rec.mock")


def test_matching_combines_method_path_and_query():
    rules = Rules()
    rules.add({"method": "POST", "response": {"body": "any post"}})
    rules.add({"query": {"q": ""}, "response": {"body": "blank q"}})
    rules.add({"method": "POST", "path": "/b", "response": {"body": "post /b"}})
    rules.add({"path": "/b", "response": {"body": "newer, less specific"}})
    assert rules.answer("POST", "/b").body == b"post /b"
    assert rules.answer("GET", "/b").body == b"newer, less specific"
    assert rules.remove("3") and rules.remove("4")
    assert rules.answer("post", "/a?q=1").body == b"any post"
    assert rules.answer("GET", "/a?q=").body == b"blank q"
    assert rules.answer("GET", "/a?q=1") is None
    assert rules.answer("GET", "/a") is None
    assert rules.remove("2") and not rules.remove("2")
    assert rules.answer("POST", "/a?q=").body == b"any post"


def test_a_request_a_rule_answers_in_replay_uses_up_its_recorded_answer(rig):
    # recorded: a rule answered GET /status, was removed, then the real server answered it
    rig.write("stored.mock", "<-CLI:GET /status\n->SRV:503 maintenance\n<-CLI:GET /status\n->SRV:200 up\n")
    base = rig.start(capturemock.REPLAY, RC, replay="stored.mock")
    rule = {"path": "/status", "response": {"status": 503, "body": "maintenance"}}
    assert change(rig, base, "POST", "/capturemock/rules", rule) == (201, '{"id": "1"}')
    assert call(base, "GET", "/status")[::2] == (503, b"maintenance")
    assert change(rig, base, "DELETE", "/capturemock/rules/1")[0] == 200
    assert call(base, "GET", "/status")[::2] == (200, b"up")  # not the rule's recorded 503 again
    rig.stop()
    assert rig.read("rec.mock") == rig.read("stored.mock")
