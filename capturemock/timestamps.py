"""2.10.0's multi-file ordering helpers (§8.11) for rigs whose several CaptureMock instances record
with ``record_timestamps``: chunk the recordings by their ``--TIM:`` lines, merge them in time order
and write them back out as ``NNN-<name>`` files; or split one recording back over the ``NNN-<name>``
replay files it was replayed from. Behaviour observed from 2.10.0, quirks included (where 2.10.0
crashes, we go on: noted per function)."""
from __future__ import annotations

import bisect
import datetime
import os
import re
import sys
from typing import Any, Optional, Sequence, TextIO

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
    timestamp of the same file it follows, found by bisecting ``fn_timestamps`` (file order, as 2.10.0);
    a reply before any client chunk under its own timestamp (2.10.0 raises IndexError)."""
    if currText.startswith("->") and fn_timestamps:
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


# --- splitting a recording back over the prefixed replay files it came from ---

REST_OF_RECORDING = 10000  # 2.10.0's client-item limit for a replay file with no file after it


def get_traffic_count(rpfn: str) -> int:
    """How many client items (``<-`` lines) a replay file holds."""
    with open(rpfn, encoding="utf-8") as handle:
        return sum(line.startswith("<-") for line in handle)


def read_first_traffic(rpfn: str) -> str:
    """The file's first line and the lines up to the next ``<-``/``->`` line ('' for an empty file)."""
    text = ""
    with open(rpfn, encoding="utf-8") as handle:
        for line in handle:
            if text and line.startswith(("<-", "->")):
                break
            text += line
    return text


def get_text_count(rpfn: str, text: str) -> int:
    """How often ``text`` occurs in the file (as a substring, as 2.10.0)."""
    with open(rpfn, encoding="utf-8") as handle:
        return handle.read().count(text)


def find_recorded_position(rpfn: str, text: str, skip: int) -> Optional[int]:
    """The client-item index of the ``skip``-th (from 0) client item of ``rpfn`` equal to ``text``
    (``--TIM:`` lines left out). As 2.10.0, an item counts only once a later ``<-``/``->`` line
    ends it, so the file's last item is never found."""
    index, item = -1, None
    with open(rpfn, encoding="utf-8") as handle:
        for line in handle:
            if line.startswith(TIM):
                continue
            if line.startswith(("<-", "->")):
                if item == text:
                    if skip == 0:
                        return index
                    skip -= 1
                item = None
                if line.startswith("<-"):
                    index += 1
                    item = line
            elif item is not None:
                item += line
    return None


def find_replay_files(stem: str, replayed_files: Sequence[str], fn: str) -> list[tuple[str, int]]:
    """The replay files ``NNN?<stem>[.<ext>]`` (any four characters before the stem), sorted, each with
    the client-item limit of the recording ``fn`` it gets: where the next such file's first item is
    found in ``fn``, else the file's own client-item count; ``REST_OF_RECORDING`` for the file sorted
    last of all ``replayed_files``. Quirks of 2.10.0 kept: found positions count from the start of
    ``fn`` while the split counts per file, and a file followed only by other stems' files gets its
    own count, not the rest."""
    all_files = sorted(replayed_files)
    ours = [rpfn for rpfn in all_files if stem and rpfn[4:].rsplit(".", 1)[0] == stem]
    limits = []
    for rpfn, next_rpfn in zip(ours, ours[1:] + [None]):
        if rpfn == all_files[-1]:
            limit: Optional[int] = REST_OF_RECORDING
        else:
            limit = None
            if next_rpfn is not None:
                first = read_first_traffic(next_rpfn)
                limit = find_recorded_position(fn, first, get_text_count(rpfn, first))
            if limit is None:
                limit = get_traffic_count(rpfn)
        limits.append((rpfn, limit))
    return limits


def open_new_record_file(replay_fns: Sequence[tuple[str, int]], repIndex: int,
                         ext: Optional[str]) -> tuple[TextIO, int]:
    """Open (truncating) the file the ``repIndex``-th replay file's share is written to: its name with
    the last extension replaced by ``ext`` (added if it has none; kept if ``ext`` is None, where
    2.10.0 raises TypeError); returns it and that file's client-item limit."""
    rpfn, limit = replay_fns[repIndex]
    name = rpfn if ext is None else f"{rpfn.rsplit('.', 1)[0]}.{ext}"
    return open(name, "w", encoding="utf-8"), limit


def add_prefix_by_matching_replay(recorded_files: Sequence[str], replayed_files: Sequence[str],
                                  ext: Optional[str] = None) -> None:
    """Split each recording over the ``NNN-`` replay files of its name (see ``find_replay_files``), so a
    rig that replayed several numbered files and recorded one gets numbered recordings back. Recordings
    already named ``NNN-...`` are left alone; one without replay files gets a message on stderr."""
    for fn in recorded_files:
        if _OLD_PREFIX.match(fn):
            continue
        replay_fns = find_replay_files(fn.rsplit(".", 1)[0], replayed_files, fn)
        if replay_fns:
            _split_recording(fn, replay_fns, ext)
        else:
            print(f"Failed to find replay files for {fn}", file=sys.stderr)


def _split_recording(fn: str, replay_fns: Sequence[tuple[str, int]], ext: Optional[str]) -> None:
    """Write ``fn``'s chunks in timestamp order (``create_map_by_timestamp``: untimed ones first, in
    file order), moving on to the next replay file's share at a client chunk once the current file
    has its limit of client chunks."""
    rep_index = 0
    out, limit = open_new_record_file(replay_fns, rep_index, ext)
    written = 0
    try:
        data = create_map_by_timestamp([fn])
        for timestamp in sorted(data):
            text = data[timestamp][fn]
            if text.startswith("<-"):
                if written >= limit and rep_index + 1 < len(replay_fns):
                    out.close()
                    rep_index += 1
                    out, limit = open_new_record_file(replay_fns, rep_index, ext)
                    written = 0
                written += 1
            out.write(text)
    finally:
        out.close()

