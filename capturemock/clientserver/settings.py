"""The ``[general]`` keys (§3.3) the client/server family reads, read once per server session."""
from __future__ import annotations

from ..config import GENERAL as SECTION
from ..config import RcConfig
from ..errors import ConfigError
from ..redaction import Redactor
from ..replaypolicy import ON_BEST_MATCH

TYPE_CHECKING = False  # typing is not imported at run time: it is a third of the server's start-up
if TYPE_CHECKING:
    from typing import Optional

GENERAL = ["general"]
# protocol -> how CAPTUREMOCK_SERVER is published (§8.1): the forms existing clients parse
ADDRESS_FORMS = {"classic": "{}", "classic_tcp": "{}", "classic_udp": "{}", "tcp_header": "{}",
                 "xmlrpc": "http://{}", "http": "http://{}", "ftp": "{}", "amqp": "{}"}  # amqp: <url>/<exchange>


def server_protocol(config: RcConfig) -> str:
    """The configured protocol, checked: unknown or not built is a ConfigError naming the rc files."""
    protocol = (config.get("server_protocol", GENERAL) or "classic").strip()
    if protocol in ADDRESS_FORMS:
        return protocol
    where = ",".join(config.files) or None
    raise ConfigError(f"unknown server_protocol = {protocol} (use one of {', '.join(ADDRESS_FORMS)})", where)


def published_address(protocol: str, host_port: str) -> str:
    return ADDRESS_FORMS[protocol].format(host_port)


class Settings:
    """Typed ``[general]`` values. (A plain class: the server's start-up time counts.)"""

    __slots__ = ("protocol", "record_for_client", "exact", "preserve_cr", "preserve_lf", "timestamps",
                 "ignore_http_headers", "compact_http_bodies", "assume_all_can_modify", "id_pattern_client",
                 "id_pattern_server", "on_best_match", "report_unused", "redactor")

    def __init__(self, config: RcConfig):
        self.protocol = server_protocol(config)
        setting = config.setting
        self.record_for_client = setting(SECTION, "record_for_client")
        self.exact = setting(SECTION, "use_exact_matching")
        # error: a refused request gets CAPTUREMOCK MISMATCH like an exact-matching miss; warn and
        # report_unused: lines on the server's stderr when it stops (ReplayFiles.report)
        self.on_best_match = config.choice(SECTION, "on_best_match", ON_BEST_MATCH)
        self.report_unused = setting(SECTION, "report_unused")
        self.preserve_cr = setting(SECTION, "preserve_cr")
        self.preserve_lf = setting(SECTION, "preserve_lf")
        self.timestamps = setting(SECTION, "record_timestamps")
        self.ignore_http_headers = [name.lower() for name in setting(SECTION, "ignore_http_headers")]
        self.compact_http_bodies = setting(SECTION, "compact_http_bodies")  # False: every binary body in hex
        self.assume_all_can_modify = setting(SECTION, "assume_all_can_modify")
        self.id_pattern_client: Optional[str] = setting(SECTION, "id_pattern_client") or None
        self.id_pattern_server: Optional[str] = setting(SECTION, "id_pattern_server") or None
        self.redactor = Redactor.from_config(config)  # [general] redact, or None

    @property
    def breaks(self) -> dict[str, bool]:
        """The preserve_cr/preserve_lf keywords of the mockfile and replay functions."""
        return {"preserve_cr": self.preserve_cr, "preserve_lf": self.preserve_lf}
