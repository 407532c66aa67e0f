"""Where the traffic server listens, and the address it publishes (``[general] server_remote_access``).

Loopback by default. A program whose processes run on other hosts (srun, ssh, MPI) needs a server they
can reach: ``true`` listens on all interfaces and publishes this host's address; an interface name
listens on, and publishes, that interface's IPv4 address (as 2.10 did). Reaching the server is not
driving it: command requests and stopping still need the session's ``CAPTUREMOCK_TOKEN``.
"""
from __future__ import annotations

from .config import GENERAL, RcConfig
from .errors import ConfigError

LOOPBACK = "127.0.0.1"
ALL_INTERFACES = "0.0.0.0"
_OFF = ("", "false", "no", "off", "0")
_ON = ("true", "yes", "on", "1")


def listen_and_publish(config: RcConfig) -> tuple[str, str]:
    """(address to bind, host to publish in ``CAPTUREMOCK_SERVER``) for this session's rc files."""
    value = str(config.setting(GENERAL, "server_remote_access")).strip()
    if value.lower() in _OFF:
        return LOOPBACK, LOOPBACK
    if value.lower() in _ON:
        return ALL_INTERFACES, host_address()
    addresses = _ipv4_by_interface()
    if value not in addresses:
        raise ConfigError(f"server_remote_access = {value}: no network interface of that name has an IPv4 "
                          f"address (there are: {', '.join(sorted(addresses))})", ",".join(config.files) or None)
    return addresses[value], addresses[value]


def remote_access_enabled(config: RcConfig) -> bool:
    """Whether this session's rc files let hosts other than this one take part."""
    return str(config.setting(GENERAL, "server_remote_access")).strip().lower() not in _OFF


def host_address() -> str:
    """This host's address as other hosts know it: its name resolved, or (where the name resolves to
    loopback, as on many Linux systems) the first IPv4 address of a network interface; else loopback."""
    import socket

    try:
        address = socket.gethostbyname(socket.gethostname())
    except OSError:
        address = LOOPBACK
    if not address.startswith("127."):
        return address
    outside = [ip for ip in _ipv4_by_interface().values() if not ip.startswith("127.")]
    return outside[0] if outside else LOOPBACK


def _ipv4_by_interface() -> dict[str, str]:
    import socket

    import psutil

    return {name: next(entry.address for entry in entries if entry.family == socket.AF_INET)
            for name, entries in psutil.net_if_addrs().items()
            if any(entry.family == socket.AF_INET for entry in entries)}
