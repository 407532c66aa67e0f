"""How 2.10 shows binary values by field name (§8.8), and back: readable names for numbers, so the
mock file reads like the protocol's documentation rather than a hex dump.

    [enums]           status = OK,FAIL        status 1 is written 'FAIL' (zero-based; others stay numbers)
    [list_elements]   items = id,flag         a list of (1, -1) tuples is written [{'id': 1, 'flag': -1}]
    field Time                                seconds since the epoch as an ISO local datetime
    x_leastsig, x_mostsig (or x_N_leastsig)   one integer x = mostsig << 8 | leastsig (2.10's byte shift)
"""
from __future__ import annotations

import datetime
import re
from typing import Any

from ..config import RcConfig
from ..errors import ConfigError

TIME = "Time"
_SIG = re.compile(r"(.+?)(?:_\d+)?_(leastsig|mostsig)\Z")


class FieldNames:
    """The ``[enums]`` and ``[list_elements]`` of the rc files, and the significance pairs of a
    section's fields."""

    def __init__(self, config: RcConfig):
        # keyed in lower case: rc option names are (configparser), field names need not be
        self.enums = {name: config.getlist(name, ["enums"]) for name in config.options("enums")}
        self.elements = {name: config.getlist(name, ["list_elements"]) for name in config.options("list_elements")}

    def pairs(self, fields: list[str], config: RcConfig, section: str) -> dict[str, tuple[str, str]]:
        """``{merged name: (leastsig field, mostsig field)}``; a name split in more parts is refused
        (2.10 drops all but one of them)."""
        parts: dict[str, dict[str, str]] = {}
        for field in fields:
            match = _SIG.match(field)
            if match:
                base, part = match.groups()
                if part in parts.setdefault(base, {}):
                    raise ConfigError(f"tcp_header: [{section}] {base!r} is split into more than one "
                                      f"{part}; only pairs are supported", *config.where("fields", [section]))
                parts[base][part] = field
        return {base: (both["leastsig"], both["mostsig"]) for base, both in parts.items() if len(both) == 2}

    def shown(self, named: dict[str, Any], pairs: dict[str, tuple[str, str]]) -> dict[str, Any]:
        """Unpacked values as written: pairs merged (in the place of the first), enums, elements, Time."""
        merged_from = {field: base for base, pair in pairs.items() for field in pair}
        shown: dict[str, Any] = {}
        for name, value in named.items():
            base = merged_from.get(name)
            if base is not None:
                if base not in shown:
                    least, most = (named.get(field, 0) for field in pairs[base])
                    shown[base] = most << 8 | least
                continue
            shown[name] = self._readable(name, value)
        return shown

    def packed(self, shown: dict[str, Any], pairs: dict[str, tuple[str, str]]) -> dict[str, Any]:
        """Written values back to what is packed: the reverse of ``shown``."""
        named: dict[str, Any] = {}
        for name, value in shown.items():
            if name in pairs and isinstance(value, int):
                least, most = pairs[name]
                named[least], named[most] = value & 0xFF, value >> 8
            else:
                named[name] = self._raw(name, value)
        return named

    def _readable(self, name: str, value: Any) -> Any:
        names = self.enums.get(name.lower())
        if names and isinstance(value, int) and 0 <= value < len(names):
            return names[value]
        elements = self.elements.get(name.lower())
        if elements and isinstance(value, list):
            return [dict(zip(elements, item)) if isinstance(item, tuple) else item for item in value]
        if name == TIME and isinstance(value, int):
            return datetime.datetime.fromtimestamp(value).isoformat()
        return value

    def _raw(self, name: str, value: Any) -> Any:
        names = self.enums.get(name.lower())
        if names and isinstance(value, str) and value in names:
            return names.index(value)
        elements = self.elements.get(name.lower())
        if elements and isinstance(value, list):
            return [tuple(item.get(key) for key in elements) if isinstance(item, dict) else item for item in value]
        if name == TIME and isinstance(value, str):
            try:
                return int(datetime.datetime.fromisoformat(value).timestamp())
            except ValueError:
                return value
        return value
