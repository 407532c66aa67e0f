"""The replay debug log (logger "Replay"). Expected lines observed from CaptureMock 2.10.0, run black-box
with a logging.conf sending "Replay" to a file at DEBUG with format %(message)s."""
from __future__ import annotations

import logging
import subprocess
import sys
import textwrap

import pytest
from loggingconf import one_logger_conf

from capturemock import replaylog
from capturemock.replay import ReplayIndex

pytestmark = pytest.mark.usefixtures("replay_core")  # the C accelerator and the Python reference

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

# A replay through real interception (in-process, logging configured by the program, since in-process
# python interception configures none): imports (one missing from the mock, so best-matched; one that
# failed when recorded), ``from mod import``, function calls, attribute reads, an instance.
PYTHON_RUN_MOCK = textwrap.dedent("""\
    <-PYT:import shop
    <-PYT:shop.add(1, 2)
    ->RET:3
    <-PYT:shop.add(2, 2)
    ->RET:4
    <-PYT:shop.value
    ->RET:7
    <-PYT:shop.Counter(5)
    ->RET:Instance('Counter', 'counter')
    <-PYT:counter.bump(1)
    ->RET:6
    <-PYT:counter.total
    ->RET:6
    <-PYT:import pkg
    <-PYT:pkg.__path__
    ->RET:['Fake value just to mark that it exists']
    <-PYT:pkg.sub.twice(4)
    ->RET:8
    <-PYT:import optional_backend
    ->RET:raise ModuleNotFoundError("No module named 'optional_backend'")
    """)

PYTHON_RUN_PROGRAM = textwrap.dedent("""\
    import shop
    from shop import add
    print(add(1, 2), shop.add(1, 5), shop.value, add is shop.add)
    counter = shop.Counter(5)
    print(counter.bump(1), counter.bump(2), counter.total)
    try:
        import optional_backend
    except ImportError as exc:
        print("no backend:", exc)
    import pkg.sub
    print(pkg.sub.twice(4))
    """)

# observed from 2.10.0 running PYTHON_RUN_PROGRAM (except `add is shop.add`: 2.10.0 made a new proxy per
# read and printed False; ours keeps the proxy, logged or not)
PYTHON_RUN_OUTPUT = "3 3 7 True\n6 4 6\nno backend: No module named 'optional_backend'\n8\n"

# observed from 2.10.0 (the same program, mock and rc): what it recorded
PYTHON_RUN_RECORD = """\
<-PYT:import shop
<-PYT:shop.add(1, 2)
->RET:3
<-PYT:shop.add(1, 5)
->RET:3
<-PYT:shop.value
->RET:7
<-PYT:shop.Counter(5)
->RET:Instance('Counter', 'counter')
<-PYT:counter.bump(1)
->RET:6
<-PYT:counter.bump(2)
->RET:4
<-PYT:counter.total
->RET:6
<-PYT:import optional_backend
->RET:raise ModuleNotFoundError("No module named 'optional_backend'")
<-PYT:import pkg
<-PYT:pkg.__path__
->RET:['Fake value just to mark that it exists']
<-PYT:import pkg.sub
<-PYT:pkg.sub.twice(4)
->RET:8
"""

# observed from 2.10.0 (the same run): each import looked up (a missing one best-matched), each read of
# a function or method looked up again, a class read once (the import machinery reads ``add`` twice)
PYTHON_RUN_LOG = """\
Replay info OrderedDict([('<-PYT:import shop', [[]]),
             ('<-PYT:shop.add(1, 2)', [['->RET:3']]),
             ('<-PYT:shop.add(2, 2)', [['->RET:4']]),
             ('<-PYT:shop.value', [['->RET:7']]),
             ('<-PYT:shop.Counter(5)',
              [["->RET:Instance('Counter', 'counter')"]]),
             ('<-PYT:counter.bump(1)', [['->RET:6']]),
             ('<-PYT:counter.total', [['->RET:6']]),
             ('<-PYT:import pkg', [[]]),
             ('<-PYT:pkg.__path__',
              [["->RET:['Fake value just to mark that it exists']"]]),
             ('<-PYT:pkg.sub.twice(4)', [['->RET:8']]),
             ('<-PYT:import optional_backend',
              [['->RET:raise ModuleNotFoundError("No module named \\'optional_backend\\'")']])])
Trying to match '<-PYT:import shop'
Found exact match
Trying to match '<-PYT:shop.__name__'
Trying to match '<-PYT:shop.__path__'
Trying to match '<-PYT:shop.__path__'
Trying to match '<-PYT:shop.add'
Trying to match '<-PYT:shop.add'
Trying to match '<-PYT:shop.add(1, 2)'
Found exact match
Trying to match '<-PYT:shop.add'
Trying to match '<-PYT:shop.add(1, 5)'
Comparing with '<-PYT:import shop'
Words in common 0 vs 0
Non matching sequences 0 vs 0
Unmatched count difference 0 vs 100000
Comparing with '<-PYT:shop.add(1, 2)'
Words in common 2 vs 0
Comparing with '<-PYT:shop.add(2, 2)'
Words in common 1 vs 2
Comparing with '<-PYT:shop.value'
Words in common 0 vs 2
Comparing with '<-PYT:shop.Counter(5)'
Words in common 1 vs 2
Comparing with '<-PYT:counter.bump(1)'
Words in common 0 vs 2
Comparing with '<-PYT:counter.total'
Words in common 0 vs 2
Comparing with '<-PYT:import pkg'
Words in common 0 vs 2
Comparing with '<-PYT:pkg.__path__'
Words in common 0 vs 2
Comparing with '<-PYT:pkg.sub.twice(4)'
Words in common 0 vs 2
Comparing with '<-PYT:import optional_backend'
Words in common 0 vs 2
Best match chosen as '<-PYT:shop.add(1, 2)'
Trying to match '<-PYT:shop.value'
Found exact match
Trying to match '<-PYT:shop.add'
Trying to match '<-PYT:shop.Counter'
Trying to match '<-PYT:shop.Counter(5)'
Found exact match
Trying to match '<-PYT:counter.bump'
Trying to match '<-PYT:counter.bump(1)'
Found exact match
Trying to match '<-PYT:counter.bump'
Trying to match '<-PYT:counter.bump(2)'
Comparing with '<-PYT:import shop'
Words in common 0 vs 0
Non matching sequences 0 vs 0
Unmatched count difference 0 vs 100000
Comparing with '<-PYT:shop.add(1, 2)'
Words in common 1 vs 0
Comparing with '<-PYT:shop.add(2, 2)'
Words in common 1 vs 1
Non matching sequences 0 vs 0
Unmatched count difference 1 vs -1
Comparing with '<-PYT:shop.value'
Words in common 0 vs 1
Comparing with '<-PYT:shop.Counter(5)'
Words in common 0 vs 1
Comparing with '<-PYT:counter.bump(1)'
Words in common 1 vs 1
Non matching sequences 1 vs 0
Comparing with '<-PYT:counter.total'
Words in common 0 vs 1
Comparing with '<-PYT:import pkg'
Words in common 0 vs 1
Comparing with '<-PYT:pkg.__path__'
Words in common 0 vs 1
Comparing with '<-PYT:pkg.sub.twice(4)'
Words in common 0 vs 1
Comparing with '<-PYT:import optional_backend'
Words in common 0 vs 1
Best match chosen as '<-PYT:shop.add(2, 2)'
Trying to match '<-PYT:counter.total'
Found exact match
Trying to match '<-PYT:import optional_backend'
Found exact match
Trying to match '<-PYT:import pkg'
Found exact match
Trying to match '<-PYT:pkg.__name__'
Trying to match '<-PYT:pkg.__path__'
Found exact match
Trying to match '<-PYT:pkg.__path__'
Found exact match
Trying to match '<-PYT:import pkg.sub'
Comparing with '<-PYT:import shop'
Words in common 1 vs 0
Comparing with '<-PYT:shop.add(1, 2)'
Words in common 0 vs 1
Comparing with '<-PYT:shop.add(2, 2)'
Words in common 0 vs 1
Comparing with '<-PYT:shop.value'
Words in common 0 vs 1
Comparing with '<-PYT:shop.Counter(5)'
Words in common 0 vs 1
Comparing with '<-PYT:counter.bump(1)'
Words in common 0 vs 1
Comparing with '<-PYT:counter.total'
Words in common 0 vs 1
Comparing with '<-PYT:import pkg'
Words in common 1 vs 1
Non matching sequences 1 vs 1
Unmatched count difference 0 vs 0
Comparing with '<-PYT:pkg.__path__'
Words in common 0 vs 1
Comparing with '<-PYT:pkg.sub.twice(4)'
Words in common 0 vs 1
Comparing with '<-PYT:import optional_backend'
Words in common 1 vs 1
Non matching sequences 1 vs 1
Unmatched count difference 0 vs 0
Best match chosen as '<-PYT:import shop'
Trying to match '<-PYT:pkg.sub.__name__'
Trying to match '<-PYT:pkg.sub.__path__'
Trying to match '<-PYT:pkg.sub.twice'
Trying to match '<-PYT:pkg.sub.twice(4)'
Found exact match
"""


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
            "print('logging' in sys.modules, 'capturemock.replaylog' in sys.modules, "
            "'_log_matching' in i.lookup.__qualname__)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "False", "False"]


@pytest.mark.parametrize("logged", [True, False])
def test_python_replay_is_logged_as_by_2_10_and_replays_alike_without_the_log(tmp_path, logged):
    """A real replay through the import hook; the log changes nothing the program sees or records."""
    (tmp_path / "logging.conf").write_text(one_logger_conf("Replay", "replay.log"))
    (tmp_path / "rc").write_text("[python]\nintercepts = shop, pkg, optional_backend\n")
    (tmp_path / "replay.mock").write_text(PYTHON_RUN_MOCK)
    (tmp_path / "sut.py").write_text(PYTHON_RUN_PROGRAM)
    configure = "import logging.config; logging.config.fileConfig('logging.conf')\n" if logged else ""
    (tmp_path / "driver.py").write_text(
        f"{configure}import sys; sys.path.insert(0, '.')\nimport capturemock\n"
        "capturemock.interceptPython(0, 'record.mock', 'replay.mock', ['rc'], [])\nimport sut\n")
    result = subprocess.run([sys.executable, "driver.py"], cwd=tmp_path, capture_output=True, text=True)
    assert (result.stdout, result.stderr, result.returncode) == (PYTHON_RUN_OUTPUT, "", 0)
    assert (tmp_path / "record.mock").read_text() == PYTHON_RUN_RECORD
    if logged:
        assert (tmp_path / "replay.log").read_text() == PYTHON_RUN_LOG
    else:
        assert not (tmp_path / "replay.log").exists()


def test_server_applies_log_config_file(tmp_path):
    """log_config_file (with %(LOCAL_DIR)s) configures the server process; the Replay log lands in the file."""
    (tmp_path / "logging.conf").write_text(one_logger_conf("Replay", "%(LOCAL_DIR)s/replay.log"))
    (tmp_path / "rc").write_text(f"[general]\nlog_config_file = {tmp_path / 'logging.conf'}\n"
                                 "[command line]\nintercepts = echo,ls\n")
    (tmp_path / "replay.mock").write_text(COMMANDS)
    script = "env echo hello world; env echo hello; env ls /tmp/x; env echo hello world"
    subprocess.run([sys.executable, "-m", "capturemock", "-m", "0", "-p", "replay.mock", "-r", "record.mock",
                    "-R", str(tmp_path / "rc"), "sh", "-c", script], cwd=tmp_path, capture_output=True, check=True)
    assert (tmp_path / "replay.log").read_text() == COMMANDS_LOG


def test_a_broken_log_config_file_is_one_line_and_the_traffic_is_still_recorded(tmp_path):
    """A log configuration logging cannot read costs the logs, never the recording, and no traceback."""
    conf = tmp_path / "logging.conf"
    conf.write_text("[loggers]\nkeys=root\n")  # no [handlers]/[formatters]: fileConfig raises KeyError
    (tmp_path / "rc").write_text(f"[general]\nlog_config_file = {conf}\n[command line]\nintercepts = echo\n")
    result = subprocess.run([sys.executable, "-m", "capturemock", "-m", "1", "-r", "record.mock",
                             "-R", str(tmp_path / "rc"), "sh", "-c", "env echo hello"],
                            cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "hello\n"
    assert "Traceback" not in result.stderr
    assert (f"CaptureMock: {conf}: cannot configure logging from it (KeyError: 'formatters'); "
            "nothing is logged") in result.stderr
    assert (tmp_path / "record.mock").read_text() == "<-CMD:echo hello\n->OUT:hello\n"
