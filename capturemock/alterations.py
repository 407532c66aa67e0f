"""Alterations (§3.4): regex rewrites of recorded text, configured in rc sections.

``[general] alterations = a, b`` names sections holding ``match_pattern`` and ``replacement``. They
are applied last-listed first. A replacement starting with ``$`` turns each distinct matched value
into a variable (``$name``, ``$name_2``, ...) that is remembered for the whole process.
"""
from __future__ import annotations

import os

from .config import RcConfig
from .errors import ConfigError

TYPE_CHECKING = False  # typing is not imported at run time: it costs every intercepted process ~3 ms
if TYPE_CHECKING:
    import re
    from typing import Optional, Sequence


class Alterations:
    """The alteration rules of one configuration, compiled on first use."""

    def __init__(self, config: RcConfig, *, server_address: Optional[str] = None):
        self.config = config
        self.server_address = server_address
        self._rules: dict[str, tuple[re.Pattern, str]] = {}
        self._lists: dict[tuple[str, ...], list[str]] = {}
        self.variables: dict[str, dict[str, str]] = {}  # variable name -> matched value -> $name_N

    def names(self, sections: Sequence[str]) -> list[str]:
        """The alteration sections that apply to traffic looked up in ``sections``, in listed order."""
        key = tuple(sections)
        names = self._lists.get(key)
        if names is None:
            names = self._lists[key] = self.config.getlist("alterations", sections)
        return names

    def apply(self, text: str, sections: Sequence[str]) -> str:
        for name in reversed(self.names(sections)):
            text = self._apply_rule(name, text)
        return text

    def check(self, sections: Sequence[str]) -> None:
        """Compile now every rule that applies to ``sections``, so that a broken one stops a server at
        start-up instead of failing each request that would use it."""
        for name in self.names(sections):
            self._rule(name)

    def restore_variables(self, text: str) -> str:
        """Translate ``$name_N`` variables back to the values they stood for (the only reverse use)."""
        for values in self.variables.values():
            # longest names first so $id_10 is not mistaken for $id_1 followed by '0'
            for value, variable in sorted(values.items(), key=lambda pair: -len(pair[1])):
                text = text.replace(variable, value)
        return text

    def _apply_rule(self, name: str, text: str) -> str:
        import re  # here, not at the top: a process without alterations never needs it (~4 ms at start-up)

        pattern, replacement = self._rule(name)
        if replacement.startswith("$"):
            variable = replacement[1:]
            return pattern.sub(lambda match: self._variable(variable, match.group(0)), text)
        try:
            return pattern.sub(replacement, text)
        except (re.error, IndexError) as err:
            raise ConfigError(f"[{name}] replacement {replacement!r}: {err}", self._where()) from None

    def _variable(self, name: str, value: str) -> str:
        known = self.variables.setdefault(name, {})
        if value not in known:
            known[value] = f"${name}" if not known else f"${name}_{len(known) + 1}"
        return known[value]

    def _rule(self, name: str) -> tuple[re.Pattern, str]:
        import re

        rule = self._rules.get(name)
        if rule is None:
            pattern_text = self.config.get("match_pattern", [name])
            if pattern_text is None:
                raise ConfigError(f"alteration [{name}] has no match_pattern", self._where())
            replacement = self.config.get("replacement", [name], "") or ""
            if self.server_address:
                port = self.server_address.rsplit(":", 1)[-1]
                replacement = replacement.replace("${CAPTUREMOCK_SERVER}", self.server_address)
                replacement = replacement.replace("${CAPTUREMOCK_PORT}", port)
            try:
                pattern = re.compile(os.path.expandvars(pattern_text))
            except re.error as err:
                raise ConfigError(f"alteration [{name}] match_pattern {pattern_text!r}: {err}",
                                  self._where()) from None
            rule = self._rules[name] = (pattern, replacement)
        return rule

    def _where(self) -> Optional[str]:
        return ",".join(self.config.files) or None
