"""The text of an AMQP message in a mock file (§4.4, §8.7), both ways, without pika.

    <-RMQ:<routing key> : <property>=<value>,...
    <body>
    --HEA:<header>=<value>

Properties are pika's, sorted, listed when they differ from 2.10's defaults (``delivery_mode=2``,
``priority=0``; so a message published without them says ``delivery_mode=None,priority=None``, as
2.10 records it). ``timestamp`` and ``headers`` are not properties here: headers are the ``--HEA:``
lines (sorted) and a ``timestamp`` header is the item's ``--TIM:`` when timestamps are recorded. A
message with no listed property reads back too (2.10 cannot parse ``key : `` back), and so does one
recorded with an empty routing key (written ``exchange=<exchange_record>`` when that is set).
"""
from __future__ import annotations

import re
from typing import NamedTuple, Optional

from ..errors import MockFileError
from .httptext import body_bytes, body_text

PROPERTIES = ("app_id", "cluster_id", "content_encoding", "content_type", "correlation_id", "delivery_mode",
              "expiration", "message_id", "priority", "reply_to", "type", "user_id")
DEFAULTS = {"delivery_mode": 2, "priority": 0}
NUMBERS = frozenset(DEFAULTS)
HEADER, TIME = "--HEA:", "--TIM:"
TIMESTAMP_HEADER = "timestamp"  # its value is the recorded time (--TIM:), not a --HEA: line
ORIGIN_HEADER, NO_RECORD = "originfile", "norecord"  # published by CaptureMock itself: never recorded
_FIRST_LINE = re.compile(r"(?P<key>.*?) :(?: (?P<properties>.*))?")
_PROPERTY_START = re.compile(",(?=(?:" + "|".join(PROPERTIES) + ")=)")


class AmqpMessage(NamedTuple):
    routing_key: str
    properties: dict[str, object]  # pika's; one not given is None (published without it)
    body: bytes
    headers: dict[str, str]


def empty_key_text(exchange_record: Optional[str]) -> str:
    """How an empty routing key is written (§3.3 ``exchange_record``)."""
    return f"exchange={exchange_record}" if exchange_record else ""


def header_value(value: object) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def message_text(message: AmqpMessage, exchange_record: Optional[str] = None) -> str:
    """The recorded text (without ``--TIM:``): the properties that differ from 2.10's defaults."""
    key = message.routing_key or empty_key_text(exchange_record)
    listed = ",".join(f"{name}={message.properties.get(name)}" for name in PROPERTIES
                      if message.properties.get(name) != DEFAULTS.get(name))
    headers = "".join(f"\n{HEADER}{name}={header_value(value)}" for name, value in sorted(message.headers.items())
                      if name != TIMESTAMP_HEADER)
    return f"{key} : {listed}\n{body_text(message.body, keep_cr=True)}{headers}"


def parse_message(text: str, exchange_record: Optional[str] = None, path: Optional[str] = None,
                  line: int = 0) -> AmqpMessage:
    """A recorded ``<-RMQ``/``->RMQ`` text as the message to publish; MockFileError naming path:line."""
    first, _, rest = text.partition("\n")
    match = _FIRST_LINE.fullmatch(first)
    if match is None:
        raise MockFileError(f"an AMQP message must start '<routing key> : <properties>', not {first!r}", path, line)
    key = match["key"]
    if key and key == empty_key_text(exchange_record):
        key = ""
    properties = _properties(match["properties"] or "", path, line)
    lines = rest.split("\n") if rest else []
    trailer = len(lines)
    while trailer > 0 and lines[trailer - 1].startswith((HEADER, TIME)):
        trailer -= 1
    headers = {}
    for header in lines[trailer:]:
        if header.startswith(HEADER):
            name, equals, value = header[len(HEADER):].partition("=")
            if not equals:
                raise MockFileError(f"an AMQP header line must be '{HEADER}<name>=<value>', not {header!r}", path, line)
            headers[name] = value
    return AmqpMessage(key, properties, body_bytes("\n".join(lines[:trailer])), headers)


def _properties(text: str, path: Optional[str], line: int) -> dict[str, object]:
    """The listed properties, and the defaults of those not listed."""
    properties: dict[str, object] = dict(DEFAULTS)
    for part in _PROPERTY_START.split(text.strip()) if text.strip() else ():
        name, equals, value = part.partition("=")
        if not equals or name not in PROPERTIES:
            raise MockFileError(f"unknown AMQP property {part!r} (known: {', '.join(PROPERTIES)})", path, line)
        properties[name] = _value(name, value, path, line)
    return properties


def _value(name: str, value: str, path: Optional[str], line: int) -> object:
    if value == "None":
        return None
    if name not in NUMBERS:
        return value
    try:
        return int(value)
    except ValueError:
        raise MockFileError(f"AMQP property {name} must be a number or None, not {value!r}", path, line) from None
