"""``replay_for_server`` (§8.10): play the recorded client traffic against a real server without the
traffic server process, recording each request and the live answer (client form, ``<-CLI``/``->SRV``).
A file recorded with the server as SUT is read in client form (``roles``)."""
from __future__ import annotations

from typing import Callable, Optional

from .. import mockfile
from ..alterations import Alterations
from ..config import GENERAL, RcConfig
from ..errors import ConfigError
from ..mockfile import Item
from . import httptext
from .classic import decode, encode
from .location import exchange, parse_host_port
from .roles import client_form
from .settings import Settings
from .traffic import Transcript

Sender = Callable[[str], str]  # recorded request text -> live answer text


def replay_for_server(rc_files: str, replay_file: Optional[str], record_file: Optional[str],
                      address: Optional[str], replay_edit_dir: Optional[str] = None,
                      record_edit_dir: Optional[str] = None, **kwargs) -> None:
    config = RcConfig([f for f in (rc_files or "").split(",") if f])
    settings = Settings(config)
    if not replay_file:
        raise ConfigError("replay_for_server needs a replay file (replayFile or TEXTTEST_CAPTUREMOCK_REPLAY)")
    if settings.protocol == "amqp":  # published to the [amqp] exchange; nothing answers, nothing is recorded
        from .amqp import publish_items

        items = mockfile.read(replay_file, **settings.breaks)
        publish_items(config, [item for item in items if item.from_sut and item.type == "RMQ"], replay_file)
        return
    if not address:
        raise ConfigError("replay_for_server needs the real server's address (serverAddress)")
    transcript = Transcript(settings, Alterations(config))
    items = client_form(mockfile.read(replay_file, **settings.breaks))
    if settings.protocol == "ftp":
        _play_ftp(items, transcript, address, record_file, replay_edit_dir, record_edit_dir)
        return
    if settings.protocol == "tcp_header":
        _play_tcp_header(items, transcript, config, address, record_file)
        return
    send = _sender(settings, config, address)
    ids = _response_ids(settings, items)
    writer = mockfile.MockWriter(record_file, **settings.breaks) if record_file else None
    try:
        for item in items:
            if item.from_sut and item.is_request and item.level == 0:
                text = _without_timestamps(item.text)
                if ids is not None:
                    text = ids.ids.to_live(text)
                reply = send(transcript.alterations.restore_variables(text))
                if ids is not None:
                    ids.learn(reply)
                if writer is not None:
                    writer.write_text(transcript.client(text, item.type) + transcript.server(reply))
    finally:
        if writer is not None:
            writer.close()


def _play_ftp(items: list[Item], transcript: Transcript, address: str, record_file: Optional[str],
              replay_edit_dir: Optional[str], record_edit_dir: Optional[str]) -> None:
    """FTP keeps one connection (login, directory) for the whole session: played by its own module."""
    from .ftp import play_client

    host_port = parse_host_port(address)
    if host_port is None:
        raise ConfigError(f"replay_for_server: {address!r} is not host:port")
    writer = mockfile.MockWriter(record_file, **transcript.settings.breaks) if record_file else None
    try:
        play_client(items, transcript, host_port, writer.write_text if writer else lambda text: None,
                    record_edit_dir, replay_edit_dir)
    finally:
        if writer is not None:
            writer.close()


def _play_tcp_header(items: list[Item], transcript: Transcript, config: RcConfig, address: str,
                     record_file: Optional[str]) -> None:
    """Binary messages keep one connection and the server may answer any number of them: played by
    ``binaryplay`` as the traffic server plays them."""
    from .binaryformat import BinaryCodec
    from .binaryplay import play_client
    from .location import warn
    from .roles import server_form
    from .script import ClientScript

    host_port = parse_host_port(address)
    if host_port is None:
        raise ConfigError(f"replay_for_server: {address!r} is not host:port")
    writer = mockfile.MockWriter(record_file, **transcript.settings.breaks) if record_file else None
    try:
        play_client(ClientScript(server_form(items)), BinaryCodec(config), host_port, transcript,
                    writer.write_text if writer else lambda text: None, warn)
    finally:
        if writer is not None:
            writer.close()


def _response_ids(settings: Settings, items: list[Item]):
    """§5.7 ``id_pattern_server``: the pairing of recorded and live response IDs, if configured."""
    if not settings.id_pattern_server:
        return None
    from .idmap import IdMap, ResponseIds, compile_pattern

    pattern = compile_pattern(settings.id_pattern_server, "id_pattern_server")
    return ResponseIds(pattern, (item.text for item in items if not item.from_sut), IdMap())


def _sender(settings: Settings, config: RcConfig, address: str) -> Sender:
    if settings.protocol in ("classic", "classic_tcp"):
        host_port = parse_host_port(address)
        if host_port is None:
            raise ConfigError(f"replay_for_server: {address!r} is not host:port")
        return lambda text: decode(exchange(host_port, encode(text)))
    if settings.protocol == "classic_udp":
        return _udp_sender(address, config)
    if settings.protocol == "http":
        return _http_sender(settings, address)
    if settings.protocol == "xmlrpc":
        return _xmlrpc_sender(address)
    raise ConfigError(f"replay_for_server does not support server_protocol = {settings.protocol} yet")


def _udp_sender(address: str, config: RcConfig) -> Sender:
    from .udp import forward

    host_port = parse_host_port(address)
    if host_port is None:
        raise ConfigError(f"replay_for_server: {address!r} is not host:port")
    broadcast, window = config.setting(GENERAL, "broadcast"), config.setting(GENERAL, "connection_timeout")
    return lambda text: "".join(forward(host_port, encode(text.strip()), broadcast, window))


def _http_sender(settings: Settings, address: str) -> Sender:
    from .httpforward import Destination

    destination = Destination(address)

    def send(text: str) -> str:
        request = httptext.parse(text)
        method, _, path = request.first.partition(" ")
        return httptext.recorded(destination.send(method, path, request.body, request.headers), settings)

    return send


def _xmlrpc_sender(address: str) -> Sender:
    from .xmlrpc import call_real, recorded_call

    url = address if "://" in address else f"http://{address}"
    return lambda text: call_real(url, recorded_call(text))[1]


def _without_timestamps(text: str) -> str:
    """A request recorded with ``record_timestamps`` minus its ``--TIM:`` lines (§12.22)."""
    return "\n".join(line for line in text.split("\n") if not line.startswith("--TIM:"))
