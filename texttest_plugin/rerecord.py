"""``capturemock rerecord``: re-record a TextTest suite headless and report which mocks changed, and how.

TextTest 4.4.7 gives no headless way to re-record and approve in one run: batch mode ignores ``-o``,
and reconnecting to a batch run with ``-o`` deletes stored results. So this runs TextTest in batch mode
with ``-rectraffic`` (results stay in its run directory), reads what changed from the filtered
comparison files TextTest leaves there, writes the report beside them, and on request (``--save``, now
or later with ``--from-run``) copies exactly the changed results into the suite.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Optional

from .reportlink import REPORT_DIR_VARIABLE, REPORT_NAME
from .rerecordreport import RunFacts, html_report, text_report
from .runresults import FILE_EDITS, TestOutcome, collect, file_edits_name

TEXTTEST_LOG = "texttest-output.log"
# options rerecord sets itself: an interface, record mode, approval
OWN_OPTIONS = ("-b", "-con", "-g", "-gx", "-o", "-rectraffic", "-reconnect")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="capturemock rerecord", allow_abbrev=False,
        description="Re-record every selected test of a TextTest suite headless (batch mode, -rectraffic), "
                    "report per test which mocks changed, interaction by interaction, and save the changed "
                    "results into the suite or leave them for review. Other options go to TextTest "
                    "(e.g. -t NAME, -ts SUITE). Exit status 0: nothing changed, or every change saved; "
                    "1: changes left for review, or a test TextTest could not run; 2: no run at all.")
    parser.add_argument("-d", dest="suite", required=True, help="the suite directory (TextTest's -d)")
    parser.add_argument("-a", dest="app", required=True, help="the application (TextTest's -a)")
    parser.add_argument("--save", action="store_true", help="copy the changed results into the suite")
    parser.add_argument("--from-run", metavar="RUN_DIR",
                        help="report on (and with --save, save) a run made before instead of running TextTest")
    parser.add_argument("--report-dir", metavar="DIR", help="where to write the reports (default: the run directory)")
    parser.add_argument("--batch", default="nightly", help="TextTest batch session name (default: nightly)")
    parser.add_argument("--texttest", default=None, help="the texttest program (default: beside this Python)")
    return parser


def main(argv: Optional[list[str]] = None) -> int:
    parser = build_parser()
    args, texttest_options = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    clash = [option for option in texttest_options if option in OWN_OPTIONS]
    if clash:
        parser.error(f"{clash[0]} is set by rerecord itself")
    if args.from_run and texttest_options:
        parser.error(f"--from-run takes no TextTest options ({' '.join(texttest_options)})")
    suite = Path(args.suite).resolve()
    if args.from_run:
        run_dir, texttest_status = Path(args.from_run).resolve(), None
        if not run_dir.is_dir():
            parser.exit(2, f"capturemock rerecord: no run directory {run_dir}\n")
    else:
        run_dir, texttest_status = run_texttest(args, suite, texttest_options)
        if run_dir is None:
            return 2
    outcomes = collect(run_dir, args.app, suite)
    facts = RunFacts(str(suite), args.app, str(run_dir), _texttest_summary(run_dir), args.save)
    if args.save:
        save(outcomes)
    write_reports(facts, outcomes, Path(args.report_dir).resolve() if args.report_dir else run_dir)
    return exit_status(outcomes, args.save, texttest_status)


def run_texttest(args: argparse.Namespace, suite: Path, options: list[str]) -> tuple[Optional[Path], int]:
    """TextTest in batch mode, recording; its output goes to stderr and into the run directory."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("CAPTUREMOCK_", "TEXTTEST_CAPTUREMOCK"))}  # TextTest's master reads them
    tmp = Path(env.get("TEXTTEST_TMP") or tempfile.mkdtemp(prefix="capturemock-rerecord-"))
    env["TEXTTEST_TMP"] = str(tmp)
    # config_module:texttest_plugin then names the report in the details of each test whose mocks changed
    env[REPORT_DIR_VARIABLE] = str(Path(args.report_dir).resolve()) if args.report_dir else ""
    tmp.mkdir(parents=True, exist_ok=True)
    before = set(os.listdir(tmp))
    texttest = args.texttest or _texttest_beside_python()
    command = [texttest, "-d", str(suite), "-a", args.app, "-b", args.batch, "-rectraffic", *options]
    try:
        proc = subprocess.run(command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, errors="replace")
    except OSError as err:
        sys.stderr.write(f"capturemock rerecord: cannot run {texttest}: {err.strerror}\n")
        return None, 2
    sys.stderr.write(proc.stdout)
    runs = [tmp / name for name in set(os.listdir(tmp)) - before
            if name.startswith(args.app + ".") and (tmp / name).is_dir()]
    if not runs:
        sys.stderr.write(f"capturemock rerecord: TextTest ran no test (no run directory in {tmp}); "
                         f"its output is above\n")
        return None, proc.returncode
    run_dir = max(runs, key=lambda path: path.stat().st_mtime)
    (run_dir / TEXTTEST_LOG).write_text(proc.stdout)
    return run_dir, proc.returncode


def _texttest_beside_python() -> str:
    beside = Path(sys.executable).with_name("texttest")
    return str(beside) if beside.exists() else "texttest"


def _texttest_summary(run_dir: Path) -> str:
    log = run_dir / TEXTTEST_LOG
    found = re.findall(r"Tests Run: .*", log.read_text(errors="replace")) if log.is_file() else []
    return found[-1] if found else ""


def save(outcomes: list[TestOutcome]) -> None:
    """Copy each changed result from its sandbox into its test, where TextTest's own approval (``-o``)
    would; a result no longer produced is removed (or, where other versions share it, marked missing)."""
    for outcome in outcomes:
        for change in outcome.changes:
            recorded = outcome.sandbox / (change.recorded or change.name)
            if change.name == FILE_EDITS:
                stored = outcome.test_dir / file_edits_name(outcome.version)
                shutil.rmtree(stored, ignore_errors=True)
                if recorded.is_dir():
                    shutil.copytree(recorded, stored)
            elif change.kind == "missing":
                _save_missing(outcome.test_dir / change.name, outcome.version)
            else:
                shutil.copyfile(recorded, save_target(outcome.test_dir / change.name, change.kind, outcome.version))


def save_target(stored: Path, kind: str, version: str) -> Path:
    """TextTest's rule (comparefile.py): a changed result overwrites the file it was compared with if that
    file is of exactly the run's version, otherwise (and for a new result) it gets a file of that version."""
    parts = stored.name.split(".")
    if kind == "changed" and set(parts[2:]) == set(version.split(".") if version else []):
        return stored
    root = ".".join(parts[:2])
    return stored.with_name(f"{root}.{version}" if version else root)


def _save_missing(stored: Path, version: str) -> None:
    """As TextTest: the run's own version of the file goes; a file other versions share stays, and the
    run's version gets TextTest's marker of a missing file instead."""
    from texttestlib.plugins import fakeMissingFileText

    target = save_target(stored, "missing", version)
    target.unlink(missing_ok=True)
    if target != stored and stored.is_file():
        target.write_bytes(fakeMissingFileText())


def write_reports(facts: RunFacts, outcomes: list[TestOutcome], report_dir: Path) -> None:
    text = text_report(facts, outcomes)
    report_dir.mkdir(parents=True, exist_ok=True)
    (report_dir / f"{REPORT_NAME}.txt").write_text(text)
    (report_dir / f"{REPORT_NAME}.html").write_text(html_report(facts, outcomes))
    sys.stdout.write(text + f"reports: {report_dir / REPORT_NAME}.txt, .html\n")


def exit_status(outcomes: list[TestOutcome], saved: bool, texttest_status: Optional[int]) -> int:
    """0 when the suite's stored results now match the world, 1 when something is left to look at."""
    if not all(outcome.compared for outcome in outcomes):
        return 1
    changed = any(outcome.changes for outcome in outcomes)
    if changed:
        return 0 if saved else 1
    return 1 if texttest_status else 0


if __name__ == "__main__":
    sys.exit(main())
