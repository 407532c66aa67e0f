"""Builds the command-line handler of one server session from the rc config and the server options."""
from __future__ import annotations

import os

from ..config import RcConfig
from ..modes import RECORD, REPLAY_OLD_RECORD_NEW
from . import settings
from .handler import CommandHandler

TYPE_CHECKING = False  # typing is not imported at run time: the server's start-up matters
if TYPE_CHECKING:
    from typing import Optional

    from .handler import FileEdits


def file_edits(mode: int, config: RcConfig, options: dict[str, str], base_cwd: str,
               base_env: dict[str, str]) -> FileEdits:
    from .edits import SessionFileEdits

    return SessionFileEdits(options.get("record-file-edits"), options.get("replay-file-edits"),
                            settings.ignored_edit_names(config), base_cwd, base_env,
                            keep_replayed=mode == REPLAY_OLD_RECORD_NEW,
                            allow_outside=settings.edits_outside_allowed(config))


def _replay_index(mode: int, config: RcConfig, options: dict[str, str]):
    path = options.get("replay")
    if mode == RECORD or not path or not os.path.isfile(path):
        return None  # §2.4: mixed mode with no replay file simply records
    from ..replay import ReplayIndex
    from ..replaypolicy import index_options
    return ReplayIndex.from_file(path, **index_options(config))


def command_handler(mode: int, config: RcConfig, options: dict[str, str], token: str,
                    base_env: Optional[dict[str, str]] = None) -> CommandHandler:
    """``base_env``: the SUT's environment, which commands are described against (default: ours, as a
    server process is started with it)."""
    from ..redaction import Redactor
    from ..replaypolicy import sealed

    replay = _replay_index(mode, config, options)
    mentioned: dict[str, bool] = {}

    def replayed(program: str) -> bool:
        if program not in mentioned:
            mentioned[program] = replay is not None and settings.mentions_program(replay.text, program)
        return mentioned[program]

    intercept_dir: Optional[str] = options.get("intercept-dir")
    base_cwd = os.getcwd()
    base_env = dict(os.environ if base_env is None else base_env)
    return CommandHandler(
        mode=mode, token=token, replay=replay, replayed_programs=replayed, sealed=sealed(config),
        exact_output=settings.exact_output(config), alterations=settings.alterations(config),
        redactor=Redactor.from_config(config),
        watched=lambda program: settings.watched_variables(config, program),
        asynchronous=lambda program: settings.is_asynchronous(config, program),
        edits=file_edits(mode, config, options, base_cwd, base_env), base_env=base_env, base_cwd=base_cwd,
        intercept_dirs=[intercept_dir] if intercept_dir else [])
