"""AMQP (RabbitMQ, ``server_protocol = amqp``, §8.7) through pika, an optional dependency imported only here.

Record: before the address ``<url>/<exchange>`` is published, a queue of this session's own is bound to
the exchange with ``#`` (so nothing the SUT publishes afterwards is missed), and every message it
receives is recorded as ``<-RMQ`` (``amqptext``), in any mode: what the SUT publishes is its output.
Messages CaptureMock published itself (header ``originfile=norecord``) are not recorded. ``exchange_type``
declares the exchange; ``exchange_forward`` binds another exchange to it, or with
``exchange_forward_prefix`` gets each message republished as ``<prefix>.<routing key>``.

Stop: the launcher closes the server's stdin (its address is the broker's, so no TCP stop message
reaches it); the server then publishes 2.10's stop message (body ``terminate``, routing key
``CaptureMock``, plus the session's token as a header) into its own queue and records until it comes
through, so whatever the SUT published before is written, however long the queue takes to drain. A
stop asked for before recording has started waits for it: the queue may hold messages already. The
same message published to the exchange with the token stops the server too; without the token it is
refused. The queue, and the exchange if this session declared it, are deleted.

Replay: recorded messages are published to the exchange (``Publisher``): by ``replay_for_server`` for
``<-RMQ`` items, and by the HTTP server for the ``->RMQ`` items of a response it replays.
"""
from __future__ import annotations

import os
import threading
from typing import Any, Callable, NamedTuple, Optional

from ..config import AMQP, RcConfig
from ..errors import CaptureMockError, ConfigError
from ..mockfile import Item
from .amqptext import (
    NO_RECORD,
    ORIGIN_HEADER,
    PROPERTIES,
    TIMESTAMP_HEADER,
    AmqpMessage,
    message_text,
    parse_message,
)
from .location import warn
from .serverlog import QuietLog
from .traffic import Transcript

STOP_KEY, STOP_BODY, TOKEN_HEADER = "CaptureMock", b"terminate", "capturemock_token"
STOP_GRACE = 2.0  # as the traffic server gives requests in flight
# how long a stop waits with no message coming through before it gives up on the queue catching up;
# clearly shorter than the launcher's kill timeout
CATCH_UP_TIMEOUT = 10.0


def import_pika() -> Any:
    """pika, also from site-packages when the server runs without them (``python -S``, for start-up time)."""
    import logging

    logging.getLogger("pika").addHandler(logging.NullHandler())  # its errors are ours to say, in one line
    try:
        import pika
    except ImportError:
        import site

        site.main()
        try:
            import pika
        except ImportError:
            raise ConfigError("server_protocol = amqp needs the pika package (pip install pika)") from None
    return pika


class AmqpSettings(NamedTuple):
    """The ``[amqp]`` section (§3.3)."""

    url: str
    exchange: str
    exchange_type: Optional[str]
    forward: Optional[str]
    forward_prefix: Optional[str]
    exchange_record: Optional[str]
    auto_delete: bool
    durable: bool

    @classmethod
    def from_config(cls, config: RcConfig) -> AmqpSettings:
        values = {name: config.setting(AMQP, name) for name in (
            "url", "exchange", "exchange_type", "exchange_forward", "exchange_forward_prefix", "exchange_record",
            "auto_delete", "durable")}
        for needed in ("url", "exchange"):
            if not values[needed]:
                raise ConfigError(f"server_protocol = amqp needs [amqp] {needed}", ",".join(config.files) or None)
        return cls(values["url"], values["exchange"], values["exchange_type"], values["exchange_forward"],
                   values["exchange_forward_prefix"], values["exchange_record"], values["auto_delete"],
                   values["durable"])

    @property
    def address(self) -> str:
        """``CAPTUREMOCK_SERVER`` (§8.1)."""
        return f"{self.url}/{self.exchange}"


def _connect(settings: AmqpSettings, pika: Any) -> Any:
    try:
        return pika.BlockingConnection(pika.URLParameters(settings.url))
    except (pika.exceptions.AMQPError, OSError, ValueError) as err:
        raise ConfigError(f"Failed to connect to RabbitMQ at {settings.url}: {_reason(err)}") from None


def _reason(err: Exception) -> str:
    return str(err) or type(err).__name__


def _declare(channel: Any, settings: AmqpSettings) -> None:
    if settings.exchange_type:
        channel.exchange_declare(settings.exchange, settings.exchange_type, durable=settings.durable,
                                 auto_delete=settings.auto_delete)


class Recorder:
    """The session's queue on the broker and the thread that records from it (see the module docstring).

    A stop may be asked for at any time once the address is out, even before recording has started (a
    quick SUT, a loaded machine): it is held until then, since the queue may hold messages already."""

    def __init__(self, settings: AmqpSettings, token: str, stop_server: Callable[[], None]):
        self.pika = import_pika()
        self.settings = settings
        self.token = token
        self._stop_server = stop_server
        self.connection = _connect(settings, self.pika)
        self.channel = self.connection.channel()
        self.queue = f"{settings.exchange}.capturemock.{os.getpid()}"
        try:
            _declare(self.channel, settings)
            if settings.forward and not settings.forward_prefix:
                self.channel.exchange_bind(settings.forward, settings.exchange, "#")
            self.channel.queue_declare(self.queue, exclusive=True, auto_delete=True)
            self.channel.queue_bind(self.queue, settings.exchange, "#")
        except self.pika.exceptions.AMQPError as err:
            self._close()
            raise ConfigError(f"RabbitMQ at {settings.url} refused the recording queue: {_reason(err)}") from None
        self._thread: Optional[threading.Thread] = None
        self._state = threading.Lock()  # guards the three flags below, between the recording thread and a stop
        self._stop_wanted = False
        self._started = False
        self._ended = False
        self._delivered = 0  # how many messages came through: a catch-up waits while this grows

    def start(self, on_message: Callable[[AmqpMessage], None], on_stop: Callable[[], None]) -> None:
        """Record in a thread of its own (pika's connection is used by that thread only): ``on_message``
        for each message, ``on_stop`` when the stop message with the token comes through."""
        def deliver(channel, method, properties, body: bytes) -> None:
            self._delivered += 1
            headers = dict(properties.headers or {})
            if body == STOP_BODY and method.routing_key in (STOP_KEY, self.queue):
                if headers.get(TOKEN_HEADER) == self.token:
                    on_stop()
                    self._want_stop()
                    channel.stop_consuming()
                else:
                    warn("CaptureMock server: refused to stop without this session's CAPTUREMOCK_TOKEN")
            elif headers.get(ORIGIN_HEADER) != NO_RECORD:
                values = {name: getattr(properties, name) for name in PROPERTIES}
                on_message(AmqpMessage(method.routing_key, values, body, headers))
                self._forward(method.routing_key, body, properties)
            channel.basic_ack(method.delivery_tag)

        self.channel.basic_consume(self.queue, deliver)
        self._thread = threading.Thread(target=self._consume, daemon=True)
        with self._state:
            self._started = True
            if self._stop_wanted:  # asked for before we got here
                self._threadsafe(self._catch_up)
        self._thread.start()

    def request_stop(self) -> None:
        """The server's ``stop`` (any thread, any time): put the stop message at the end of the queue; the
        server stops when it comes through, so all published before it is recorded. At once when nothing
        records any more."""
        with self._state:
            if self._stop_wanted:
                return
            self._stop_wanted = True
            if not self._started:
                return  # ``start`` catches up
            if not self._ended and self._threadsafe(self._catch_up):
                return
        self._stop_server()

    def _want_stop(self) -> None:
        with self._state:
            self._stop_wanted = True

    def _catch_up(self) -> None:
        """In the recording thread: publish the stop message into our queue, and watch that it comes."""
        properties = self.pika.BasicProperties(headers={TOKEN_HEADER: self.token})
        self.channel.basic_publish("", self.queue, STOP_BODY, properties)
        self._watch_progress(self._delivered)

    def _watch_progress(self, delivered: int) -> None:
        """Give up on the catch-up only when nothing came through for CATCH_UP_TIMEOUT (a stalled or
        blocked broker): a queue that is still draining, however long, is waited for. Giving up stops the
        server straight away: talking to a blocked broker (even to stop consuming) could hang."""
        def check() -> None:
            if self._delivered > delivered:
                self._watch_progress(self._delivered)
            else:
                warn(f"CaptureMock server: no message came through from RabbitMQ at {self.settings.url} in "
                     f"{CATCH_UP_TIMEOUT:.0f} s after the stop: stopped with what was recorded")
                self._stop_server()

        self.connection.call_later(CATCH_UP_TIMEOUT, check)

    def _forward(self, routing_key: str, body: bytes, properties: Any) -> None:
        if self.settings.forward and self.settings.forward_prefix:
            self.channel.basic_publish(self.settings.forward, f"{self.settings.forward_prefix}.{routing_key}", body,
                                       properties)

    def _consume(self) -> None:
        try:
            self.channel.start_consuming()
            self.channel.queue_delete(self.queue)
            if self.settings.exchange_type:
                self.channel.exchange_delete(self.settings.exchange)
        except self.pika.exceptions.AMQPError as err:
            warn(f"CaptureMock server: lost the connection to RabbitMQ at {self.settings.url}: {_reason(err)}")
        finally:
            self._close()
            with self._state:
                self._ended = True
                stop = self._stop_wanted
            if stop:  # nothing more can come through
                self._stop_server()

    def finish(self) -> None:
        """Stop recording, delete the queue (and the exchange if declared here), close the connection."""
        if self._thread is None:
            self._close()
            return
        self._threadsafe(self.channel.stop_consuming)
        self._thread.join(STOP_GRACE)

    def _threadsafe(self, call: Callable[[], None]) -> bool:
        """Run ``call`` in the recording thread; False if the connection is gone (that thread has said so)."""
        try:
            self.connection.add_callback_threadsafe(call)
            return True
        except self.pika.exceptions.AMQPError:
            return False

    def _close(self) -> None:
        try:
            self.connection.close()
        except self.pika.exceptions.AMQPError:
            pass


class AmqpSession:
    """The server session: records what the Recorder receives, in arrival order."""

    def __init__(self, transcript: Transcript, settings: AmqpSettings, log: QuietLog):
        self.transcript = transcript
        self.settings = settings
        self.log = log
        self.recorder: Optional[Recorder] = None

    def serve(self, server) -> None:
        """Record from ``server.broker`` (bound, and made the server's ``stop``, in ``listen``) beside the TCP loop."""
        self.recorder = server.broker
        self.recorder.start(lambda message: self._record(server.order, message), server.told_to_stop)

    def _record(self, order, message: AmqpMessage) -> None:
        text = message_text(message, self.settings.exchange_record)
        self.log.received(text)
        stamp = message.headers.get(TIMESTAMP_HEADER)
        ticket = order.ticket()
        order.record(ticket, self.transcript.client(text, "RMQ", None if stamp is None else str(stamp)))
        order.finish(ticket)

    def finish(self) -> None:
        if self.recorder is not None:
            self.recorder.finish()

    @staticmethod
    def client_message(conn, record: Callable[[str], None]) -> None:
        """A classic TCP message to an AMQP session is not traffic: said once per message, and dropped."""
        conn.drain()
        warn("CaptureMock server: server_protocol = amqp records messages from the broker; a TCP message was ignored")


class Publisher:
    """Publishes recorded messages to the exchange, on one connection (a context manager)."""

    def __init__(self, settings: AmqpSettings):
        self.pika = import_pika()
        self.settings = settings
        self.connection = _connect(settings, self.pika)
        try:
            self.channel = self.connection.channel()
            _declare(self.channel, settings)
        except self.pika.exceptions.AMQPError as err:
            self.close()
            raise ConfigError(f"RabbitMQ at {settings.url} refused the exchange {settings.exchange}: "
                              f"{_reason(err)}") from None

    def publish(self, message: AmqpMessage, origin: Optional[str] = None) -> None:
        headers = dict(message.headers, **({ORIGIN_HEADER: origin} if origin else {}))
        properties = self.pika.BasicProperties(**message.properties, headers=headers)
        try:
            self.channel.basic_publish(self.settings.exchange, message.routing_key, message.body, properties)
        except self.pika.exceptions.AMQPError as err:
            raise CaptureMockError(f"Failed to publish to RabbitMQ at {self.settings.url}: {_reason(err)}") from None

    def close(self) -> None:
        try:
            self.connection.close()
        except self.pika.exceptions.AMQPError:
            pass

    def __enter__(self) -> Publisher:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def publish_items(config: RcConfig, items: list[Item], path: Optional[str], origin: Optional[str] = None) -> None:
    """Publish the messages of ``items`` in order; all are parsed first, so a malformed one publishes nothing."""
    settings = AmqpSettings.from_config(config)
    messages = [parse_message(item.text, settings.exchange_record, path, item.line) for item in items]
    if messages:
        with Publisher(settings) as publisher:
            for message in messages:
                publisher.publish(message, origin)


def publish_response_messages(config: RcConfig, items: list[Item], path: Optional[str]) -> None:
    """The ``->RMQ`` items of a replayed HTTP response (§8.7), marked never to be recorded; a failure is
    one stderr line, and the HTTP response is served all the same."""
    try:
        publish_items(config, items, path, NO_RECORD)
    except CaptureMockError as err:
        warn(f"CaptureMock: the ->RMQ messages of a replayed response were not published: {err}")
