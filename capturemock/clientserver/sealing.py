"""``[general] sealed = true`` for client/server traffic (issue 13).

In replay the mock answers the client, and nothing reaches a real server, except where a session
forwards: a client message arriving once the server has been declared the SUT (the recorded client
is played to it, and any other client's message would go on to the real server), or a session
without a replay file. Sealed replay refuses those, naming the request, instead of forwarding them.
The recorded client played to a SUT server is the replay itself and is never refused.
"""
from __future__ import annotations

from .location import warn

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional


class Seal:
    """Refuses what a sealed replay session would otherwise forward to a real server."""

    def __init__(self, replay_path: Optional[str]):
        self.replay_path = replay_path

    def refuse(self, request: str, destination: str) -> str:
        """Say on the server's stderr (relayed when it stops) what was refused; the same line is the
        protocol's error answer."""
        from ..explain import sealed

        line = f"capturemock: {sealed(request, self.replay_path, f'sent to the real server at {destination}')}"
        warn(line)
        return line


def first_line(text: str) -> str:
    """A request named in one line: its first, with `` ...`` when more follow."""
    first, newline, _ = text.partition("\n")
    return f"{first} ..." if newline else first
