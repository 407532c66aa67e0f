"""The private cache directory: what the SUT may run or import from it."""
import os
import subprocess
import sys

from capturemock import cachedir


def test_a_directory_others_can_write_is_not_trusted(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    assert not cachedir.is_private(str(shared))
    assert cachedir.is_private(str(tmp_path / "mine"))


def test_import_path_exposes_only_capturemock(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    path_dir = cachedir.import_path()
    assert path_dir is not None and path_dir.startswith(str(tmp_path / "cache"))
    assert os.listdir(path_dir) == ["capturemock"]
    assert cachedir.import_path() == path_dir  # reused, not rebuilt
    probe = "import capturemock, os; print(os.path.realpath(capturemock.__file__))"
    proc = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.append({path_dir!r}); {probe}"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.stdout.strip() == os.path.realpath(cachedir.PACKAGE_DIR + "/__init__.py")
