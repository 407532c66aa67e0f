"""``[general] log_config_file`` (§3.3): the traffic server's Python logging configuration.

Applied only if the file exists, so a server nobody logs does one ``stat`` and never imports
``logging``. ``%(LOCAL_DIR)s`` in the file stands for its own directory, as in 2.10.0. A file that
``logging`` cannot read is said in one line and the traffic is served without logs: a broken log
configuration must not cost a recording.
"""
from __future__ import annotations

import os

TYPE_CHECKING = False  # typing is not imported at run time: the server's start-up matters
if TYPE_CHECKING:
    from .config import RcConfig

DEFAULT_LOG_CONFIG_FILE = os.path.join("~", ".capturemock", "logging.conf")


def set_up_logging(config: RcConfig) -> None:
    """Configure logging from the rc files' log config file, if there is one."""
    path = os.path.expanduser(config.get("log_config_file", ["general"]) or DEFAULT_LOG_CONFIG_FILE)
    if os.path.isfile(path):
        import logging.config
        import sys

        try:
            logging.config.fileConfig(path, defaults={"LOCAL_DIR": os.path.dirname(os.path.abspath(path))})
        except Exception as err:  # noqa: BLE001 (any error of the user's file: configparser, KeyError, ...)
            reason = f"{type(err).__name__}: {err}".replace("\n", " ")
            print(f"CaptureMock: {path}: cannot configure logging from it ({reason}); nothing is logged",
                  file=sys.stderr)
