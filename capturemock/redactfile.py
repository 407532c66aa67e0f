"""``capturemock redact [--check] -R RC FILE...``: rewrite mock files recorded before ``[general] redact``
was set, or before a name was added to it, into the text a redacting recording writes (``redaction``).

Each item is redacted on its own, as written (the placeholder holds no line break and no escape mark, so
escaped items stay whole); text before the first item and every byte not redacted are kept as they are.
A file is replaced only once its new text is written whole beside it (a temporary file renamed over it,
its permissions kept): no backup is made, the mock files being under version control like the tests.
``--check`` changes nothing and exits 1 if a file would change (for CI).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from typing import Sequence

from . import mockfile
from .config import RcConfig
from .errors import CaptureMockError, ConfigError
from .redaction import Redactor


def redact_text(text: str, redactor: Redactor) -> tuple[str, int]:
    """Mock-file ``text`` with every item redacted, and how many secrets that replaced. A ``->RET:``
    answering an attribute read (``<-PYT:settings.api_token``) is redacted as recording does."""
    starts = [match.start() for match in mockfile.ITEM_START.finditer(text)]
    pieces = [text[:starts[0]] if starts else text]
    total, attribute = 0, ""
    for start, end in zip(starts, starts[1:] + [len(text)]):
        body = text.index(":", start) + 1  # an item head holds no other ':'
        head, type_ = text[start:body], text[body - 4:body - 1]
        value, newline = (text[body:end - 1], "\n") if text.endswith("\n", body, end) else (text[body:end], "")
        redacted, count = redactor.redact_counted(value)
        if type_ == "RET" and attribute:
            answered = redactor.attribute_value(attribute, redacted)
            count += answered != redacted
            redacted = answered
        attribute = value if type_ == "PYT" and "(" not in value else ""
        redactor.warn_left_in(redacted)
        pieces += [head, redacted, newline]
        total += count
    return "".join(pieces), total


def redact_file(path: str, redactor: Redactor, *, check: bool = False) -> int:
    """Redact one mock file in place (unless ``check``); how many secrets were (or would be) replaced."""
    try:
        with open(path, "rb") as handle:
            text = handle.read().decode(mockfile.ENCODING, mockfile.ERRORS)
    except OSError as err:
        raise ConfigError(f"cannot read mock file: {err.strerror or err}", path) from None
    new, count = redact_text(text, redactor)
    if count and not check:
        _replace(path, new.encode(mockfile.ENCODING, mockfile.ERRORS))
    return count


def _replace(path: str, data: bytes) -> None:
    """Write ``data`` beside ``path`` and rename it over: the old text stays whole until the new one is."""
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, temporary = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    except OSError as err:
        raise ConfigError(f"cannot write beside the mock file: {err.strerror or err}", path) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(temporary, os.stat(path).st_mode & 0o7777)
        os.replace(temporary, path)
    except OSError as err:
        os.unlink(temporary)
        raise ConfigError(f"cannot rewrite the mock file: {err.strerror or err}", path) from None


def main(argv: Sequence[str]) -> int:
    """Exit status 0, or 1 if ``--check`` found something to redact, 2 on a problem (said in one line)."""
    parser = argparse.ArgumentParser(prog="capturemock redact", description=__doc__.split("\n\n")[0])
    parser.add_argument("-R", "--rcfiles", default="", help="comma-separated rc files with [general] redact")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a file would change")
    parser.add_argument("files", nargs="+", metavar="FILE", help="mock files to redact in place")
    args = parser.parse_args(argv)
    try:
        redactor = _redactor([path for path in args.rcfiles.split(",") if path])
        found = False
        for path in args.files:
            count = redact_file(path, redactor, check=args.check)
            found = found or bool(count)
            done = "to redact" if args.check else "redacted"
            sys.stdout.write(f"{path}: {count} {'secret' if count == 1 else 'secrets'} {done}\n")
    except CaptureMockError as err:
        sys.stderr.write(f"capturemock redact: {err}\n")
        return 2
    return 1 if args.check and found else 0


def _redactor(rc_files: list[str]) -> Redactor:
    config = RcConfig(rc_files, warn=lambda message: None)
    if config.missing:
        raise ConfigError(f"rc file {config.missing[0]} does not exist")
    redactor = Redactor.from_config(config)
    if redactor is None:
        where = ", ".join(config.files) or "no rc file (give them with --rcfiles)"
        raise ConfigError(f"[general] redact is not set in {where}: nothing says what to redact")
    return redactor
