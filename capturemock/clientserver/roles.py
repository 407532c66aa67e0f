"""One recorded client/server mock replays whichever side is the SUT (product spec §3, a seed's wish).

A file recorded with the client as SUT reads ``<-CLI``/``->SRV`` (§4.4); one recorded with the server
as SUT starts with its location message ``<-SRV:...`` and reads ``->CLI``/``<-SRV`` (§8.2). Each replay
role wants one form: playing the server (client as SUT) looks requests up as ``<-CLI`` keys, playing
the client (server as SUT) releases batches of ``->CLI`` messages at each ``<-SRV``. The replay file is
brought into the form of the role when it is read; a file already in that form is left as it is, so it
replays exactly as before. Only ``CLI``/``SRV`` items change direction: custom-client items (``CAL``/
``RET``, §8.4) are written the same way in both roles, and are no part of a played client.
"""
from __future__ import annotations

from ..mockfile import Item

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Iterable

CLIENT, SERVER = "CLI", "SRV"
# the head of a client message written by a server-as-SUT session
SERVER_FORM_HEAD = f"->{CLIENT}:"


def in_server_form(items: Iterable[Item]) -> bool:
    return any(item.type == CLIENT and not item.from_sut for item in items)


def client_form(items: list[Item]) -> list[Item]:
    """For playing the server: ``->CLI`` becomes ``<-CLI``, the ``<-SRV`` that answers it ``->SRV``; the
    other ``<-SRV`` items (the location message, free-text synchronisation messages) go (§8.2)."""
    if not in_server_form(items):
        return items
    converted: list[Item] = []
    answering = False  # the previous item was a client message written by a server-as-SUT session
    for item in items:
        if item.type == CLIENT and not item.from_sut:
            converted.append(item._replace(prefix="<-"))
            answering = True
            continue
        if item.type == SERVER and item.from_sut:
            if answering:
                converted.append(item._replace(prefix="->"))
        else:
            converted.append(item)
        answering = False
    return converted


def server_form(items: list[Item]) -> list[Item]:
    """For playing the client: a file in client form gets a location message ahead of its first item
    (it releases the first batch), ``<-CLI`` becomes ``->CLI`` and ``->SRV`` becomes ``<-SRV``."""
    if in_server_form(items) or not any(item.type == CLIENT for item in items):
        return items
    converted = [Item("<-", SERVER, "", 0)]
    for item in items:
        if item.type == CLIENT and item.from_sut:
            converted.append(item._replace(prefix="->"))
        elif item.type == SERVER and not item.from_sut:
            converted.append(item._replace(prefix="<-"))
    return converted
