"""Rendering the side-by-side table (Markdown, so it can be pasted into bench/README.md as it is).

A workload that failed, or gave wrong answers (its figure would mean nothing), gets a short word in
its cell and its full message in the notes under the table.
"""
from __future__ import annotations

import re
from typing import Any, Optional

from plan import Row

# ours failing with one of these means the feature is not there yet, rather than broken
NOT_BUILT = re.compile(r"not (built|supported)|No module named 'capturemock|has no attribute")


def number(value: float, unit: str) -> str:
    digits = 2 if value < 10 else 1 if value < 1000 else 0
    return f"{value:.{digits}f} {unit}"


def problem(outcome: dict[str, Any]) -> Optional[str]:
    """Why a job's figures are missing or unusable, or None."""
    if "error" in outcome:
        return outcome["error"]
    if outcome["result"].get("wrong"):
        return f"{outcome['result']['wrong']} wrong answers, first: {outcome['result']['first_wrong']}"
    return None


def cell(outcome: Optional[dict[str, Any]], row: Row, is_ours: bool) -> str:
    """The figure, or a word saying why there is none (the reason goes to the notes)."""
    if outcome is None:
        return "not run"
    if "skipped" in outcome:
        return f"skipped ({outcome['skipped']})"
    trouble = problem(outcome)
    if trouble:
        return "not built yet (see notes)" if is_ours and NOT_BUILT.search(trouble) else "failed (see notes)"
    value = outcome["result"].get(row.metric)
    return "—" if value is None else number(value, row.unit)


TARGET_BOUND = re.compile(r"≤ ([0-9.]+)")


def figure(outcome: Optional[dict[str, Any]], metric: str) -> Optional[float]:
    """A usable figure of a job, or None."""
    if outcome is None or "result" not in outcome or problem(outcome):
        return None
    return outcome["result"].get(metric)


def bound(row: Row, ours: dict[str, dict[str, Any]]) -> tuple[Optional[float], Optional[float], str]:
    """The row's target as a number, the same scaled to this run, and the target cell's text. A target the
    spec set against a baseline it names is also given scaled to that baseline as measured now, since a
    slower machine slows both alike; other targets are not scaled (the scaled figure is the target)."""
    found = TARGET_BOUND.search(row.target)
    if not found:
        return None, None, row.target
    limit = float(found.group(1))
    measured = figure(ours.get(row.baseline[0]), row.baseline[1]) if row.baseline else None
    if measured is None:
        return limit, limit, row.target
    scaled = limit * measured / row.baseline[2]
    return limit, scaled, f"{row.target}; ≤ {number(scaled, row.unit)} with this run's baseline"


def met(value: Optional[float], limit: Optional[float], scaled: Optional[float]) -> str:
    """"yes" within the target as written, "scaled" only within the target scaled to this run's baseline."""
    if value is None or limit is None:
        return ""
    return "yes" if value <= limit else "scaled" if value <= scaled else "NO"


def ratio(ours: Optional[dict[str, Any]], original: Optional[dict[str, Any]], metric: str) -> str:
    try:
        if problem(ours) or problem(original):
            return ""
        mine, theirs = ours["result"][metric], original["result"][metric]
    except (KeyError, TypeError):
        return ""
    return f"{mine / theirs:.3g}" if theirs else ""


def notes(results: dict[str, dict[str, dict[str, Any]]]) -> list[str]:
    lines = []
    for implementation, jobs in results.items():
        for job, outcome in jobs.items():
            trouble = "skipped" not in outcome and problem(outcome)
            if trouble:
                lines.append(f"- {implementation}, {job}: {trouble}")
    return lines


def render(rows: list[Row], results: dict[str, dict[str, dict[str, Any]]]) -> str:
    """`results[implementation][job]` is {"result": {...}}, {"error": text} or {"skipped": text}."""
    ours, original = results.get("ours", {}), results.get("original", {})
    lines = ["| workload | original 2.10.0 | ours | ours/original | target | met |", "|---|---|---|---|---|---|"]
    for row in rows:
        if row.job not in ours and row.job not in original:
            continue  # not measured in this run (--only)
        limit, scaled, target = bound(row, ours)
        lines.append(f"| {row.label} | {cell(original.get(row.job), row, False)} | "
                     f"{cell(ours.get(row.job), row, True)} | "
                     f"{ratio(ours.get(row.job), original.get(row.job), row.metric)} | {target} | "
                     f"{met(figure(ours.get(row.job), row.metric), limit, scaled)} |")
    trouble = notes(results)
    return "\n".join(lines + (["", "Notes:", *trouble] if trouble else []))
