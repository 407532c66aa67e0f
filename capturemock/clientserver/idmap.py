"""ID mapping (§5.7): recorded IDs stand for the live ones a replay meets.

Replaying as the server (``id_pattern_client``): the ID in a live request and the one in the recorded
request it matched are paired, and responses are rewritten to carry the live ID. Replaying as the
client (``replay_for_server``, ``id_pattern_server``): IDs in live responses are paired in order with
the IDs of the recorded responses, and later recorded requests are rewritten. Either way the pairs are
kept in ``id_alterations.rc`` in the current directory, as alteration sections.
"""
from __future__ import annotations

import re
import threading

from ..errors import ConfigError

TYPE_CHECKING = False  # typing is not imported at run time: ~20 M instructions of the HTTP server's start-up
if TYPE_CHECKING:
    from typing import Iterable, Optional

ID_ALTERATIONS_RC_FILE = "id_alterations.rc"


def compile_pattern(pattern: str, key: str) -> re.Pattern:
    try:
        return re.compile(pattern, re.DOTALL)
    except re.error as err:
        raise ConfigError(f"[general] {key} = {pattern!r}: {err}") from None


def find_id(pattern: re.Pattern, text: str) -> Optional[str]:
    """The ID at the start of ``text``: the last non-empty group, or the whole match."""
    match = pattern.match(text)
    if match is None:
        return None
    groups = [group for group in match.groups() if group]
    return groups[-1] if groups else match.group(0)


class IdMap:
    """Recorded ID -> live ID, in the order the pairs were found."""

    def __init__(self, path: str = ID_ALTERATIONS_RC_FILE):
        self.path = path
        self.pairs: dict[str, str] = {}
        self._lock = threading.Lock()

    def add(self, recorded: Optional[str], live: Optional[str]) -> None:
        """Pair two IDs unless the recorded one is paired already; the file always holds every pair."""
        if not recorded or not live:
            return
        with self._lock:
            if recorded in self.pairs:
                return
            self.pairs[recorded] = live
            self.save()

    def to_live(self, text: str) -> str:
        """Recorded IDs replaced by their live IDs (whole IDs only: ``s-1`` is not part of ``s-12``)."""
        for recorded, live in self.pairs.items():
            text = _whole(recorded).sub(live.replace("\\", "\\\\"), text)
        return text

    def save(self) -> None:
        with open(self.path, "w", encoding="utf-8") as handle:
            handle.write(alterations_text(self.pairs.items()))


class ResponseIds:
    """``replay_for_server``: each new ID in a live response is paired with the next recorded one."""

    def __init__(self, pattern: re.Pattern, recorded_responses: Iterable[str], ids: IdMap):
        self.pattern = pattern
        found = (find_id(pattern, text) for text in recorded_responses)
        self._recorded = iter(dict.fromkeys(identifier for identifier in found if identifier))
        self._live: set[str] = set()
        self.ids = ids

    def learn(self, live_response: str) -> None:
        live = find_id(self.pattern, live_response)
        if live and live not in self._live:
            self._live.add(live)
            self.ids.add(next(self._recorded, None), live)


def alterations_text(pairs: Iterable[tuple[str, str]]) -> str:
    pairs = list(pairs)
    sections = "".join(f"\n[{recorded}]\nmatch_pattern = {recorded}\nreplacement = {live}\n"
                       for recorded, live in pairs)
    return f"[general]\nalterations = {','.join(recorded for recorded, _ in pairs)}\n{sections}"


def _whole(identifier: str) -> re.Pattern:
    before = r"(?<!\w)" if identifier[:1].isalnum() or identifier[:1] == "_" else ""
    after = r"(?!\w)" if identifier[-1:].isalnum() or identifier[-1:] == "_" else ""
    return re.compile(f"{before}{re.escape(identifier)}{after}")
