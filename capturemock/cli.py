"""The ``capturemock`` command (§10): run a program with its intercepted traffic recorded or replayed.

Command-line programs go through the traffic server; Python processes the program starts are
intercepted too when the rc files have ``[python] intercepts``, into the same mock file (interleaved in
call order, like TextTest's single ``traffic`` file).

    capturemock [-m MODE] [-p REPLAY] [-f DIR] [-r RECORD] [-F DIR] [-R RC,RC] [-P PORT] program [args...]
    capturemock diff OLD.mock NEW.mock
    capturemock rerecord [--save] -d SUITE -a APP [TextTest options]   (TextTest: texttest_plugin.rerecord)
    capturemock check [-R RC,RC] FILE...
    capturemock redact [--check] -R RC,RC FILE...
    capturemock import-har FILE.har [-o OUT.mock]
    capturemock import-vcr CASSETTE.yaml [-o OUT.mock]
    capturemock --recipe [NAME]      (list the ready-made rc recipes, or print one)
    capturemock --version

Unlike the original (§7.8) the command exits with the program's own status (dying by the same signal
when the program was killed), or 1 when the program succeeded but the traffic server died on the way,
and the server and temporary directory are cleaned up whatever happens.
"""
from __future__ import annotations

import _signal as signal  # the C module, as in cmdline/shim.py: its wrapper only adds enums (enum: ~17 M)
import errno
import os
import sys

from . import version
from .config import RcConfig
from .errors import CaptureMockError
from .executables import which
from .launcher import remove_dir_with_retry
from .modes import RECORD, REPLAY, describe_modes, parse_mode

TYPE_CHECKING = False  # typing is not imported at run time: ~3 ms of every capturemock command
if TYPE_CHECKING:
    import argparse
    from typing import Optional

_FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_RESET_SIGNALS = (signal.SIGPIPE, signal.SIGXFSZ)  # Python ignores them, and the program would inherit that


def build_parser() -> argparse.ArgumentParser:
    import argparse  # the rare paths only (help, version, recipes, mistakes): ~9 ms of every command

    parser = argparse.ArgumentParser(
        prog="capturemock", description="Run PROGRAM with its intercepted command-line traffic recorded or "
                                        "replayed. Options must come before the program.",
        epilog="capturemock diff OLD.mock NEW.mock  summarises what changed between two recordings, per "
               "interaction (exit status 1 if anything did). capturemock check [-R RC,RC] FILE...  reports "
               "what replay would drop, misread or refuse in mock and rc files (exit status 1 if anything). "
               "capturemock redact [--check] -R RC,RC FILE...  rewrites mock files with the secrets "
               "[general] redact names replaced by <redacted>. "
               "capturemock import-har FILE.har [-o OUT.mock] and capturemock import-vcr CASSETTE.yaml "
               "[-o OUT.mock]  convert a browser's HAR recording or a vcrpy cassette into an HTTP mock file. "
               "capturemock rerecord [--save] -d SUITE -a APP [TextTest options]  re-records a TextTest suite "
               "headless and reports which mocks changed (--help for more).")
    parser.add_argument("-m", "--mode", default="0",
                        help=f"{describe_modes()}; default replay, which records if no -p is given")
    parser.add_argument("-p", "--replay", help="mock file to replay")
    parser.add_argument("-f", "--replay-file-edits", help="directory of file edits to replay")
    parser.add_argument("-r", "--record", help="mock file to record (replaced if it exists)")
    parser.add_argument("-F", "--record-file-edits", help="directory to store recorded file edits in")
    parser.add_argument("-R", "--rcfiles", help="comma-separated rc files (default ~/.capturemock/config)")
    parser.add_argument("-P", "--port", type=int, default=0, help="server port (default: any free port)")
    parser.add_argument("--recipe", nargs="?", const="", metavar="NAME",
                        help="print the ready-made rc recipe NAME (redirect it into a capturemockrc), or list them")
    parser.add_argument("--version", action="version",
                        version=f"capturemock {version} (replaces CaptureMock 2.10; not the 2.10.0 on PyPI)")
    parser.add_argument("program", nargs=argparse.REMAINDER, help="the program to run, and its arguments")
    return parser


class Options:
    """The parsed command line: what ``build_parser().parse_args`` gives, with the same attributes."""

    def __init__(self, **values: object):
        self.mode, self.port, self.recipe = "0", 0, None
        self.replay = self.replay_file_edits = self.record = self.record_file_edits = self.rcfiles = None
        self.program: list[str] = []
        self.__dict__.update(values)

    def __eq__(self, other: object) -> bool:
        return vars(self) == vars(other)


# the run's options with a value: (short, long) -> attribute
_VALUED = {"-m": "mode", "--mode": "mode", "-p": "replay", "--replay": "replay",
           "-f": "replay_file_edits", "--replay-file-edits": "replay_file_edits", "-r": "record",
           "--record": "record", "-F": "record_file_edits", "--record-file-edits": "record_file_edits",
           "-R": "rcfiles", "--rcfiles": "rcfiles", "-P": "port", "--port": "port"}


def parse_args(argv: list[str]) -> Options:
    """The command line of a run, parsed by hand as argparse would (its import is ~9 ms of every
    command); anything but plain options before a program (help, version, recipes, abbreviations,
    mistakes) goes to argparse, for its exact texts."""
    options = Options()
    rest = list(argv)
    while rest and rest[0].startswith("-"):
        arg = rest.pop(0)
        if arg.startswith("--"):
            name, equals, value = arg.partition("=")
            given = bool(equals)
        else:  # -mVALUE or -m VALUE
            name, value = arg[:2], arg[2:]
            given = bool(value)
        attribute = _VALUED.get(name)
        if not given and rest:
            value = rest.pop(0)
        elif not given:
            attribute = None  # no value: argparse says so
        if attribute is None or value.startswith(("-", "=")) or (attribute == "port" and not value.isdecimal()):
            return _parse_with_argparse(argv)
        setattr(options, attribute, int(value) if attribute == "port" else value)
    if not rest:
        return _parse_with_argparse(argv)
    options.program = rest
    return options


def _parse_with_argparse(argv: list[str]) -> Options:
    return Options(**vars(build_parser().parse_args(argv)))


def _refuse(message: str) -> None:
    """A mistake on the command line: its lines on stderr, status 2 (as argparse's ``exit``)."""
    sys.stderr.write(message)
    sys.exit(2)


def _absolute(path: Optional[str]) -> Optional[str]:
    return os.path.abspath(path) if path else None


def main(argv: Optional[list[str]] = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["diff"]:
        sys.exit(_diff(argv[1:]))
    if argv[:1] == ["check"]:
        from .check import main as check

        sys.exit(check(argv[1:]))
    if argv[:1] == ["redact"]:
        from .redactfile import main as redact

        sys.exit(redact(argv[1:]))
    if argv[:1] == ["rerecord"]:
        sys.exit(_rerecord(argv[1:]))
    if argv[:1] in (["import-har"], ["import-vcr"]):
        from .importers import main as import_recording

        sys.exit(import_recording(argv[0], argv[1:]))
    args = parse_args(argv)
    if args.recipe is not None:
        from .recipes import main as recipe

        sys.exit(recipe(args.recipe))
    if not args.program:
        build_parser().error("no program to run was given")  # usage on stderr, status 2 (2.10: help, status 0)
    try:
        mode = parse_mode(args.mode, "--mode")
    except CaptureMockError as err:
        _refuse(f"capturemock: {err}\n")
    if mode == REPLAY and not args.replay:
        mode = RECORD  # §2.3
    if args.record and args.replay and os.path.abspath(args.record) == os.path.abspath(args.replay):
        _refuse(f"capturemock: --replay and --record name the same file ({args.record}): recording "
                "would replace the mock being replayed; record to another file\n")
    config, problems = _read_rc_files(args, mode)
    if problems:
        _refuse("".join(f"capturemock: {problem}\n" for problem in problems))
    if args.record and os.path.isfile(args.record):
        try:
            os.remove(args.record)  # a fresh record file every run (§10)
        except OSError as err:
            _refuse(f"capturemock: cannot replace the record file {args.record}: {err.strerror}\n")
    sys.exit(_run(args, mode, config))


def _rc_files(args: Options) -> list[str]:
    return [f for f in (args.rcfiles or "").split(",") if f]


def _read_rc_files(args: Options, mode: int) -> tuple[Optional[RcConfig], list[str]]:
    """The rc files, read once for the whole run, and their problems. The command is strict where the
    TextTest API only warns: a missing or misspelt rc file, or (``on_missing_mock = error``) a missing
    mock, would silently change what the run tests."""
    try:
        config = RcConfig(_rc_files(args), warn=lambda message: None)
        problems = [f"rc file {path} does not exist" for path in config.missing]
        problems += [str(problem) for problem in config.unknown_settings()]
        if not problems:
            config.check_replay_file(mode, args.replay)
    except CaptureMockError as err:
        return None, [str(err)]
    return config, problems


def _run(args: Options, mode: int, config: RcConfig) -> int:
    from .threadserver import ThreadServerManager

    scratch = _scratch_dir()
    env = os.environ.copy()
    server = ThreadServerManager(config)
    try:
        server.startServer(mode, _absolute(args.record), _absolute(args.replay),
                           recordEditDir=_absolute(args.record_file_edits),
                           replayEditDir=_absolute(args.replay_file_edits), rcFiles=_rc_files(args),
                           interceptDir=os.path.join(scratch, "intercepts"), sutDirectory=os.getcwd(),
                           environment=env, port=args.port)
        _set_up_python(args, mode, config, env, scratch)
        status = run_program(args.program, env)
    except CaptureMockError as err:
        sys.stderr.write(f"capturemock: {err}\n")
        status = 1
    finally:
        server_lived = server.terminate()  # if not, it has said so
        remove_dir_with_retry(scratch)
    if status == 0 and not server_lived:
        status = 1  # the program's traffic was not all intercepted: not a success
    if status < 0:
        _die_by(-status)
        return 128 - status  # a signal that does not end a process (or was not delivered yet)
    return status


def _scratch_dir() -> str:
    """A new private directory where ``tempfile.mkdtemp`` would make it: tempfile's imports (``shutil``,
    ``random``, ``re``) are ~40 M instructions of every command. Made directly in the temp directory the
    environment names (``/tmp`` without one); wherever that fails, tempfile itself chooses."""
    parent = os.path.abspath(os.environ.get("TMPDIR") or os.environ.get("TEMP") or os.environ.get("TMP") or "/tmp")
    for _ in range(10):
        path = os.path.join(parent, f"capturemock-{os.urandom(4).hex()}")
        try:
            os.mkdir(path, 0o700)
            return path
        except FileExistsError:
            continue
        except OSError:
            break
    import tempfile

    return tempfile.mkdtemp(prefix="capturemock-")


def _die_by(signum: int) -> None:
    """End this process by the signal that ended the program, as a shell would see it."""
    if signum not in (signal.SIGKILL, signal.SIGSTOP):  # those two take no handler, and need none
        signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _diff(paths: list[str]) -> int:
    """``capturemock diff OLD NEW``: what a re-record changed, interaction by interaction (exit 1 if any)."""
    if len(paths) != 2:
        sys.stderr.write("usage: capturemock diff OLD.mock NEW.mock\n")
        return 2
    from .diff import report

    try:
        text, differs = report(*paths)
    except CaptureMockError as err:
        sys.stderr.write(f"capturemock: {err}\n")
        return 2
    sys.stdout.write(text)
    return 1 if differs else 0


def _rerecord(argv: list[str]) -> int:
    """``capturemock rerecord``: lives with the TextTest plugin, which needs TextTest installed."""
    try:
        from texttest_plugin.rerecord import main as rerecord
    except ImportError as err:
        sys.stderr.write(f"capturemock rerecord: needs TextTest in this Python ({err})\n")
        return 2
    return rerecord(argv)


def _set_up_python(args: Options, mode: int, config: RcConfig, env: dict, scratch: str) -> None:
    """Python intercepts of the rc files, in every Python process the program starts. Without ``-r``
    they still replay: their transcript goes to the scratch directory and is dropped."""
    if not config.getlist("intercepts", ["python"]):
        return
    rc_files = _rc_files(args)
    from .python import api

    record = _absolute(args.record) or os.path.join(scratch, "unrecorded.mock")
    if api.setUpPython(mode, record, _absolute(args.replay), rcFiles=rc_files, environment=env):
        site = os.path.join(scratch, "site")
        api.write_sitecustomize(site)
        env["PYTHONPATH"] = os.pathsep.join(path for path in (site, env.get("PYTHONPATH")) if path)


def run_program(command: list[str], env: dict) -> int:
    """Run the program; signals we receive go to it and everything it started (psutil, if present)."""
    try:
        pid = _spawn(command, env)
    except OSError as err:
        sys.stderr.write(f"capturemock: cannot run '{command[0]}': {err.strerror}\n")
        return 127
    previous = {sig: signal.signal(sig, lambda sig, _frame: _kill_tree(pid, sig)) for sig in _FORWARDED}
    try:
        return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _spawn(command: list[str], env: dict) -> int:
    """``posix_spawn`` (subprocess is ~4 ms of imports) of the program found on its own PATH, as
    subprocess finds it: the shims come first there. Found first and spawned once: where posix_spawn
    forks (valgrind, old C libraries) a failed exec is no error but a child that exits 127."""
    return os.posix_spawn(_executable(command[0], env), command, env, setsigdef=_RESET_SIGNALS)


def _executable(name: str, env: dict) -> str:
    """The first executable file ``name`` on the PATH of ``env`` (as subprocess looks), else the first
    file of that name (spawning it says why it cannot run)."""
    if os.path.dirname(name):
        return name
    folders = os.get_exec_path(env)
    found = which(name, folders)
    if found is not None:
        return found
    for path in (os.path.join(folder, name) for folder in folders):
        if os.path.exists(path):
            return path
    raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT))


def _kill_tree(pid: int, sig: int) -> None:
    """The program first, then what it started: a shell whose child died first would run on (and
    could exit 0) before its own signal arrived."""
    try:
        import psutil
        processes = psutil.Process(pid).children(recursive=True)
    except ImportError:
        processes = []
    except Exception:  # the process may already be gone
        processes = []
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass
    for process in processes:
        try:
            process.send_signal(sig)
        except Exception:
            pass
