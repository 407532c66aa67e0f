"""The FTP data side CaptureMock serves itself (§8.9): the passive data connection a client opens for a
listing or a transfer, and where transferred files are kept (the edit directories). Only passive mode:
the data connection is always the client's, to 127.0.0.1 (or the control connection's own address)."""
from __future__ import annotations

import os
import socket
from typing import Optional

DATA_TIMEOUT = 30.0  # a client that asked for a data port and never connects to it
_CHUNK = 65536


class PassivePort:
    """One data port opened by ``PASV``/``EPSV``; the next transfer takes (and closes) it."""

    def __init__(self, host: str):
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind((host, 0))
        self._listener.listen(1)
        self._listener.settimeout(DATA_TIMEOUT)
        self.host, self.port = host, self._listener.getsockname()[1]

    def reply(self, verb: str) -> str:
        """The reply telling the client where to connect."""
        if verb == "EPSV":
            return f"229 Entering extended passive mode (|||{self.port}|)."
        numbers = ",".join([*self.host.split("."), str(self.port >> 8), str(self.port & 0xFF)])
        return f"227 Entering passive mode ({numbers})."

    def _accept(self) -> socket.socket:
        try:
            conn, _ = self._listener.accept()
        finally:
            self._listener.close()
        conn.settimeout(DATA_TIMEOUT)
        return conn

    def send(self, data: bytes) -> None:
        """Send the whole payload and close (the end of the data is its close); OSError if the client
        never connected or went away."""
        with self._accept() as conn:
            conn.sendall(data)

    def receive(self, limit: int) -> bytes:
        """Everything the client uploads, up to ``limit`` bytes; OSError as for ``send``."""
        chunks, size = [], 0
        with self._accept() as conn:
            while size < limit:
                chunk = conn.recv(min(_CHUNK, limit - size))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        self._listener.close()


def edit_path(directory: str, name: str) -> str:
    """Where a transferred file is kept: its path as the client named it, leading ``/`` stripped (as
    2.10), never outside ``directory`` (a name climbing out with ``..`` keeps its last part)."""
    relative = os.path.normpath(name.lstrip("/")) if name.strip("/") else "unnamed"
    if relative.startswith("..") or os.path.isabs(relative):
        relative = os.path.basename(relative) or "unnamed"
    return os.path.join(directory, relative)


def store(directory: str, name: str, data: bytes) -> Optional[str]:
    """Keep a transferred file in ``directory``; the reason on failure (nothing recorded is lost
    silently: the caller says it on stderr)."""
    path = edit_path(directory, name)
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(data)
    except OSError as err:
        return f"cannot store {path}: {err.strerror}"
    return None
