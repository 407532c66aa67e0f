"""Builds the client/server handlers of one traffic-server session from the mode, rc config and options.

The traffic server asks for ``traffic_handlers``: a fallback for connections no prefix claims (the
protocol's own traffic) and the prefixed handlers of the protocol (§8.1: ``SUT_CUSTOM:``,
``SUT_SERVER:``, otherwise a client message).
"""
from __future__ import annotations

import os
from collections import namedtuple

from ..alterations import Alterations
from ..config import RcConfig
from ..modes import RECORD, REPLAY
from .serverlog import for_session
from .settings import Settings
from .traffic import Transcript

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable, Optional

LOCATION = b"SUT_SERVER:"  # every protocol takes the launcher's location message this way too (§8.2)


class TrafficHandlers(namedtuple("TrafficHandlers", ("fallback", "prefixed", "report", "log", "serve_beside",
                                                     "finish", "first_wait", "greeting"),
                                 defaults=(None, lambda: None, None, b""))):
    """What the traffic server needs of a client/server session (``collections.namedtuple``, not
    ``typing``'s: no ``typing`` on the ``capturemock`` command's path).

    ``fallback(connection)``: connections no prefix claims, the protocol's own traffic; ``prefixed``:
    ``[(prefix bytes, handler)]``; ``report()``: the end-of-replay lines (on_best_match = warn,
    report_unused); ``log``: the ``Server`` debug log (a ``QuietLog``); ``serve_beside(server)``: the
    protocol's own loop beside the TCP one (classic_udp's datagrams, amqp's queue); ``finish()``: after
    serving (amqp lets go of the broker); ``first_wait``: tcp_header's seconds of client silence that
    mean it has connected (``connect``); ``greeting``: bytes every connection is sent first (a protocol
    whose server speaks first).
    """

    __slots__ = ()


def replay_path(mode: int, options: dict[str, str]) -> Optional[str]:
    """The replay file, if this session replays: client/server traffic cannot be mixed, so any mode but
    record replays when a file exists (§5.2); without one, mixed mode simply records (§2.4)."""
    path = options.get("replay")
    return path if mode != RECORD and path and os.path.isfile(path) else None


def traffic_handlers(mode: int, config: RcConfig, options: dict[str, str], address: str,
                     stop: Callable[[], None] = lambda: None, token: Optional[str] = None) -> TrafficHandlers:
    """``stop``: what a protocol's own stop request does (HTTP ``shutdownServer``, XML-RPC
    ``shutdownCaptureMockServer``), as the launcher's stop message. ``token``: the session's (default:
    ``CAPTUREMOCK_TOKEN``, which a launcher gives its server)."""
    from ..replaypolicy import sealed

    token = token if token is not None else os.environ.get("CAPTUREMOCK_TOKEN")
    settings = Settings(config)
    transcript = Transcript(settings, Alterations(config, server_address=address))
    path = replay_path(mode, options)
    replay = None
    if path:
        from .replayfiles import ReplayFiles

        replay = ReplayFiles(path, settings)
    seal = None
    if mode == REPLAY and sealed(config):
        from .sealing import Seal

        seal = Seal(path)
    log = for_session(settings.protocol, replay is not None)

    def report() -> list[str]:
        return replay.report(transcript.server_is_sut) if replay is not None else []

    if settings.protocol == "http":
        from .httpproxy import HttpSession

        session = HttpSession(settings, config, transcript, replay, token=token, seal=seal, log=log, stop=stop,
                              record_edits=options.get("record-file-edits"),
                              replay_edits=options.get("replay-file-edits"))
        return TrafficHandlers(session, [(LOCATION, session.location_message)], report, log)
    if settings.protocol == "xmlrpc":
        from .xmlrpc import XmlRpcSession

        session = XmlRpcSession(transcript, replay, token=token, seal=seal, log=log, stop=stop)
        return TrafficHandlers(session, [(LOCATION, session.location_message)], report, log)
    if settings.protocol == "tcp_header":
        from .binarypeers import STATUS, SYNCH
        from .tcpheader import TcpHeaderSession

        session = TcpHeaderSession(transcript, replay, seal=seal, log=log, config=config)
        prefixed = [(LOCATION, session.location_message), (SYNCH, session.synch_message),
                    (STATUS, session.status_message)]
        return TrafficHandlers(session.client_connection, prefixed, report, log, first_wait=session.header_timeout)
    if settings.protocol == "ftp":
        from .ftp import GREETING, FtpSession, edit_dirs

        record_dir, replay_dir = edit_dirs(options, path)
        session = FtpSession(transcript, replay, seal, log, stop, record_dir, replay_dir)
        return TrafficHandlers(session, [(LOCATION, session.location_message)], report, log, greeting=GREETING)
    if settings.protocol == "amqp":
        from .amqp import AmqpSession, AmqpSettings

        session = AmqpSession(transcript, AmqpSettings.from_config(config), log)
        return TrafficHandlers(session.client_message, [], report, log, session.serve, finish=session.finish)
    from .classic import ClassicSession
    from .custom import CustomClients

    if settings.protocol == "classic_udp":
        from .udp import UdpSession

        session = UdpSession(transcript, replay, seal=seal, log=log, config=config)
    else:
        session = ClassicSession(transcript, replay, seal=seal, log=log)
    return TrafficHandlers(session.client_message, [(b"SUT_CUSTOM:", CustomClients(transcript, replay, log=log)),
                                                    (LOCATION, session.location_message)], report, log,
                           getattr(session, "serve", None))
