"""What is wrong in rc files, and where (§3): keys and sections no CaptureMock code reads, each with the
closest valid name, and the file and line a value was read from.

Loaded only where a problem is looked for or reported (``capturemock check``, set-up's warnings, an error
message naming its rc line): an intercepted process reading good rc files never imports it.
"""
from __future__ import annotations

from .config import _FIXED_SECTIONS, _FREE_SECTIONS, _KEYS, KEYS, PER_NAME
from .errors import ConfigError

TYPE_CHECKING = False  # typing is not imported at run time
if TYPE_CHECKING:
    from typing import Iterable, Optional

    from .config import RcConfig


def unknown_settings(config: RcConfig) -> list[ConfigError]:
    """Sections and keys no CaptureMock code reads (typos, most likely), each naming file, line and
    the closest valid name. Sections not in ``_FIXED_SECTIONS`` are per-name sections (named after
    intercepts, programs, alterations, HTTP methods, proxy names...): they may hold per-name keys."""
    problems: list[ConfigError] = []
    defaults = config._parser.defaults()
    for section in config._parser.sections():
        if section in _FREE_SECTIONS:
            continue
        own = [name for name in config._parser.options(section) if name not in defaults]
        if section in _FIXED_SECTIONS:
            problems += [_unknown_key(config, name, section, section) for name in own
                         if (section, name) not in _KEYS]
        else:
            problems += _unknown_in_named(config, section, [name for name in own if (PER_NAME, name) not in _KEYS])
    return problems


def _unknown_in_named(config: RcConfig, section: str, unknown: list[str]) -> list[ConfigError]:
    fixed = section.lower() if section.lower() in _FIXED_SECTIONS else None
    if unknown and not fixed and section not in _alteration_names(config):
        fixed = _closest(section, [*_FIXED_SECTIONS, *_FREE_SECTIONS], cutoff=0.8)
    if fixed:
        return [ConfigError(f"unknown section [{section}] (did you mean '{fixed}'?)", *locate(config, section))]
    return [_unknown_key(config, name, section, PER_NAME) for name in unknown]


def _alteration_names(config: RcConfig) -> set[str]:
    return {name for section in config._parser.sections() for name in config.getlist("alterations", [section])}


def _unknown_key(config: RcConfig, name: str, section: str, kind: str) -> ConfigError:
    homes = [key.section for key in KEYS if key.name == name and key.section != PER_NAME]
    if homes and kind == PER_NAME:
        hint = f" ('{name}' belongs in {' or '.join(f'[{home}]' for home in homes)})"
    else:
        closest = _closest(name, [key.name for key in KEYS if key.section == kind])
        hint = f" (did you mean '{closest}'?)" if closest else ""
    return ConfigError(f"unknown key '{name}' in [{section}]{hint}", *locate(config, section, name))


def locate(config: RcConfig, section: str, option: Optional[str] = None) -> tuple[Optional[str], Optional[int]]:
    """The last rc file (and its line) with this section header, or with ``option`` in that section."""
    found: tuple[Optional[str], Optional[int]] = (",".join(config.files) or None, None)
    for path in config.files:
        line = _line_in(_lines_of(path), section, option, path.endswith((".yaml", ".yml")))
        if line:
            found = (path, line)
    return found


def where(config: RcConfig, option: str, sections: Iterable[str]) -> tuple[Optional[str], Optional[int]]:
    """The rc file and line whose value of ``option`` was read: in the first of ``sections`` that has
    it, the last file setting it there (later files win, §3.1). Only the files are named when no
    line says it (a ``[DEFAULT]`` value, or a YAML file among them, whose settings have no lines)."""
    section = next((name for name in sections if config._parser.has_option(name, option)), None)
    if section is None or any(path.endswith((".yaml", ".yml")) for path in config.files):
        return ",".join(config.files) or None, None
    return locate(config, section, option)


def _line_in(lines: list[str], section: str, option: Optional[str], yaml: bool) -> Optional[int]:
    """The line of ``section``'s header, or of ``option`` under it, in an INI or YAML rc file: the last
    one, since a later repeat wins (``strict=False``)."""
    current, found = None, None
    for number, line in enumerate(lines, 1):
        header = _header_of(line, yaml)
        if header is not None:
            current = header
            if header == section and option is None:
                found = number
        elif current == section and option and _option_of(line, yaml) == option:
            found = number
    return found


def _header_of(line: str, yaml: bool) -> Optional[str]:
    if yaml:
        return line.split(":", 1)[0].strip().strip("'\"") if line[:1] not in ("", " ", "\t", "#") else None
    return line[1:line.rindex("]")] if line[:1] == "[" and "]" in line else None


def _option_of(line: str, yaml: bool) -> Optional[str]:
    if not yaml and line[:1] in (" ", "\t"):
        return None  # an INI continuation line
    import re

    return re.split("[=:]", line, maxsplit=1)[0].strip().strip("'\"").lower()


def _closest(name: str, candidates: Iterable[str], cutoff: float = 0.6) -> Optional[str]:
    """The candidate ``name`` most likely misspells (difflib is imported only when a problem is found)."""
    import difflib

    lowered = {candidate.lower(): candidate for candidate in candidates}
    matches = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=cutoff)
    return lowered[matches[0]] if matches else None


def _lines_of(path: str) -> list[str]:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read().splitlines()
    except (OSError, UnicodeDecodeError):
        return []  # not a file (rc text given directly), or gone since it was read
