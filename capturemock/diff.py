"""Readable change reports: what a re-record changed, interaction by interaction.

An *interaction* is a top-level request and everything recorded until the next one (its responses,
callbacks, file edits). Two mock files are aligned on their requests; the report lists requests
added and removed, and for requests present in both, responses that changed.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Iterable, Sequence

from .mockfile import Item, escape_output, read


@dataclass(frozen=True)
class Interaction:
    request: str
    responses: tuple[str, ...]


@dataclass(frozen=True)
class Change:
    kind: str  # "added", "removed", "changed"
    request: str
    old_responses: tuple[str, ...] = ()
    new_responses: tuple[str, ...] = ()
    old_request: str = ""  # for a changed request (same function or program, other arguments)


def interactions(items: Iterable[Item]) -> list[Interaction]:
    """Group items into top-level interactions; items before the first request belong to none."""
    result: list[Interaction] = []
    request = None
    responses: list[str] = []
    for item in items:
        if item.is_request and item.level == 0:
            if request is not None:
                result.append(Interaction(request, tuple(responses)))
            request, responses = item.description, []
        elif request is not None:
            responses.append(_shown(item))
    if request is not None:
        result.append(Interaction(request, tuple(responses)))
    return result


def _shown(item: Item) -> str:
    """A response as its mock file shows it: command output escaped as written (a missing final newline
    or a byte that is not text is no character a report can print)."""
    if item.type in ("OUT", "ERR"):
        return f"{item.prefix}{item.type}:{escape_output(item.text)}"
    return item.description


def compare(old: Sequence[Interaction], new: Sequence[Interaction]) -> list[Change]:
    """Align the two transcripts on their requests (in order) and describe each difference."""
    changes: list[Change] = []
    matcher = difflib.SequenceMatcher(None, [i.request for i in old], [i.request for i in new], autojunk=False)
    for tag, old_start, old_end, new_start, new_end in matcher.get_opcodes():
        if tag == "equal":
            for before, after in zip(old[old_start:old_end], new[new_start:new_end]):
                if before.responses != after.responses:
                    changes.append(Change("changed", after.request, before.responses, after.responses))
            continue
        removed, added = list(old[old_start:old_end]), list(new[new_start:new_end])
        while removed and added and _head(removed[0].request) == _head(added[0].request):
            before, after = removed.pop(0), added.pop(0)  # the same call with other arguments
            changes.append(Change("changed", after.request, before.responses, after.responses, before.request))
        changes.extend(Change("removed", i.request, i.responses) for i in removed)
        changes.extend(Change("added", i.request, (), i.responses) for i in added)
    return changes


def _head(request: str) -> str:
    """What a request calls: a function up to its arguments (``<-PYT:weather.get``), a program's name
    (``<-CMD:git``); anything else (an import, an attribute read) is only itself."""
    if "(" in request or request.startswith("<-CMD:"):
        return re.split(r"[\s(]", request, maxsplit=1)[0]
    return request


def report(old_path: str, new_path: str) -> tuple[str, bool]:
    """The text report comparing two mock files, and whether they differ at all."""
    old, new = interactions(read(old_path)), interactions(read(new_path))
    changes = compare(old, new)
    lines = [f"capturemock diff {old_path} {new_path}"]
    for change in changes:
        lines.append(f"  {change.kind:<8} {_first_line(change.request)}")
        if change.old_request:
            lines.append(f"           (was {_first_line(change.old_request)})")
        if change.kind == "changed":
            delta = difflib.ndiff(_lines(change.old_responses), _lines(change.new_responses))
            lines.extend(f"           {line}" for line in delta if line[:1] in "-+")
    counts = {kind: sum(change.kind == kind for change in changes) for kind in ("changed", "added", "removed")}
    unchanged = len(new) - counts["changed"] - counts["added"]
    lines.append(f"{len(new)} interactions now: {counts['changed']} changed, {counts['added']} added, "
                 f"{counts['removed']} removed, {unchanged} unchanged")
    return "\n".join(lines) + "\n", bool(changes)


def _lines(responses: tuple[str, ...]) -> list[str]:
    return [line for response in responses for line in response.split("\n")]


def _first_line(text: str) -> str:
    first, _, rest = text.partition("\n")
    return first + (" ..." if rest else "")
