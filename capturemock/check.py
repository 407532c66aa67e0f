"""``capturemock check FILE...``: find what replay would drop, misread or refuse in mock and rc files,
before a test run meets it: one ``file:line: problem`` line each, exit status 1 if there is any.

Mock files: torn items, text before the first item, unknown item types, escaped items without their
closing mark, and Python values replay would refuse to rebuild. rc files (named ``*.rc``, ``*.yaml``,
``*.yml``, ``*capturemockrc*``, or given with ``--rcfiles``): syntax, unknown sections and keys, and
values of the wrong kind. The intercepted modules are not known here, so a class is accepted where
the mock file describes one (``Instance('Name', ...)``) and an exception of any module may be raised.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import sys
from typing import Any, Optional, Sequence

from . import mockfile
from .config import KEYS, PER_NAME, PYTHON, RcConfig
from .errors import CaptureMockError, CaptureMockReplayError
from .redaction import Redactor
from .values import ValueParser

_WARNING = "capturemock: WARNING: "
_DESCRIBED = re.compile(r"Instance\('(\w+)")
_RC_NAME = re.compile(r"(\.rc|\.ya?ml)$|capturemockrc")


class _Placeholder:
    """What a name, instance, callback or described class stands for while checking: anything goes."""

    def __init__(self, *args: Any, **kwargs: Any):
        pass


class _CheckNamespace:
    """The replay namespace without a replay: every ``Instance``/``Callback`` form and the names they
    introduce are accepted, as are classes the file describes (replay's own rule for ``mod.Class(...)``)."""

    def __init__(self, text: str):
        self.names: set[str] = set()
        self.classes = set(_DESCRIBED.findall(text))

    def lookup_name(self, name: str) -> Any:
        if name in self.names or name in self.classes:
            return _Placeholder
        raise KeyError(name)

    def make_instance(self, description: str, name: str) -> Any:
        self.names.add(name)
        return _Placeholder()

    def make_callback(self, name: str) -> Any:
        self.names.add(name)
        return _Placeholder()

    def resolve_class(self, dotted: str) -> Optional[type]:
        return _Placeholder if dotted.rpartition(".")[2] in self.classes else None

    def exception_class(self, dotted: str) -> Optional[type]:
        module, _, name = dotted.rpartition(".")
        return type(name, (Exception,), {"__module__": module}) if module else None


def check_mock(path: str, constructors: tuple[str, ...] = ()) -> list[str]:
    """The problems of one mock file, in file order."""
    warnings = io.StringIO()
    try:
        with contextlib.redirect_stderr(warnings):  # the reader warns about each torn item it drops
            text = mockfile.read_text(path)
    except CaptureMockError as err:
        return [str(err)]
    problems = [line[len(_WARNING):] if line.startswith(_WARNING) else line
                for line in warnings.getvalue().splitlines()]
    starts = list(mockfile.ITEM_START.finditer(text))
    if text[:starts[0].start() if starts else len(text)].strip():
        problems.append(f"{path}:1: text before the first item: replay ignores it")
    parser = ValueParser(_CheckNamespace(text), constructors)
    ends = [start.start() for start in starts[1:]] + [len(text)]
    for item, start, end in zip(mockfile.parse(text, path), starts, ends):
        problem = _item_problem(item, text[start.end():end].removesuffix("\n"), parser, path)
        if problem:
            problems.append(problem)
    return problems


def _item_problem(item: mockfile.Item, raw: str, parser: ValueParser, path: str) -> Optional[str]:
    """What is wrong with one item (``raw``: its text as written, escape marks included), if anything."""
    where = f"{path}:{item.line}"
    if item.type not in mockfile.KNOWN_TYPES:
        return f"{where}: unknown item type {item.type!r} in {item.prefix}{item.type}"
    if mockfile.lacks_escape_end(raw):
        return (f"{where}: escaped lines but no closing {mockfile.ESCAPE!r} line: replay reads the marks "
                "as text")
    if item.from_sut or item.type not in ("PYT", "RET"):
        return None  # requests are matched as text, never rebuilt
    try:
        if item.type == "RET":
            parser.parse(item.text, path, item.line)
        else:  # a callback the mock invokes
            parser.parse_call(item.text, path, item.line)
    except (CaptureMockError, CaptureMockReplayError) as err:
        return str(err)
    except Exception as err:  # a value class refusing its recorded arguments
        return f"{where}: {type(err).__name__}: {err}"
    return None


def check_rc(path: str) -> list[str]:
    """The problems of one rc file: unreadable, unknown sections or keys, values of the wrong kind, a
    ``redact`` entry that is no name or regex."""
    try:
        config = RcConfig([path], warn=lambda message: None)
    except CaptureMockError as err:
        return [str(err)]
    if config.missing:
        return [f"{path}: rc file does not exist"]
    problems = [str(problem) for problem in config.unknown_settings()]
    for key in KEYS:
        if key.section != PER_NAME:
            try:
                config.setting(key.section, key.name)
            except CaptureMockError as err:
                problems.append(str(err))
    try:
        Redactor.from_config(config)  # [general] redact: its regexes and names
    except CaptureMockError as err:
        problems.append(str(err))
    return problems


def _constructors(rc_files: Sequence[str]) -> tuple[str, ...]:
    """``[python] replay_constructors`` of the rc files given, which replay would use with the mocks."""
    try:
        return tuple(RcConfig(list(rc_files), warn=lambda message: None).getlist("replay_constructors", [PYTHON]))
    except CaptureMockError:
        return ()  # reported by check_rc


def main(argv: Sequence[str]) -> int:
    """``capturemock check [-R RC,RC] FILE...``: 1 if a problem was found (each printed), else 0."""
    parser = argparse.ArgumentParser(
        prog="capturemock check", description="Report what replay would drop, misread or refuse in mock "
        "files, and unknown or malformed settings in rc files (*.rc, *.yaml, *.yml, *capturemockrc*).")
    parser.add_argument("-R", "--rcfiles", default="", help="comma-separated rc files to check as well")
    parser.add_argument("files", nargs="*", metavar="FILE", help="mock files, and rc files by name")
    args = parser.parse_args(argv)
    rc_files = [path for path in args.rcfiles.split(",") if path]
    rc_files += [path for path in args.files if _RC_NAME.search(os.path.basename(path))]
    mocks = [path for path in args.files if path not in rc_files]
    if not rc_files and not mocks:
        parser.error("no files to check were given")
    constructors = _constructors(rc_files)
    problems = [problem for path in rc_files for problem in check_rc(path)]
    problems += [problem for path in mocks for problem in check_mock(path, constructors)]
    sys.stdout.write("".join(f"{problem}\n" for problem in problems))
    if not problems:
        count = len(rc_files) + len(mocks)
        sys.stdout.write(f"capturemock check: {count} file{'s' if count > 1 else ''}, no problems\n")
    return 1 if problems else 0
