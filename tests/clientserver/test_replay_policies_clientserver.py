"""Issue 13 for client/server traffic, through the real traffic server: ``on_best_match = warn`` and
``report_unused`` print when the server stops (under the launcher's "Error from CaptureMock Server"),
``on_best_match = error`` holds for HTTP too, and ``sealed = true`` refuses what replay would forward
to a real server. The texts are the Python and command-line families' (``explain``)."""
from __future__ import annotations

import xmlrpc.client
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xmlrpc.server import SimpleXMLRPCServer

import pytest
from test_http import call

import capturemock

CLASSIC = "[general]\nserver_protocol = classic\nrecord_for_client = true\n"
HTTP = "[general]\nserver_protocol = http\nrecord_for_client = true\n"
XMLRPC = "[general]\nserver_protocol = xmlrpc\nrecord_for_client = true\n"
WARN_AND_UNUSED = "on_best_match = warn\nreport_unused = true\n"


def stopped(rig, stderr: list[str]) -> list[str]:
    rig.stop()
    return stderr


def real_http(rig) -> list[str]:
    """An HTTP server answering ``200 real <path>``; returns the list of paths it was sent."""
    paths: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            paths.append(self.path)
            data = f"real {self.path}".encode()
            self.send_response_only(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    rig.real_server = rig.real(ThreadingHTTPServer(("127.0.0.1", 0), Handler))
    return paths


# -- on_best_match = warn, report_unused --------------------------------------------------------------
def test_classic_warn_and_unused_are_printed_when_the_server_stops_each_family_once(rig):
    """The mock holds command-line traffic too (TextTest's externalmocks): each family reports only its
    own requests, so nothing is listed twice and nothing replayed by the other is called unused."""
    mock = rig.write("stored.mock", "<-CLI:hello\n->SRV:HELLO\n<-CMD:date\n->OUT:Monday\n<-CLI:two\nlines\n"
                                    "->SRV:TWO\n<-CLI:unused one\n")
    stderr: list[str] = []
    address = rig.start(capturemock.REPLAY, CLASSIC + WARN_AND_UNUSED, replay="stored.mock", stderrFn=stderr.append)
    assert rig.send(address, "hello there") == "HELLO"
    assert rig.send(address, "two\nlines") == "TWO"
    assert stopped(rig, stderr) == [
        "Error from CaptureMock Server :\n"
        f"capturemock: unused: {mock}:3: <-CMD:date was recorded but never replayed\n"
        f"capturemock: best match: '<-CLI:hello there' was answered by {mock}:1: <-CLI:hello\n"
        f"capturemock: unused: {mock}:8: <-CLI:unused one was recorded but never replayed\n"]


def test_classic_defaults_stay_silent(rig):
    rig.write("stored.mock", "<-CLI:hello\n->SRV:HELLO\n<-CLI:unused one\n")
    stderr: list[str] = []
    address = rig.start(capturemock.REPLAY, CLASSIC, replay="stored.mock", stderrFn=stderr.append)
    assert rig.send(address, "hello there") == "HELLO"
    assert stopped(rig, stderr) == []


def test_http_warns_of_best_matches_but_not_of_equivalent_requests(rig):
    mock = rig.write("stored.mock", "<-CLI:GET /items?a=1\n->SRV:200 one\n<-CLI:GET /search?q=x&page=2\n"
                                    "->SRV:200 found\n<-CLI:DELETE /items/7\n->SRV:204 \n")
    stderr: list[str] = []
    base = rig.start(capturemock.REPLAY, HTTP + WARN_AND_UNUSED, replay="stored.mock", stderrFn=stderr.append)
    assert call(base, "GET", "/search?page=2&q=x")[::2] == (200, b"found")  # the same request, reordered
    assert call(base, "GET", "/items?a=2")[::2] == (200, b"one")
    assert call(base, "POST", "/zzz", b"new")[::2] == (  # nothing resembles it: said, not a dropped connection
        500, f"CaptureMock: no recorded response to 'POST /zzz' in {mock}\n".encode())
    assert stopped(rig, stderr) == [
        "Error from CaptureMock Server :\n"
        f"CaptureMock: no recorded response to 'POST /zzz' in {mock}\n"
        f"capturemock: best match: '<-CLI:GET /items?a=2' was answered by {mock}:1: <-CLI:GET /items?a=1\n"
        "capturemock: no match: '<-CLI:POST /zzz new' was answered with nothing (no recorded request resembles it)\n"
        f"capturemock: unused: {mock}:5: <-CLI:DELETE /items/7 was recorded but never replayed\n"]


def test_http_on_best_match_error_answers_a_mismatch_naming_the_closest(rig):
    mock = rig.write("stored.mock", "<-CLI:GET /items?a=1\n->SRV:200 one\n<-CLI:GET /search?q=x&page=2\n"
                                    "->SRV:200 found\n")
    base = rig.start(capturemock.REPLAY, HTTP + "on_best_match = error\n", replay="stored.mock", record="new.mock")
    assert call(base, "GET", "/search?page=2&q=x")[::2] == (200, b"found")
    status, _, body = call(base, "GET", "/items?a=2")
    rig.stop()
    assert (status, body.decode()) == (500, (
        f"CAPTUREMOCK MISMATCH: '<-CLI:GET /items?a=2' is not recorded in {mock} and [general] on_best_match = "
        "error forbids answering it with another request's answer\n"
        "closest recorded requests:\n"
        f"  {mock}:1: <-CLI:GET /items?a=1\n"
        "    <-CLI:GET /[-items?a=1-]{+items?a=2+}\n"
        f"  {mock}:3: <-CLI:GET /search?q=x&page=2\n"
        "    <-CLI:GET /[-search?q=x&page=2-]{+items?a=2+}"))
    assert rig.read("new.mock") == "<-CLI:GET /search?page=2&q=x\n->SRV:200 found\n"  # the refused one: §2.5


def test_xmlrpc_warn_and_unused(rig):
    mock = rig.write("stored.mock", "<-CLI:multiply(6, 7)\n->SRV:42\n<-CLI:divide(1, 2)\n->SRV:0.5\n")
    stderr: list[str] = []
    base = rig.start(capturemock.REPLAY, XMLRPC + WARN_AND_UNUSED, replay="stored.mock", stderrFn=stderr.append)
    assert xmlrpc.client.ServerProxy(base).multiply(6, 8) == 42
    assert stopped(rig, stderr) == [
        "Error from CaptureMock Server :\n"
        f"capturemock: best match: '<-CLI:multiply(6, 8)' was answered by {mock}:1: <-CLI:multiply(6, 7)\n"
        f"capturemock: unused: {mock}:3: <-CLI:divide(1, 2) was recorded but never replayed\n"]


def test_server_as_sut_lists_the_recorded_client_messages_never_sent(rig):
    """CaptureMock plays the recorded client: a batch no server reply released was never replayed."""
    live = rig.real_classic(lambda text: "" if text == "one" else f"re: {text}")
    mock = rig.write("stored.mock", "<-SRV:listening on 127.0.0.1:1\n->CLI:one\n<-SRV:re: one\n->CLI:two\n")
    stderr: list[str] = []
    address = rig.start(capturemock.REPLAY, "[general]\nserver_protocol = classic\nreport_unused = true\n",
                        replay="stored.mock", stderrFn=stderr.append)
    rig.send(address, f"SUT_SERVER:listening on {live.address}")
    assert stopped(rig, stderr) == [
        f"Error from CaptureMock Server :\ncapturemock: unused: {mock}:4: ->CLI:two was recorded but never replayed\n"]
    assert live.received == ["one"]


# -- sealed = true ----------------------------------------------------------------------------------
@pytest.mark.parametrize("sealed", [True, False])
def test_classic_sealed_replay_closes_a_message_it_would_forward(rig, sealed):
    """The server is the SUT: the recorded client is played to it; any other client's message would
    be forwarded to it for real."""
    live = rig.real_classic(lambda text: f"re: {text}")
    mock = rig.write("stored.mock", "<-SRV:listening on 127.0.0.1:1\n->CLI:one\n<-SRV:re: one\n")
    stderr: list[str] = []
    address = rig.start(capturemock.REPLAY, f"[general]\nserver_protocol = classic\nsealed = {sealed}\n",
                        replay="stored.mock", stderrFn=stderr.append)
    rig.send(address, f"SUT_SERVER:listening on {live.address}")
    answer = rig.send(address, "stranger\nat the door")
    reported = stopped(rig, stderr)
    if not sealed:
        assert (answer, sorted(live.received), reported) == ("re: stranger\nat the door",
                                                             ["one", "stranger\nat the door"], [])
        return
    assert (answer, live.received) == ("", ["one"])
    assert reported == [
        f"Error from CaptureMock Server :\ncapturemock: sealed replay: 'stranger ...' is not recorded in {mock}, "
        f"so it was not sent to the real server at {live.address} ([general] sealed = true)\n"]
    assert rig.read("rec.mock") == f"<-SRV:listening on {live.address}\n->CLI:one\n<-SRV:re: one\n"


def test_http_sealed_replay_answers_an_error_instead_of_forwarding(rig):
    """HTTP replay with a real server configured (``recordFromUrl``) and the server as SUT."""
    paths = real_http(rig)
    url = rig.real_server.url
    mock = rig.write("stored.mock", "<-SRV:POST /capturemock/setServerLocation <address>\n->CLI:GET /ping\n"
                                    "<-SRV:200 real /ping\n")
    stderr: list[str] = []
    base = rig.start(capturemock.REPLAY, "[general]\nserver_protocol = http\nsealed = true\n", replay="stored.mock",
                     recordFromUrl=url, stderrFn=stderr.append)
    status, headers, body = call(base, "GET", "/secret?id=7")
    refusal = (f"capturemock: sealed replay: 'GET /secret?id=7' is not recorded in {mock}, so it was not sent to "
               f"the real server at {url} ([general] sealed = true)")
    assert (status, headers["Content-Type"], body.decode()) == (500, "text/plain", f"{refusal}\n")
    assert stopped(rig, stderr) == [f"Error from CaptureMock Server :\n{refusal}\n"]
    assert paths == ["/ping"]  # the recorded client was played; the stranger never reached the server


def test_xmlrpc_sealed_replay_answers_a_fault_instead_of_forwarding(rig):
    calls: list[tuple] = []
    server = SimpleXMLRPCServer(("127.0.0.1", 0), logRequests=False)
    server.register_function(lambda *args: calls.append(args) or "real", "ping")
    real = rig.real(server)
    mock = rig.write("stored.mock", "<-SRV:setServerLocation(<address>)\n->CLI:ping(1)\n<-SRV:'real'\n")
    base = rig.start(capturemock.REPLAY, "[general]\nserver_protocol = xmlrpc\nsealed = true\n", replay="stored.mock")
    proxy = xmlrpc.client.ServerProxy(base)
    proxy.setServerLocation(real.url)
    with pytest.raises(xmlrpc.client.Fault) as fault:
        proxy.ping(2)
    rig.stop()
    assert fault.value.faultString == (f"capturemock: sealed replay: 'ping(2)' is not recorded in {mock}, so it was "
                                       f"not sent to the real server at {real.url} ([general] sealed = true)")
    assert calls == [(1,)]
