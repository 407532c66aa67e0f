"""What the ``[command line]`` rc keys (§3.3) ask for: programs to shim, watched variables, async programs."""
from __future__ import annotations

import os

from ..config import GENERAL, RcConfig
from ..replaypolicy import ON_BEST_MATCH

TYPE_CHECKING = False  # typing is not imported at run time: the server checks these settings at start-up
if TYPE_CHECKING:
    from typing import Callable, Optional

    from ..alterations import Alterations

SECTION = "command line"
ALLOW_EDITS_OUTSIDE = "allow_edits_outside"
_COMMAND = "<-CMD:"


def _sections(program: str) -> list[str]:
    return [program, SECTION]


def intercepted_programs(config: RcConfig, warn: Callable[[str], None]) -> list[str]:
    """Programs named in ``intercepts``; paths cannot be shimmed via PATH (§14 warning, which names
    absolute paths: a relative path with a directory part cannot be intercepted either)."""
    programs = []
    for name in config.getnames("intercepts", [SECTION], _could_be_program, "a program name"):
        if os.path.isabs(name) or os.sep in name:
            warn(f"WARNING: Ignoring requested intercept of command '{name}'.\n"
                 "CaptureMock intercepts commands via PATH and cannot do anything with absolute paths.")
        elif name not in programs:
            programs.append(name)
    return programs


def _could_be_program(name: str) -> bool:
    """A name a shim can be written for: '.', '..' and control characters would name no file."""
    return name not in (".", "..") and name.isprintable()


def mentions_program(text: str, program: str) -> bool:
    r"""Whether a ``<-CMD:`` line of mock-file ``text`` mentions ``program`` as a whole space-delimited word
    (§5.2): where the multi-line regex ``^<-CMD:(?:.*\s)?PROGRAM(?:\s|$)`` would match, found without ``re``
    (with its ``enum``: ~16 M instructions of every replaying command). ``\s`` is ``str.isspace``, and a
    newline too: a word may start a line that follows a ``<-CMD:`` line."""
    at = text.find(program)
    while at != -1:
        end = at + len(program)
        if (end == len(text) or text[end].isspace()) and _after_command_start(text, at):
            return True
        at = text.find(program, at + 1)
    return False


def _after_command_start(text: str, at: int) -> bool:
    """Whether ``at`` directly follows a line start's ``<-CMD:``, or follows a space on a line that
    starts with one (the space may be that line's newline)."""
    start = at - len(_COMMAND)
    if text.startswith(_COMMAND, start) and (start == 0 or text[start - 1] == "\n"):
        return True
    if at == 0 or not text[at - 1].isspace():
        return False
    line = text.rfind("\n", 0, at - 1) + 1
    return line + len(_COMMAND) <= at - 1 and text.startswith(_COMMAND, line)



def watched_variables(config: RcConfig, program: str) -> list[str]:
    """``environment`` of the program's section, then of ``[command line]`` (§7.5), without repeats."""
    return list(dict.fromkeys(config.getlist("environment", _sections(program))))


def is_asynchronous(config: RcConfig, program: str) -> bool:
    return config.getboolean("asynchronous", _sections(program))


def ignored_edit_names(config: RcConfig) -> list[str]:
    return config.setting(SECTION, "ignore_edits")


def exact_output(config: RcConfig) -> bool:
    """``exact_output``: command output reaches the SUT and the mock byte for byte. Off by default: 2.10
    adds a missing final newline in record and replay alike (§4.3), and suites' mock files pin that."""
    return bool(config.setting(SECTION, "exact_output"))


def alterations(config: RcConfig) -> Optional[Alterations]:
    """The rewrites ``[command line] alterations`` asks for on command lines and their output, or None.
    Opt-in: 2.10 alters no command-line traffic, even for alterations listed in ``[general]`` (§3.4), and
    suites' mock files pin that."""
    from ..alterations import Alterations

    rules = Alterations(config)
    return rules if rules.names([SECTION]) else None


def edits_outside_allowed(config: RcConfig) -> bool:
    """``allow_edits_outside``: replayed file edits may change things outside the working directory too
    (by default they change nothing there; see ``fileedits_sandbox``)."""
    return config.setting(SECTION, ALLOW_EDITS_OUTSIDE)


# What the server reads per request, by section: (option, reader). Booleans can be malformed, and any
# value can hold a broken %(interpolation)s.
_PROGRAM_KEYS = (("asynchronous", RcConfig.getboolean), ("environment", RcConfig.getlist))
_SESSION_KEYS = ((SECTION, "ignore_edits", RcConfig.getlist), (SECTION, ALLOW_EDITS_OUTSIDE, RcConfig.getboolean),
                 (SECTION, "alterations", RcConfig.getlist),
                 (GENERAL, "use_exact_matching", RcConfig.getboolean), (GENERAL, "sealed", RcConfig.getboolean),
                 (GENERAL, "report_unused", RcConfig.getboolean))


def check(config: RcConfig) -> None:
    """Read now every value the server will read for commands, in each intercepted program's section
    and in ``[command line]``, so that a bad one stops the server at start-up with one line naming file
    and line. Read per request, it would fail every command instead, and only be reported at the end."""
    sections = dict.fromkeys([section for program in intercepted_programs(config, lambda message: None)
                              for section in _sections(program)] + [SECTION])
    keys = [(section, option, read) for section in sections for option, read in _PROGRAM_KEYS]
    for section, option, read in keys + list(_SESSION_KEYS):
        read(config, option, [section])
    config.choice(GENERAL, "on_best_match", ON_BEST_MATCH)
    rules = alterations(config)
    if rules:
        rules.check([SECTION])


def mentioned_programs(programs: list[str], text: str) -> list[str]:
    """In pure replay only programs the replay file's ``text`` mentions are shimmed (§5.2)."""
    return [program for program in programs if mentions_program(text, program)]


def server_protocol(config: RcConfig) -> Optional[str]:
    return config.get("server_protocol", [GENERAL])
