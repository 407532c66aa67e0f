"""Start-up of an intercepted process on TextTest's path (issue #16 item 1).

Every Python process of a TextTest suite runs ``capturemock.process_startup()`` from TextTest's
``sitecustomize``; what it imports is most of what it costs. These tests run real processes that way and
check they answer right without the modules start-up no longer needs (each costs 2-5 ms)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig

import capturemock
from capturemock.accelerator import load_speedups
from capturemock.python.callstack import stdlib_dirs

# TextTest 4.4.7's sitecustomize, reduced to what runs when no other sitecustomize is found
SITECUSTOMIZE = """\
import capturemock
capturemock.process_startup()
"""
# modules an intercepted process imported before and needs no longer (2-5 ms each), and ours that only
# set-up, a partial intercept, alterations, redaction, an awaited call, a callback, an rc problem or rc text
# beyond plain INI need (~0.15 ms each: finding and loading a module); with the C accelerator (as CI builds
# it), the record file's lock needs no fcntl, nor the replay index array (with collections.abc)
AVOIDED = ("typing", "ast", "sysconfig", "configparser", "threading", "weakref", "_weakrefset", "mmap", "bisect",
           "capturemock.sutenv", "capturemock.writable", "capturemock.python.deferred", "capturemock.alterations",
           "capturemock.redaction", "capturemock.python.asyncsupport", "capturemock.python.callbacks",
           "capturemock.python.patching", "capturemock.rcproblems", "capturemock.rcparsing",
           *(("fcntl", "array", "collections.abc") if load_speedups() is not None else ()))
# and what only replaying needs, which a recording process does without (~4 M instructions)
REPLAY_ONLY = ("capturemock.replay", "capturemock.keytable", "capturemock.replaypolicy", "capturemock.python.replayer",
               "array")
# not re (nor its enum): an editable install's finder imports it
MATHMOD = """\
def double(n):
    return n * 2


class Shape:
    def describe(self):
        return {"sides": 4, "names": ["square", "box"], "size": (2.5, -1), "tags": {"x"}, "raw": b"\\x00"}


def shape():
    return Shape()


def check(n):
    raise ValueError("not a shape: %d" % n)
"""
PROGRAM = """\
import sys
import mathmod
assert mathmod.double({n}) == {n} * 2, mathmod.double({n})
print(" ".join(sorted(set({avoided}) & set(sys.modules))))
"""
REALISTIC = """\
import sys
import mathmod
described = mathmod.shape().describe()
assert described == dict(sides=4, names=["square", "box"], size=(2.5, -1), tags=set("x"), raw=b"\\x00"), described
try:
    mathmod.check(3)
except ValueError as error:
    assert str(error) == "not a shape: 3", error
print(" ".join(sorted(set({avoided}) & set(sys.modules))))
"""


def _run_on_texttests_path(tmp_path, mode: int, replay: str | None, program: str = PROGRAM,
                           avoided: tuple[str, ...] = AVOIDED, linked: bool = False) -> subprocess.CompletedProcess:
    """``program`` run as TextTest runs it; ``linked``: capturemock imported only through ``setUpPython``'s
    link to the package (as when TextTest's own Python runs a program in another environment)."""
    src, intercepts = tmp_path / "src", tmp_path / "intercepts"
    src.mkdir(exist_ok=True)
    intercepts.mkdir(exist_ok=True)
    (src / "mathmod.py").write_text(MATHMOD)
    (intercepts / "sitecustomize.py").write_text(SITECUSTOMIZE)
    rc = tmp_path / "capturemockrc"
    rc.write_text("[python]\nintercepts = mathmod\n")
    env = {key: value for key, value in os.environ.items() if not key.startswith("CAPTUREMOCK_")}
    if linked:
        ours = os.path.dirname(os.path.dirname(os.path.abspath(capturemock.__file__)))
        env["PYTHONPATH"] = os.pathsep.join(entry for entry in env.get("PYTHONPATH", "").split(os.pathsep)
                                            if entry and os.path.abspath(entry) != ours)
    capturemock.setUpPython(mode, str(tmp_path / "record.mock"), replay, [str(rc)], environment=env)
    path = [str(intercepts), *([str(src)] if mode == capturemock.RECORD else []), env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(filter(None, path))
    program = program.format(n=21, avoided=repr(avoided))
    return subprocess.run([sys.executable, "-c", program], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=60)


def test_a_replaying_process_answers_without_the_modules_it_no_longer_needs(tmp_path):
    mock = tmp_path / "replay.mock"
    calls = "".join(f"<-PYT:mathmod.double({n})\n->RET:{n * 2}\n" for n in range(50))
    mock.write_text(f"<-PYT:import mathmod\n{calls}")
    proc = _run_on_texttests_path(tmp_path, capturemock.REPLAY, str(mock))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == []


def test_a_recording_process_records_without_the_modules_it_no_longer_needs(tmp_path):
    proc = _run_on_texttests_path(tmp_path, capturemock.RECORD, None, avoided=AVOIDED + REPLAY_ONLY)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == []
    recorded = (tmp_path / "record.mock").read_text()
    assert recorded.startswith("<-PYT:import mathmod\n") and recorded.endswith("<-PYT:mathmod.double(21)\n->RET:42\n")


THROUGH_THE_STDLIB = """\
import functools
import capturemock
import mathmod
assert "/.cache/capturemock/" in capturemock.__file__ or "/capturemock-" in capturemock.__file__, capturemock.__file__
through_the_stdlib = functools.singledispatch(mathmod.double)
assert through_the_stdlib(5) == 10
assert mathmod.double({n}) == {n} * 2
"""


def test_a_recording_process_imported_through_the_link_tells_its_own_frames_from_the_callers(tmp_path):
    """Our own frames are told by the package's file names as imported (not resolved): the standard
    library's call (functools) goes to the real function unrecorded, the program's own is recorded."""
    proc = _run_on_texttests_path(tmp_path, capturemock.RECORD, None, THROUGH_THE_STDLIB, linked=True)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "record.mock").read_text() == (
        "<-PYT:import mathmod\n<-PYT:mathmod.__name__\n->RET:'mathmod'\n<-PYT:mathmod.__path__\n"
        "->RET:raise AttributeError(\"module 'mathmod' has no attribute '__path__'\")\n"
        "<-PYT:mathmod.double(21)\n->RET:42\n")


def test_a_process_replaying_realistic_values_reads_them_without_ast(tmp_path):
    """Dicts, lists, tuples, sets, bytes, an instance and a raised exception, as the recorder wrote them."""
    recorded = _run_on_texttests_path(tmp_path, capturemock.RECORD, None, REALISTIC)
    assert recorded.returncode == 0, recorded.stderr
    mock = tmp_path / "replay.mock"
    (tmp_path / "record.mock").rename(mock)
    assert "->RET:Instance('Shape', 'shape1')" in mock.read_text()
    proc = _run_on_texttests_path(tmp_path, capturemock.REPLAY, str(mock), REALISTIC)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == []
    assert (tmp_path / "record.mock").read_text() == mock.read_text()


def _sysconfig_stdlib_dirs() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    return tuple(sorted({os.path.realpath(paths[key]) + os.sep for key in ("stdlib", "platstdlib")}))


def test_stdlib_dirs_are_sysconfigs_without_importing_it():
    assert stdlib_dirs() == _sysconfig_stdlib_dirs()


def test_stdlib_dirs_are_sysconfigs_outside_a_venv_too():
    """The base interpreter (not a venv's): there ``platstdlib`` is ``stdlib`` itself."""
    probe = ("import json, os, sysconfig; from capturemock.python.callstack import stdlib_dirs; "
             "p = sysconfig.get_paths(); print(json.dumps([list(stdlib_dirs()), "
             "sorted({os.path.realpath(p[k]) + os.sep for k in ('stdlib', 'platstdlib')})]))")
    base = getattr(sys, "_base_executable", sys.executable)
    root = os.path.dirname(os.path.dirname(os.path.abspath(capturemock.__file__)))
    out = subprocess.run([base, "-c", probe], env=dict(os.environ, PYTHONPATH=root), capture_output=True, text=True,
                         timeout=60, check=True)
    ours, theirs = json.loads(out.stdout)
    assert ours == theirs


COLLECTOR = """\
import gc
import sys
import mathmod
assert mathmod.double({n}) == {n} * 2
assert gc.isenabled(), "the collector is off after start-up"
assert gc.get_freeze_count() > 0, "start-up froze nothing"


class Cycle:
    def __init__(self):
        self.me = self


found = []
gc.callbacks.append(lambda phase, info: found.append(info["collected"]) if phase == "stop" else None)
for _ in range(1000):
    Cycle()
gc.collect()
assert sum(found) >= 1000, found  # the program's own garbage is collected as before
print("collected")
"""


def test_start_up_leaves_the_collector_on_with_its_own_objects_frozen(tmp_path):
    """Start-up's objects (modules, the replay index) live on: frozen, no collection walks them again; the
    program's own cycles are collected as ever."""
    mock = tmp_path / "replay.mock"
    mock.write_text("<-PYT:import mathmod\n<-PYT:mathmod.double(21)\n->RET:42\n")
    proc = _run_on_texttests_path(tmp_path, capturemock.REPLAY, str(mock), COLLECTOR)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["collected"]


INACTIVE = """\
import sys
import capturemock
capturemock.process_startup()
print(" ".join(sorted(set({avoided}) & set(sys.modules))))
from capturemock import RECORD, ConfigError
assert (RECORD, capturemock.REPLAY, ConfigError.__name__) == (1, 0, "ConfigError")
"""


def test_a_process_sitecustomize_does_not_intercept_imports_only_the_package(tmp_path):
    """Every Python process of a TextTest suite imports capturemock; one with nothing to intercept loads
    neither its errors nor its modes (with ``__future__``, which an editable install's finder imports
    anyway: ~2.4 M instructions in all), until a name is asked for."""
    avoided = ("capturemock.errors", "capturemock.modes", "capturemock.python")
    env = {key: value for key, value in os.environ.items() if not key.startswith("CAPTUREMOCK_")}
    proc = subprocess.run([sys.executable, "-c", INACTIVE.format(avoided=repr(avoided))], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == []
