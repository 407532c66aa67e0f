"""One recorded client/server mock replays whichever side is the SUT (product spec §3; §8.2)."""
from __future__ import annotations

from test_http import call, real_store

import capturemock
from capturemock.clientserver.roles import client_form, server_form
from capturemock.mockfile import parse

CLIENT_RC = "[general]\nserver_protocol = classic\nrecord_for_client = true\n"
SERVER_RC = "[general]\nserver_protocol = classic\n"


def descriptions(items) -> list[str]:
    return [item.description for item in items]


def test_client_recording_replays_with_the_server_as_sut(rig):
    first = rig.real_classic(lambda text: f"re: {text}")
    address = rig.start(capturemock.RECORD, CLIENT_RC)
    rig.send(address, f"SUT_SERVER:{first.address}")
    assert rig.send(address, "one") == "re: one"
    assert rig.send(address, "two") == "re: two"
    rig.stop()
    assert rig.read("rec.mock") == "<-CLI:one\n->SRV:re: one\n<-CLI:two\n->SRV:re: two\n"
    live = rig.real_classic(lambda text: text.upper())  # now the server is the SUT; capturemock plays the client
    address = rig.start(capturemock.REPLAY, SERVER_RC, replay="rec.mock", record="server.mock")
    rig.send(address, f"SUT_SERVER:shouter on {live.address}")
    rig.stop()
    assert live.received == ["one", "two"]
    assert rig.read("server.mock") == f"<-SRV:shouter on {live.address}\n->CLI:one\n<-SRV:ONE\n->CLI:two\n<-SRV:TWO\n"


def test_server_recording_replays_with_the_client_as_sut(rig):
    live = rig.real_classic(lambda text: text[::-1])
    address = rig.start(capturemock.RECORD, SERVER_RC)
    rig.send(address, f"SUT_SERVER:listening on {live.address}")
    assert rig.send(address, "abc") == "cba"
    rig.send(address, "SUT_SERVER:ready")  # a free-text synchronisation message, recorded as <-SRV too
    assert rig.send(address, "xyz") == "zyx"
    rig.stop()
    live.stop()
    assert rig.read("rec.mock") == (f"<-SRV:listening on {live.address}\n->CLI:abc\n<-SRV:cba\n<-SRV:ready\n"
                                    "->CLI:xyz\n<-SRV:zyx\n")
    address = rig.start(capturemock.REPLAY, CLIENT_RC, replay="rec.mock", record="client.mock")
    assert [rig.send(address, text) for text in ("xyz", "abc", "abc")] == ["zyx", "cba", "cba"]
    rig.stop()
    assert rig.read("client.mock") == "<-CLI:xyz\n->SRV:zyx\n<-CLI:abc\n->SRV:cba\n<-CLI:abc\n->SRV:cba\n"


def test_http_client_recording_replays_with_the_server_as_sut(rig):
    rig.write("stored.mock", """\
        <-CLI:POST /items {"name": "cup"}
        --HEA:Content-Type=application/json
        ->SRV:201 {"id": "i-100"}
        <-CLI:GET /items/i-100
        ->SRV:200 {"old": true}
        """)
    live = real_store(rig)
    base = rig.start(capturemock.REPLAY, "[general]\nserver_protocol = http\n", replay="stored.mock")
    assert call(base, "POST", "/capturemock/setServerLocation", live.url.encode())[0] == 200
    rig.stop()
    assert rig.read("rec.mock") == (
        '<-SRV:POST /capturemock/setServerLocation <address>\n'
        '->CLI:POST /items {"name": "cup"}\n--HEA:Content-Type=application/json\n'
        '<-SRV:201 {"id": "i-100"}\n--HEA:Content-Type=application/json\n'
        '->CLI:GET /items/i-100\n'
        '<-SRV:200 {"name": "cup", "id": "i-100", "token": null}\n--HEA:Content-Type=application/json\n')


def test_http_server_recording_replays_with_the_client_as_sut(rig):
    rig.write("stored.mock", """\
        <-SRV:POST /capturemock/setServerLocation <address>
        ->CLI:GET /items?page=2
        <-SRV:200 ["a", "b"]
        --HEA:Content-Type=application/json
        """)
    base = rig.start(capturemock.REPLAY, "[general]\nserver_protocol = http\nrecord_for_client = true\n",
                     replay="stored.mock")
    status, headers, body = call(base, "GET", "/items?page=2")
    rig.stop()
    assert (status, headers["Content-Type"], body) == (200, "application/json", b'["a", "b"]')
    assert rig.read("rec.mock") == ('<-CLI:GET /items?page=2\n->SRV:200 ["a", "b"]\n'
                                    '--HEA:Content-Type=application/json\n')


def test_replay_for_server_reads_a_server_recording(rig):
    live = rig.real_classic(lambda text: text * 2)
    rig.write("stored.mock", "<-SRV:on 127.0.0.1:1\n->CLI:ab\n<-SRV:old\n->CLI:c\n")
    capturemock.replay_for_server(rcFile=rig.write("rc", CLIENT_RC), replayFile=str(rig.root / "stored.mock"),
                                  recordFile=str(rig.root / "out.mock"), serverAddress=live.address)
    assert live.received == ["ab", "c"]
    assert rig.read("out.mock") == "<-CLI:ab\n->SRV:abab\n<-CLI:c\n->SRV:cc\n"


def test_forms_convert_only_files_of_the_other_role():
    server = parse("<-SRV:loc\n->CLI:a\n--TIM:2024-01-01T00:00:00\n<-SRV:ra\n<-SRV:sync\n->CLI:b\n"
                   "<-CAL:c\n->RET:d\n")
    assert descriptions(client_form(server)) == ["<-CLI:a\n--TIM:2024-01-01T00:00:00", "->SRV:ra", "<-CLI:b",
                                                 "<-CAL:c", "->RET:d"]
    assert server_form(server) is server
    client = parse("<-CLI:a\n->SRV:ra\n<-CLI:b\n<-CAL:c\n->RET:d\n")
    assert descriptions(server_form(client)) == ["<-SRV:", "->CLI:a", "<-SRV:ra", "->CLI:b"]
    assert client_form(client) is client
    assert [item.line for item in client_form(server)] == [2, 4, 6, 7, 8]
    python = parse("<-PYT:f()\n->RET:1\n")
    assert server_form(python) is python and client_form(python) is python
