"""The re-record report, as text (for the console and a nightly mail) and as an HTML page.

Mock files hold whatever the real world answered, so every piece of their text is escaped in the page.
"""
from __future__ import annotations

import html
from dataclasses import dataclass

from .reportlink import section_id
from .runresults import TestOutcome


@dataclass(frozen=True)
class RunFacts:
    suite: str
    app: str
    run_dir: str
    texttest_summary: str  # TextTest's own last line, "Tests Run: ..."; empty if it printed none
    saved: bool


def headline(facts: RunFacts, outcomes: list[TestOutcome]) -> str:
    changed = [outcome.path for outcome in outcomes if outcome.mock_changes]
    text = f"capturemock rerecord: {len(outcomes)} tests, mocks changed in {len(changed)}"
    return text + (f": {', '.join(changed)}" if changed else "")


def _verdict(outcome: TestOutcome) -> str:
    if not outcome.compared:
        return "not compared (TextTest could not run it; see its output)"
    return "mocks changed" if outcome.mock_changes else "other results changed"


def _closing(facts: RunFacts, outcomes: list[TestOutcome]) -> str:
    files = sum(len(outcome.changes) for outcome in outcomes)
    if not files:
        return "nothing changed: the stored results are up to date"
    if facts.saved:
        return f"saved into the suite: {files} changed results"
    return (f"left for review: {files} changed results; to save them: capturemock rerecord --save "
            f"--from-run {facts.run_dir} -d {facts.suite} -a {facts.app}")


def _reported(outcomes: list[TestOutcome]) -> list[TestOutcome]:
    return [outcome for outcome in outcomes if outcome.changes or not outcome.compared]


def text_report(facts: RunFacts, outcomes: list[TestOutcome]) -> str:
    lines = [headline(facts, outcomes), f"TextTest: {facts.texttest_summary or '(no summary)'}",
             f"run directory: {facts.run_dir}"]
    for outcome in _reported(outcomes):
        lines.append(f"\n{outcome.path}: {_verdict(outcome)}")
        for change in outcome.changes:
            lines.append(f"  {change.name} {change.kind}")
            lines.extend(f"    {line}" for line in change.summary.splitlines())
    lines += ["", _closing(facts, outcomes)]
    return "\n".join(lines) + "\n"


PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif}} pre{{background:#f4f4f4;padding:.5em}} .mock{{color:#a40}}</style>
</head><body>
<h1>{title}</h1>
<p>TextTest: {texttest}<br>run directory: <code>{run_dir}</code></p>
{sections}<p>{closing}</p>
</body></html>
"""


def html_report(facts: RunFacts, outcomes: list[TestOutcome]) -> str:
    sections = []
    for outcome in _reported(outcomes):
        items = []
        for change in outcome.changes:
            css = ' class="mock"' if change.is_mock else ""
            summary = f"<pre>{html.escape(change.summary)}</pre>" if change.summary else ""
            items.append(f"<li><span{css}>{html.escape(change.name)}</span> {change.kind}{summary}</li>")
        sections.append(f'<h2 id="{html.escape(section_id(outcome.path))}">'
                        f"{html.escape(outcome.path)}: {html.escape(_verdict(outcome))}</h2>\n"
                        f"<ul>{''.join(items)}</ul>\n")
    return PAGE.format(title=html.escape(headline(facts, outcomes)), texttest=html.escape(facts.texttest_summary),
                       run_dir=html.escape(facts.run_dir), sections="".join(sections),
                       closing=html.escape(_closing(facts, outcomes)))
