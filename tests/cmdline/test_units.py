"""Pure parts: request text (§4.3), arrival ordering (§4.5), option parsing, the wire format."""
from __future__ import annotations

import socket
import tempfile

import pytest

from capturemock.cmdline import shim, shims
from capturemock.cmdline.describe import changed_value, describe_command, env_block, quote_args
from capturemock.cmdline.request import read_request
from capturemock.errors import ConfigError
from capturemock.server import ArrivalOrder, parse_options


def test_quoting_only_wraps_args_with_spaces():
    assert quote_args(["greet"]) == "greet"
    assert quote_args(["greet", 'say "hi"', "it's", "", "tab\there"]) == 'greet "say "hi"" it\'s  tab\there'


@pytest.mark.parametrize("name, new, old, shown", [
    ("COLOUR", "red", "blue", "red"),
    ("COLOUR", "dark blue", "blue", "dark $COLOUR"),
    ("COLOUR", "x", None, "x"),
    ("COLOUR", "same", "same", None),
    ("PATH", "/a:/old:/z", "/old", "/a:$PATH:/z"),
    ("TOOL_PATH", "/b:/a", "/a:/b", None),
    ("LD_LIBRARY_PATH", "/opt/lib", None, "/opt/lib"),
])
def test_changed_values(name, new, old, shown):
    assert changed_value(name, new, old) == shown


def test_env_block_unsets_first_then_changes_in_watch_order():
    base = {"A": "1", "B": "2", "C": "3"}
    env = {"B": "two", "C": "3", "D": "4"}
    assert env_block(env, base, ["D", "C", "B", "A"]) == "env --unset=A 'D=4' 'B=two' "
    assert env_block(base, base, ["A"]) == ""


def test_cwd_prefix_only_when_it_differs():
    kwargs = {"base_cwd": "/top", "base_env": {}, "watched": ["X"]}
    assert describe_command(["p", "a b"], "/top", {}, **kwargs) == 'p "a b"'
    assert describe_command(["p"], "/top/sub", {"X": "1"}, **kwargs) == "cd /top/sub; env 'X=1' p"


def test_arrival_order_holds_later_requests_back():
    written = []
    order = ArrivalOrder(written.append)
    slow, fast = order.ticket(), order.ticket()
    order.record(slow, "slow request\n")
    order.record(fast, "fast request\n")
    order.record(fast, "fast answer\n")
    order.finish(fast)
    assert written == ["slow request\n"]
    order.record(slow, "slow answer\n")
    order.finish(slow)
    assert written == ["slow request\n", "slow answer\n", "fast request\n", "fast answer\n"]


def test_arrival_order_flushes_unfinished_requests_at_shutdown():
    written = []
    order = ArrivalOrder(written.append)
    stuck, later = order.ticket(), order.ticket()
    order.record(later, "later\n")
    order.flush_all()
    assert written == ["later\n"]
    assert stuck == 0


def test_server_options():
    assert parse_options(["-m", "2", "--record=r", "-R", "a,b", "--parent-pipe"]) == {
        "mode": "2", "record": "r", "rcfiles": "a,b", "parent-pipe": ""}
    with pytest.raises(ConfigError):
        parse_options(["--bogus"])


def test_request_round_trip_keeps_arbitrary_bytes():
    left, right = socket.socketpair()
    with left, right:
        fields = [b"tok", b"/cwd", b"2", b"prog", "caf\u00e9 \xff".encode("utf-8", "surrogateescape"),
                  b"A=1=2", b"EMPTY="]
        left.sendall(shim.encode_fields(fields))
        request = read_request(right)
    assert (request.token, request.cwd, request.program) == ("tok", "/cwd", "prog")
    assert request.argv[1].encode("utf-8", "surrogateescape") == "caf\u00e9 \xff".encode("utf-8", "surrogateescape")
    assert request.env == {"A": "1=2", "EMPTY": ""}


def test_request_with_bad_counts_is_refused():
    left, right = socket.socketpair()
    with left, right:
        left.sendall(shim.encode_fields([b"tok", b"/cwd", b"5", b"prog"]))
        with pytest.raises(ValueError):
            read_request(right)


def test_native_shim_is_built_once_per_source_hash(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    binary = shims.native_shim()
    if binary is None:
        pytest.skip("no C compiler")
    assert binary.startswith(str(tmp_path / "capturemock" / "shim-"))
    assert shims.native_shim(compiler="/no/such/cc") == binary  # cached: no compiler needed


def test_without_a_compiler_there_is_no_native_shim(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(tempfile, "gettempdir", lambda: str(tmp_path / "tmp"))
    assert shims.native_shim(compiler="/no/such/cc") is None


def test_python_shim_runs_without_site_or_pythonpath():
    first, *rest = shims.python_shim_text().splitlines()
    assert first.endswith(" -IS")
    assert "from shim import interceptCommand" in rest
