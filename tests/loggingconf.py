"""A logging.config file as the logging tests write them: one named logger at DEBUG to a file, bare messages."""
from __future__ import annotations

import textwrap


def one_logger_conf(logger: str, log_file: str) -> str:
    """logging.fileConfig text sending `logger`'s messages (format %(message)s) to `log_file`, which may use
    %(LOCAL_DIR)s as CaptureMock's log_config_file allows."""
    handler = logger.lower()
    return textwrap.dedent(f"""\
        [loggers]
        keys=root,{logger}
        [handlers]
        keys={handler}
        [formatters]
        keys=plain
        [logger_root]
        handlers=
        [logger_{logger}]
        handlers={handler}
        level=DEBUG
        qualname={logger}
        [handler_{handler}]
        class=FileHandler
        formatter=plain
        args=('{log_file}', 'w')
        [formatter_plain]
        format=%(message)s
        """)
