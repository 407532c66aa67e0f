"""2.10.0's multi-file ordering helpers (§8.11) for rigs whose several CaptureMock instances record
with ``record_timestamps``: chunk the recordings by their ``--TIM:`` lines, merge them in time order
and write them back out as ``NNN-<name>`` files. Behaviour observed from 2.10.0, quirks included."""
from __future__ import annotations

import bisect
import datetime
import os
import re
from typing import Any, Optional, Sequence

TIM = "--TIM:"
_OLD_PREFIX = re.compile(r"^[0-9]{3}-")

Chunks = dict  # timestamp -> {recorded file: text}, or None for a barrier


class DefaultTimestamper:
    """Made-up ascending timestamps from year 1, for chunks recorded without one (so they sort first)."""

    def __init__(self):
        self.index = 1

    def stamp(self) -> str:
        timestamp = datetime.datetime(1, 1, 1) + datetime.timedelta(days=self.index - 1)
        self.index += 1
        return timestamp.isoformat()


def add_timestamp_data(data_by_timestamp: Chunks, given_ts: str, fn: str, currText: str,
                       fn_timestamps: list[str]) -> None:
    """File one chunk: a client chunk under its own timestamp; a reply chunk (``->``) under the client
    timestamp of the same file it follows, found by bisecting ``fn_timestamps`` (file order, as 2.10.0)."""
    if currText.startswith("->"):
        given_ts = fn_timestamps[max(bisect.bisect_right(fn_timestamps, given_ts) - 1, 0)]
    else:
        fn_timestamps.append(given_ts)
    by_file = data_by_timestamp.setdefault(given_ts, {})
    by_file[fn] = by_file.get(fn, "") + currText


def create_map_by_timestamp(recorded_files: Sequence[str], ignoredIndices: Optional[dict] = None) -> Chunks:
    """{timestamp: {file: text}}: chunks start at ``<-`` and ``->RMQ`` lines, each filed under its
    first ``--TIM:`` (TIM lines dropped); the values of ``ignoredIndices`` become barriers (None)."""
    data: Chunks = {timestamp: None for timestamp in (ignoredIndices or {}).values()}
    stamper = DefaultTimestamper()
    for fn in recorded_files:
        fn_timestamps: list[str] = []
        text, timestamp = "", None
        with open(fn, encoding="utf-8") as handle:
            for line in handle:
                if line.startswith(("<-", "->RMQ")) and text:
                    add_timestamp_data(data, timestamp or stamper.stamp(), fn, text, fn_timestamps)
                    text, timestamp = "", None
                if line.startswith(TIM):
                    timestamp = timestamp or line[len(TIM):].strip()
                else:
                    text += line
        add_timestamp_data(data, timestamp or stamper.stamp(), fn, text, fn_timestamps)
    return data


def add_prefix_by_timestamp(recorded_files: Sequence[str], ignoredIndicesIn: Optional[dict] = None,
                            sep: str = "-", ext: Optional[str] = None, parseFn: Any = None,
                            strictOrderClients: Any = None) -> list[str]:
    """Rewrite ``recorded_files`` as ``NNN<sep><name>`` files in time order; returns the new names."""
    data = create_map_by_timestamp(recorded_files, ignoredIndicesIn)
    return add_prefixes_from_timestamp_map(data, ignoredIndicesIn, sep, ext, parseFn, strictOrderClients)


def add_prefixes_from_timestamp_map(data_by_timestamp: Chunks, ignoredIndicesIn: Optional[dict] = None,
                                    sep: str = "-", ext: Optional[str] = None, parseFn: Any = None,
                                    strictOrderClients: Any = None) -> list[str]:
    """Write the chunks in timestamp order: a file's chunks go on to the new file it already has since
    the last barrier, else to a new one with the next running number not in ``ignoredIndicesIn``.
    A new name equal to an existing file first moves that file to ``<name>.orig``."""
    if parseFn is not None or strictOrderClients is not None:
        raise NotImplementedError("capturemock: grouping by client and server (parseFn, strictOrderClients) "
                                  "is not supported yet")
    ignored = set(ignoredIndicesIn or {})
    new_files: list[str] = []
    current: dict[str, str] = {}  # recorded file -> its new file, since the last barrier
    index = 0
    for timestamp in sorted(data_by_timestamp):
        chunks = data_by_timestamp[timestamp]
        if chunks is None:
            current.clear()
            continue
        for fn, text in chunks.items():
            new_fn = current.get(fn)
            if new_fn is None:
                index += 1
                while index in ignored:
                    index += 1
                new_fn = current[fn] = _new_name(fn, index, sep, ext)
                if os.path.exists(new_fn):
                    os.rename(new_fn, new_fn + ".orig")
                new_files.append(new_fn)
            with open(new_fn, "a", encoding="utf-8") as handle:
                handle.write(text)
    return new_files


def _new_name(fn: str, index: int, sep: str, ext: Optional[str]) -> str:
    directory, name = os.path.split(fn)
    name = _OLD_PREFIX.sub("", name)
    if ext:
        name = f"{os.path.splitext(name)[0]}.{ext}"
    return os.path.join(directory, f"{index:03d}{sep}{name}")


def transform_to_amqp_client_replay(fn: str, new_fn: str) -> bool:
    """Write the ``->RMQ`` items of ``fn`` (with their continuation lines) as ``<-RMQ`` client traffic
    to ``new_fn``; whether there were any (no file is written if not)."""
    kept, keeping = [], False
    with open(fn, encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("->RMQ:"):
                kept.append("<-" + line[2:])
                keeping = True
            elif line.startswith(("<-", "->")):
                keeping = False
            elif keeping:
                kept.append(line)
    if kept:
        with open(new_fn, "w", encoding="utf-8") as handle:
            handle.writelines(kept)
    return bool(kept)
