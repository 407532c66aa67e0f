"""The traffic server of one test (the pytest plugin's ``capturemock_server`` fixture): a fake server
for a client under test, made of run-time rules and, once recorded, a mock file.

Replay (the default) answers from ``mocks/<test file stem>/<test name>.server.mock`` if there is one
and records nothing (without one, the rules are the whole server); record forwards what no rule
answers to the real server (``forward_to``) and stores the conversation there when the test passes;
mixed replays when the mock exists, else records. Without rc files the server speaks HTTP with the
client as the system under test.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
from typing import Optional, Sequence

from .config import refuse_live_run
from .decorator import _move
from .modes import RECORD, REPLAY
from .rules import RulesClient

CLIENT_HTTP_RC = "[general]\nserver_protocol = http\nrecord_for_client = true\n"
MOCK_SUFFIX = ".server.mock"


class TestServer:
    """Serving from construction: ``url`` for the client, ``rules`` to add and remove rules (callables
    too: the server runs in this process), ``forward_to`` for recording. ``finish`` (the test passed)
    stores a recording; ``abandon`` (it failed) keeps the stored mock as it was."""

    __test__ = False  # not a test class, whatever pytest thinks of the name

    def __init__(self, mode: int, mock_path: str, rc_files: Sequence[str] = (), forward_to: Optional[str] = None):
        from .clientserver.inprocess import InProcessServer

        refuse_live_run(rc_files, mode, mock_path)  # on_missing_mock = error: no mock, no test
        self.mode = mode
        self.mock_path = mock_path
        self.replaying = mode != RECORD and os.path.isfile(mock_path)
        self._scratch = tempfile.mkdtemp(prefix="capturemock-")
        if not rc_files:
            rc_files = [os.path.join(self._scratch, "capturemockrc")]
            with open(rc_files[0], "w", encoding="utf-8") as rc_file:
                rc_file.write(CLIENT_HTTP_RC)
        self._record = os.path.join(self._scratch, os.path.basename(mock_path))
        try:
            self._server: Optional[InProcessServer] = InProcessServer(
                mode, list(rc_files), self._record, mock_path if self.replaying else None)
        except BaseException:
            shutil.rmtree(self._scratch, ignore_errors=True)
            raise
        self.url = self._server.url
        self.token = self._server.token
        self.rules = RulesClient(self.url, self.token, local=self._server.rules)
        if forward_to:
            try:
                self.forward_to(forward_to)
            except BaseException:
                self.abandon()
                raise

    def forward_to(self, url: str) -> None:
        """The real server: what no rule (and, replaying, no mock) answers is forwarded there and recorded."""
        self._server.forward_to(url)

    def finish(self) -> None:
        """Stop; a recording (record mode, or mixed with no mock yet) becomes the mock."""
        try:
            self._stop()
            recording = self.mode != REPLAY and not self.replaying
            if recording and os.path.isfile(self._record) and os.path.getsize(self._record) > 0:
                _move(self._record, self.mock_path)
        finally:
            shutil.rmtree(self._scratch, ignore_errors=True)

    def abandon(self) -> None:
        try:
            self._stop()
        finally:
            shutil.rmtree(self._scratch, ignore_errors=True)

    def _stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            for line in server.stop():
                sys.stderr.write(f"{line}\n")
