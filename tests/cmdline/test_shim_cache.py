"""The compiled shim's cache may be shared between hosts (an NFS home). A cached binary that cannot run
here must never be used: the SUT's PATH lookup would skip it and run the real program, unmocked."""
from __future__ import annotations

import os
import subprocess

import pytest

import capturemock
from capturemock.cmdline import shims

OTHER_MACHINE = {"x86_64": b"\xb7\x00", "aarch64": b"\x3e\x00"}  # ELF e_machine: aarch64 / x86-64


def plant_foreign_binary(binary: str) -> None:
    """Overwrite the cached shim with the same shim built for another architecture (as far as the kernel
    can tell: the ELF header's machine field), as another host sharing the cache could have left it."""
    other = OTHER_MACHINE.get(os.uname().machine)
    if other is None:
        pytest.skip(f"no foreign ELF machine known for {os.uname().machine}")
    data = bytearray(open(binary, "rb").read())
    assert data[:4] == b"\x7fELF"
    data[18:20] = other
    os.remove(binary)  # a new file: the launcher's "seen to run" memory must not vouch for it
    with open(binary, "wb") as handle:
        handle.write(data)
    os.chmod(binary, 0o755)


@pytest.mark.parametrize("shim_kind", ["native"], indirect=True)
def test_a_cached_shim_that_cannot_run_here_is_rebuilt_and_replay_never_runs_the_real_program(sut, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(sut.root / "cache"))
    binary = shims.native_shim()
    plant_foreign_binary(binary)
    sut.program("tool", "echo real tool ran\n")  # further along PATH than the shim
    sut.write("stored.mock", "<-CMD:tool\n->OUT:mocked\n")
    assert sut.start(capturemock.REPLAY, rc=sut.rc("[command line]\nintercepts = tool\n"), replay="stored.mock")
    result = sut.run("tool")
    capturemock.terminate()
    assert (result.stdout, result.returncode) == ("mocked\n", 0)
    assert shims.runs_here(binary)  # rebuilt in place


def test_the_cache_is_keyed_by_source_machine_and_c_library():
    names = {shims.shim_name(b"source", "x86_64", "glibc 2.36"), shims.shim_name(b"source", "aarch64", "glibc 2.36"),
             shims.shim_name(b"source", "x86_64", "unknown"), shims.shim_name(b"other", "x86_64", "glibc 2.36")}
    assert len(names) == 4
    assert all(name.startswith("shim-") for name in names)


def test_a_binary_that_does_not_run_is_not_trusted(tmp_path):
    garbage = tmp_path / "shim-garbage"
    garbage.write_bytes(b"\x7fELF not really")
    garbage.chmod(0o755)
    assert not shims.runs_here(str(garbage))
    impostor = tmp_path / "shim-impostor"  # runs, but is not our shim
    impostor.write_text("#!/bin/sh\nexit 0\n")
    impostor.chmod(0o755)
    assert not shims.runs_here(str(impostor))


def test_a_successful_trial_is_remembered_for_that_file_on_this_host(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    binary = shims.native_shim()
    marker = shims.trial_marker(binary)
    assert os.path.isfile(marker)
    monkeypatch.setattr(shims, "_RUNS", set())  # as in a later process
    monkeypatch.setattr(subprocess, "run", lambda *args, **kwargs: pytest.fail("tried again"))
    assert shims.runs_here(binary)


def test_a_replaced_binary_is_tried_again_despite_the_marker(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    binary = shims.native_shim()
    monkeypatch.setattr(shims, "_RUNS", set())
    plant_foreign_binary(binary)  # another host sharing the cache rebuilt it
    assert not shims.runs_here(binary)
    assert shims.native_shim() == binary and shims.runs_here(binary)  # rebuilt here, and trusted again
