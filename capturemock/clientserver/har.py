"""Reading a browser's HAR recording (HAR 1.2: ``log.entries[].request/response``) as HTTP exchanges.

Browsers store response bodies decoded (``content.text``, base64 when ``content.encoding`` says so),
so their ``Content-Encoding`` header no longer describes the body and is left out.
"""
from __future__ import annotations

import base64
import binascii
import json
from urllib.parse import urlencode

from .httpimport import Conversion, Exchange, RecordingError, collect, need
from .httptext import Headers


def read_har(path: str) -> Conversion:
    """The exchanges of the HAR file at ``path``; a RecordingError names the file and entry if malformed."""
    try:
        with open(path, encoding="utf-8-sig") as stream:
            document = json.load(stream)
    except OSError as err:
        raise RecordingError(f"{path}: cannot read: {err.strerror}") from None
    except ValueError as err:
        raise RecordingError(f"{path}: not a HAR file (not JSON: {err})") from None
    entries = need(need(document, "log", (dict,), path), "entries", (list,), f"{path}: log")
    return collect(entries, lambda index: f"{path}: log.entries[{index}]", _exchange)


def _exchange(entry: object, where: str) -> Exchange:
    request = need(entry, "request", (dict,), where)
    response = need(entry, "response", (dict,), where)
    content = need(response, "content", (dict,), f"{where}.response")
    headers = _headers(response, f"{where}.response")
    return Exchange(need(request, "method", (str,), f"{where}.request").upper(),
                    need(request, "url", (str,), f"{where}.request"),
                    _post_data(request, f"{where}.request"), _headers(request, f"{where}.request"),
                    need(response, "status", (int,), f"{where}.response"),
                    _text(content, f"{where}.response.content"),
                    [(name, value) for name, value in headers if name.lower() != "content-encoding"])


def _headers(message: dict, where: str) -> Headers:
    return [(need(header, "name", (str,), f"{where}.headers[{index}]"),
             need(header, "value", (str,), f"{where}.headers[{index}]"))
            for index, header in enumerate(need(message, "headers", (list,), where))]


def _post_data(request: dict, where: str) -> bytes:
    """The request body: ``postData.text``, else its form ``params`` as the browser encoded them."""
    if request.get("postData") is None:
        return b""
    post = need(request, "postData", (dict,), where)
    if "text" in post or "params" not in post:
        return _text(post, f"{where}.postData")
    params = need(post, "params", (list,), f"{where}.postData")
    return urlencode([(need(param, "name", (str,), f"{where}.postData.params[{index}]"), param.get("value", ""))
                      for index, param in enumerate(params)]).encode()


def _text(content: dict, where: str) -> bytes:
    """A body as bytes: ``text`` (absent when the browser did not keep it: empty), base64 if ``encoding`` says."""
    if content.get("text") is None:
        return b""
    text = need(content, "text", (str,), where)
    if content.get("encoding") in (None, ""):
        return text.encode("utf-8", "surrogatepass")
    if content["encoding"] != "base64":
        raise RecordingError(f"{where}: unknown encoding {content['encoding']!r} (HAR knows only base64)")
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error as err:
        raise RecordingError(f"{where}: text is not valid base64: {err}") from None
