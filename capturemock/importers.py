"""``capturemock import-har`` / ``capturemock import-vcr``: another tool's HTTP recording as a mock file,
so a team can move to CaptureMock without recording everything again.

    capturemock import-har FILE.har [-o OUT.mock]
    capturemock import-vcr CASSETTE.yaml [-o OUT.mock]

The mock (default: the input's name with ``.mock``) replays through our HTTP server
(``server_protocol = http``, ``record_for_client = true``) like one our proxy recorded.
"""
from __future__ import annotations

import argparse
import os
import sys

from .clientserver.httpimport import Conversion, RecordingError, mock_text

FORMATS = {"import-har": "a browser's HAR recording", "import-vcr": "a vcrpy cassette (YAML, version 1)"}


def _read(command: str, path: str) -> Conversion:
    """The reader for ``command``, imported only when used (pyyaml for cassettes)."""
    if command == "import-har":
        from .clientserver.har import read_har

        return read_har(path)
    from .clientserver.vcr import read_cassette

    return read_cassette(path)


def main(command: str, argv: list[str]) -> int:
    """Convert one recording; 0 when written, 2 (with one line on stderr) when it cannot be."""
    parser = argparse.ArgumentParser(prog=f"capturemock {command}",
                                     description=f"Convert {FORMATS[command]} into a CaptureMock HTTP mock file.")
    parser.add_argument("recording", help="the file to convert")
    parser.add_argument("-o", "--output", help="mock file to write (replaced if it exists; default: "
                                               "RECORDING with its extension replaced by .mock)")
    args = parser.parse_args(argv)
    output = args.output or os.path.splitext(args.recording)[0] + ".mock"
    try:
        written = convert(command, args.recording, output)
    except RecordingError as err:
        sys.stderr.write(f"capturemock: {err}\n")
        return 2
    sys.stdout.write(f"capturemock: wrote {written} HTTP exchanges to {output}\n")
    return 0


def convert(command: str, recording: str, output: str) -> int:
    """Write the mock for ``recording`` to ``output``; how many exchanges it holds. Skipped entries
    (what our proxy never records) are named on stderr."""
    if os.path.abspath(recording) == os.path.abspath(output):
        raise RecordingError(f"{recording}: the output would replace the recording; choose another -o")
    conversion = _read(command, recording)
    for note in conversion.skipped:
        sys.stderr.write(f"capturemock: {note}\n")
    if not conversion.exchanges:
        raise RecordingError(f"{recording}: no HTTP exchanges to import")
    text = mock_text(conversion.exchanges)
    try:
        with open(output, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
    except OSError as err:
        raise RecordingError(f"{output}: cannot write: {err.strerror}") from None
    return len(conversion.exchanges)
