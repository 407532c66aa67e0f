"""The rc settings python interception uses, resolved once when intercepts are installed (§3.3).

The per-call path must not touch ConfigParser: answers are computed here and cached per name.
"""
from __future__ import annotations

from ..config import RcConfig

TYPE_CHECKING = False  # typing is not imported at run time: it costs every intercepted process ~3 ms
if TYPE_CHECKING:
    from typing import Iterable, Optional

    from ..alterations import Alterations
    from ..redaction import Redactor

PYTHON = "python"
GENERAL = "general"


# Modules whose classes act on the system (processes, sockets, files, the interpreter): an rc file comes
# from a repository like the mocks, and ``replay_constructors = subprocess.Popen`` would let mock text
# run commands. Classes that only hold data live elsewhere.
_ACTING_MODULES = frozenset({
    "antigravity", "asyncio", "builtins", "code", "codeop", "concurrent", "ctypes", "dbm", "ftplib", "http",
    "imaplib", "importlib", "io", "marshal", "mmap", "multiprocessing", "os", "pickle", "poplib", "posix",
    "pty", "runpy", "select", "selectors", "shelve", "shutil", "signal", "smtplib", "socket", "socketserver",
    "sqlite3", "ssl", "subprocess", "sys", "tempfile", "telnetlib", "threading", "urllib", "webbrowser",
    "xmlrpc", "zipfile", "tarfile"})


def _may_rebuild_values(dotted: str) -> bool:
    parts = dotted.split(".")
    return len(parts) > 1 and all(part.isidentifier() for part in parts) and parts[0] not in _ACTING_MODULES


class PythonSettings:
    """``[python]``/``[general]`` keys plus per-name sections, as plain attributes and cached lookups."""

    def __init__(self, config: RcConfig, mode: int, entries: Iterable[str]):
        self.mode = mode
        self.config = config
        self.ignore_callers = config.setting(PYTHON, "ignore_callers")
        # 2 (2.10's rounding, which loses ``time.time()``'s fraction) or full (repr)
        self.full_floats = config.choice(PYTHON, "float_precision", ("2", "full")) == "full"
        self.constructors = tuple(config.getnames("replay_constructors", [PYTHON], _may_rebuild_values,
                                                  "a class of a module that only holds data"))
        self._check_repeated = config.setting(PYTHON, "check_repeated_calls")
        # §3.3: a section named after an intercept entry may switch repeat checking for its names
        self._entry_repeat = [(entry, config.getboolean("check_repeated_calls", [entry], True))
                              for entry in entries if config.get("check_repeated_calls", [entry]) is not None]
        self._repeat_cache: dict[str, bool] = {}
        self.always_record = self._check_repeated and not self._entry_repeat
        self._alters = any(config.getlist("alterations", [section]) for section in config.sections())
        # their modules only where the rc file asks for them: every intercepted process imports this one
        self.alterations: Optional[Alterations] = None
        if self._alters:
            from ..alterations import Alterations

            self.alterations = Alterations(config)
        self.redactor: Optional[Redactor] = None  # unless [general] redact is set
        if config.setting(GENERAL, "redact"):
            from ..redaction import Redactor

            self.redactor = Redactor.from_config(config)
        # whether call and return texts are rewritten at all: read on the per-call path
        self.has_alterations = self._alters or self.redactor is not None

    def check_repeated(self, name: str) -> bool:
        """Whether every call of ``name`` is recorded (False: only the first one in the process)."""
        verdict = self._repeat_cache.get(name)
        if verdict is None:
            verdict = self._check_repeated
            for entry, value in self._entry_repeat:
                if name == entry or name.startswith(f"{entry}."):
                    verdict = value
                    break
            self._repeat_cache[name] = verdict
        return verdict

    def alter(self, text: str, name: str) -> str:
        """§3.4 alterations of ``[<name>]``, ``[python]`` and ``[general]`` on a call or return text, then
        redaction."""
        if self._alters:
            text = self.alterations.apply(text, (name, PYTHON, GENERAL))
        return self.redact(text)

    def redact(self, text: str) -> str:
        """``[general] redact`` on a recorded text (unchanged when nothing is to be redacted)."""
        return self.redactor.redact(text) if self.redactor is not None else text
