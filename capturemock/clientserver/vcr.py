"""Reading a vcrpy cassette (YAML, version 1: ``interactions[].request/response``) as HTTP exchanges.

vcrpy stores response bodies as they came over the wire; our proxy never asks for compression
(``httpforward``), so gzip and deflate bodies are decompressed here and lose their ``Content-Encoding``.
"""
from __future__ import annotations

import zlib

import yaml

from .httpimport import Conversion, Exchange, RecordingError, collect, need
from .httptext import Headers

# zlib's window bits for each encoding: gzip header, zlib header
_DECOMPRESS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


def read_cassette(path: str) -> Conversion:
    """The exchanges of the cassette at ``path``; a RecordingError names the file and interaction if
    malformed."""
    try:
        with open(path, encoding="utf-8") as stream:
            document = yaml.safe_load(stream)
    except OSError as err:
        raise RecordingError(f"{path}: cannot read: {err.strerror}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise RecordingError(f"{path}: not a vcrpy cassette (not YAML: {_problem(err)})") from None
    interactions = need(document, "interactions", (list,), path)
    if document.get("version", 1) != 1:
        raise RecordingError(f"{path}: cassette version {document['version']!r} is not supported (only 1)")
    return collect(interactions, lambda index: f"{path}: interactions[{index}]", _exchange)


def _problem(err: Exception) -> str:
    """pyyaml's complaint in one line, with the line it is about (its own text repeats the file name)."""
    mark = getattr(err, "problem_mark", None)
    if mark is not None:
        return f"line {mark.line + 1}: {err.problem}"
    return " ".join(str(err).split())


def _exchange(interaction: object, where: str) -> Exchange:
    request = need(interaction, "request", (dict,), where)
    response = need(interaction, "response", (dict,), where)
    code = need(need(response, "status", (dict,), f"{where}.response"), "code", (int,), f"{where}.response.status")
    headers = _headers(response, f"{where}.response")
    body = _body(response.get("body"), f"{where}.response.body")
    encoding = next((value.strip().lower() for name, value in headers if name.lower() == "content-encoding"), "")
    if encoding and encoding != "identity":
        body = _decompress(body, encoding, f"{where}.response")
        headers = [(name, value) for name, value in headers if name.lower() != "content-encoding"]
    return Exchange(need(request, "method", (str,), f"{where}.request").upper(),
                    need(request, "uri", (str,), f"{where}.request"),
                    _body(request.get("body"), f"{where}.request.body"), _headers(request, f"{where}.request"),
                    code, body, headers)


def _headers(message: dict, where: str) -> Headers:
    """vcrpy writes each header as a list of values; a single string is taken too."""
    headers = message.get("headers") or {}
    if not isinstance(headers, dict):
        raise RecordingError(f"{where}: headers should be a mapping, found {type(headers).__name__}")
    pairs = []
    for name, values in headers.items():
        for value in values if isinstance(values, list) else [values]:
            if not isinstance(value, (str, int, float)) or isinstance(value, bool):
                raise RecordingError(f"{where}: header {name!r} has a value that is not text")
            pairs.append((str(name), str(value)))
    return pairs


def _body(body: object, where: str) -> bytes:
    """Text, ``!!binary`` bytes, or vcrpy's response form ``{string: ...}``; absent is empty."""
    if isinstance(body, dict):
        body = need(body, "string", (str, bytes, type(None)), where)
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8", "surrogatepass")
    raise RecordingError(f"{where}: should be text or binary, found {type(body).__name__}")


def _decompress(body: bytes, encoding: str, where: str) -> bytes:
    if encoding not in _DECOMPRESS:
        raise RecordingError(f"{where}: body is {encoding}-encoded; re-record it with vcrpy's "
                             "decode_compressed_response=True")
    try:
        return zlib.decompress(body, _DECOMPRESS[encoding])
    except zlib.error as err:
        raise RecordingError(f"{where}: body is not valid {encoding} data: {err}") from None
