"""Killed processes (product spec §3 "Nothing lost", "Clean errors"): a SUT killed mid-record leaves
every completed item in a valid mock file; a shim whose traffic server died says so in one line and
exits non-zero instead of hanging or printing a traceback."""
from __future__ import annotations

import os
import signal
import sys
import time

from capturemock.modes import RECORD

STAMP = '''
def mark(n):
    return {"n": n, "lines": ["%d-%d" % (n, i) for i in range(50)]}
'''
RC = "[command line]\nintercepts = tool\n"


def test_sut_killed_mid_record_leaves_every_completed_call_on_disk(sut):
    sut.write("stamp.py", STAMP)
    sut.start_python(RECORD, sut.write("capturemockrc", "[python]\nintercepts = stamp\n"))
    script = "import stamp, sys\nn = 0\nwhile True:\n    stamp.mark(n)\n    print(n, flush=True)\n    n += 1\n"
    process = sut.popen(sys.executable, "-c", script)
    for _ in range(200):  # the SUT reports each call once it has returned
        completed = int(process.stdout.readline())
    process.kill()  # SIGKILL: no atexit, no flush, no clean-up of any kind
    process.wait(30)
    items = sut.items("pythonmocks.mock")
    calls = [item for item in items if item.text.startswith("stamp.mark(")]
    results = [item for item in items if item.type == "RET" and "'lines'" in item.text]
    assert len(calls) >= completed + 1 and len(results) >= completed + 1
    for n, (call, result) in enumerate(zip(calls, results)):
        assert call.text == f"stamp.mark({n})"
        assert result.text.startswith(f"{{'lines': ['{n}-0',") and result.text.endswith(f"'n': {n}}}")


def test_shim_reports_a_dead_server_in_one_line(sut, shim_kind):
    sut.program("tool", "echo real tool\n")
    sut.start_server(RECORD, sut.write("capturemockrc", RC))
    assert sut.run("tool", text=True).stdout == "real tool\n"
    os.kill(sut.server_pid(), signal.SIGKILL)
    time.sleep(0.1)  # let the kernel close the listening socket
    result = sut.run("tool", text=True, timeout=20)
    assert result.returncode != 0 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert lines[0].startswith("CaptureMock shim for 'tool': cannot reach the CaptureMock server at '127.0.0.1:")


def test_server_killed_while_the_real_program_runs(sut, shim_kind):
    """The server dies between telling the shim to run the program and receiving its output."""
    sut.program("tool", "touch started\nsleep 1\necho finished\n")
    sut.start_server(RECORD, sut.write("capturemockrc", RC))
    process = sut.popen("tool", text=True)
    deadline = time.monotonic() + 10
    while not (sut.root / "started").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(sut.server_pid(), signal.SIGKILL)
    out, err = process.communicate(timeout=20)
    assert out == "finished\n"  # the program itself was not disturbed
    assert process.returncode != 0
    lines = err.splitlines()
    assert len(lines) == 1 and "Traceback" not in err and lines[0].startswith("CaptureMock shim for 'tool': ")
    assert "CaptureMock server" in lines[0], lines[0]


def test_server_killed_mid_record_keeps_completed_commands(sut, shim_kind):
    sut.program("tool", 'echo "output of $1"\n')
    sut.start_server(RECORD, sut.write("capturemockrc", RC))
    for n in range(5):
        assert sut.run("tool", str(n), text=True).stdout == f"output of {n}\n"
    os.kill(sut.server_pid(), signal.SIGKILL)
    items = sut.items("rec.mock")
    assert [(i.type, i.text) for i in items] == [
        pair for n in range(5) for pair in (("CMD", f"tool {n}"), ("OUT", f"output of {n}"))]


def test_sut_killed_inside_a_callback_of_a_long_real_call_leaves_what_the_callbacks_did(sut):
    """An event loop (a real call that never returns) calling the application back: what each callback
    did is on disk as it happens, not held back for the loop's answer."""
    sut.write("events.py", "def mainloop(handler):\n    i = 0\n    while True:\n        handler(i)\n        i += 1\n"
                           "\ndef lookup(i):\n    return i * 10\n")
    sut.start_python(RECORD, sut.write("capturemockrc", "[python]\nintercepts = events\n"))
    script = ("import os, signal, events\ndef on_event(i):\n    events.lookup(i)\n"
              "    if i == 3:\n        os.kill(os.getpid(), signal.SIGKILL)\nevents.mainloop(on_event)\n")
    process = sut.popen(sys.executable, "-c", script)
    process.wait(30)
    texts = [(item.prefix, item.text) for item in sut.items("pythonmocks.mock") if "lookup" in item.text
             or item.type == "RET" and item.level == 2]
    assert texts == [(prefix, text) for i in range(4)
                     for prefix, text in (("<-----", f"events.lookup({i})"), ("----->", str(i * 10)))]
