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

import configparser
import os
import re
import sys

from .errors import ConfigError

TYPE_CHECKING = False  # typing is not imported at run time: it is a third of the server's start-up
if TYPE_CHECKING:
    from typing import Callable, Iterable, Optional, Sequence

DEFAULT_RC_FILE = os.path.join("~", ".capturemock", "config")
_INLINE_COMMENT = re.compile(r"(?:^|\s)[#;].*$", re.M)


def _warn_to_stderr(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


class RcConfig:
    """The merged settings of one or more rc files."""

    def __init__(self, rc_files: Optional[Sequence[str]] = None, *,
                 warn: Callable[[str], None] = _warn_to_stderr):
        self._parser = configparser.ConfigParser(strict=False, interpolation=_BoundedInterpolation())
        self.files: list[str] = []
        if rc_files:
            for path in rc_files:
                if os.path.isfile(path):
                    self.add_file(path)
                else:
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
            self.add_text(_yaml_as_ini(text, path), path)
        else:
            self.add_text(text, path)

    def add_text(self, text: str, path: str = "<string>") -> None:
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

    # -- lookups -----------------------------------------------------------------------------------
    def get(self, option: str, sections: Iterable[str], default: Optional[str] = None) -> Optional[str]:
        """The value from the first section in ``sections`` that sets ``option``."""
        for section in sections:
            if self._parser.has_option(section, option):
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
        flag = configparser.ConfigParser.BOOLEAN_STATES.get(value.strip().lower())
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
            value = _INLINE_COMMENT.sub("", self.get(option, [section]) or "")
            names.extend(part.strip() for part in value.split(",") if part.strip())
        for name in names:
            if not is_valid(name):
                raise ConfigError(f"{option}: {name!r} is not {what}", *self._where(option, sections))
        return names

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

    def _where(self, option: str, sections: Iterable[str]) -> tuple[Optional[str], Optional[int]]:
        """The rc file and line whose value of ``option`` was read: in the first of ``sections`` that has
        it, the last file setting it there (later files win, §3.1). Only the files are named when no
        line says it (a ``[DEFAULT]`` value, or a YAML file among them, whose settings have no lines)."""
        files: tuple[Optional[str], Optional[int]] = (",".join(self.files) or None, None)
        section = next((name for name in sections if self._parser.has_option(name, option)), None)
        if section is None or any(path.endswith((".yaml", ".yml")) for path in self.files):
            return files
        found = files
        for path in self.files:
            current = None
            for number, line in enumerate(_lines_of(path), 1):
                if line[:1] == "[" and "]" in line:
                    current = line[1:line.rindex("]")]
                elif current == section and line[:1] not in ("", " ", "\t", "#", ";"):
                    if re.split("[=:]", line, maxsplit=1)[0].strip().lower() == option:
                        found = (path, number)
        return found


# what one option may expand to through %(name)s references: ten levels of ten references each turn
# a few hundred bytes into 10^10 characters, and configparser bounds only the depth
_MAX_EXPANSION = 1 << 20
_REFERENCE = re.compile(r"%\(([^)]*)\)s")


class _BoundedInterpolation(configparser.BasicInterpolation):
    """``%(name)s`` interpolation that refuses a value expanding past ``_MAX_EXPANSION`` characters,
    working out the length from the raw values before anything is expanded."""

    def before_get(self, parser, section, option, value, defaults):
        if "%(" in value and _expanded_length(value, parser, defaults, {}, 0) > _MAX_EXPANSION:
            raise configparser.InterpolationError(
                option, section, f"expands to more than {_MAX_EXPANSION} characters through %(...)s")
        return super().before_get(parser, section, option, value, defaults)


def _expanded_length(value: str, parser: configparser.ConfigParser, options, lengths: dict, depth: int) -> int:
    """Characters ``value`` expands to (capped just past the limit); ``lengths`` remembers each option's."""
    total = len(value)
    if depth > configparser.MAX_INTERPOLATION_DEPTH:
        return total  # configparser itself refuses this as too deep
    for name in _REFERENCE.findall(value):
        name = parser.optionxform(name)
        if name not in lengths:
            raw = options.get(name)
            lengths[name] = 0 if raw is None else _expanded_length(raw, parser, options, lengths, depth + 1)
        total += lengths[name]
        if total > _MAX_EXPANSION:
            return total
    return total


def _lines_of(path: str) -> list[str]:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read().splitlines()
    except (OSError, UnicodeDecodeError):
        return []  # not a file (rc text given directly), or gone since it was read


def _yaml_as_ini(text: str, path: str) -> str:
    """The INI text equivalent to a YAML rc file, so both forms share every rule of §3."""
    import yaml  # only rc files written as YAML pay for it

    try:
        data = yaml.safe_load(text)
    except RecursionError:
        raise ConfigError("invalid YAML: nested too deeply", path) from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        raise ConfigError(f"invalid YAML: {getattr(err, 'problem', None) or _one_line(err)}", path,
                          mark.line + 1 if mark else None) from None
    if data is None:
        return ""
    if not isinstance(data, dict) or not all(isinstance(options, dict) for options in data.values()):
        raise ConfigError("a YAML rc file must map section names to mappings of options", path)
    lines = []
    budget = [_MAX_YAML_EXPANSION]
    for section, options in data.items():
        lines.append(f"[{section}]")
        for option, value in options.items():
            lines.append(f"{option} = {_ini_value(value, budget, path)}".rstrip())
    return "\n".join(lines) + "\n"


# YAML aliases let a few hundred bytes stand for a list of billions of names; no real rc file comes near
_MAX_YAML_EXPANSION = 1 << 20


def _ini_value(value: object, budget: list[int], path: str) -> str:
    """``value`` in INI form, counting what it costs against ``budget`` (characters left for the whole
    file): nested aliases are refused as soon as they expand past it, before they take time or memory."""
    if isinstance(value, (list, tuple)):
        return ", ".join(_ini_value(part, budget, path) for part in value)
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif value is None:
        text = ""
    else:
        text = str(value).replace("\n", "\n ")  # continuation lines of a multi-line INI value
    budget[0] -= len(text) + 2
    if budget[0] < 0:
        raise ConfigError(f"the YAML rc file expands to more than {_MAX_YAML_EXPANSION} characters "
                          "(aliases of aliases?)", path)
    return text


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
