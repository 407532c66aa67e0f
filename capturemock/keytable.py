"""A set of strings stored as small integers: the replay index's key -> key id map (issue #6).

A dict of a million short keys costs ~150 bytes a key (the key string, the entry, an int object),
several times the mock file itself. The keys are already in the file text, so this table keeps only
numbers: open addressing over an ``array`` of key ids, with each key's full hash kept once (to skip
non-matching slots and to grow without re-hashing text). A slot whose hash matches is confirmed by
the owner's ``is_key(key_id, key)``, which can compare in place in the text: ~12-24 bytes a key in all.
"""
from __future__ import annotations

from array import array

TYPE_CHECKING = False  # typing is not imported at run time: it costs every intercepted process ~3 ms
if TYPE_CHECKING:
    from typing import Callable, Optional

_EMPTY = -1
_MIN_SLOTS = 8


class KeyTable:
    """Key ids 0, 1, 2, ... in order of first addition; ``is_key(key_id, key)`` says whether the key
    added as ``key_id`` is ``key``."""

    def __init__(self, is_key: Callable[[int, str], bool], expected: int = 0):
        """``expected``: about how many keys will be added (sizes the slots once instead of growing)."""
        self._is_key = is_key
        self._hashes = array("q")  # by key id
        slots = _MIN_SLOTS
        while slots < expected:
            slots *= 2
        self._slots = array("i", [_EMPTY]) * slots
        self._mask = len(self._slots) - 1

    def __len__(self) -> int:
        return len(self._hashes)

    @property
    def probe_arrays(self) -> tuple[array, array]:
        """(slots, hashes) for the C accelerator's probe (``replay._accelerate``): it mirrors ``find``."""
        return self._slots, self._hashes

    def bulk_arrays(self, keys: int) -> tuple[array, array]:
        """(slots, hashes) of this empty table, the hashes with room for ``keys`` keys: for the C accelerator
        to add keys as ``add`` would (``_speedups.index_items``), with enough slots that it never grows;
        ``keep`` then cuts the hashes to the keys it added."""
        self._hashes = array("q", [0]) * keys
        return self._slots, self._hashes

    def keep(self, keys: int) -> None:
        """After ``bulk_arrays``: the table holds the first ``keys`` keys."""
        del self._hashes[keys:]

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
        slots = self._slots = array("i", [_EMPTY]) * (2 * len(self._slots))
        mask = self._mask = len(slots) - 1
        for key_id, key_hash in enumerate(self._hashes):
            slot = key_hash & mask
            while slots[slot] != _EMPTY:
                slot = (slot + 1) & mask
            slots[slot] = key_id
