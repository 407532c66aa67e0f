"""Why replay answered a request as it did, or refused it: one text for every channel.

Best-match warnings and errors, exact-matching errors, sealed replay and the decorator's and pytest
plugin's transcript mismatch all say it the same way: where in the mock file, which recorded requests
came closest, and how they differ word by word (``[-recorded-]{+replayed+}``, as ``git diff
--word-diff`` writes it). Only replay's error paths and end-of-run reports import this module.
"""
from __future__ import annotations

import difflib
import re
from typing import Any, Optional

from .bestmatch import similarity, words
from .errors import CaptureMockError
from .mockfile import Item, read

_TOKENS = re.compile(r"([/()\\\s]+)")  # §5.4's word separators, kept so that the text reads back whole
_SHORTLIST = 50  # candidates scored in full (difflib) after a cheap count of shared words
CLOSEST = 3
_IMPORT = "<-PYT:import "


def word_diff(recorded: str, replayed: str) -> str:
    """``replayed`` against ``recorded``: removed words as ``[-...-]``, added ones as ``{+...+}``."""
    old, new = _TOKENS.split(recorded), _TOKENS.split(replayed)
    parts = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, old_from, old_to, new_from, new_to in matcher.get_opcodes():
        if tag == "equal":
            parts.append("".join(old[old_from:old_to]))
            continue
        if old_to > old_from:
            parts.append(f"[-{''.join(old[old_from:old_to])}-]")
        if new_to > new_from:
            parts.append(f"{{+{''.join(new[new_from:new_to])}+}}")
    return "".join(parts)


def closest(index: Any, request: str, count: int = CLOSEST) -> list[tuple[str, str]]:
    """(location, key) of the ``count`` recorded requests of ``request``'s type that §5.4 ranks first."""
    wanted = set(words(request))
    kind = request.startswith(_IMPORT)  # a python import is never the answer to a call, nor the reverse
    candidates = [(len(wanted.intersection(words(key))), key_id, key) for key_id, key in enumerate(index.keys())
                  if key[2:5] == request[2:5] and key.startswith(_IMPORT) == kind]
    candidates.sort(key=lambda candidate: (-candidate[0], candidate[1]))
    scored = sorted(candidates[:_SHORTLIST], key=lambda candidate: (similarity(candidate[2], request), -candidate[1]),
                    reverse=True)
    return [(index.location(key_id), key) for _, key_id, key in scored[:count]]


def miss(index: Any, request: str) -> str:
    """The closest recorded requests to ``request``, each with where it is and how it differs."""
    found = closest(index, request)
    if not found:
        return f"nothing of type {request[:5]} is recorded in {index.path or 'the replay file'}"
    lines = ["closest recorded requests:"]
    for location, key in found:
        lines += [f"  {location}: {key}", f"    {word_diff(key, request)}"]
    return "\n".join(lines)


def best_match_error(index: Any, request: str) -> str:
    """``on_best_match = error``: the request that had no exact match, and what came closest."""
    return (f"'{request}' is not recorded in {index.path or 'the replay file'} and [general] "
            f"on_best_match = error forbids answering it with another request's answer\n{miss(index, request)}")


def best_match_warning(request: str, location: Optional[str], recorded: Optional[str]) -> str:
    """``on_best_match = warn``: one line per request answered by another request's answer."""
    if recorded is None:
        return f"capturemock: no match: '{request}' was answered with nothing (no recorded request resembles it)"
    return f"capturemock: best match: '{request}' was answered by {location}: {recorded}"


def unused(location: str, key: str) -> str:
    """``report_unused = true``: one line per recorded request replay never used."""
    return f"capturemock: unused: {location}: {key} was recorded but never replayed"


def sealed(what: str, path: Optional[str], refused: str = "run") -> str:
    """``sealed = true``: what replay refused to do for real (run a program or call, send a request)."""
    return (f"sealed replay: '{what}' is not recorded in {path or 'the replay file'}, so it was not {refused} "
            "([general] sealed = true)")


def first_difference(mock_path: str, replayed_path: str) -> str:
    """Where a replayed transcript first departs from its mock: both files named, the interaction and
    its mock line, the two items and their word difference."""
    head = f"mock file: {mock_path} (replayed transcript: {replayed_path})"
    try:
        recorded, replayed = read(mock_path), read(replayed_path)
    except CaptureMockError as err:
        return f"{head}\n{err}"
    interaction, request = 0, None
    for position in range(max(len(recorded), len(replayed))):
        old = recorded[position] if position < len(recorded) else None
        new = replayed[position] if position < len(replayed) else None
        if old is not None and new is not None and old.description == new.description:
            if old.is_request and old.level == 0:
                interaction, request = interaction + 1, old
            continue
        return "\n".join([head, *_difference(mock_path, interaction, request, old, new)])
    return head


def _difference(mock_path: str, interaction: int, request: Optional[Item], old: Optional[Item],
                new: Optional[Item]) -> list[str]:
    new_interaction = (old is None or old.is_request and old.level == 0) or (new is not None and new.is_request
                                                                             and new.level == 0)
    number = interaction + 1 if new_interaction else interaction
    line = old.line if old is not None else None
    where = f"{mock_path}:{line}" if line else f"{mock_path} (end of file)"
    lines = [f"first difference, in interaction {number} ({where}):"]
    if request is not None and not new_interaction:
        lines.append(f"  request:  {request.description}")
    lines.append(f"  recorded: {old.description if old is not None else '(nothing more)'}")
    lines.append(f"  replayed: {new.description if new is not None else '(nothing more)'}")
    if old is not None and new is not None:
        lines.append(f"  words:    {word_diff(old.description, new.description)}")
    return lines
