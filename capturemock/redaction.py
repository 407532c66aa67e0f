"""Redaction (issue #13): secrets replaced by ``<redacted>`` before traffic reaches a mock file.

``[general] redact`` lists what is a secret: names (an HTTP header, a query or form parameter, a JSON or
dict field, a Python keyword argument, an environment variable), ``defaults`` for the built-in names, and
``re:`` regexes. A name redacts the value written after it, in any family's text:

    --HEA:Authorization=Bearer <redacted>       a recorded HTTP header (the auth scheme is kept)
    GET /items?token=<redacted>&page=2          ``name=value``: query, form, keyword, env, option
    {"password": "<redacted>"}                  ``"name": value``: JSON, a Python dict
    curl -H "Authorization: Bearer <redacted>"  ``name: value`` (to the end of the line or quote)

Names match whole words, case-insensitively: ``token`` redacts ``X-Auth-Token`` and ``--token``, not
``access_token``. A regex redacts each match, or only its groups if it has any.

The rule is applied where alterations are (§3.4): to what is recorded and to the live request replay
looks up, so a request carrying the real secret finds its redacted recording. It is idempotent (a
redacted text redacts to itself), which is what lets replay match, and ``capturemock redact`` rewrite a
recorded file to the text a redacting recording would have written. A replayed answer gives the
placeholder where the secret was.

Unset, nothing here is built and no text is touched: the per-call path pays one ``None`` test.
"""
from __future__ import annotations

import _thread  # not threading (start-up: see session)
import sys

from .config import GENERAL, RcConfig
from .errors import ConfigError

TYPE_CHECKING = False  # typing is not imported at run time: the traffic server's start-up counts
if TYPE_CHECKING:
    import re
    from typing import Callable, Iterator, Optional

PLACEHOLDER = "<redacted>"
DEFAULTS = "defaults"
REGEX = "re:"
DEFAULT_NAMES = ("Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie", "password", "passwd", "token",
                 "access_token", "refresh_token", "id_token", "api_key", "apikey", "secret", "client_secret")
_NAME = r"[\w-]+"  # patterns are compiled when a rule is built: importing this module costs nothing
# an auth scheme before the credentials: kept, so the mock still says how the client authenticated
_SCHEME = r"(?:(?:Bearer|Basic|Digest|Token|Bot)[ \t]+)?"
_QUOTED_VALUE = r"(?:\\.|(?!(?P=q))[^\\\n])+(?P=q)"  # the rest of a quoted value, its closing quote included


def _forms(names: str) -> list[tuple[re.Pattern, Callable[[re.Match], str]]]:
    """The places a value follows a name, each with how the matched text is written redacted.

    ``head`` is kept; the value after it becomes the placeholder (inside its quotes when quoted)."""
    import re  # ``re`` only where redaction is set: it costs every intercepted process ~4 ms at start-up

    def unquoted(match: re.Match) -> str:
        quote = match.group("q")
        return f"{match.group('head')}{PLACEHOLDER}{quote or ''}"

    def keyed(match: re.Match) -> str:
        quote = match.group("q")  # a bare value of a quoted key is quoted like the key: JSON or Python stays valid
        wrap = match.group("k") if quote is None else ""
        return f"{match.group('head')}{wrap}{PLACEHOLDER}{wrap or quote}"

    optional_quote = r"""(?:b?(?P<q>["']))?"""
    return [
        # a recorded header line: the whole value, spaces and ';' included (Cookie: a=1; b=2)
        (re.compile(rf"^(?P<head>--HEA:(?:{names})={_SCHEME})(?P<q>)[^\n]+", re.I | re.M), unquoted),
        # "name": value / 'name': value (JSON, Python dicts); a bare value ends at , } ] or a space
        (re.compile(rf"""(?P<head>(?P<k>["'])(?:{names})(?P=k)\s*:\s*{optional_quote})"""
                    rf"""(?(q){_QUOTED_VALUE}|[^\s,}}\]"']+)""", re.I), keyed),
        # name=value (query, form, keyword argument, env, --option=value; ``name = value``: a python assignment)
        (re.compile(rf"""(?P<head>(?<!\w)(?:{names})(?: = |=){optional_quote}{_SCHEME})"""
                    rf"""(?(q){_QUOTED_VALUE}|[^\s&'",;)}}\]]+)""", re.I), unquoted),
        # name: value, the name unquoted (a header given as text): to the end of the line or the quote
        (re.compile(rf"""(?P<head>(?<!\w)(?:{names}):[ \t]*{optional_quote}{_SCHEME})"""
                    rf"""(?(q){_QUOTED_VALUE}|[^'"\n]+)""", re.I), unquoted),
    ]


def _regex_form(pattern: re.Pattern) -> tuple[re.Pattern, Callable[[re.Match], str]]:
    """A ``re:`` entry: its groups are the secret, or the whole match if it has none."""
    def replace(match: re.Match) -> str:
        if not pattern.groups:
            return PLACEHOLDER
        pieces, at = [], match.start()
        for group in range(1, pattern.groups + 1):
            start, end = match.span(group)
            if start >= at:  # a group that took part and is not inside one already replaced
                pieces += [match.string[at:start], PLACEHOLDER]
                at = end
        pieces.append(match.string[at:match.end()])
        return "".join(pieces)
    return pattern, replace


def entries(value: str) -> Iterator[str]:
    """The entries of a ``redact`` value: comma-separated, except that a ``re:`` entry runs to the end
    of its line (a regex may hold commas): each regex goes on a line of its own."""
    for line in value.splitlines():
        rest = line.strip()
        while rest:
            if rest.startswith(REGEX):
                yield rest
                break
            entry, _, rest = rest.partition(",")
            rest = rest.strip()
            if entry.strip():
                yield entry.strip()


class Redactor:
    """The redaction rule of one configuration, compiled once per session. Recording and replay use
    ``redact`` (and ``attribute_value`` for Python attribute reads); ``capturemock redact`` counts."""

    def __init__(self, names: list[str], patterns: list[re.Pattern]):
        import re

        self.names = list(dict.fromkeys(name.lower() for name in names))
        alternation = "|".join(re.escape(name) for name in sorted(self.names, key=len, reverse=True))
        self._regex_forms = [_regex_form(pattern) for pattern in patterns]
        self._all_forms = (_forms(alternation) if self.names else []) + self._regex_forms
        self._attribute_names = re.compile(rf"(?:^|\.)(?:{alternation})$", re.I) if self.names else None
        self._likely_name = re.compile(_LIKELY_NAME, re.I)
        self._value_after_name = re.compile(_VALUE_AFTER_NAME, re.I)
        self._likely_value = re.compile("|".join(f"(?P<{group}>{pattern})"
                                                 for group, (_, pattern) in _LIKELY_VALUES.items()))

    @classmethod
    def from_config(cls, config: RcConfig) -> Optional[Redactor]:
        """The rule ``[general] redact`` asks for, or None when it is unset (nothing is redacted). A bad
        entry is a ConfigError naming the rc line."""
        value = config.setting(GENERAL, "redact")
        if not value or not value.strip():
            return None
        import re

        names: list[str] = []
        patterns: list[re.Pattern] = []
        for entry in entries(value):
            if entry.lower() == DEFAULTS:
                names += DEFAULT_NAMES
            elif entry.startswith(REGEX):
                try:
                    patterns.append(re.compile(entry[len(REGEX):]))
                except re.error as err:
                    raise ConfigError(f"redact: bad regex {entry[len(REGEX):]!r}: {err}",
                                      *config.where("redact", [GENERAL])) from None
            elif re.fullmatch(_NAME, entry):
                names.append(entry)
            else:
                raise ConfigError(f"redact: {entry!r} is neither a name (letters, digits, '_', '-'), "
                                  f"'{DEFAULTS}' nor a '{REGEX}' regex", *config.where("redact", [GENERAL]))
        return cls(names, patterns)

    def redact(self, text: str) -> str:
        """``text`` with every secret the rule knows replaced by the placeholder; the likely secrets
        left in it are warned about (once each)."""
        for pattern, replace in self._forms_for(text):
            text = pattern.sub(replace, text)
        self.warn_left_in(text)
        return text

    def redact_counted(self, text: str) -> tuple[str, int]:
        """``redact`` for ``capturemock redact``: no warning, and how many secrets were replaced (a
        placeholder left as it was is none)."""
        count = 0

        def counted(replace: Callable[[re.Match], str]) -> Callable[[re.Match], str]:
            def replace_counting(match: re.Match) -> str:
                nonlocal count
                new = replace(match)
                count += new != match.group(0)
                return new
            return replace_counting

        for pattern, replace in self._forms_for(text):
            text = pattern.sub(counted(replace), text)
        return text, count

    def _forms_for(self, text: str) -> list[tuple[re.Pattern, Callable[[re.Match], str]]]:
        """Most texts name nothing redacted and skip the name forms: substring tests are ten times
        cheaper than one search of a case-insensitive alternation."""
        lowered = text.lower()
        return self._all_forms if any(name in lowered for name in self.names) else self._regex_forms

    def warn_left_in(self, text: str) -> None:
        """A cheap look for secrets the rule missed, in text about to be recorded: a value after a name
        that looks secret (``db_password=...``) or a value that looks like a credential (``Bearer ...``).
        One stderr line per name or kind, the first time it is seen in the process."""
        lowered = text.lower()
        for found in self._likely_name.finditer(text) if any(word in lowered for word in _LIKELY_WORDS) else ():
            name, end = _whole_name(text, found.start(), found.end())
            value = self._value_after_name.match(text, end)
            if value is not None and value.group("value").lower() not in _NOT_SECRETS \
                    and not value.group("value").startswith(PLACEHOLDER):
                _warn(name.lower(), f"'{name}' looks like a secret and is recorded unredacted: add it to "
                                    "[general] redact in the rc file")
        for found in self._likely_value.finditer(text):
            kind = _LIKELY_VALUES[found.lastgroup][0]
            _warn(kind, f"{kind} is recorded unredacted: add the name it is sent under, or a re: pattern "
                        "matching it, to [general] redact in the rc file")

    def attribute_value(self, attribute: str, value: str) -> str:
        """A Python attribute's recorded value: a string read from an attribute with a redacted name
        (``settings.api_token``) is a secret whole, whatever it looks like."""
        import re

        names = self._attribute_names
        if names is not None and names.search(attribute) and re.fullmatch(_STRING, value, re.S):
            return _placeholder_string(value)
        return value


_STRING = r"""b?(["']).*\1"""


def _placeholder_string(value: str) -> str:
    """The string literal ``value`` with the placeholder as its content, quotes and prefix kept."""
    opening = 2 if value.startswith("b") else 1
    return f"{value[:opening]}{PLACEHOLDER}{value[-1]}"


# -- warnings about likely secrets left in (only where redaction is configured) ----------------------------
_LIKELY_NAME = r"passw(?:or)?d|secret|token|api[_-]?key|authorization|cookie|credential|private[_-]?key"
_LIKELY_WORDS = ("passw", "secret", "token", "key", "authorization", "cookie", "credential")  # one is in each
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
_VALUE_AFTER_NAME = rf"""["']?[ \t]*[=:]\s*(?:b?["'])?{_SCHEME}(?P<value>[^\s"'&,;)}}\]]*)"""
_NOT_SECRETS = frozenset({"", "none", "null", "true", "false", "undefined"})
_LIKELY_VALUES = {  # regex group: (what it is, pattern)
    "bearer": ("a bearer token", r"\bBearer[ \t]+[A-Za-z0-9._~+/=-]{16,}"),
    "private_key": ("a private key", r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "aws": ("an AWS access key id", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "github": ("a GitHub token", r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
}
_warned: set[str] = set()  # per process: a server session builds the rule for each family
_warned_lock = _thread.allocate_lock()  # servers record from several threads


def _warn(key: str, message: str) -> None:
    with _warned_lock:
        if key in _warned:
            return
        _warned.add(key)
    sys.stderr.write(f"capturemock: WARNING: {message}\n")
    sys.stderr.flush()


def _whole_name(text: str, start: int, end: int) -> tuple[str, int]:
    """The whole name around a likely-secret word (``db_password`` around ``password``), and its end."""
    while start > 0 and text[start - 1] in _NAME_CHARS:
        start -= 1
    while end < len(text) and text[end] in _NAME_CHARS:
        end += 1
    return text[start:end].strip("-"), end  # --api-key=... names 'api-key'
