"""``capturemock.cmdlineutils``: 2.10.0's option parser for the ``capturemock`` command, kept for rigs
that build their own front-end on it (options, defaults and help texts as 2.10.0 printed them)."""
from __future__ import annotations

import optparse


def create_option_parser() -> optparse.OptionParser:
    """The parser of §10's options (interspersed arguments allowed: the caller decides)."""
    parser = optparse.OptionParser(
        "%prog [options] <program> <program_args> ...\n\nCaptureMock command line program. "
        "Records and replays interaction defined by stuff in its rc file")
    parser.add_option("-m", "--mode", type="int", default=0, metavar="MODE",
                      help="CaptureMock mode. 0=replay, 1=record, 2=replay if possible, else record")
    parser.add_option("-p", "--replay", metavar="FILE", help="replay traffic recorded in FILE.")
    parser.add_option("-f", "--replay-file-edits", metavar="DIR",
                      help="restore edited files referred to in replayed file from DIR.")
    parser.add_option("-r", "--record", metavar="FILE", help="record traffic to FILE.")
    parser.add_option("-F", "--record-file-edits", metavar="DIR", help="store edited files under DIR.")
    parser.add_option("-R", "--rcfiles",
                      help="Read configuration from given rc files, defaults to ~/.capturemock/config")
    parser.add_option("-P", "--port", type="int", default=0, metavar="PORT", help="Port to run CaptureMock on")
    return parser
