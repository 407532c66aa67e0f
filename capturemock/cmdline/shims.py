"""Putting one executable shim per intercepted program into the intercept directory (§7.2).

The native shim (``shim.c``) is compiled with ``cc`` on first use into a cache directory, keyed by the
hash of its source and by the machine and C library it was built for, and hard-linked (or copied) under
each program's name. A cache may be shared between hosts (an NFS home): a binary that cannot run here
would make the SUT's ``execvp`` skip it and run the real program further along PATH, unmocked and
silently. So a binary is tried before it is trusted, and rebuilt (or the Python shim used) if it does
not run. A successful trial is remembered beside the binary, per host, for that very file (inode, size,
mtime): every ``capturemock`` command and ``setUpServer`` after the first skips the ~4 ms trial run,
and a binary replaced by another host, or a cache remounted ``noexec``, is tried again. Without a compiler the
shim is a tiny script running ``shim.py`` with ``python -IS``: no site, no PYTHONPATH needed, so the
SUT's own PYTHONPATH is left alone (we deliberately do not copy §12.20).
"""
from __future__ import annotations

import os
import sys

from ..cachedir import first_private
from ..executables import which

TYPE_CHECKING = False  # typing is not imported at run time: ~3 ms of every capturemock command
if TYPE_CHECKING:
    from typing import Optional

HERE = os.path.dirname(os.path.abspath(__file__))
C_SOURCE = os.path.join(HERE, "shim.c")


_RUNS: set[tuple[str, int, int, int]] = set()  # (path, inode, size, mtime) of binaries seen to run here


def native_shim(compiler: Optional[str] = None) -> Optional[str]:
    """Path of the compiled shim for the current source and platform, building it if needed and trying
    it before use; None if no runnable one can be had."""
    try:
        with open(C_SOURCE, "rb") as handle:
            source = handle.read()
    except OSError:
        return None
    name = shim_name(source, os.uname().machine, c_library())

    def make(directory: str) -> Optional[str]:
        binary = os.path.join(directory, name)
        if os.access(binary, os.X_OK) and runs_here(binary):
            return binary
        path = os.get_exec_path()
        compiled = _compile(compiler or which("cc", path) or which("gcc", path), directory, binary)
        return binary if compiled and runs_here(binary) else None

    return first_private(make)


def shim_name(source: bytes, machine: str, libc: str) -> str:
    """The cache name of a shim built from ``source`` for ``machine`` and ``libc``."""
    return "shim-" + _sha256(b"\0".join([source, machine.encode(), libc.encode()]))[:16]


def c_library() -> str:
    """The C library the shim links against, e.g. ``glibc 2.36`` (musl and others have no name here:
    the trial run catches a binary built for another of them)."""
    try:
        return os.confstr("CS_GNU_LIBC_VERSION") or "unknown"
    except (ValueError, OSError, AttributeError):
        return "unknown"


def runs_here(binary: str) -> bool:
    """Run the shim with no CAPTUREMOCK_SERVER: one that runs says so on stderr and exits 1. Once it
    has, ``trial_marker`` vouches for the same file on this host, in later processes too."""
    try:
        info = os.stat(binary)
        executable = not os.statvfs(binary).f_flag & getattr(os, "ST_NOEXEC", 0)
    except OSError:
        return False
    seen = (binary, info.st_ino, info.st_size, info.st_mtime_ns)
    if seen in _RUNS:
        return True
    identity = f"{info.st_dev} {info.st_ino} {info.st_size} {info.st_mtime_ns}"
    marker = trial_marker(binary)
    if executable and _read(marker) == identity:
        _RUNS.add(seen)
        return True
    import subprocess  # here: a trusted binary (every command after the first on a host) needs none

    try:
        trial = subprocess.run([binary], env={}, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return False
    if trial.returncode == 1 and trial.stderr.startswith(b"CaptureMock shim for "):
        _RUNS.add(seen)
        _write(marker, identity)
        return True
    return False


def _sha256(data: bytes) -> str:
    """hashlib's SHA-256 from the interpreter's own module: hashlib starts OpenSSL, ~3 ms of every command."""
    try:
        from _sha2 import sha256  # Python 3.12 on
    except ImportError:
        try:
            from _sha256 import sha256
        except ImportError:
            from hashlib import sha256
    return sha256(data).hexdigest()


def trial_marker(binary: str) -> str:
    """Where a successful trial of ``binary`` on this host is remembered (the cache may be shared)."""
    host = _sha256(os.uname().nodename.encode(errors="surrogateescape"))[:12]
    return f"{binary}.ran-on-{host}"


def _read(path: str) -> Optional[str]:
    try:
        with open(path) as handle:
            return handle.read()
    except (OSError, ValueError):
        return None


def _write(path: str, text: str) -> None:
    """Atomically, so a concurrent launcher never trusts half a marker; a cache we cannot write to only
    costs the next process its trial."""
    partial = f"{path}.{os.getpid()}.tmp"
    try:
        with open(partial, "w") as handle:
            handle.write(text)
        os.replace(partial, path)
    except OSError:
        pass


def _compile(compiler: Optional[str], directory: str, binary: str) -> bool:
    """Compile into a temporary name and rename, so concurrent launchers never see a half-written binary."""
    if not compiler:
        return False
    import subprocess

    try:
        partial = f"{binary}.{os.getpid()}.tmp"
        done = subprocess.run([compiler, "-O2", "-o", partial, C_SOURCE], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL).returncode == 0
        if done:
            os.replace(partial, binary)
        return done
    except OSError:
        return False


def python_shim_text() -> str:
    return (f"#!{sys.executable} -IS\n"
            f"import sys\nsys.path.insert(0, {HERE!r})\n"
            "from shim import interceptCommand\ninterceptCommand()\n")


def install_shims(programs: list[str], intercept_dir: str, native: Optional[str] = None) -> list[str]:
    """Create a shim per program in ``intercept_dir``; returns the paths created."""
    os.makedirs(intercept_dir, exist_ok=True)
    created = []
    for program in programs:
        path = os.path.join(intercept_dir, program)
        if os.path.lexists(path):
            os.remove(path)
        if native:
            _link_or_copy(native, path)
        else:
            with open(path, "w") as handle:
                handle.write(python_shim_text())
            os.chmod(path, 0o775)
        created.append(path)
    return created


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:
        import shutil  # here: a link is made wherever the cache and the intercept directory share a disk

        shutil.copy2(source, target)
