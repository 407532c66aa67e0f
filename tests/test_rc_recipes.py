"""The ready-made rc recipes in rc/, used as a user would: record against the real thing, replay without."""
from __future__ import annotations

import http.server
import importlib.util
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RECIPES = ROOT / "rc"
RECIPE_TESTS = ROOT / "testsuite" / "Recipes"
# the same two requests to a web server, through each HTTP recipe
HTTP_SUTS = {
    "urllib": """\
import sys, urllib.error, urllib.request
base = sys.argv[1]
with urllib.request.urlopen(base + "/page.txt") as response:
    print(response.status, response.headers["Content-Type"], response.read().decode().strip())
try:
    urllib.request.urlopen(base + "/missing")
except urllib.error.HTTPError as error:
    print("error", error.code, error)
""",
    "requests": """\
import sys, requests
base = sys.argv[1]
response = requests.get(base + "/page.txt", timeout=10)
print(response.status_code, response.headers["Content-Type"], response.text.strip())
try:
    requests.get(base + "/missing", timeout=10).raise_for_status()
except requests.HTTPError as error:
    print("error", error.response.status_code, error.response.reason)
""",
}
# what each prints for the 404, and how its mock holds the error raised
HTTP_ERRORS = {"urllib": ("HTTP Error 404: File not found", "->RET:raise Instance('HTTPError(urllib.error.URLError"),
               "requests": ("File not found", "->RET:raise Instance('HTTPError(RequestException, OSError)'")}


class _Pages(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self.path == "/page.txt":
            body = b"hello\n"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_error(404, "File not found")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def web_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def capturemock(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith("CAPTUREMOCK")}
    return subprocess.run([sys.executable, "-m", "capturemock", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=60)


@pytest.mark.parametrize("recipe", sorted(HTTP_SUTS))
def test_http_recipe_records_responses_headers_and_errors_then_replays_them(recipe, web_server, tmp_path):
    assert importlib.util.find_spec(recipe), f"{recipe} is a test dependency: pip install -e '.[test]'"
    (tmp_path / "sut.py").write_text(HTTP_SUTS[recipe])
    base = f"http://127.0.0.1:{web_server.server_address[1]}"
    rc = str(RECIPES / f"{recipe}.rc")
    record = capturemock("-m", "1", "-r", "web.mock", "-R", rc, sys.executable, "sut.py", base, cwd=tmp_path)
    printed_error, recorded_error = HTTP_ERRORS[recipe]
    assert (record.stdout, record.stderr) == (f"200 text/plain hello\nerror 404 {printed_error}\n", "")
    recorded = (tmp_path / "web.mock").read_text()
    assert recorded_error in recorded
    web_server.shutdown()  # replay talks to nobody
    replay = capturemock("-p", "web.mock", "-r", "again.mock", "-R", rc, sys.executable, "sut.py", base,
                         cwd=tmp_path)
    assert (replay.stdout, replay.stderr) == (record.stdout, "")
    assert (tmp_path / "again.mock").read_text() == recorded


def test_every_recipe_is_used_by_a_testsuite_test_of_its_own_unchanged():
    recipes = sorted(path.stem for path in RECIPES.glob("*.rc"))
    assert (RECIPE_TESTS / "testsuite.rcp").read_text().split() == [name.capitalize() for name in recipes]
    for name in recipes:
        used = RECIPE_TESTS / name.capitalize() / "capturemockrc.rcp"
        assert used.read_text() == (RECIPES / f"{name}.rc").read_text(), f"{used} is not a copy of rc/{name}.rc"


def test_the_installed_package_holds_the_recipes_in_rc():
    package_copy = ROOT / "capturemock" / "rc"
    assert package_copy.is_symlink() and package_copy.resolve() == RECIPES.resolve()


def test_recipe_lists_recipes_and_prints_one(tmp_path):
    listing = capturemock("--recipe", cwd=tmp_path)
    assert listing.returncode == 0
    names = [line.split()[0] for line in listing.stdout.splitlines()]
    assert names == sorted(path.stem for path in RECIPES.glob("*.rc"))
    assert "smtplib   Outgoing mail through smtplib: recorded as sent; replay needs no SMTP server.\n" in listing.stdout
    printed = capturemock("--recipe", "git", cwd=tmp_path)
    assert (printed.returncode, printed.stdout) == (0, (RECIPES / "git.rc").read_text())
    unknown = capturemock("--recipe", "gti", cwd=tmp_path)
    assert unknown.returncode == 2
    assert unknown.stderr.startswith("capturemock: no recipe named 'gti' (there are: datetime, docker, ")


def test_version_tells_this_package_from_the_original(tmp_path):
    version = capturemock("--version", cwd=tmp_path)
    assert (version.returncode, version.stdout) == (
        0, "capturemock 3.0.0 (replaces CaptureMock 2.10; not the 2.10.0 on PyPI)\n")


@pytest.mark.parametrize("pure", ["1", "0"])
def test_a_wheel_carries_the_recipes_and_our_version(tmp_path, pure):
    """What pip installs: built as a user would (pip fetches the build backend), from a copy of the
    checkout, since pip builds in the source tree and leaves build/ and *.egg-info there. With
    ``CAPTUREMOCK_PURE_PYTHON=1`` pure Python, for any machine; else with the C accelerator of replay,
    for this Python and platform."""
    import shutil
    import zipfile

    if pure == "0":
        from tests.conftest import built_speedups

        built_speedups()  # where this checkout could not build it, neither can pip

    source = tmp_path / "checkout"
    shutil.copytree(ROOT, source, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "*.egg-info", "__pycache__", ".tt-*", ".hypothesis", "*.so"))
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(source)],
                           capture_output=True, text=True, timeout=300,
                           env=dict(os.environ, CAPTUREMOCK_PURE_PYTHON=pure))
    assert build.returncode == 0, build.stderr
    [wheel] = tmp_path.glob("capturemock-*.whl")
    tag = "py3-none-any" if pure == "1" else f"cp3{sys.version_info.minor}-cp3{sys.version_info.minor}-"
    assert wheel.name.startswith(f"capturemock-3.0.0-{tag}")
    with zipfile.ZipFile(wheel) as archive:
        built = [name for name in archive.namelist() if re.fullmatch(r"capturemock/_speedups\..*\.so", name)]
        assert len(built) == (0 if pure == "1" else 1)
        shipped = {name: archive.read(name) for name in archive.namelist() if name.startswith("capturemock/rc/")}
        metadata = archive.read("capturemock-3.0.0.dist-info/METADATA").decode()
    assert shipped == {f"capturemock/rc/{path.name}": path.read_bytes()
                       for path in RECIPES.iterdir() if path.suffix in (".rc", ".md")}
    assert re.search(r"^Version: 3\.0\.0$", metadata, re.M)
