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


def parse_mode(value: Union[int, str, None], source: str = "mode") -> int:
    """Turn an int, a numeric string or a mode name into a mode code; anything else is a ConfigError."""
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, int) and value in MODE_NAMES:
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        for code, name in MODE_NAMES.items():
            if text in (str(code), name):
                return code
    valid = ", ".join(f"{code} ({name})" for code, name in MODE_NAMES.items())
    raise ConfigError(f"unknown capturemock mode {value!r} in {source}: use one of {valid}")


def is_active(mode: Union[int, str], replay_file: Optional[str]) -> bool:
    """Replay with no replay file intercepts nothing at all (§2.2); every other mode is active.

    Unlike the original, a mode given as a string is parsed first, so "0" with no file is inactive too.
    DISABLED (3, TextTest's client/server "Disabled") stays active and acts as mixed mode, as in the
    original (§2.1): rigs written for it read the server's address whatever the mode.
    """
    if parse_mode(mode) != REPLAY:
        return True
    return bool(replay_file) and os.path.isfile(replay_file)
