"""rc files (§3): INI files read with ConfigParser(strict=False) semantics, layered in order.

A file named ``*.yaml``/``*.yml`` is the same settings written as YAML: a mapping of sections to
mappings of options, where a list value stands for the comma-separated list of the INI form::

    python:
      intercepts: [weather, datetime.date.today]
    general:
      use_exact_matching: true

Each family asks for values with a *list of sections*: single values come from the first section that
has the option, list values are concatenated over all of them (§3.2).
"""
from __future__ import annotations

import os
import sys

from .errors import ConfigError, MissingMockError
from .lazyregex import LazyRegex
from .modes import REPLAY
from .plainini import PlainIni

TYPE_CHECKING = False  # typing is not imported at run time: it is a third of the server's start-up
if TYPE_CHECKING:
    import configparser
    from typing import Callable, Iterable, Optional, Sequence

DEFAULT_RC_FILE = os.path.join("~", ".capturemock", "config")
_INLINE_COMMENT = LazyRegex(r"(?m)(?:^|\s)[#;].*$")

GENERAL, PYTHON, COMMAND_LINE, AMQP = "general", "python", "command line", "amqp"
PER_NAME = "<name>"  # sections named after an intercepted name, a program, an alteration, an HTTP method...


class Key:
    """One rc key: where it lives, its kind (str, bool, float, int, list), its default and what it is for."""

    __slots__ = ("section", "name", "kind", "default", "help")

    def __init__(self, section: str, name: str, kind: str, default: object, help: str):
        self.section, self.name, self.kind, self.default, self.help = section, name, kind, default, help


# Every key CaptureMock reads (§3.3, plus ours): validation and RcConfig.setting both read this table.
KEYS = (
    Key(GENERAL, "server_protocol", "str", "classic", "client/server protocol: classic, xmlrpc, http, ..."),
    Key(GENERAL, "log_config_file", "str", None, "logging config of the server process"),
    Key(GENERAL, "use_exact_matching", "bool", False, "replay only identical requests, no best match"),
    Key(GENERAL, "on_missing_mock", "str", "live", "replay with no mock file: live (2.10) or error"),
    Key(GENERAL, "sealed", "bool", False, "replay: what the mock lacks fails, never runs for real"),
    Key(GENERAL, "on_best_match", "str", "silent", "replay answered by best match: silent (2.10), warn or error"),
    Key(GENERAL, "report_unused", "bool", False, "at the end of replay, list recorded requests never replayed"),
    Key(GENERAL, "alterations", "list", [], "alteration sections applying to all traffic"),
    Key(GENERAL, "redact", "str", None, "secrets written <redacted> in mock files: names, defaults, re:regex"),
    Key(GENERAL, "record_for_client", "bool", False, "client/server: the client is the system under test"),
    Key(GENERAL, "server_multithreaded", "bool", True, "classic TCP: a thread per connection"),
    Key(GENERAL, "server_remote_access", "str", "false", "bind address: false, true or an interface"),
    Key(GENERAL, "preserve_cr", "bool", False, "record CR in payloads as <CR>"),
    Key(GENERAL, "preserve_lf", "bool", False, "record LF in payloads as <LF>"),
    Key(GENERAL, "record_timestamps", "bool", False, "append --TIM: lines to server-side traffic"),
    Key(GENERAL, "ignore_http_headers", "list", [], "HTTP headers left out of recordings"),
    Key(GENERAL, "assume_all_can_modify", "bool", False, "HTTP: every request may change state"),
    Key(GENERAL, "compact_http_bodies", "bool", True, "HTTP: binary bodies from 64 KiB in base64 (2.10: hex)"),
    Key(GENERAL, "server_ca_file", "str", None, "HTTP: CA certificates (PEM) trusted for an https real server too"),
    Key(GENERAL, "id_pattern_client", "str", None, "regex of IDs in client requests to map on replay"),
    Key(GENERAL, "id_pattern_server", "str", None, "regex of IDs in server responses to map on replay"),
    Key(GENERAL, "broadcast", "bool", False, "classic_udp: forward by broadcast"),
    Key(GENERAL, "connection_timeout", "float", 0.2, "UDP reply window; tcp_header timeouts"),
    Key(GENERAL, "header_timeout", "float", 0.5, "tcp_header: wait for a message header"),
    Key(GENERAL, "tcp_padding", "bool", False, "tcp_header: messages padded to even length"),
    Key(GENERAL, "client_passive", "bool", False, "tcp_header: never read from the client"),
    Key(GENERAL, "replay_chain_pause", "float", 0.0, "tcp_header: pause between chained responses"),
    Key(GENERAL, "replay_chain_min_length", "float", 2, "tcp_header: pause from this response on"),
    Key(GENERAL, "replay_chain_trigger_prefixes", "list", [], "tcp_header: or for responses so prefixed"),
    Key(PYTHON, "intercepts", "list", [], "modules and dotted names to intercept"),
    Key(PYTHON, "ignore_callers", "list", [], "modules/directories whose calls are not intercepted"),
    Key(PYTHON, "check_repeated_calls", "bool", True, "record every call, not only the first"),
    Key(PYTHON, "alterations", "list", [], "alteration sections for python traffic"),
    Key(PYTHON, "replay_constructors", "list", [], "data classes replay may rebuild from mock text"),
    Key(PYTHON, "float_precision", "str", "2", "floats recorded to 2 decimals (2.10) or in full"),
    Key(COMMAND_LINE, "intercepts", "list", [], "programs to intercept"),
    Key(COMMAND_LINE, "environment", "list", [], "environment variables to record and compare"),
    Key(COMMAND_LINE, "asynchronous", "bool", False, "programs whose output is not waited for"),
    Key(COMMAND_LINE, "ignore_edits", "list", [], "file names skipped when scanning for edits"),
    Key(COMMAND_LINE, "allow_edits_outside", "bool", False, "replayed edits may reach outside the cwd"),
    Key(COMMAND_LINE, "exact_output", "bool", False, "output byte for byte: no newline added (2.10 adds one)"),
    Key(COMMAND_LINE, "alterations", "list", [], "alteration sections for command lines and output (2.10: none)"),
    Key(AMQP, "url", "str", None, "broker URL (pika); write % as %% in an rc file"),
    Key(AMQP, "exchange", "str", None, "the exchange whose messages are recorded and replayed"),
    Key(AMQP, "exchange_type", "str", None, "declare the exchange with this type (and delete it at the end)"),
    Key(AMQP, "exchange_forward", "str", None, "bind this exchange to the recorded one, or republish to it"),
    Key(AMQP, "exchange_forward_prefix", "str", None, "republish to exchange_forward as <prefix>.<routing key>"),
    Key(AMQP, "exchange_record", "str", None, "recorded as exchange=<this> for an empty routing key"),
    Key(AMQP, "auto_delete", "bool", True, "a declared exchange is auto-delete"),
    Key(AMQP, "durable", "bool", True, "a declared exchange is durable"),
    Key(PER_NAME, "check_repeated_calls", "bool", True, "per python name or HTTP method"),
    Key(PER_NAME, "alterations", "list", [], "per python function or attribute"),
    Key(PER_NAME, "environment", "list", [], "per program, added to [command line]"),
    Key(PER_NAME, "asynchronous", "bool", False, "per program"),
    Key(PER_NAME, "match_pattern", "str", None, "alteration: regex to rewrite"),
    Key(PER_NAME, "replacement", "str", "", "alteration: what it becomes"),
    *(Key(PER_NAME, name, "str", None, "tcp_header message sections")
      for name in ("format", "fields", "assume", "enforce", "incomplete")),
)
_KEYS = {(key.section, key.name): key for key in KEYS}
# sections whose keys are data (header names, field names), not settings
_FREE_SECTIONS = frozenset({"default_http_headers", "enums", "list_elements"})
_FIXED_SECTIONS = (GENERAL, PYTHON, COMMAND_LINE, AMQP)
_WARNED: set[str] = set()
# what ``getboolean`` accepts: configparser.ConfigParser.BOOLEAN_STATES
_BOOLEAN_STATES = {"1": True, "yes": True, "true": True, "on": True, "0": False, "no": False, "false": False,
                   "off": False}


def _warn_to_stderr(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


class RcConfig:
    """The merged settings of one or more rc files."""

    def __init__(self, rc_files: Optional[Sequence[str]] = None, *,
                 warn: Callable[[str], None] = _warn_to_stderr):
        # the plain INI subset without configparser (start-up), until a file needs configparser's rules
        self._parser: PlainIni | configparser.ConfigParser = PlainIni()
        self._texts: list[tuple[str, str]] = []  # (text, path) read so far, to read again with configparser
        self.files: list[str] = []
        self.missing: list[str] = []  # named rc files that do not exist (skipped, as 2.10 did)
        if rc_files:
            for path in rc_files:
                if os.path.isfile(path):
                    self.add_file(path)
                else:
                    self.missing.append(path)
                    warn(f"WARNING: RC file at {path} does not exist, ignoring.")
        else:
            default = os.path.expanduser(DEFAULT_RC_FILE)
            if os.path.isfile(default):
                self.add_file(default)

    def add_file(self, path: str) -> None:
        """Merge one more rc file on top of the ones read so far (later values win)."""
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        except (OSError, UnicodeDecodeError) as err:
            raise ConfigError(f"cannot read rc file: {err}", path) from None
        if path.endswith((".yaml", ".yml")):
            from .rcparsing import yaml_as_ini

            self.add_text(yaml_as_ini(text, path), path)
        else:
            self.add_text(text, path)

    def add_text(self, text: str, path: str = "<string>") -> None:
        if isinstance(self._parser, PlainIni) and self._parser.read_string(text):
            self._texts.append((text, path))
            self.files.append(path)
            return
        self._use_configparser()
        import configparser

        try:
            self._parser.read_string(text, source=path)
        except configparser.MissingSectionHeaderError as err:
            raise ConfigError(f"expected a [section] header, found {err.line.strip()!r}",
                              path, err.lineno) from None
        except configparser.ParsingError as err:
            lineno = err.errors[0][0]
            line = text.splitlines()[lineno - 1] if 0 < lineno <= len(text.splitlines()) else ""
            raise ConfigError(f"cannot parse line {line.strip()!r}", path, lineno) from None
        except configparser.Error as err:
            raise ConfigError(_one_line(err), path) from None
        self.files.append(path)

    def _use_configparser(self) -> None:
        """From now on, ``configparser`` itself (the rc text so far was plain: it reads the same)."""
        if not isinstance(self._parser, PlainIni):
            return
        import configparser

        from .rcparsing import bounded_interpolation

        self._parser = configparser.ConfigParser(strict=False, interpolation=bounded_interpolation())
        for text, path in self._texts:
            self._parser.read_string(text, source=path)
        self._texts = []

    # -- lookups -----------------------------------------------------------------------------------
    def get(self, option: str, sections: Iterable[str], default: Optional[str] = None) -> Optional[str]:
        """The value from the first section in ``sections`` that sets ``option``."""
        for section in sections:
            if self._parser.has_option(section, option):
                if isinstance(self._parser, PlainIni):
                    return self._parser.get(section, option)
                import configparser

                try:
                    return self._parser.get(section, option)
                except configparser.Error as err:
                    raise ConfigError(f"[{section}] {option}: {_one_line(err)}",
                                      *self._where(option, [section])) from None
        return default

    def getboolean(self, option: str, sections: Iterable[str], default: bool = False) -> bool:
        value = self.get(option, sections)
        if value is None:
            return default
        flag = _BOOLEAN_STATES.get(value.strip().lower())
        if flag is None:
            raise ConfigError(f"{option} = {value!r} is not a boolean (use true/false)",
                              *self._where(option, sections))
        return flag

    def getfloat(self, option: str, sections: Iterable[str], default: float) -> float:
        return self._number(option, sections, default, float)

    def getlist(self, option: str, sections: Iterable[str]) -> list[str]:
        """Comma-separated values of ``option`` from every listed section, in section order."""
        result: list[str] = []
        for section in sections:
            value = self.get(option, [section])
            if value:
                result.extend(part.strip() for part in value.split(",") if part.strip())
        return result

    def getnames(self, option: str, sections: Iterable[str], is_valid: Callable[[str], bool],
                 what: str) -> list[str]:
        """``getlist`` for names of things to intercept. An inline ``# comment`` is dropped (no name
        holds one; other values may, so only names get this), and a name that cannot be one (a typo, a
        stray path) is an error naming the rc line, not an interception that silently does nothing."""
        names: list[str] = []
        for section in sections:
            value = self.get(option, [section]) or ""
            if "#" in value or ";" in value:  # the regex only where it can match: no ``re`` at start-up
                value = _INLINE_COMMENT.sub("", value)
            names.extend(part.strip() for part in value.split(",") if part.strip())
        for name in names:
            if not is_valid(name):
                raise ConfigError(f"{option}: {name!r} is not {what}", *self._where(option, sections))
        return names

    def setting(self, section: str, name: str) -> object:
        """The value of a key declared in ``KEYS``, typed and defaulted as declared there."""
        key = _KEYS[(section, name)]
        if key.kind == "list":
            return self.getlist(name, [section])
        if key.kind == "bool":
            return self.getboolean(name, [section], key.default)
        if key.kind == "float":
            return self.getfloat(name, [section], key.default)
        return self.get(name, [section], key.default)

    def choice(self, section: str, name: str, allowed: Sequence[str]) -> str:
        """A str key that must be one of ``allowed`` (any case): anything else is refused by rc line."""
        value = str(self.setting(section, name)).strip().lower()
        if value not in allowed:
            quoted = [repr(option) for option in allowed]
            raise ConfigError(f"{name} = {value!r} is not {', '.join(quoted[:-1])} or {quoted[-1]}",
                              *self._where(name, [section]))
        return value

    def check_replay_file(self, mode: int, replay_file: Optional[str]) -> None:
        """With ``on_missing_mock = error``, replaying without a mock file is refused: 2.10 ran the real
        programs and modules instead, and the test passed without testing what it meant to (§2.2)."""
        if mode != REPLAY or (replay_file and os.path.isfile(replay_file)):
            return
        if self.choice(GENERAL, "on_missing_mock", ("live", "error")) == "error":
            what = f"mock file {replay_file} does not exist" if replay_file else "no mock file was given"
            raise MissingMockError(f"cannot replay: {what} ([general] on_missing_mock = error)")

    def unknown_settings(self) -> list[ConfigError]:
        """Sections and keys no CaptureMock code reads (typos, most likely), each naming file, line and
        the closest valid name (``rcproblems``)."""
        from .rcproblems import unknown_settings

        return unknown_settings(self)

    def warn_unknown_settings(self, warn: Callable[[str], None] = _warn_to_stderr) -> None:
        """Where TextTest drives us, 2.10 suites may hold stray keys: one WARNING line per problem, once
        per process (every test of a suite shares the root rc file; setUpServer and setUpPython both check)."""
        for problem in self.unknown_settings():
            text = f"WARNING: {problem}"
            if text not in _WARNED:
                _WARNED.add(text)
                warn(text)

    def has_section(self, section: str) -> bool:
        return self._parser.has_section(section)

    def sections(self) -> list[str]:
        return self._parser.sections()

    def options(self, section: str) -> dict[str, str]:
        """All options of a section, interpolated (empty if the section is absent)."""
        if not self._parser.has_section(section):
            return {}
        return {name: self.get(name, [section]) or "" for name in self._parser.options(section)}

    def _number(self, option, sections, default, kind):
        value = self.get(option, sections)
        if value is None:
            return default
        try:
            return kind(value)
        except ValueError:
            raise ConfigError(f"{option} = {value!r} is not a number", *self._where(option, sections)) from None

    def where(self, option: str, sections: Iterable[str]) -> tuple[Optional[str], Optional[int]]:
        """``_where``, for a value checked outside this module (a ConfigError's file and line)."""
        return self._where(option, sections)

    def _where(self, option: str, sections: Iterable[str]) -> tuple[Optional[str], Optional[int]]:
        """The rc file and line whose value of ``option`` was read (``rcproblems.where``)."""
        from .rcproblems import where

        return where(self, option, sections)


def refuse_live_run(rc_files: Sequence[str], mode: int, replay_file: Optional[str]) -> None:
    """``check_replay_file`` for a run that has nothing to replay. A malformed rc file is left alone
    here: 2.10 never read the rc files of such a run, so it cannot have meant ``on_missing_mock``."""
    if mode != REPLAY or (replay_file and os.path.isfile(replay_file)):
        return
    try:
        config = RcConfig(list(rc_files), warn=lambda message: None)
    except ConfigError:
        return
    config.check_replay_file(mode, replay_file)


def _one_line(err: Exception) -> str:
    return " ".join(str(err).split())


def __getattr__(name: str) -> object:
    """2.10.0's names in this module, for rigs that import them from here (loaded on first use)."""
    if name in ("RcFileHandler", "isActive"):
        from . import rcfilehandler

        return getattr(rcfilehandler, name)
    if name == "CaptureMockReplayError":
        from .errors import CaptureMockReplayError

        return CaptureMockReplayError
    raise AttributeError(f"module 'capturemock.config' has no attribute '{name}'")
