"""The Python rules client (``capturemock.rules``) against the real traffic server process, and the
in-process server that lets a callable answer."""
from __future__ import annotations

import json
import socket
import urllib.request

import pytest
from test_http import call
from test_rules import RC

import capturemock
from capturemock.clientserver.inprocess import InProcessServer
from capturemock.rules import RulesClient, RulesError


def client(rig, base: str) -> RulesClient:
    return RulesClient(base, rig.env["CAPTUREMOCK_TOKEN"])


def test_add_list_remove_and_clear(rig):
    base = rig.start(capturemock.RECORD, RC)
    rules = client(rig, base)
    first = rules.add({"path": "/a"}, response={"body": "a"})
    second = rules.add(path="/b", times=1, response={"status": 204})
    assert (first, second) == ("1", "2")
    assert call(base, "GET", "/a")[::2] == (200, b"a")
    assert rules.list() == [{"path": "/a", "response": {"body": "a"}, "id": "1", "answered": 1},
                            {"path": "/b", "times": 1, "response": {"status": 204}, "id": "2", "answered": 0}]
    rules.remove(first)
    with pytest.raises(RulesError) as missing:
        rules.remove(first)
    assert str(missing.value) == "CaptureMock: there is no replay rule '1'"
    rules.add(path="/c", response={})
    rules.clear()
    assert rules.list() == []


def test_a_scope_removes_only_its_own_rules_and_the_environment_names_the_server(rig, monkeypatch):
    base = rig.start(capturemock.RECORD, RC)
    monkeypatch.setenv("CAPTUREMOCK_SERVER", base)
    monkeypatch.setenv("CAPTUREMOCK_TOKEN", rig.env["CAPTUREMOCK_TOKEN"])
    rules = RulesClient()
    rules.add(path="/kept", response={"body": "outer"})
    with rules.scope() as scoped:
        scoped.add(path="/kept", query={"v": "2"}, response={"body": "inner"})
        removed_early = scoped.add(path="/early", response={})
        scoped.remove(removed_early)
        assert call(base, "GET", "/kept?v=2")[2] == b"inner"
        assert [rule["id"] for rule in rules.list()] == ["1", "2"]
    assert [rule["id"] for rule in rules.list()] == ["1"]
    assert call(base, "GET", "/kept?v=2")[2] == b"outer"
    with RulesClient() as temporary:
        temporary.add(path="/t", response={})
        temporary.clear()  # everyone's rules: at the exit there is nothing left to remove, and no error
    assert rules.list() == []


def test_refusals_are_one_clear_error(rig, monkeypatch):
    base = rig.start(capturemock.RECORD, RC)
    with pytest.raises(RulesError) as refused:
        RulesClient(base, "not-the-token").add(path="/a", response={})
    assert str(refused.value) == ("CaptureMock: changing replay rules needs this session's CAPTUREMOCK_TOKEN in "
                                  "the X-CaptureMock-Token header")
    with pytest.raises(RulesError) as bad:
        client(rig, base).add(path="/a", times="twice", response={})
    assert str(bad.value) == "CaptureMock: not a replay rule: times 'twice' must be a whole number from 1"
    with pytest.raises(RulesError) as remote:
        client(rig, base).add(path="/a", respond=lambda request: {})
    assert str(remote.value) == ("a Python callable can answer only in a server running in this process (the "
                                 "capturemock_server fixture): give this server a response or a template instead")
    monkeypatch.delenv("CAPTUREMOCK_SERVER", raising=False)
    with pytest.raises(RulesError) as nowhere:
        RulesClient()
    assert str(nowhere.value) == "no traffic server to give rules to: pass its address or set CAPTUREMOCK_SERVER"
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    with pytest.raises(RulesError) as gone:
        RulesClient(f"127.0.0.1:{port}", "t").list()
    assert str(gone.value).startswith(f"cannot reach the traffic server at 127.0.0.1:{port}: ")


def test_in_process_server_answers_with_a_callable_and_records(tmp_path):
    rc = tmp_path / "capturemockrc"
    rc.write_text(RC)
    server = InProcessServer(capturemock.RECORD, [str(rc)], str(tmp_path / "rec.mock"))
    try:
        rules = RulesClient(server.url, server.token, local=server.rules)
        rules.add(path="/double", query={"n": True},
                  respond=lambda request: {"body": {"twice": 2 * int(request.param("n"))}})
        with urllib.request.urlopen(f"{server.url}/double?n=21", timeout=10) as response:
            assert json.load(response) == {"twice": 42}
        assert [rule["respond"] for rule in rules.list()] == [
            "test_rules_client.test_in_process_server_answers_with_a_callable_and_records.<locals>.<lambda>"]
    finally:
        assert server.stop() == []
    assert (tmp_path / "rec.mock").read_text() == ('<-CLI:GET /double?n=21\n->SRV:200 {"twice": 42}\n'
                                                   "--HEA:Content-Type=application/json\n")
