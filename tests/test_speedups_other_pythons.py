"""The C accelerator against every Python found here, not only the one running the tests (CI's): the
C API moves between versions (frames, exceptions, headers), so ``_speedups.c`` is compiled against each
interpreter with headers, warnings as errors, and a few python calls are recorded and replayed through its
C paths there, the same values and bytes as that interpreter's pure-Python run. Interpreters are looked for
on PATH (``python3.N``) and under pyenv; one that is absent, does not run or has no headers is skipped."""
from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

WARNINGS = ["-Werror", "-Wall", "-Wextra"]  # none on 3.9 to 3.13 (gcc 12)
RUNNING = f"python3.{sys.version_info.minor}"
OTHERS = [f"python3.{minor}" for minor in range(9, 15) if minor != sys.version_info.minor]

CALC = '''\
import calcdata


def f(*args, **kwargs):
    result = calcdata.RESULTS.pop(0)
    if isinstance(result, Exception):
        raise result
    return result
'''
CALCDATA = '''\
RESULTS = [{"k": 1, "s": "x\u00e9"}, "v2\u00e9", 2.5, None, ValueError("no"), [4, None], 7]
'''
# run in the interpreter under test: argv record|replay, the directory; prints what the calls got and how
# many reached the Python session (Session.request_text: the C paths settle theirs without it)
SMOKE = '''\
import json, sys
from capturemock import RECORD, REPLAY
from capturemock.python.api import interceptPython
from capturemock.python.session import Session

mode, directory = sys.argv[1], sys.argv[2]
in_python = []
plain_request_text = Session.request_text


def noted_request_text(self, name, args, kwargs):
    in_python.append(name)
    return plain_request_text(self, name, args, kwargs)


Session.request_text = noted_request_text
if mode == "record":
    sys.path.insert(0, directory)  # calc exists in record mode only
    interceptPython(RECORD, directory + "/record.mock", None, [], ["calc"])
else:
    interceptPython(REPLAY, directory + "/transcript.mock", directory + "/record.mock", [], ["calc"])
import calc

core = type(vars(calc.f)["_cm"].session.call).__name__
outcomes = []
for args, kwargs in [((1, 2.5, "\u00e9", None, True), {"key": -3}), ((2,), {}), ((), {}), ((), {"x": 1}), ((5,), {}),
                     (([1],), {}), ((7,), {})]:
    try:
        outcomes.append(repr(calc.f(*args, **kwargs)))
    except Exception as error:
        outcomes.append(f"{type(error).__name__}: {error}")
print(json.dumps({"core": core, "outcomes": outcomes, "in_python": len(in_python)}))
'''


def find_interpreter(name: str) -> str | None:
    """``name`` (python3.N) on PATH, else the newest pyenv install of it, where it runs."""
    pyenv = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    version = name[len("python"):]
    candidates = [sys.executable] if name == RUNNING else [shutil.which(name)]
    candidates += sorted(glob.glob(os.path.join(pyenv, "versions", f"{version}.*", "bin", name)), reverse=True)
    for candidate in filter(None, candidates):
        ran = subprocess.run([candidate, "-c", "pass"], capture_output=True)  # a pyenv shim may not run
        if ran.returncode == 0:
            return candidate
    return None


def build_paths(python: str) -> tuple[str, str]:
    """The include directory and extension suffix of ``python``."""
    script = "import sysconfig; print(sysconfig.get_paths()['include']); print(sysconfig.get_config_var('EXT_SUFFIX'))"
    include, suffix = subprocess.run([python, "-c", script], capture_output=True, text=True, check=True).stdout.split()
    return include, suffix


def unavailable(reason: str, required: bool) -> None:
    """Skip, or fail where the running Python's build must be checked (CI: CAPTUREMOCK_REQUIRE_SPEEDUPS)."""
    if required and os.environ.get("CAPTUREMOCK_REQUIRE_SPEEDUPS") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def build_package(python: str, into: Path, required: bool) -> Path:
    """A copy of the capturemock package under ``into`` with ``_speedups.c`` built for ``python`` alone."""
    include, suffix = build_paths(python)
    compiler = shutil.which(os.environ.get("CC", "cc"))
    if compiler is None:
        unavailable("no C compiler (cc) to build the C accelerator", required)
    if not os.path.isfile(os.path.join(include, "Python.h")):
        unavailable(f"{python} has no Python.h (its headers, the -dev package, are not installed)", required)
    package = into / "capturemock"
    shutil.copytree(os.path.join(REPO, "capturemock"), package, ignore=shutil.ignore_patterns("*.so", "__pycache__"))
    link = ["-shared", "-undefined", "dynamic_lookup"] if sys.platform == "darwin" else ["-shared"]
    built = subprocess.run([compiler, *link, "-fPIC", "-O3", *WARNINGS, f"-I{include}", str(package / "_speedups.c"),
                            "-o", str(package / f"_speedups{suffix}")], capture_output=True, text=True)
    assert built.returncode == 0, f"_speedups.c does not build cleanly against {python}:\n{built.stderr}"
    return into


def smoke(python: str, package: Path, directory: Path, pure: bool) -> tuple[dict, dict, bytes, bytes]:
    """Record then replay SMOKE's calls in ``python``: what each run printed, the record and the transcript."""
    directory.mkdir()
    (directory / "calc.py").write_text(CALC)
    (directory / "calcdata.py").write_text(CALCDATA)
    env = dict(os.environ, PYTHONPATH=str(package), CAPTUREMOCK_PURE_PYTHON="1" if pure else "0")
    printed = []
    for mode in ("record", "replay"):
        ran = subprocess.run([python, "-c", SMOKE, mode, str(directory)], capture_output=True, text=True, env=env,
                             cwd=package)
        assert ran.returncode == 0 and ran.stderr == "", ran.stderr
        printed.append(json.loads(ran.stdout))
    record, transcript = (directory / "record.mock").read_bytes(), (directory / "transcript.mock").read_bytes()
    return printed[0], printed[1], record, transcript


@pytest.mark.parametrize("name", [RUNNING, *OTHERS])
def test_the_c_accelerator_builds_cleanly_and_answers_as_python(name, tmp_path):
    """Built with warnings as errors against ``name``, record and replay through the C paths (the session's
    ``call`` is the C one, and settles calls Python would have seen) give the pure-Python run's values, record
    file and transcript."""
    python = find_interpreter(name)
    if python is None:
        pytest.skip(f"{name} is not installed here (not on PATH, nor under pyenv)")
    package = build_package(python, tmp_path / "package", required=name == RUNNING)
    record_c, replay_c, record_file_c, transcript_c = smoke(python, package, tmp_path / "c", pure=False)
    record_py, replay_py, record_file_py, transcript_py = smoke(python, package, tmp_path / "python", pure=True)
    assert (record_c["core"], replay_c["core"]) == ("CallRecorder", "CallReplayer")
    assert (record_py["core"], replay_py["core"]) == ("method", "method")
    assert record_c["in_python"] < record_py["in_python"] and replay_c["in_python"] < replay_py["in_python"]
    assert record_c["outcomes"] == record_py["outcomes"] == replay_c["outcomes"] == replay_py["outcomes"]
    assert record_py["outcomes"][4] == "ValueError: no"
    assert (record_file_c, transcript_c) == (record_file_py, transcript_py)
    assert transcript_py == record_file_py
