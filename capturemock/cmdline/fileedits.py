"""File edits made by intercepted programs: found while recording, stored, restored on replay (§4.3, §7.6, §7.7).

The command server uses, per command:

- record: ``candidate_paths(...)`` -> ``Snapshot.take(candidates, ignore_names)``, run the program, then
  ``EditStore.save(edit)`` for each of ``snapshot.changes()``, giving the ``->FIL:`` names in order;
  asynchronous commands' snapshots go to ``AsyncWatch.add`` and ``AsyncWatch.collect()`` runs before
  every later request (its edits belong to the earlier command); ``AsyncWatch.absorb(edits)`` after a
  synchronous command keeps the watch from reporting that command's edits a second time.
- replay: ``restore(fil_name, replay_edit_dir, candidates, used, sandbox)`` per ``->FIL:`` item, ``used``
  shared by one command's items; a None result means the item is dropped from the new transcript. Every
  file restored, link made or path removed goes through the ``fileedits_sandbox.Sandbox`` (mocks are
  untrusted: see that module), which refuses by ``EditRefused``.

Pure filesystem code, one job per sibling module; this module is the public face.
"""
from __future__ import annotations

from .fileedits_paths import candidate_paths
from .fileedits_restore import restore
from .fileedits_scan import AsyncWatch, Edit, Snapshot
from .fileedits_store import EditStore

__all__ = ["AsyncWatch", "Edit", "EditStore", "Snapshot", "candidate_paths", "restore"]
