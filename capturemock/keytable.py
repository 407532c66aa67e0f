"""A set of strings stored as small integers: the replay index's key -> key id map (issue #6).

A dict of a million short keys costs ~150 bytes a key (the key string, the entry, an int object),
several times the mock file itself. The keys are already in the file text, so this table keeps only
numbers: open addressing over an ``array`` of key ids, with each key's full hash kept once (to skip
non-matching slots and to grow without re-hashing text). A slot whose hash matches is confirmed by
the owner's ``is_key(key_id, key)``, which can compare in place in the text: ~12-24 bytes a key in all.
"""
from __future__ import annotations

TYPE_CHECKING = False  # typing is not imported at run time: it costs every intercepted process ~3 ms
if TYPE_CHECKING:
    from array import array
    from typing import Callable, Optional, Union

    Numbers = Union[array, memoryview]

_EMPTY = -1
_MIN_SLOTS = 8
_ITEM_SIZES = {code: memoryview(b"").cast(code).itemsize for code in "biq"}


def fixed_numbers(code: str, count: int, fill: int = 0) -> memoryview:
    """What ``array(code, [fill]) * count`` holds (``code`` 'b', 'i' or 'q'; ``fill`` 0 or -1), in a buffer
    of fixed size: the replay index's numbers where the C accelerator builds them, which never grow. No
    ``array``: its import (with ``collections.abc``) costs a replaying process ~0.9 M instructions."""
    size = count * _ITEM_SIZES[code]
    return memoryview(bytearray(size) if fill == 0 else bytearray(b"\xff") * size).cast(code)


def cut(numbers: memoryview, length: int) -> memoryview:
    """The first ``length`` of ``fixed_numbers``; copied into a buffer of their own when that frees over half."""
    if 2 * length >= len(numbers):
        return numbers[:length]
    kept = fixed_numbers(numbers.format, length)
    kept[:] = numbers[:length]
    return kept


class KeyTable:
    """Key ids 0, 1, 2, ... in order of first addition; ``is_key(key_id, key)`` says whether the key
    added as ``key_id`` is ``key``."""

    def __init__(self, is_key: Callable[[int, str], bool], expected: int = 0, bulk: Optional[int] = None):
        """``expected``: about how many keys will be added (sizes the slots once instead of growing).
        ``bulk``: the keys are added by the C accelerator instead (``probe_arrays``), at most that many."""
        self._is_key = is_key
        slots = _MIN_SLOTS
        while slots < expected:
            slots *= 2
        if bulk is None:
            from array import array  # here: a table whose keys are added one by one grows

            self._hashes: Numbers = array("q")  # by key id
            self._slots: Numbers = array("i", [_EMPTY]) * slots
        else:
            self._hashes, self._slots = fixed_numbers("q", bulk), fixed_numbers("i", slots, _EMPTY)
        self._mask = len(self._slots) - 1

    def __len__(self) -> int:
        return len(self._hashes)

    @property
    def probe_arrays(self) -> tuple[Numbers, Numbers]:
        """(slots, hashes) for the C accelerator's probe (``replay._accelerate``): it mirrors ``find``; of a
        ``bulk`` table, for the C accelerator to add keys as ``add`` would (``_speedups.index_items``), with
        enough slots that it never grows: ``keep`` then cuts the hashes to the keys it added."""
        return self._slots, self._hashes

    def keep(self, keys: int) -> None:
        """After a ``bulk`` table is filled: it holds the first ``keys`` keys."""
        self._hashes = cut(self._hashes, keys)

    def find(self, key: str) -> Optional[int]:
        """The id of ``key``, or None if it was never added."""
        key_hash = hash(key)
        slots, hashes, mask = self._slots, self._hashes, self._mask
        slot = key_hash & mask
        while True:
            key_id = slots[slot]
            if key_id == _EMPTY:
                return None
            if hashes[key_id] == key_hash and self._is_key(key_id, key):
                return key_id
            slot = (slot + 1) & mask  # linear probing: the next slot is usually in the same cache line

    def add(self, key: str) -> int:
        """The id of ``key``, a new one (``len(self)`` before the call) if it was not there yet.

        ``is_key`` must know a new key as soon as the call returns, not during it."""
        key_hash = hash(key)
        slots, hashes, mask = self._slots, self._hashes, self._mask
        slot = key_hash & mask
        key_id = slots[slot]
        while key_id != _EMPTY:
            if hashes[key_id] == key_hash and self._is_key(key_id, key):
                return key_id
            slot = (slot + 1) & mask
            key_id = slots[slot]
        key_id = len(hashes)
        slots[slot] = key_id
        hashes.append(key_hash)
        if 3 * len(hashes) > 2 * len(slots):
            self._grow()
        return key_id

    def _grow(self) -> None:
        """Twice the slots, refilled from the kept hashes (no key text is read)."""
        from array import array  # only a table whose keys are added one by one grows: loaded already

        slots = self._slots = array("i", [_EMPTY]) * (2 * len(self._slots))
        mask = self._mask = len(slots) - 1
        for key_id, key_hash in enumerate(self._hashes):
            slot = key_hash & mask
            while slots[slot] != _EMPTY:
                slot = (slot + 1) & mask
            slots[slot] = key_id
