"""Compares our runs with the original's, field by field, and explains differences only by name.

Each known difference is one row of ``DELIBERATE`` (listed in the README's "Differences" section) or
``KNOWN_BUGS`` (ours is wrong; to be fixed). A row is a rewrite that takes the two texts of one field
and removes exactly that difference (for instance turning our escaped value back into 2.10's form);
a field only counts as explained when the texts are equal after the rewrites, and the names of the
rows that changed something are reported. So a second, unknown difference in the same field still
fails, and nothing is ignored without a name.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .generator import Scenario
from .masker import mask
from .runner import Implementation, Outcome

# (what is compared, our run, the original's run): ours must behave like the original, and the
# original must read our mock files as it reads its own
COMPARISONS = [
    ("record", "ours-record", "original-record"),
    ("replay", "ours-replays-ours", "original-replays-original"),
    ("ours replaying the original's mock", "ours-replays-original", "original-replays-original"),
    ("the original replaying our mock", "original-replays-ours", "original-replays-original"),
    ("mixed", "ours-mixed", "original-mixed"),
]
FIELDS = ("stdout", "stderr", "status", "mock", "edits")


@dataclass
class Difference:
    """One field of one comparison whose masked texts differ."""

    comparison: str
    field: str
    ours: str
    original: str
    original_stderr: str  # context for rows that recognise a failure of the original in that run
    ours_status: str  # context for rows that recognise a hang of ours

    def render(self) -> str:
        diff = difflib.unified_diff(self.original.splitlines(), self.ours.splitlines(), "original", "ours",
                                    lineterm="", n=2)
        return f"--- {self.comparison} / {self.field} ---\n" + "\n".join(diff)


Rewrite = Callable[[Scenario, Difference, str, str], "tuple[str, str]"]  # (scenario, where, ours, original)


@dataclass(frozen=True)
class Known:
    """A named difference: ``rewrite`` removes it (and nothing else) from a pair of texts."""

    name: str
    reason: str
    rewrite: Rewrite


def program_status(scenario: Scenario, where: Difference, ours: str, original: str) -> tuple[str, str]:
    if where.field == "status" and scenario.kind == "cmdline" and original == "0":
        return original, original
    return ours, original


def original_failed(message: str, comparisons: tuple[str, ...]) -> Rewrite:
    """Where 2.10 fails with ``message`` and ours works, the whole run differs: take the original's texts."""
    def rewrite(scenario: Scenario, where: Difference, ours: str, original: str) -> tuple[str, str]:
        if where.comparison in comparisons and message in where.original_stderr:
            return original, original
        return ours, original
    return rewrite


ANY = tuple(comparison for comparison, _, _ in COMPARISONS)
UNPARSABLE = re.compile(r"^capturemock\.errors\.MockFileError: \S+ cannot parse value '(.*)': .*\n", re.MULTILINE)


EVAL_FRAME = '  File "<string>", line 1, in <module>\n'


def eval_frame(scenario: Scenario, where: Difference, ours: str, original: str) -> tuple[str, str]:
    """2.10 evals ``raise ...`` values, so a replayed uncaught exception's traceback shows that frame."""
    if where.field != "stderr":
        return ours, original
    return ours.replace(EVAL_FRAME, ""), original.replace(EVAL_FRAME, "")  # ours may hold 2.10's text by now


def unparsable_value(scenario: Scenario, where: Difference, ours: str, original: str) -> tuple[str, str]:
    """2.10 evals the value (SyntaxError from ``<string>``; the bad answer reaches the transcript first)."""
    if "SyntaxError" not in where.original_stderr:
        return ours, original
    if where.field == "stderr":
        match = UNPARSABLE.search(ours)
        if match:
            # the caret line under the value is masked (masker.CARETS)
            eval_error = f'  File "<string>", line 1\n    {match.group(1)}\nSyntaxError: invalid syntax\n'
            return ours.replace(match.group(0), ""), original.replace(eval_error, "")
    if where.field == "mock" and original.startswith(ours) and original[len(ours):].lstrip("\n").startswith("->RET:<"):
        return ours, ours
    return ours, original


def ignored_sigint(scenario: Scenario, where: Difference, ours: str, original: str) -> tuple[str, str]:
    """A background job of ``sh`` starts with SIGINT ignored: ours lets it be; 2.10's shim catches it anyway."""
    if "kill -INT" not in scenario.files.get("main.sh", ""):
        return ours, original
    ours = re.sub(r"started\nnot reached\n(tool\d+) status 0\n", r"started\n\1 status 130\n", ours)
    ours = re.sub(r"^main\.sh: \d+: kill: No such process\n\n?", "", ours, flags=re.MULTILINE)
    return ours.replace("->OUT:started\nnot reached", "->OUT:started\n->EXC:-2"), original


BARE_NAME_ERROR = re.compile(r"""  File "<string>", line 1, in <module>\nNameError: name '\w+' is not defined""")
DESCRIBED = re.compile(r"Instance\('[^']*', '(\w+)'\)")


def undescribed_instance(scenario: Scenario, where: Difference, ours: str, original: str) -> tuple[str, str]:
    """2.10 writes an object that intercepted code made of a class intercepted by name by its bare name, never
    described, so it cannot replay the mock (NameError evaluating it); ours writes ``Instance(...)``."""
    if BARE_NAME_ERROR.search(where.original_stderr):
        return original, original
    if where.field != "mock":
        return ours, original
    def bare_in_original(match: re.Match) -> str:
        name = match.group(1)
        never_described = f"'{name}')" not in original and re.search(rf"^->RET:{name}$", original, re.MULTILINE)
        return name if never_described else match.group(0)
    return DESCRIBED.sub(bare_in_original, ours), original


ITEM = re.compile(r"^(?:<-|->|--)[^\n]*\n(?:(?!<-|->|--)[^\n]*\n)*", re.MULTILINE)


def mixed_raise_by_name(scenario: Scenario, where: Difference, ours: str, original: str) -> tuple[str, str]:
    """In mixed mode 2.10 evaluates a replayed ``raise mod.Error('...')`` (``mod.Error`` intercepted by name) by
    constructing ``mod.Error`` through its interception: recorded as a new call, and the exception's own use as
    traffic on a new instance. Those items are left out of 2.10's transcript."""
    if where.comparison != "mixed" or where.field != "mock":
        return ours, original
    items = ITEM.findall(original if original.endswith("\n") else original + "\n")
    kept: list[str] = []
    made: set[str] = set()
    answer_dropped = False  # the request before was dropped: so is its answer
    for position, item in enumerate(items):
        if answer_dropped and item.startswith("->"):
            answer_dropped = False
            continue
        answer_dropped = False
        if item.startswith("<-PYT:") and position and items[position - 1] == f"->RET:raise {item[6:]}":
            made.update(DESCRIBED.findall("".join(items[position + 1:position + 2])))
            answer_dropped = True
        elif any(item.startswith((f"<-PYT:{name}.", f"<-PYT:{name}(")) for name in made):
            answer_dropped = True
        else:
            kept.append(item)
    rewritten = "".join(kept)
    return ours, rewritten if original.endswith("\n") else rewritten[:-1]


def first_callback_only(scenario: Scenario, where: Difference, ours: str, original: str) -> tuple[str, str]:
    """2.10 replays only the first callback invocation in the answer to a call: each later one is not made,
    and its recorded result is written as one more answer of the call (``->RET:20``). Ours in 2.10's form
    (callbacks that make no intercepted calls of their own, the only ones the generator writes)."""
    if where.comparison == "record" or where.field != "mock":
        return ours, original
    kept: list[str] = []
    invoked = skipping = False  # a callback was replayed in this answer; one after it is being left out
    for item in ITEM.findall(ours if ours.endswith("\n") else ours + "\n"):
        if item.startswith("<-PYT:"):
            invoked = skipping = False
        elif item.startswith("--->PYT:"):
            skipping, invoked = invoked, True
            if skipping:
                continue
        elif skipping and item.startswith("<---RET:"):
            item = "->RET:" + item[len("<---RET:"):]
        kept.append(item)
    rewritten = "".join(kept)
    return (rewritten if ours.endswith("\n") else rewritten[:-1]), original


NONE_PROXY = "<capturemock.pythonclient.PythonProxy object at 0xADDR>"
UNANSWERED_READ = re.compile(r"<-PYT:[\w.]+\n\Z")


def none_attribute(scenario: Scenario, where: Difference, ours: str, original: str) -> tuple[str, str]:
    """2.10 replays an attribute read recorded as None (a request with no answer) as a proxy object, printed
    ``<capturemock.pythonclient.PythonProxy object at 0x...>``, and leaves the read out of the new transcript."""
    if where.comparison == "record":
        return ours, original
    if where.field == "stdout":
        ours_lines, original_lines = ours.split("\n"), original.split("\n")
        if len(ours_lines) == len(original_lines):
            original = "\n".join(mine if theirs.replace(NONE_PROXY, "None") == mine else theirs
                                  for mine, theirs in zip(ours_lines, original_lines))
    elif where.field == "mock":
        items = ITEM.findall(ours if ours.endswith("\n") else ours + "\n")
        theirs = set(ITEM.findall(original if original.endswith("\n") else original + "\n"))
        kept = [item for position, item in enumerate(items)
                if not (UNANSWERED_READ.match(item) and item not in theirs
                        and not "".join(items[position + 1:position + 2]).startswith("->"))]
        rewritten = "".join(kept)
        ours = rewritten if ours.endswith("\n") else rewritten[:-1]
    return ours, original


def mixed_edits(scenario: Scenario, where: Difference, ours: str, original: str) -> tuple[str, str]:
    if where.comparison == "mixed" and where.field == "edits" and original == "":
        return original, original
    return ours, original


DELIBERATE = [
    Known("command-exit-status", "The capturemock command exits with the program's status; 2.10 always exits 0.",
          program_status),
    Known("ignored-sigint", "SIGINT sent to a program started in the background by sh (which starts it with SIGINT "
          "ignored): ours leaves it ignored, as it is without CaptureMock, and the program completes; 2.10's shim "
          "installs a handler anyway and records the program as killed (EXC:-2).", ignored_sigint),
    Known("mixed-replayed-edits", "A file edit replayed in mixed mode is stored again with the new record (its ->FIL "
          "line is in both transcripts); 2.10 leaves the new edits directory without it.", mixed_edits),
    Known("mixed-package-import", "In mixed mode 2.10 fails importing a sub-module that an intercepted package "
          "imports itself (internal ValueError 'list.remove(x)'); ours imports it and records the run.",
          original_failed("ValueError: list.remove(x): x not in list", ("mixed",))),
    Known("mixed-missing-mock", "Mixed mode with no mock file to replay (a record run that recorded nothing): 2.10 "
          "fails in sitecustomize (FileNotFoundError) and runs unintercepted; ours simply records, as the product "
          "spec asks (§3 Clean errors).", original_failed("FileNotFoundError: [Errno 2] No such file or directory",
                                                        ("mixed",))),
    Known("mixed-unrecorded-call", "In mixed mode 2.10 does not load a whole intercepted module whose import was "
          "replayed, so a call missing from the mock fails (AttributeError on None); ours loads it and records the "
          "call.", original_failed("'NoneType' object has no attribute", ("mixed",))),
    Known("iterator-len", "list() of an iterator from an intercepted module asks for __len__, which 2.10 records as "
          "an AttributeError and raises; ours offers only the special methods the object has, so list() works.",
          original_failed("object has no attribute '__len__'", ANY)),
    Known("unparsable-value", "A recorded value that is not Python (a default repr like <calc.Node object at 0x..>): "
          "2.10 evals it and fails with SyntaxError after writing it to the new transcript; ours refuses it with a "
          "MockFileError naming file and line (safe replay).", unparsable_value),
    Known("no-eval-frame", "A replayed exception nobody catches: 2.10's traceback has a frame "
          "'File \"<string>\", line 1' from evaluating the mock text; ours evaluates nothing (safe replay).",
          eval_frame),
    Known("undescribed-instance", "An object that intercepted code made of a class intercepted by name "
          "(``intercepts = mod.Class``) and that the application gets: 2.10 writes it by its bare name, never "
          "described, and then cannot replay the mock (NameError); ours writes Instance(...) with the same name.",
          undescribed_instance),
    Known("first-callback-only", "A replayed call whose answer invokes callbacks more than once: 2.10 calls only "
          "the first and writes the others' recorded results as answers of the call (a fault the product spec "
          "lists not to copy); ours calls each, as recorded.", first_callback_only),
    Known("none-attribute", "An attribute read recorded as None (no ->RET line): 2.10 replays it as a proxy object "
          "(printed as one, 'is None' false) and leaves the read out of the new transcript; ours answers None and "
          "writes the read, as recorded.", none_attribute),
    Known("mixed-raise-by-name", "Mixed mode replaying 'raise mod.Error(...)' of a class intercepted by name: 2.10 "
          "constructs the real class through its interception (a new recorded call, the exception's use then "
          "traffic on a new instance, whose reads may be answered from another's); ours raises the recorded "
          "exception, running no real code from mock text, as in replay.", mixed_raise_by_name),
]
KNOWN_BUGS: list[Known] = []


def outcome_text(outcome: Outcome, field: str) -> str:
    if field == "edits":
        return "".join(f"== {path}\n{text}" for path, text in outcome.edits.items())
    return getattr(outcome, field)


def interactions_sorted(text: str) -> str:
    """Concurrent commands may be recorded in either order: compare their interactions as a sorted list."""
    blocks = re.split(r"\n(?=<-)", text)
    return "\n".join(sorted(blocks))


# ``sh`` reports a background job killed by a signal ("Terminated") only when it reaps it in ``wait``: on a loaded
# machine the job's shim may still be starting when the signal comes, so the line comes and goes between runs
# (whether the job died of the signal stays compared: its status and the mock's ->EXC line)
JOB_REPORT = re.compile(r"^Terminated\n", re.MULTILINE)


def masked(scenario: Scenario, outcome: Outcome, field: str, root: str, impl: Implementation, repo: str) -> str:
    labels = [label for _, *pair in COMPARISONS for label in pair]
    paths = [(str(outcome.run_dir), "<RUN>"), (repo, "<REPO>"),
             (str(Path(impl.python).parent.parent), "<VENV>")]
    paths += [(f"{root}/mocks/{label}", "<MOCKS>/<LABEL>") for label in labels]
    paths.append((root, "<ROOT>"))
    text = mask(outcome_text(outcome, field), paths)
    if field == "stderr" and "kill -TERM" in scenario.files.get("main.sh", ""):
        text = JOB_REPORT.sub("", text)
    return interactions_sorted(text) if scenario.concurrent and field == "mock" else text


def compare(scenario: Scenario, outcomes: dict[str, Outcome], impls: dict[str, Implementation], root: str,
            repo: str) -> list[Difference]:
    """All differences between the runs paired in ``COMPARISONS``, after masking."""
    differences = []
    for comparison, ours_label, original_label in COMPARISONS:
        for field in FIELDS:
            ours = masked(scenario, outcomes[ours_label], field, root, impls[ours_label.split("-")[0]], repo)
            original = masked(scenario, outcomes[original_label], field, root, impls["original"], repo)
            if ours != original:
                stderr = masked(scenario, outcomes[original_label], "stderr", root, impls["original"], repo)
                differences.append(Difference(comparison, field, ours, original, stderr,
                                              outcomes[ours_label].status))
    return differences


def explain(scenario: Scenario, difference: Difference, table: list[Known]) -> list[str]:
    """Names of the rows of ``table`` that together remove ``difference``; empty if they do not."""
    ours, original, used = difference.ours, difference.original, []
    for known in table:
        new_ours, new_original = known.rewrite(scenario, difference, ours, original)
        if (new_ours, new_original) != (ours, original):
            used.append(known.name)
            ours, original = new_ours, new_original
    return used if ours == original else []
