"""The text of a ``<-CMD:`` request (§4.3): optional ``cd <cwd>; ``, optional ``env`` block, argv.

Only watched variables (§7.5) appear in the env block, compared with the server's environment, which
is the SUT's environment before interception started.
"""
from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Mapping, Optional, Sequence


_JOINER = ":"  # §4.3: the joiner is always ':' in the text, even on Windows


def quote_args(argv: Sequence[str]) -> str:
    """Args containing a space are wrapped in double quotes; nothing else is escaped (§4.3)."""
    return " ".join(f'"{arg}"' if " " in arg else arg for arg in argv)


def describe_command(argv: Sequence[str], cwd: str, env: Mapping[str, str], *, base_cwd: str,
                     base_env: Mapping[str, str], watched: Sequence[str]) -> str:
    """The request text for running ``argv`` in ``cwd`` with ``env``."""
    shown_cwd = cwd.replace("\\", "/")
    prefix = "" if cwd == base_cwd else f"cd {shown_cwd}; "
    block = env_block(env, base_env, watched)
    return f"{prefix}{block}{quote_args(argv)}"


def env_block(env: Mapping[str, str], base_env: Mapping[str, str], watched: Sequence[str]) -> str:
    """``env --unset=A 'B=value' `` for watched variables removed/changed by the SUT, or ''."""
    unset = [f"--unset={name} " for name in watched if name in base_env and name not in env]
    changed = []
    for name in watched:
        if name in env:
            value = changed_value(name, env[name], base_env.get(name))
            if value is not None:
                changed.append(f"'{name}={value}' ")
    parts = unset + changed
    return "env " + "".join(parts) if parts else ""


def changed_value(name: str, new: str, old: Optional[str]) -> Optional[str]:
    """How a watched variable's new value is shown, or None if it does not count as changed (§4.3)."""
    if old is None:
        return new
    if new == old:
        return None
    if "PATH" in name:
        return _compact_path(name, new, old)
    return new.replace(old, f"${name}") if old else new


def _compact_path(name: str, new: str, old: str) -> Optional[str]:
    """Only newly added elements, around ``$NAME``: those in the first half of the new list are
    prefixes, the others suffixes; nothing new means no change worth showing."""
    old_parts = set(old.split(_JOINER))
    new_parts = new.split(_JOINER)
    prefixes, suffixes = [], []
    for position, part in enumerate(new_parts):
        if part not in old_parts:
            (prefixes if position < len(new_parts) / 2 else suffixes).append(part)
    if not prefixes and not suffixes:
        return None
    return _JOINER.join([*prefixes, f"${name}", *suffixes])
