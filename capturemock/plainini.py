"""The plain INI subset most rc files are written in, read without ``configparser`` (issue #16).

Importing ``configparser`` (and the ``re`` it needs) costs an intercepted process ~6 ms of its
start-up, to read a few ``key = value`` lines. ``PlainIni`` reads text that is plain — section headers,
``key = value`` or ``key: value`` lines, blank lines and full-line comments, nothing indented, no ``%``,
no ``[DEFAULT]`` — into exactly what ``ConfigParser(strict=False)`` would hold: later sections and keys
win, key names are lower-cased, values stripped. It refuses anything else (``read_string`` returns
False), and ``config.RcConfig`` then reads every file with ``configparser``, errors and all.
"""
from __future__ import annotations

DEFAULT_SECTION = "DEFAULT"
_COMMENTS = ("#", ";")


class PlainIni:
    """The parts of the ``ConfigParser`` interface ``RcConfig`` reads, over the plain subset."""

    def __init__(self):
        self._sections: dict[str, dict[str, str]] = {}

    def read_string(self, text: str) -> bool:
        """Merge ``text`` in if it is plain; False (and nothing merged) if it is not."""
        if "%" in text:
            return False  # interpolation: configparser's rules
        read: list[tuple[str, dict[str, str]]] = []
        current = None
        for line in text.split("\n"):  # as configparser splits: only at "\n"
            value = line.strip()
            if not value or value.startswith(_COMMENTS):
                continue
            if line[0].isspace():
                return False  # a continuation line or an indented item
            if value[0] == "[":
                if value[-1] != "]" or len(value) < 3 or value[1:-1] == DEFAULT_SECTION:
                    return False
                current = {}
                read.append((value[1:-1], current))
                continue
            cut = min((value.find(delimiter) for delimiter in "=:" if delimiter in value), default=-1)
            key = value[:cut].rstrip().lower()
            if current is None or cut < 0 or not key:
                return False  # configparser's error to give
            current[key] = value[cut + 1:].strip()
        for name, options in read:
            self._sections.setdefault(name, {}).update(options)
        return True

    def has_section(self, section: str) -> bool:
        return section in self._sections

    def sections(self) -> list[str]:
        return list(self._sections)

    def options(self, section: str) -> list[str]:
        return list(self._sections[section])

    def defaults(self) -> dict[str, str]:
        return {}

    def has_option(self, section: str, option: str) -> bool:
        return option.lower() in self._sections.get(section, ())

    def get(self, section: str, option: str) -> str:
        return self._sections[section][option.lower()]
