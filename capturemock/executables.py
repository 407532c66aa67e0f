"""Finding a program on a PATH as ``shutil.which`` does, without importing ``shutil``: its imports
(``fnmatch`` with ``re`` and ``enum``, ``bz2``, ``lzma``) are ~30 M instructions (~8 ms) of every
``capturemock`` command, which needs one lookup."""
from __future__ import annotations

import os

TYPE_CHECKING = False  # typing is not imported at run time
if TYPE_CHECKING:
    from typing import Iterable, Optional


def which(name: str, folders: Iterable[str]) -> Optional[str]:
    """The first executable file ``name`` in ``folders`` (a directory of that name does not count)."""
    for folder in folders:
        path = os.path.join(folder, name)
        if os.access(path, os.X_OK) and not os.path.isdir(path):
            return path
    return None
