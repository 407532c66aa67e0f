"""``server_protocol = amqp`` (§8.7) against a real RabbitMQ broker of the tests' own (loopback, private
node, port and directories), with pika as the SUT's client. The recorded texts are 2.10's, byte for byte
(taken from running 2.10 against such a broker). All AMQP tests live here: the broker starts once."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest

import capturemock
from capturemock.clientserver.amqp import AmqpSettings, Recorder
from capturemock.clientserver.amqptext import AmqpMessage, message_text, parse_message
from capturemock.errors import ConfigError, MockFileError

pika = pytest.importorskip("pika", reason="pika is the AMQP client (pip install -e .[test])")
# the broker itself: /usr/sbin/rabbitmq-server would switch to the rabbitmq user, who cannot write our tmp dirs
BROKER = "/usr/lib/rabbitmq/bin/rabbitmq-server"
WAIT = 30.0  # at most, for messages a test expects (they come in well under a second)
# a broker that has not said it is ready in this long is stuck, not slow (a healthy one takes about 6 s,
# 20 s on a loaded machine)
BROKER_START_LIMIT = 180.0
READY_LINE = "Starting broker... completed"


def free_ports(count: int) -> list[int]:
    """``count`` distinct free ports (all held at once while chosen)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def free_port() -> int:
    return free_ports(1)[0]


class BrokerOutput:
    """Reads the broker's stdout to its end (so the broker never blocks on it) and says when the broker
    has printed that it is ready, or has exited."""

    def __init__(self, process: subprocess.Popen):
        self.lines: list[str] = []
        self.ready = False
        self.decided = threading.Event()
        threading.Thread(target=self._read, args=(process.stdout,), daemon=True).start()

    def _read(self, stdout) -> None:
        for line in stdout:
            self.lines.append(line.rstrip())
            if READY_LINE in line:
                self.ready = True
                self.decided.set()
        self.decided.set()  # the broker exited


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    """A RabbitMQ node for this module: its URL (with %% for rc files: ``rc_url``), once it says it is ready."""
    if not os.path.exists(BROKER):
        pytest.skip("rabbitmq-server is not installed (.ci/run installs it)")
    root = tmp_path_factory.mktemp("rabbitmq")
    port, dist_port = free_ports(2)
    (root / "enabled_plugins").write_text("[].\n")  # no management plugin
    (root / "mnesia").mkdir()
    (root / "log").mkdir()
    env = dict(os.environ, HOME=str(root), RABBITMQ_NODENAME=f"capturemock{os.getpid()}@localhost",
               RABBITMQ_NODE_PORT=str(port), RABBITMQ_NODE_IP_ADDRESS="127.0.0.1",
               RABBITMQ_DIST_PORT=str(dist_port), ERL_EPMD_ADDRESS="127.0.0.1",
               RABBITMQ_MNESIA_BASE=str(root / "mnesia"), RABBITMQ_LOG_BASE=str(root / "log"),
               RABBITMQ_ENABLED_PLUGINS_FILE=str(root / "enabled_plugins"),
               RABBITMQ_CONFIG_FILE=str(root / "rabbitmq"), RABBITMQ_ADVANCED_CONFIG_FILE=str(root / "advanced.config"),
               ERL_CRASH_DUMP=str(root / "erl_crash.dump"))
    process = subprocess.Popen([BROKER], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               errors="replace", start_new_session=True)
    url = f"amqp://guest:guest@127.0.0.1:{port}/%2F"
    try:
        output = BrokerOutput(process)
        output.decided.wait(BROKER_START_LIMIT)
        if not output.ready:
            last = "\n".join(output.lines[-15:])
            pytest.fail(f"the test broker did not start (exit status {process.poll()}); it said:\n{last}")
        pika.BlockingConnection(pika.URLParameters(url)).close()  # ready means accepting: no retries
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(WAIT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def rc_text(url: str, exchange: str, extra: str = "", general: str = "") -> str:
    return (f"[general]\nserver_protocol = amqp\n{general}\n[amqp]\nurl = {url.replace('%', '%%')}\n"
            f"exchange = {exchange}\nexchange_type = topic\n{extra}")


class Consumer:
    """A real consumer: a queue of its own bound to ``exchange`` with ``#``."""

    def __init__(self, url: str, exchange: str):
        self.connection = pika.BlockingConnection(pika.URLParameters(url))
        self.channel = self.connection.channel()
        self.channel.exchange_declare(exchange, "topic", durable=True, auto_delete=True)
        self.queue = self.channel.queue_declare("", exclusive=True).method.queue
        self.channel.queue_bind(self.queue, exchange, "#")

    def take(self, count: int) -> list[tuple[str, object, bytes]]:
        """The next ``count`` messages (routing key, properties, body), waiting at most WAIT for them."""
        received = []
        for method, properties, body in self.channel.consume(self.queue, auto_ack=True, inactivity_timeout=WAIT):
            assert method is not None, f"only {len(received)} of {count} messages arrived"
            received.append((method.routing_key, properties, body))
            if len(received) == count:
                break
        self.channel.cancel()
        return received

    def close(self) -> None:
        self.connection.close()


def publish(url: str, exchange: str, messages: list[tuple[str, bytes, dict]]) -> None:
    """The SUT: publishes with pika, as a real producer does."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    for key, body, properties in messages:
        channel.basic_publish(exchange, key, body, pika.BasicProperties(**properties))
    connection.close()


SUT_MESSAGES = [
    ("orders.created", b'{"id": 17}', {}),
    ("orders.props", b"hello\nworld", {"content_type": "application/json", "correlation_id": "abc", "delivery_mode": 1,
                                       "priority": 3, "headers": {"b": "2", "a": "1", "originfile": "zz"}}),
    ("", b"empty key", {"content_type": "text/plain", "headers": {"k": "v"}}),
    ("not.recorded", b"published by CaptureMock", {"headers": {"originfile": "norecord"}}),
    ("withts", b"ts", {"content_type": "text/plain", "timestamp": 1700000000, "message_id": "m1", "reply_to": "rq",
                       "expiration": "60000", "type": "tt", "user_id": "guest", "app_id": "app",
                       "content_encoding": "utf-8", "headers": {"timestamp": "2024-01-02T03:04:05.000001"}}),
    ("bin", b"\xff\xfe\x00", {"delivery_mode": 2, "priority": 0, "headers": {"x": "y"}}),
]
# what 2.10 records for SUT_MESSAGES (with exchange_record = EMPTYKEY)
RECORDED_BY_2_10 = """\
<-RMQ:orders.created : delivery_mode=None,priority=None
{"id": 17}
<-RMQ:orders.props : content_type=application/json,correlation_id=abc,delivery_mode=1,priority=3
hello
world
--HEA:a=1
--HEA:b=2
--HEA:originfile=zz
<-RMQ:exchange=EMPTYKEY : content_type=text/plain,delivery_mode=None,priority=None
empty key
--HEA:k=v
<-RMQ:withts : app_id=app,content_encoding=utf-8,content_type=text/plain,delivery_mode=None,expiration=60000,\
message_id=m1,priority=None,reply_to=rq,type=tt,user_id=guest
ts
<-RMQ:bin :\x20
0xfffe00
--HEA:x=y
"""


def test_record_writes_what_the_sut_publishes_as_2_10(rig, broker):
    address = rig.start(capturemock.RECORD, rc_text(broker, "rec1", "exchange_record = EMPTYKEY\n"))
    assert address == f"{broker}/rec1"
    publish(broker, "rec1", SUT_MESSAGES)
    rig.stop()
    assert rig.read("rec.mock") == RECORDED_BY_2_10


def test_recorded_timestamps_are_the_messages_own_when_they_carry_one(rig, broker):
    rig.start(capturemock.RECORD, rc_text(broker, "rec2", general="record_timestamps = true\n"))
    publish(broker, "rec2", [("a", b"1", {"headers": {"timestamp": "2024-01-02T03:04:05.000001"}}), ("b", b"2", {})])
    rig.stop()
    lines = rig.read("rec.mock").splitlines()
    assert lines[:3] == ["<-RMQ:a : delivery_mode=None,priority=None", "1", "--TIM:2024-01-02T03:04:05.000001"]
    assert lines[3:5] == ["<-RMQ:b : delivery_mode=None,priority=None", "2"]
    assert lines[5].startswith("--TIM:20") and len(lines) == 6


def test_replay_mode_records_what_the_sut_publishes_too(rig, broker):
    rig.write("old.mock", "<-RMQ:x : \nold\n")
    rig.start(capturemock.REPLAY, rc_text(broker, "rec3"), replay="old.mock")
    publish(broker, "rec3", [("x", b"new", {"delivery_mode": 2, "priority": 0})])
    rig.stop()
    assert rig.read("rec.mock") == "<-RMQ:x : \nnew\n"


def test_report_unused_does_not_list_the_rmq_items_of_an_amqp_session(rig, broker, capfd):
    """They are the SUT's output, recorded anew, not requests replay answers: only the <-CLI item is unused."""
    rig.write("old.mock", "<-RMQ:x : \nold\n<-CLI:never sent\n->SRV:answer\n<-RMQ:y : \nother\n")
    rig.start(capturemock.REPLAY, rc_text(broker, "unused1", general="report_unused = true\n"), replay="old.mock")
    publish(broker, "unused1", [("x", b"new", {})])
    assert rig.manager.terminate()
    assert capfd.readouterr().err == ("Error from CaptureMock Server :\n"
                                      f"capturemock: unused: {rig.root / 'old.mock'}:3: <-CLI:never sent was recorded "
                                      "but never replayed\n")


def test_a_stop_message_without_the_session_token_is_refused_and_not_recorded(rig, broker):
    rig.start(capturemock.RECORD, rc_text(broker, "rec4"))
    publish(broker, "rec4", [("CaptureMock", b"terminate", {}), ("after", b"still recording", {})])
    assert rig.manager.terminate()
    assert rig.read("rec.mock") == "<-RMQ:after : delivery_mode=None,priority=None\nstill recording\n"


def test_every_message_published_just_before_the_stop_is_recorded(rig, broker):
    rig.start(capturemock.RECORD, rc_text(broker, "many"))
    publish(broker, "many", [(f"m.{index}", str(index).encode(), {}) for index in range(2000)])
    assert rig.manager.terminate()
    assert rig.read("rec.mock") == "".join(
        f"<-RMQ:m.{index} : delivery_mode=None,priority=None\n{index}\n" for index in range(2000))


def test_a_stop_asked_for_before_recording_starts_waits_for_the_queue_to_catch_up(broker):
    """The launcher may stop the server while it is still starting (a quick SUT, a loaded machine): the
    messages already in the queue are recorded all the same, and only then does the server stop."""
    stopped = threading.Event()
    settings = AmqpSettings(broker, "early", "topic", None, None, None, True, True)
    recorder = Recorder(settings, "token", stopped.set)
    publish(broker, "early", [(f"m.{index}", b"x", {}) for index in range(100)])
    recorder.request_stop()
    assert not stopped.is_set()
    received = []
    recorder.start(lambda message: received.append(message.routing_key), lambda: None)
    try:
        assert stopped.wait(WAIT)
    finally:
        recorder.finish()
    assert received == [f"m.{index}" for index in range(100)]


def test_exchange_forward_binds_the_forward_exchange_so_its_consumers_still_get_every_message(rig, broker):
    """While CaptureMock records ``exchange``, the consumers behind ``exchange_forward`` still get what the SUT
    publishes, with its routing keys: the broker passes it on (a binding with ``#``)."""
    downstream = Consumer(broker, "fwd-bound")
    try:
        rig.start(capturemock.RECORD, rc_text(broker, "rec-fwd1", "exchange_forward = fwd-bound\n"))
        publish(broker, "rec-fwd1", [("orders.created", b"1", {}), ("orders.paid", b"2", {})])
        received = downstream.take(2)
    finally:
        downstream.close()
    rig.stop()
    assert [(key, body) for key, _, body in received] == [("orders.created", b"1"), ("orders.paid", b"2")]
    assert rig.read("rec.mock") == ("<-RMQ:orders.created : delivery_mode=None,priority=None\n1\n"
                                    "<-RMQ:orders.paid : delivery_mode=None,priority=None\n2\n")


def test_exchange_forward_prefix_republishes_each_recorded_message_under_the_prefix(rig, broker):
    """With ``exchange_forward_prefix`` no binding: CaptureMock publishes a copy of each message it records,
    properties and headers kept, to ``exchange_forward`` as ``<prefix>.<routing key>``."""
    downstream = Consumer(broker, "fwd-prefixed")
    try:
        rig.start(capturemock.RECORD, rc_text(broker, "rec-fwd2", "exchange_forward = fwd-prefixed\n"
                                                                   "exchange_forward_prefix = copy\n"))
        publish(broker, "rec-fwd2", [("orders.created", b"1", {"content_type": "text/plain", "headers": {"a": "1"}}),
                                     ("orders.paid", b"2", {})])
        received = downstream.take(2)
    finally:
        downstream.close()
    rig.stop()
    assert [(key, body) for key, _, body in received] == [("copy.orders.created", b"1"), ("copy.orders.paid", b"2")]
    assert (received[0][1].content_type, received[0][1].headers) == ("text/plain", {"a": "1"})
    assert rig.read("rec.mock") == ("<-RMQ:orders.created : content_type=text/plain,delivery_mode=None,priority=None\n"
                                    "1\n--HEA:a=1\n<-RMQ:orders.paid : delivery_mode=None,priority=None\n2\n")


def test_a_forward_exchange_that_does_not_exist_is_one_line_at_start_up(rig, broker):
    with pytest.raises(capturemock.CaptureMockError) as refused:
        rig.start(capturemock.RECORD, rc_text(broker, "rec-fwd3", "exchange_forward = nowhere\n"))
    message = str(refused.value)
    assert message.startswith(f"the CaptureMock server did not start: RabbitMQ at {broker} refused the "
                              "recording queue: ")
    assert "nowhere" in message and "\n" not in message and "Traceback" not in message


def test_replay_for_server_publishes_the_recorded_messages(rig, broker):
    rc = rig.write("rc", rc_text(broker, "play1", "exchange_record = EMPTYKEY\n"))
    mock = rig.write("play.mock", RECORDED_BY_2_10.replace("<-RMQ:bin : \n", "<-RMQ:bin :\n")
                     + "<-CLI:not amqp\n<-RMQ:last : content_type=text/plain\nwith time\n--TIM:2024-01-02T03:04:05\n")
    consumer = Consumer(broker, "play1")
    try:
        capturemock.replay_for_server(rcFile=rc, replayFile=mock, recordFile=str(rig.root / "out.mock"))
        received = consumer.take(6)
    finally:
        consumer.close()
    assert [(key, body) for key, _, body in received] == [
        ("orders.created", b'{"id": 17}'), ("orders.props", b"hello\nworld"), ("", b"empty key"), ("withts", b"ts"),
        ("bin", b"\xff\xfe\x00"), ("last", b"with time")]
    props = received[1][1]
    assert (props.content_type, props.correlation_id, props.delivery_mode, props.priority, props.headers) == (
        "application/json", "abc", 1, 3, {"a": "1", "b": "2", "originfile": "zz"})
    assert (received[0][1].delivery_mode, received[0][1].priority) == (None, None)  # published as recorded
    assert (received[4][1].delivery_mode, received[4][1].priority) == (2, 0)
    assert received[3][1].message_id == "m1" and received[3][1].expiration == "60000"
    assert not rig.exists("out.mock")  # nothing answers a published message: nothing is recorded


def test_a_replayed_http_response_publishes_its_rmq_items(rig, broker):
    rc = rc_text(broker, "http1").replace("server_protocol = amqp", "server_protocol = http\nrecord_for_client = true")
    rig.write("http.mock", "<-CLI:GET /orders/17\n->SRV:200 shipped\n"
                           "->RMQ:orders.shipped : content_type=text/plain\norder 17\n--HEA:a=1\n")
    address = rig.start(capturemock.REPLAY, rc, replay="http.mock")
    consumer = Consumer(broker, "http1")
    try:
        with urllib.request.urlopen(f"{address}/orders/17", timeout=WAIT) as response:
            assert response.read() == b"shipped"
        [(key, props, body)] = consumer.take(1)
    finally:
        consumer.close()
    assert (key, body, props.content_type) == ("orders.shipped", b"order 17", "text/plain")
    assert props.headers == {"a": "1", "originfile": "norecord"}  # an AMQP recording leaves it out


def test_broker_down_is_one_line_and_the_sut_does_not_run(rig):
    url = f"amqp://guest:guest@127.0.0.1:{free_port()}/"
    with pytest.raises(capturemock.CaptureMockError) as refused:
        rig.start(capturemock.RECORD, rc_text(url, "down"))
    message = str(refused.value)
    assert message.startswith(f"the CaptureMock server did not start: Failed to connect to RabbitMQ at {url}: ")
    assert "\n" not in message and "Traceback" not in message


def test_missing_exchange_is_refused_at_start_up_naming_the_rc_file(rig):
    with pytest.raises(capturemock.CaptureMockError) as refused:
        rig.start(capturemock.RECORD, "[general]\nserver_protocol = amqp\n[amqp]\nurl = amqp://127.0.0.1/\n")
    assert str(refused.value) == (f"the CaptureMock server did not start: {rig.root / 'capturemockrc'}: "
                                  "server_protocol = amqp needs [amqp] exchange")


def test_a_malformed_item_is_reported_by_file_and_line_and_nothing_is_published(tmp_path):
    rc = tmp_path / "rc"
    rc.write_text(rc_text("amqp://127.0.0.1:1/", "bad"))
    mock = tmp_path / "bad.mock"
    mock.write_text("<-RMQ:fine : \nbody\n<-RMQ:broken : colour=blue\nbody\n")
    with pytest.raises(MockFileError) as refused:  # before connecting: the broker here does not exist
        capturemock.replay_for_server(rcFile=str(rc), replayFile=str(mock))
    assert str(refused.value) == (f"{mock}:3: unknown AMQP property 'colour=blue' (known: app_id, cluster_id, "
                                  "content_encoding, content_type, correlation_id, delivery_mode, expiration, "
                                  "message_id, priority, reply_to, type, user_id)")


@pytest.mark.parametrize("message", [
    AmqpMessage("k", {"delivery_mode": 2, "priority": 0}, b"no properties at all", {}),
    AmqpMessage("", {"content_type": "a,b", "correlation_id": "x", "delivery_mode": 2, "priority": 0}, b"", {"h": "1"}),
    AmqpMessage("k.l", {"delivery_mode": None, "priority": None}, b"two\nlines\r\n", {}),
])
def test_every_recorded_message_reads_back_as_it_was(message):
    assert parse_message(message_text(message, "EMPTY"), "EMPTY") == message


def test_without_pika_the_server_says_what_is_missing(monkeypatch):
    from capturemock.clientserver.amqp import import_pika

    monkeypatch.setitem(sys.modules, "pika", None)
    with pytest.raises(ConfigError) as refused:
        import_pika()
    assert str(refused.value) == "server_protocol = amqp needs the pika package (pip install pika)"


def test_pika_is_not_imported_by_the_other_protocols():
    code = ("import sys, capturemock, capturemock.server, capturemock.clientserver.httpproxy, "
            "capturemock.clientserver.rig; print('pika' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=dict(os.environ, PYTHONPATH=str(Path(capturemock.__file__).parent.parent)))
    assert result.stdout == "False\n", result.stderr
