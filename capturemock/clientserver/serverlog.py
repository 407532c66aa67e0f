"""The traffic server's debug log (logger ``Server``) in CaptureMock 2.10.0's words.

Observed from 2.10.0 run black-box with ``Server`` at DEBUG through a ``log_config_file``: the start
and stop, and per client/server request what arrived, how it was processed (record: 2.10's file-edit
check; replay: its replay lookup, with the list of traffic classes it tried) and each response. The
traffic kinds are 2.10's class names (``ClientSocketTraffic``, ``HTTPClientTraffic``, ...), kept
verbatim so that the log reads as before. How each request was *matched* is the ``Replay`` logger's
part (``replaylog``).

A server nobody logs gets ``QUIET``, whose methods do nothing: ``logging`` is imported only by a
``TrafficLog``, made when the ``Server`` logger shows DEBUG (``for_session``).
"""
from __future__ import annotations

import itertools
import sys

# protocol -> 2.10's traffic classes: client message, server reply, server-location message
_KINDS = {"classic": ("ClientSocketTraffic", "ServerTraffic", "ClassicServerStateTraffic"),
          "http": ("HTTPClientTraffic", "HTTPServerTraffic", "HTTPServerStateTraffic"),
          "xmlrpc": ("XmlRpcClientTraffic", "XmlRpcServerTraffic", "XmlRpcServerStateTraffic")}
_KINDS["classic_tcp"] = _KINDS["classic_udp"] = _KINDS["tcp_header"] = _KINDS["classic"]
_KINDS["ftp"] = ("FtpClientTraffic", "FtpServerTraffic", "FtpServerStateTraffic")  # not seen in a 2.10 log
CUSTOM, CUSTOM_REPLY = "CustomTraffic", "CustomResponseTraffic"
# what 2.10 tried, in replay, to read a response as: the command-line and custom classes, then the protocol's
_TRIED = ("capturemock.commandlinetraffic.StderrTraffic", "capturemock.commandlinetraffic.StdoutTraffic",
          "capturemock.commandlinetraffic.SysExitTraffic", "capturemock.fileedittraffic.FileEditTraffic",
          "capturemock.customtraffic.CustomResponseTraffic")


class QuietLog:
    """No ``Server`` log: every call does nothing. ``on`` tells a request's hot path not to call at all."""

    client = server = location = ""
    on = False

    def started(self, address: str) -> None:
        pass

    def received(self, text: str) -> None:
        pass

    def received_call(self, method: str, params: tuple) -> None:
        pass

    def control(self, request_line: str, status: int) -> None:
        pass

    def processing(self, kind: str, text: str) -> None:
        pass

    def responded(self, kind: str, text: str) -> None:
        pass

    def finished(self) -> None:
        pass

    def told_to_stop(self) -> None:
        pass

    def stopped(self) -> None:
        pass


QUIET = QuietLog()


class TrafficLog(QuietLog):
    """The lines of one server session, for ``protocol``, replaying or recording."""

    on = True

    def __init__(self, protocol: str, replaying: bool):
        import logging

        self.debug = logging.getLogger("Server").debug
        self.protocol = protocol
        self.client, self.server, self.location = _KINDS[protocol]
        self.replaying = replaying
        tried = [*_TRIED, f"capturemock.clientservertraffic.{self.server}",
                 f"capturemock.clientservertraffic.{self.client}"]
        self._tried = f"Trying with possible classes [{', '.join(f'<class {name!r}>' for name in tried)}]"
        self._numbers = itertools.count(1)  # 2.10's request numbers: one per processed message

    def started(self, address: str) -> None:
        self.debug(f"Starting capturemock server at {address}")

    def received(self, text: str) -> None:
        """A classic TCP message, prefix (``SUT_SERVER:``, ``SUT_CUSTOM:``) included."""
        self.debug("Received incoming TCP request...")
        self.debug(text)
        self.debug(f"Request text : {text}")

    def received_call(self, method: str, params: tuple) -> None:
        """An XML-RPC call, control methods included."""
        self.debug(f"Received XMLRPC traffic {method}{params!r}")

    def control(self, request_line: str, status: int) -> None:
        """An HTTP control request, as ``http.server`` logs a request."""
        self.debug(f'"{request_line}" {status} -')

    def processing(self, kind: str, text: str) -> None:
        if self.replaying:
            self.debug(f"Processing traffic {kind} with text {text!r}")
            self.debug("Replay active for current command")
            self.debug(self._tried)
        else:
            self.debug("Getting latest file edits []")
            self.debug("Done getting latest file edits.")
            self.debug(f"Processing traffic {kind} with text {text!r}")
        number = next(self._numbers)
        self.debug(f"Calling traffic record for {number} recording request {number}")

    def responded(self, kind: str, text: str) -> None:
        self.debug(f"Response of type {kind} with text {text!r}")
        self.debug(f"Completed response of type {kind}")

    def finished(self) -> None:
        """The end of a classic TCP message."""
        self.debug("Finished processing incoming request")

    def told_to_stop(self) -> None:
        """The launcher's stop message, as 2.10 logged its protocol's own."""
        if self.protocol == "http":
            self.control("GET /capturemock/shutdownServer HTTP/1.1", 200)
        elif self.protocol == "xmlrpc":
            self.received_call("shutdownCaptureMockServer", ())
        else:  # 2.10's threaded classic server sent itself a second stop message to leave its loop
            for _ in range(2):
                self.received("TERMINATE_SERVER\n")
                self.debug("Told to shut down!")

    def stopped(self) -> None:
        self.debug("Shut down capturemock server")
        self.debug("Told to shut down!")


def for_session(protocol: str, replaying: bool) -> QuietLog:
    """The session's log: ``QUIET`` unless the ``Server`` logger shows DEBUG. A process that never
    imported ``logging`` configured none (``logconfig`` imports it only for a config file)."""
    logging = sys.modules.get("logging")
    if logging is None or not logging.getLogger("Server").isEnabledFor(logging.DEBUG):
        return QUIET
    return TrafficLog(protocol, replaying)
