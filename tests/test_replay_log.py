"""The replay debug log (logger "Replay"). Expected lines observed from CaptureMock 2.10.0, run black-box
with a logging.conf sending "Replay" to a file at DEBUG with format %(message)s."""
from __future__ import annotations

import logging
import subprocess
import sys
import textwrap

import pytest

from capturemock import replaylog
from capturemock.replay import ReplayIndex

COMMANDS = textwrap.dedent("""\
    <-PYT:echo hello
    ->RET:3
    <-CMD:echo hello world
    ->OUT:hello world
    <-CMD:echo hello world
    ->OUT:second
    <-CMD:ls /tmp
    ->OUT:x
    """)

# observed from 2.10.0: capturemock -p <COMMANDS> running `echo hello world; echo hello; ls /tmp/x; echo hello world`
COMMANDS_LOG = """\
Replay info OrderedDict([('<-PYT:echo hello', [['->RET:3']]),
             ('<-CMD:echo hello world',
              [['->OUT:hello world'], ['->OUT:second']]),
             ('<-CMD:ls /tmp', [['->OUT:x']])])
Trying to match '<-CMD:echo hello world'
Found exact match
Trying to match '<-CMD:echo hello'
Comparing with '<-CMD:echo hello world'
Words in common 2 vs 0
Comparing with '<-CMD:ls /tmp'
Words in common 0 vs 2
Best match chosen as '<-CMD:echo hello world'
Trying to match '<-CMD:ls /tmp/x'
Comparing with '<-CMD:echo hello world'
Words in common 0 vs 0
Non matching sequences 0 vs 0
Unmatched count difference 0 vs 100000
Comparing with '<-CMD:ls /tmp'
Words in common 2 vs 0
Best match chosen as '<-CMD:ls /tmp'
Trying to match '<-CMD:echo hello world'
Found exact match
"""

PYTHON = textwrap.dedent("""\
    <-PYT:mymod.add(1, 2)
    ->RET:3
    <-PYT:mymod.add(2, 2)
    ->RET:4
    <-PYT:mymod.greet('alice')
    ->RET:'hi alice'
    <-PYT:mymod.value
    ->RET:3
    """)

# observed from 2.10.0: replaying add(1, 2), add(1, 5), greet('bob'), value, add(7, 8) through an
# intercepted module (its lines from the first call on): attribute reads of functions that are not
# recorded log only the attempt; ties are broken on gaps, then on unconsumed responses
PYTHON_LOG = """\
Trying to match '<-PYT:mymod.add'
Trying to match '<-PYT:mymod.add(1, 2)'
Found exact match
Trying to match '<-PYT:mymod.add'
Trying to match '<-PYT:mymod.add(1, 5)'
Comparing with '<-PYT:mymod.add(1, 2)'
Words in common 2 vs 0
Comparing with '<-PYT:mymod.add(2, 2)'
Words in common 1 vs 2
Comparing with '<-PYT:mymod.greet('alice')'
Words in common 0 vs 2
Comparing with '<-PYT:mymod.value'
Words in common 0 vs 2
Best match chosen as '<-PYT:mymod.add(1, 2)'
Trying to match '<-PYT:mymod.greet'
Trying to match '<-PYT:mymod.greet('bob')'
Comparing with '<-PYT:mymod.add(1, 2)'
Words in common 0 vs 0
Non matching sequences 0 vs 0
Unmatched count difference -1 vs 100000
Comparing with '<-PYT:mymod.add(2, 2)'
Words in common 0 vs 0
Non matching sequences 0 vs 0
Unmatched count difference 1 vs 100000
Comparing with '<-PYT:mymod.greet('alice')'
Words in common 1 vs 0
Comparing with '<-PYT:mymod.value'
Words in common 0 vs 1
Best match chosen as '<-PYT:mymod.greet('alice')'
Trying to match '<-PYT:mymod.value'
Found exact match
Trying to match '<-PYT:mymod.add'
Trying to match '<-PYT:mymod.add(7, 8)'
Comparing with '<-PYT:mymod.add(1, 2)'
Words in common 1 vs 0
Comparing with '<-PYT:mymod.add(2, 2)'
Words in common 1 vs 1
Non matching sequences 1 vs 1
Unmatched count difference 1 vs -1
Comparing with '<-PYT:mymod.greet('alice')'
Words in common 0 vs 1
Comparing with '<-PYT:mymod.value'
Words in common 0 vs 1
Best match chosen as '<-PYT:mymod.add(2, 2)'
"""

CALLBACKS = textwrap.dedent("""\
    <-PYT:mod.run(Callback('cb'))
    --->PYT:cb(1)
    <---RET:2
    --->PYT:cb(3)
    <---RET:4
    ->RET:'done
    multi line'
    <-PYT:mod.run(Callback('cb'))
    ->RET:'again'
    <-CMD:echo hello world
    ->OUT:hello world
    ->ERR:oops
    ->EXC:1
    <-SRV:foo
    ->CLI:bar
    <-SRV:baz
    <-CMD:echo x
    """)

# observed from 2.10.0: its map's quirks with callbacks and server keys, and pprint keeping groups on one line
CALLBACKS_INFO = """\
Replay info OrderedDict([("<-PYT:mod.run(Callback('cb'))",
              [['--->PYT:cb(1)', '<---RET:4', "->RET:'done\\nmulti line'"], ["->RET:'again'"]]),
             ('--->PYT:cb(1)', [['<---RET:2']]),
             ('<---RET:2', [['--->PYT:cb(3)']]),
             ('<---RET:4', [[]]),
             ('<-CMD:echo hello world',
              [['->OUT:hello world', '->ERR:oops', '->EXC:1']]),
             ('<-SRV', [['->CLI:bar'], []]),
             ('<-CMD:echo x', [[]])])"""

SERVER_FIRST = "->CLI:hello\n<-SRV:foo\n->CLI:bar\n<-SRV:foo2\n<-CLI:x\n--->PYT:cb(1)\n--->PYT:cb(2)\n" \
               "<---RET:2\n<---RET:3\n->SRV:y\n"
# observed from 2.10.0
SERVER_FIRST_INFO = """\
Replay info OrderedDict([('->CLI:hello', [[]]),
             ('<-SRV', [['->CLI:bar'], []]),
             ('<-CLI:x',
              [['--->PYT:cb(1)', '--->PYT:cb(2)', '<---RET:3', '->SRV:y']]),
             ('--->PYT:cb(1)', [[]]),
             ('--->PYT:cb(2)', [['<---RET:2']]),
             ('<---RET:2', [[]]),
             ('<---RET:3', [[]])])"""


@pytest.fixture
def replay_log():
    """The "Replay" logger at DEBUG into a list of messages, as a logging.conf would set it."""
    messages: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: messages.append(record.getMessage())
    logger = logging.getLogger("Replay")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield messages
    logger.removeHandler(handler)
    logger.setLevel(old_level)


def test_command_line_matching_is_logged_as_by_2_10(replay_log):
    index = ReplayIndex(COMMANDS)
    for command in ["echo hello world", "echo hello", "ls /tmp/x", "echo hello world"]:
        index.lookup(f"<-CMD:{command}")
    assert "\n".join(replay_log) + "\n" == COMMANDS_LOG


def test_python_matching_and_attributes_are_logged_as_by_2_10(replay_log):
    index = ReplayIndex(PYTHON)
    replay_log.clear()  # the Replay info line is covered above
    for attribute, call in [("add", "add(1, 2)"), ("add", "add(1, 5)"), ("greet", "greet('bob')"),
                            ("value", None), ("add", "add(7, 8)")]:
        index.lookup_attribute(f"<-PYT:mymod.{attribute}")
        if call:
            index.lookup(f"<-PYT:mymod.{call}")
    assert "\n".join(replay_log) + "\n" == PYTHON_LOG


def test_exact_matching_logs_only_the_attempt(replay_log):
    index = ReplayIndex(COMMANDS, exact=True)
    replay_log.clear()
    with pytest.raises(Exception, match="Could not find any replay request matching '<-CMD:echo hello'"):
        index.lookup("<-CMD:echo hello")
    assert replay_log == ["Trying to match '<-CMD:echo hello'"]  # observed from 2.10.0


@pytest.mark.parametrize("text, expected", [(CALLBACKS, CALLBACKS_INFO), (SERVER_FIRST, SERVER_FIRST_INFO)])
def test_replay_info_reproduces_the_original_map(text, expected):
    assert replaylog.replay_info(text) == expected


def test_logged_and_indexed_best_match_agree(replay_log):
    """With the log on, a miss is scored by the plain scan; it must choose what the word index does."""
    requests = ["<-PYT:mymod.add(1, 5)", "<-PYT:mymod.greet('bob')", "<-PYT:mymod.add(7, 8)", "<-PYT:other"]
    logged = ReplayIndex(PYTHON)
    logger = logging.getLogger("Replay")
    logger.setLevel(logging.WARNING)
    plain = ReplayIndex(PYTHON)
    assert [logged.best_match(r) for r in requests] == [plain.best_match(r) for r in requests]


def test_nothing_is_logged_or_imported_without_a_logging_configuration():
    """The hot path pays nothing: no logging import, no wrapped lookups, when nobody configured the log."""
    code = ("import sys; from capturemock.replay import ReplayIndex; i = ReplayIndex('<-CMD:a\\n->OUT:b\\n'); "
            "i.lookup('<-CMD:a'); i.lookup('<-CMD:a b'); "
            "print('logging' in sys.modules, 'capturemock.replaylog' in sys.modules, 'lookup' in vars(i))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "False", "False"]


def test_server_applies_log_config_file(tmp_path):
    """log_config_file (with %(LOCAL_DIR)s) configures the server process; the Replay log lands in the file."""
    (tmp_path / "logging.conf").write_text(textwrap.dedent("""\
        [loggers]
        keys=root,Replay
        [handlers]
        keys=replay
        [formatters]
        keys=plain
        [logger_root]
        handlers=
        [logger_Replay]
        handlers=replay
        level=DEBUG
        qualname=Replay
        [handler_replay]
        class=FileHandler
        formatter=plain
        args=('%(LOCAL_DIR)s/replay.log', 'w')
        [formatter_plain]
        format=%(message)s
        """))
    (tmp_path / "rc").write_text(f"[general]\nlog_config_file = {tmp_path / 'logging.conf'}\n"
                                 "[command line]\nintercepts = echo,ls\n")
    (tmp_path / "replay.mock").write_text(COMMANDS)
    script = "env echo hello world; env echo hello; env ls /tmp/x; env echo hello world"
    subprocess.run([sys.executable, "-m", "capturemock", "-m", "0", "-p", "replay.mock", "-r", "record.mock",
                    "-R", str(tmp_path / "rc"), "sh", "-c", script], cwd=tmp_path, capture_output=True, check=True)
    assert (tmp_path / "replay.log").read_text() == COMMANDS_LOG
