"""The traffic server's debug log (logger "Server", issue #12 point 10). Expected lines observed from
CaptureMock 2.10.0 run black-box through the same traffic, with a logging.conf sending "Server" to a
file at DEBUG with format %(message)s. <SERVER> and <REAL> stand for that run's addresses, <TRIED> for
the line naming the traffic classes 2.10 tried in replay (spelt out below)."""
from __future__ import annotations

import json
import subprocess
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from loggingconf import one_logger_conf
from test_http import call

import capturemock

LOGGING_CONF = one_logger_conf("Server", "%(LOCAL_DIR)s/server.log")
_TRIED = ("Trying with possible classes [<class 'capturemock.commandlinetraffic.StderrTraffic'>, "
          "<class 'capturemock.commandlinetraffic.StdoutTraffic'>, "
          "<class 'capturemock.commandlinetraffic.SysExitTraffic'>, "
          "<class 'capturemock.fileedittraffic.FileEditTraffic'>, "
          "<class 'capturemock.customtraffic.CustomResponseTraffic'>, ")
TRIED_CLASSIC = (_TRIED + "<class 'capturemock.clientservertraffic.ServerTraffic'>, "
                 "<class 'capturemock.clientservertraffic.ClientSocketTraffic'>]")
TRIED_HTTP = (_TRIED + "<class 'capturemock.clientservertraffic.HTTPServerTraffic'>, "
              "<class 'capturemock.clientservertraffic.HTTPClientTraffic'>]")

CLASSIC_REC = r"""Starting capturemock server at <SERVER>
Received incoming TCP request...
SUT_SERVER:shouter on <REAL>
Request text : SUT_SERVER:shouter on <REAL>
Getting latest file edits []
Done getting latest file edits.
Processing traffic ClassicServerStateTraffic with text 'shouter on <REAL>'
Calling traffic record for 1 recording request 1
Finished processing incoming request
Received incoming TCP request...
hello
Request text : hello
Getting latest file edits []
Done getting latest file edits.
Processing traffic ClientSocketTraffic with text 'hello'
Calling traffic record for 2 recording request 2
Response of type ServerTraffic with text 'HELLO'
Completed response of type ServerTraffic
Finished processing incoming request
Received incoming TCP request...
two
lines
Request text : two
lines
Getting latest file edits []
Done getting latest file edits.
Processing traffic ClientSocketTraffic with text 'two\nlines'
Calling traffic record for 3 recording request 3
Response of type ServerTraffic with text 'TWO\nLINES'
Completed response of type ServerTraffic
Finished processing incoming request
Received incoming TCP request...
SUT_CUSTOM:lookup sky:SUT_SEP:blue
Request text : SUT_CUSTOM:lookup sky:SUT_SEP:blue
Getting latest file edits []
Done getting latest file edits.
Processing traffic CustomTraffic with text 'lookup sky'
Calling traffic record for 4 recording request 4
Response of type CustomResponseTraffic with text 'blue'
Completed response of type CustomResponseTraffic
Finished processing incoming request
Received incoming TCP request...
TERMINATE_SERVER

Request text : TERMINATE_SERVER

Told to shut down!
Received incoming TCP request...
TERMINATE_SERVER

Request text : TERMINATE_SERVER

Told to shut down!
Shut down capturemock server
Told to shut down!
"""

CLASSIC_REP = r"""Starting capturemock server at <SERVER>
Received incoming TCP request...
SUT_SERVER:shouter on <REAL>
Request text : SUT_SERVER:shouter on <REAL>
Processing traffic ClassicServerStateTraffic with text 'shouter on <REAL>'
Replay active for current command
<TRIED>
Calling traffic record for 1 recording request 1
Finished processing incoming request
Received incoming TCP request...
hello
Request text : hello
Processing traffic ClientSocketTraffic with text 'hello'
Replay active for current command
<TRIED>
Calling traffic record for 2 recording request 2
Response of type ServerTraffic with text 'HELLO'
Completed response of type ServerTraffic
Finished processing incoming request
Received incoming TCP request...
hello there
Request text : hello there
Processing traffic ClientSocketTraffic with text 'hello there'
Replay active for current command
<TRIED>
Calling traffic record for 3 recording request 3
Response of type ServerTraffic with text 'second'
Completed response of type ServerTraffic
Finished processing incoming request
Received incoming TCP request...
zzz
Request text : zzz
Processing traffic ClientSocketTraffic with text 'zzz'
Replay active for current command
<TRIED>
Calling traffic record for 4 recording request 4
Finished processing incoming request
Received incoming TCP request...
SUT_CUSTOM:lookup sky
Request text : SUT_CUSTOM:lookup sky
Processing traffic CustomTraffic with text 'lookup sky'
Replay active for current command
<TRIED>
Calling traffic record for 5 recording request 5
Response of type CustomResponseTraffic with text 'grey'
Completed response of type CustomResponseTraffic
Finished processing incoming request
Received incoming TCP request...
TERMINATE_SERVER

Request text : TERMINATE_SERVER

Told to shut down!
Received incoming TCP request...
TERMINATE_SERVER

Request text : TERMINATE_SERVER

Told to shut down!
Shut down capturemock server
Told to shut down!
"""

HTTP_REC = r"""Starting capturemock server at http://<SERVER>
"POST /capturemock/setServerLocation HTTP/1.1" 200 -
Getting latest file edits []
Done getting latest file edits.
Processing traffic HTTPServerStateTraffic with text 'POST /capturemock/setServerLocation <address>'
Calling traffic record for 1 recording request 1
Getting latest file edits []
Done getting latest file edits.
Processing traffic HTTPClientTraffic with text 'GET /items?a=1'
Calling traffic record for 2 recording request 2
Response of type HTTPServerTraffic with text '200 {"path": "/items?a=1"}\n--HEA:Content-Type=application/json'
Completed response of type HTTPServerTraffic
Getting latest file edits []
Done getting latest file edits.
Processing traffic HTTPClientTraffic with text 'POST /items {"x": 1}\n--HEA:Content-Type=application/json'
Calling traffic record for 3 recording request 3
Response of type HTTPServerTraffic with text '201 {"x": 1}\n--HEA:Content-Type=application/json'
Completed response of type HTTPServerTraffic
"GET /capturemock/shutdownServer HTTP/1.1" 200 -
Shut down capturemock server
Told to shut down!
"""

HTTP_REP = r"""Starting capturemock server at http://<SERVER>
"POST /capturemock/setServerLocation HTTP/1.1" 200 -
Processing traffic HTTPServerStateTraffic with text 'POST /capturemock/setServerLocation <address>'
Replay active for current command
<TRIED>
Calling traffic record for 1 recording request 1
Processing traffic HTTPClientTraffic with text 'GET /items?a=2'
Replay active for current command
<TRIED>
Calling traffic record for 2 recording request 2
Response of type HTTPServerTraffic with text '200 {"path": "/items?a=1"}\n--HEA:Content-Type=application/json'
Completed response of type HTTPServerTraffic
Processing traffic HTTPClientTraffic with text 'POST /items {"x": 1}\n--HEA:Content-Type=application/json'
Replay active for current command
<TRIED>
Calling traffic record for 3 recording request 3
Response of type HTTPServerTraffic with text '201 {"x": 1}\n--HEA:Content-Type=application/json'
Completed response of type HTTPServerTraffic
Processing traffic HTTPClientTraffic with text 'DELETE /zzz'
Replay active for current command
<TRIED>
Calling traffic record for 4 recording request 4
"GET /capturemock/shutdownServer HTTP/1.1" 200 -
Shut down capturemock server
Told to shut down!
"""

def logged_rc(rig, protocol: str) -> str:
    conf = rig.write("logging.conf", LOGGING_CONF)
    return f"[general]\nserver_protocol = {protocol}\nrecord_for_client = true\nlog_config_file = {conf}\n"


def expected(text: str, server: str, real: str, tried: str = "") -> str:
    return text.replace("<SERVER>", server).replace("<REAL>", real).replace("<TRIED>", tried)


def real_json(rig):
    """GET answers the path as JSON, POST echoes the body with 201 (the server of the 2.10 run)."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def reply(self, status: int, data: bytes) -> None:
            self.send_response_only(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            self.reply(200, json.dumps({"path": self.path}).encode())

        def do_POST(self):
            self.reply(201, self.rfile.read(int(self.headers["Content-Length"])))

    return rig.real(ThreadingHTTPServer(("127.0.0.1", 0), Handler))


def test_classic_record_is_logged_as_by_2_10(rig):
    real = rig.real_classic(lambda text: text.upper())
    address = rig.start(capturemock.RECORD, logged_rc(rig, "classic"))
    for message in (f"SUT_SERVER:shouter on {real.address}", "hello", "two\nlines",
                    "SUT_CUSTOM:lookup sky:SUT_SEP:blue"):
        rig.send(address, message)
    rig.stop()
    assert rig.read("server.log") == expected(CLASSIC_REC, address, real.address)


def test_classic_replay_is_logged_as_by_2_10(rig):
    rig.write("stored.mock", "<-CLI:hello\n->SRV:HELLO\n<-CLI:hello\n->SRV:second\n<-CLI:two\nlines\n->SRV:TWO\nLINES\n"
                             "<-CAL:lookup sky\n->RET:grey\n")
    address = rig.start(capturemock.REPLAY, logged_rc(rig, "classic"), replay="stored.mock")
    real = "127.0.0.1:9"  # never contacted in replay
    answers = [rig.send(address, message) for message in (f"SUT_SERVER:shouter on {real}", "hello", "hello there",
                                                            "zzz", "SUT_CUSTOM:lookup sky")]
    rig.stop()
    assert answers == ["", "HELLO", "second", "", "grey"]
    assert rig.read("server.log") == expected(CLASSIC_REP, address, real, TRIED_CLASSIC)


def test_http_record_is_logged_as_by_2_10(rig):
    real = real_json(rig)
    base = rig.start(capturemock.RECORD, logged_rc(rig, "http"))
    call(base, "POST", "/capturemock/setServerLocation", real.url.encode())
    call(base, "GET", "/items?a=1")
    call(base, "POST", "/items", b'{"x": 1}', {"Content-Type": "application/json"})
    rig.stop()
    assert rig.read("server.log") == expected(HTTP_REC, base.removeprefix("http://"), real.address)


def test_http_replay_is_logged_as_by_2_10(rig):
    rig.write("stored.mock", '<-CLI:GET /items?a=1\n->SRV:200 {"path": "/items?a=1"}\n'
                             '--HEA:Content-Type=application/json\n<-CLI:POST /items {"x": 1}\n'
                             '--HEA:Content-Type=application/json\n->SRV:201 {"x": 1}\n'
                             '--HEA:Content-Type=application/json\n')
    base = rig.start(capturemock.REPLAY, logged_rc(rig, "http"), replay="stored.mock")
    call(base, "POST", "/capturemock/setServerLocation", b"http://127.0.0.1:9")
    call(base, "GET", "/items?a=2")
    call(base, "POST", "/items", b'{"x": 1}', {"Content-Type": "application/json"})
    try:
        call(base, "DELETE", "/zzz")
    except ConnectionError:
        pass  # §2.5: nothing resembles it, no answer
    rig.stop()
    assert rig.read("server.log") == expected(HTTP_REP, base.removeprefix("http://"), "", TRIED_HTTP)


def test_nothing_is_logged_or_imported_without_a_logging_configuration():
    code = ("import sys; from capturemock.clientserver import serverlog; log = serverlog.for_session('http', True); "
            "print(log is serverlog.QUIET, 'logging' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["True", "False"]
