"""The three record/replay modes (§2.1) and the activity rule (§2.2)."""
from __future__ import annotations

import os

from .errors import ConfigError

TYPE_CHECKING = False  # typing is not imported at run time: it is a third of the server's start-up
if TYPE_CHECKING:
    from typing import Optional, Union

REPLAY = 0
RECORD = 1
REPLAY_OLD_RECORD_NEW = 2
DISABLED = 3  # only ever passed by TextTest for client/server tests ("-rectraffic 3")

MODE_NAMES = {REPLAY: "replay", RECORD: "record", REPLAY_OLD_RECORD_NEW: "mixed", DISABLED: "disabled"}
CONSTANT_NAMES = {REPLAY: "REPLAY", RECORD: "RECORD", REPLAY_OLD_RECORD_NEW: "REPLAY_OLD_RECORD_NEW"}
ALL_MODES = tuple(MODE_NAMES)
TEST_MODES = (REPLAY, RECORD, REPLAY_OLD_RECORD_NEW)  # the decorator and the pytest plugin: no DISABLED
# every spelling, lower-cased: the number, the word (pytest's --capturemock-mode) and the constant's name
_SPELLINGS = {**{str(code): code for code in MODE_NAMES}, **{name: code for code, name in MODE_NAMES.items()},
              **{name.lower(): code for code, name in CONSTANT_NAMES.items()}}


def parse_mode(value: Union[int, str, None], source: str = "mode", accepted: tuple[int, ...] = ALL_MODES) -> int:
    """The one reading of a mode, wherever it is given (``-m``, ``mode=``, ``--capturemock-mode``,
    ``CAPTUREMOCK_MODE``, TextTest): an int, or its number, word or constant name in any case."""
    if isinstance(value, str):
        code = _SPELLINGS.get(value.strip().lower())
    else:
        code = value if isinstance(value, int) and not isinstance(value, bool) else None
    if code not in accepted:
        raise ConfigError(f"unknown capturemock mode {value!r} in {source}: use {describe_modes(accepted)}")
    return code


def describe_modes(accepted: tuple[int, ...] = ALL_MODES) -> str:
    """What ``parse_mode`` takes, for error messages and help texts."""
    spellings = (", ".join(filter(None, (CONSTANT_NAMES.get(code), MODE_NAMES[code]))) for code in accepted)
    return ", ".join(f"{code} ({names})" for code, names in zip(accepted, spellings))


def is_active(mode: Union[int, str], replay_file: Optional[str]) -> bool:
    """Replay with no replay file intercepts nothing at all (§2.2); every other mode is active.

    Unlike the original, a mode given as a string is parsed first, so "0" with no file is inactive too.
    DISABLED (3, TextTest's client/server "Disabled") stays active and acts as mixed mode, as in the
    original (§2.1): rigs written for it read the server's address whatever the mode.
    """
    if parse_mode(mode) != REPLAY:
        return True
    return bool(replay_file) and os.path.isfile(replay_file)
