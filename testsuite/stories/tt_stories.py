"""User stories of TextTest itself driving capturemock: each runs TextTest headless on a copy of an
inner suite (testsuite/inner/) in some mode and shows what a user of that suite would see."""
import glob
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEXTTEST = os.path.join(os.path.dirname(sys.executable), "texttest")
TIMESTAMP = re.compile(r"^\S+ \S+ - ")
PER_TEST_PROGRESS = re.compile(r"^(Q|S): ")  # in the order tests finish: the summary lines say it all
FRAME = re.compile(r'^(\s*)File ".*", line \d+')  # a traceback's frame: its source lines are indented under it


def prepare(suite, changes):
    """Copy the inner suite into the sandbox and apply 'Test/file=text' changes ('' removes the file,
    'file+=text' appends a line)."""
    shutil.copytree(os.path.join(ROOT, "inner", suite), "inner")
    for change in changes:
        path, _, text = change.partition("=")
        target = os.path.join("inner", path.rstrip("+"))
        if text:
            with open(target, "a" if path.endswith("+") else "w") as handle:
                handle.write(text.replace("\\n", "\n") + "\n")
        elif os.path.isdir(target):
            shutil.rmtree(target)
        else:
            os.remove(target)


def texttest(*options):
    env = {name: value for name, value in os.environ.items() if not name.startswith(("CAPTUREMOCK_", "TEXTTEST_"))}
    env.update(TEXTTEST_TMP=os.path.abspath("tt-tmp"), TEXTTEST_PERSONAL_CONFIG=os.path.abspath("tt-home"),
               STANDIN_MODULES=os.path.join(ROOT, "vendor"), STANDIN_PROGRAMS=os.path.join(ROOT, "bin"),
               PWD=os.getcwd())  # TextTest reads relative paths against PWD, which is the outer run's
    proc = subprocess.run([TEXTTEST, "-d", os.path.abspath("inner"), "-a", "in", *options], env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True)
    print(f"$ texttest {' '.join(options)}  -> exit {proc.returncode}")
    frame_indent = None  # within a traceback frame: its source lines are code, which varies with Python's version
    for line in (proc.stdout + proc.stderr).splitlines():
        line = TIMESTAMP.sub("", line)
        if frame_indent is not None and len(line) - len(line.lstrip()) > frame_indent:
            continue
        frame = FRAME.match(line)
        frame_indent = len(frame.group(1)) if frame else None
        if PER_TEST_PROGRESS.match(line):
            continue
        wanted = re.search(r"Tests Run|FAILED|succeeded|not compared|WARNING|rror", line)
        if wanted and "Removing previous" not in line and not line.lstrip().startswith("raise "):
            print("   ", mask(line))


def mask(text):
    text = text.replace(os.path.abspath("."), "<sandbox>").replace(ROOT, "<suite>")
    return re.sub(r"<sandbox>/tt-tmp/in\.[^/]*/in/", "<run>/", text)


def show(pattern, requests_only=False):
    """Print files (from the inner sandbox or the inner suite) matching pattern."""
    for path in sorted(glob.glob(pattern, recursive=True)):
        with open(path) as handle:
            lines = handle.read().splitlines()
        if requests_only:
            lines = [line for line in lines if line.startswith("<-")]
        if path.endswith("errors.in"):  # a traceback's frames name files of this machine: keep its message
            lines = [line for line in lines if not line.startswith(" ")]
        print(f"  {re.sub(r'tt-tmp/in[^/]*/in/', '<run>/', path)}:")
        for line in lines:
            print("   ", mask(line))


def run(suite, *args):
    """Args: Test/file=text changes to the copy, then for each TextTest run '--' and its options, where
    '--show GLOB' (or 'requests:GLOB', only the requests of a mock) prints files after that run."""
    segments, current = [], []
    for arg in args:
        if arg == "--":
            segments.append(current)
            current = []
        else:
            current.append(arg)
    segments.append(current)
    prepare(suite, segments[0])
    for options in segments[1:]:
        shown = []
        while "--show" in options:
            at = options.index("--show")
            shown.append(options[at + 1])
            del options[at:at + 2]
        texttest(*options)
        for pattern in shown:
            show(pattern.removeprefix("requests:"), requests_only=pattern.startswith("requests:"))
