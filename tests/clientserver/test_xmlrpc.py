"""XML-RPC through the real traffic server (§8.6), values rebuilt without eval."""
from __future__ import annotations

import xmlrpc.client
from xmlrpc.server import SimpleXMLRPCRequestHandler, SimpleXMLRPCServer

import pytest

import capturemock

CLIENT_RC = "[general]\nserver_protocol = xmlrpc\nrecord_for_client = true\n"


def real_service(rig):
    def shout(text):
        if not text:
            raise ValueError("nothing to shout")
        return text.upper()

    def describe(item):
        return {"keys": sorted(item), "size": len(item)}

    server = SimpleXMLRPCServer(("127.0.0.1", 0), logRequests=False)
    server.register_function(shout)
    server.register_function(describe)
    return rig.real(server)


def test_record_calls_results_and_faults(rig):
    real = real_service(rig)
    url = rig.start(capturemock.RECORD, CLIENT_RC)
    assert url.startswith("http://127.0.0.1:")
    proxy = xmlrpc.client.ServerProxy(url)
    proxy.setServerLocation(real.url)
    assert proxy.shout("hi") == "HI"
    assert proxy.describe({"b": 1, "a": [2]}) == {"keys": ["a", "b"], "size": 2}
    with pytest.raises(xmlrpc.client.Fault) as fault:
        proxy.shout("")
    assert fault.value.faultString == "<class 'ValueError'>:nothing to shout"
    rig.stop()
    assert rig.read("rec.mock") == (
        "<-CLI:shout('hi')\n->SRV:'HI'\n"
        "<-CLI:describe({'a': [2], 'b': 1})\n->SRV:{'keys': ['a', 'b'], 'size': 2}\n"
        "<-CLI:shout('')\n->SRV:raise xmlrpclib.Fault(1, \"<class 'ValueError'>:nothing to shout\")\n")


def test_replay_rebuilds_values_and_rerecords_faults_with_raise(rig):
    stored = ("<-CLI:withdraw('acc', 500)\n->SRV:raise xmlrpclib.Fault(42, 'insufficient funds')\n"
              "<-CLI:balance('acc')\n->SRV:{'amount': 95, 'when': datetime.datetime(2024, 5, 1, 12, 0)}\n")
    rig.write("stored.mock", stored)
    proxy = xmlrpc.client.ServerProxy(rig.start(capturemock.REPLAY, CLIENT_RC, replay="stored.mock"))
    with pytest.raises(xmlrpc.client.Fault) as fault:
        proxy.withdraw("acc", 500)
    assert (fault.value.faultCode, fault.value.faultString) == (42, "insufficient funds")
    balance = proxy.balance("acc")
    assert balance["amount"] == 95 and str(balance["when"]) == "20240501T12:00:00"
    rig.stop()
    assert rig.read("rec.mock") == stored


def test_replay_refuses_code_in_the_mock(rig):
    rig.write("stored.mock", "<-CLI:f()\n->SRV:__import__('os').getcwd()\n")
    proxy = xmlrpc.client.ServerProxy(rig.start(capturemock.REPLAY, CLIENT_RC, replay="stored.mock"))
    with pytest.raises(xmlrpc.client.Fault) as fault:
        proxy.f()
    assert "stored.mock:2: refused expression" in fault.value.faultString


def test_server_as_sut_replay_keeps_a_single_struct_argument_whole(rig):
    real = real_service(rig)
    rig.write("stored.mock", "<-SRV:setServerLocation(<address>)\n->CLI:describe({'x': 1, 'y': 2})\n"
                             "<-SRV:{'keys': ['old'], 'size': 0}\n->CLI:shout('')\n"
                             "<-SRV:raise xmlrpclib.Fault(1, 'x')\n")
    proxy = xmlrpc.client.ServerProxy(rig.start(capturemock.REPLAY, "[general]\nserver_protocol = xmlrpc\n",
                                                replay="stored.mock"))
    proxy.setServerLocation(real.url)
    rig.stop()
    assert rig.read("rec.mock") == (
        "<-SRV:setServerLocation(<address>)\n->CLI:describe({'x': 1, 'y': 2})\n<-SRV:{'keys': ['x', 'y'], 'size': 2}\n"
        "->CLI:shout('')\n<-SRV:raise xmlrpclib.Fault(1, \"<class 'ValueError'>:nothing to shout\")\n")


def test_a_method_returning_none_is_answered_once_and_replays(rig):
    calls: list[str] = []

    def forget(key):
        calls.append(key)

    server = SimpleXMLRPCServer(("127.0.0.1", 0), logRequests=False, allow_none=True)
    server.register_function(forget)
    real = rig.real(server)
    url = rig.start(capturemock.RECORD, CLIENT_RC)
    proxy = xmlrpc.client.ServerProxy(url, allow_none=True)
    proxy.setServerLocation(real.url)
    assert proxy.forget("k") is None
    rig.stop()
    assert calls == ["k"]  # not retried by xmlrpc.client over a dropped connection
    assert rig.read("rec.mock") == "<-CLI:forget('k')\n->SRV:None\n"
    real.stop()
    proxy = xmlrpc.client.ServerProxy(rig.start(capturemock.REPLAY, CLIENT_RC, replay="rec.mock",
                                                record="replayed.mock"), allow_none=True)
    assert proxy.forget("k") is None
    rig.stop()
    assert rig.read("replayed.mock") == "<-CLI:forget('k')\n->SRV:None\n"


def test_unreachable_server_and_nothing_to_replay_are_faults(rig):
    proxy = xmlrpc.client.ServerProxy(rig.start(capturemock.RECORD, CLIENT_RC))
    proxy.setServerLocation("http://127.0.0.1:1")
    with pytest.raises(xmlrpc.client.Fault) as fault:
        proxy.shout("hi")
    assert fault.value.faultString == ("WARNING: Could not forward to server http://127.0.0.1:1: "
                                       "[Errno 111] Connection refused")
    mock = rig.write("stored.mock", "<-CLI:shout('hi')\n")
    proxy = xmlrpc.client.ServerProxy(rig.start(capturemock.REPLAY, CLIENT_RC, replay="stored.mock"))
    with pytest.raises(xmlrpc.client.Fault) as fault:
        proxy.shout("hi")
    assert fault.value.faultString == f"CaptureMock: no recorded response to \"shout('hi')\" in {mock}"


def test_replay_for_server_plays_xmlrpc_calls(rig):
    real = real_service(rig)
    rig.write("stored.mock", "<-CLI:shout('abc')\n->SRV:'old'\n<-CLI:describe({'k': 1})\n<-CLI:shout('')\n")
    capturemock.replay_for_server(rcFile=rig.write("rc", CLIENT_RC), replayFile=str(rig.root / "stored.mock"),
                                  recordFile=str(rig.root / "out.mock"), serverAddress=real.url)
    assert rig.read("out.mock") == (
        "<-CLI:shout('abc')\n->SRV:'ABC'\n<-CLI:describe({'k': 1})\n->SRV:{'keys': ['k'], 'size': 1}\n"
        "<-CLI:shout('')\n->SRV:raise xmlrpclib.Fault(1, \"<class 'ValueError'>:nothing to shout\")\n")


def test_shutdown_method_stops_the_server(rig):
    proxy = xmlrpc.client.ServerProxy(rig.start(capturemock.RECORD, CLIENT_RC))
    assert proxy.shutdownCaptureMockServer() == ""
    rig.manager.process.wait(timeout=10)


class CountingTransport(xmlrpc.client.Transport):
    """A ServerProxy transport that counts the TCP connections it opens."""

    def __init__(self):
        super().__init__()
        self.connects = 0

    def make_connection(self, host):
        connection = super().make_connection(host)
        if not getattr(connection, "counted", False):
            original = connection.connect

            def connect():
                self.connects += 1
                original()

            connection.connect, connection.counted = connect, True
        return connection


def kept_alive_service(rig):
    """A real XML-RPC server speaking HTTP/1.1 (persistent connections); ``accepted`` counts connections."""
    accepted: list[int] = []

    class Handler(SimpleXMLRPCRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self):
            accepted.append(1)
            super().setup()

    server = SimpleXMLRPCServer(("127.0.0.1", 0), Handler, logRequests=False)
    server.register_function(lambda text: text.upper(), "shout")
    real = rig.real(server)
    real.accepted = accepted
    return real


def test_a_client_keeps_one_connection_in_record_and_replay(rig):
    real = kept_alive_service(rig)
    transport = CountingTransport()
    proxy = xmlrpc.client.ServerProxy(rig.start(capturemock.RECORD, CLIENT_RC), transport=transport)
    proxy.setServerLocation(real.url)  # its answer closes the connection: a server as SUT is played then
    assert [proxy.shout(word) for word in ("a", "b", "c")] == ["A", "B", "C"]
    rig.stop()
    assert transport.connects == 2  # the location message's, then one for the three calls
    assert len(real.accepted) == 1  # the recording proxy kept its connection to the real server too
    recorded = rig.read("rec.mock")
    assert recorded == "<-CLI:shout('a')\n->SRV:'A'\n<-CLI:shout('b')\n->SRV:'B'\n<-CLI:shout('c')\n->SRV:'C'\n"
    real.stop()
    transport = CountingTransport()
    proxy = xmlrpc.client.ServerProxy(rig.start(capturemock.REPLAY, CLIENT_RC, replay="rec.mock",
                                                record="replayed.mock"), transport=transport)
    assert [proxy.shout(word) for word in ("a", "b", "c")] == ["A", "B", "C"]
    rig.stop()
    assert transport.connects == 1
    assert rig.read("replayed.mock") == recorded
