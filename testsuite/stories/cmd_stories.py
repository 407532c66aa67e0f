"""User stories of command-line interception: each function is one test's program."""
import datetime
import hashlib
import os
import signal
import subprocess
import sys
import threading
import time


def run(*command, **kwargs):
    return subprocess.run(list(command), capture_output=True, text=True, **kwargs)


def show(result):
    print(f"status {result.returncode}")
    print(f"stdout: {result.stdout!r}")
    print(f"stderr: {result.stderr!r}")


def write(path, text):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w") as handle:
        handle.write(text)


def listing(top):
    """Every path under top with what it is, so a file edit shows in the output."""
    for folder, dirs, files in sorted(os.walk(top)):
        for name in sorted(dirs + files):
            path = os.path.join(folder, name)
            if os.path.islink(path):
                print(f"  {path} -> {os.readlink(path)}")
            elif os.path.isdir(path):
                print(f"  {path}/")
            else:
                with open(path) as handle:
                    print(f"  {path}: {handle.read().strip()!r}")


# output
def stdout_captured():
    show(run("lottery", "main"))


def stdout_and_stderr():
    show(run("lottery", "main", "--warn"))


def multi_line_output():
    for line in run("report").stdout.splitlines():
        print("report line:", line)


def output_without_newline():
    show(run("token"))


def binary_output():
    write("data.txt", "the same text, compressed\n" * 20)
    data = subprocess.run(["gzip", "-cn", "data.txt"], capture_output=True).stdout
    print("compressed to", len(data), "bytes, md5", hashlib.md5(data).hexdigest(), "magic", data[:2].hex())


def inherited_stdout():
    print("before")
    sys.stdout.flush()
    subprocess.run(["lottery", "direct"])
    print("after")


def shell_pipeline():
    print(subprocess.run("report | grep totals", shell=True, capture_output=True, text=True).stdout.strip())


def same_command_twice():
    for _ in range(2):
        print(run("lottery", "main").stdout.strip())


def arguments_with_spaces():
    print(run("echoargs", "two words", "it's", "--flag=x y", "").stdout, end="")


# exit codes
def non_zero_exit():
    show(run("diskcheck", "/data"))


def check_raises():
    try:
        subprocess.run(["diskcheck", "/data"], check=True, capture_output=True)
    except subprocess.CalledProcessError as err:
        print("failed with", err.returncode, "saying", err.stderr.decode().split(" is ")[0])


def shell_or_else():
    print(subprocess.run("diskcheck /data 2>/dev/null || echo fallback used", shell=True,
                         capture_output=True, text=True).stdout.strip())


def os_system_status():
    status = os.system("diskcheck /data 2>/dev/null")
    print("os.system gave exit status", os.waitstatus_to_exitcode(status))


# signals
def self_abort():
    show(run("crasher"))


def terminated_by_program(signal_name="SIGTERM"):
    ticker = subprocess.Popen(["ticker"], stdout=subprocess.PIPE, text=True)
    print("first:", ticker.stdout.readline().strip())
    ticker.send_signal(getattr(signal, signal_name))
    ticker.wait()
    print("ticker ended with", ticker.returncode)


def broken_pipe():
    print(subprocess.run("ticker | head -1", shell=True, capture_output=True, text=True).stdout.strip())


# environment
def environment_recorded():
    env = dict(os.environ, GREET_NAME="ann", GREET_LANG="nb")
    print(run("greet", env=env).stdout.strip())


def environment_from_texttest():
    print(run("greet").stdout.strip())


# stdin
def stdin_piped():
    show(run("shout", input="hello there\n"))


def stdin_several_lines():
    print(run("shout", input="one\ntwo\nthree\n").stdout, end="")


def stdin_from_file():
    write("letter.txt", "dear sir\n")
    with open("letter.txt") as letter:
        print(subprocess.run(["shout"], stdin=letter, capture_output=True, text=True).stdout, end="")


# file edits
def new_file_by_relative_name():
    print(run("bump", "notes.txt").stdout.strip())
    with open("notes.txt") as handle:
        print("notes.txt:", handle.read().splitlines())


def modified_file():
    write("version.txt", "version 1\n")
    print(run("bump", "version.txt").stdout.strip())
    with open("version.txt") as handle:
        print("now:", handle.read().splitlines())


def deleted_files():
    write("cache/a.tmp", "a\n")
    write("cache/b.tmp", "b\n")
    print(run("cleanup", "cache").stdout.strip())
    print("left in cache:", sorted(os.listdir("cache")))


def new_directory_tree():
    print(run("scaffold", "proj").stdout.strip())
    listing("proj")


def copy_file():
    write("original.txt", "keep me\n")
    run("cp", "original.txt", "copy.txt")
    with open("copy.txt") as handle:
        print("copy says", handle.read().strip())


def extract_archive():
    import tarfile

    write("pack/docs/readme.txt", "read me\n")
    write("pack/bin/tool.sh", "echo tool\n")
    with tarfile.open("bundle.tar", "w") as bundle:
        bundle.add("pack")
    os.makedirs("out")
    show(run("tar", "-xf", "bundle.tar", "-C", "out"))
    listing("out")


def edit_in_working_directory():
    os.makedirs("work")
    write("work/log.txt", "start\n")
    print(run("bump", "log.txt", cwd="work").stdout.strip())
    listing("work")


def ignored_edits():
    print(run("scaffold", "proj").stdout.strip())
    listing("proj")


# asynchronous programs
def background_daemon_edits():
    os.makedirs("logs")
    print(run("slowlog", "logs").stdout.strip())
    time.sleep(1.5)  # the daemon writes its log meanwhile; the next command shows the edit to capturemock
    print(run("lottery", "after").stdout.strip())
    listing("logs")


# concurrency
def overlapping_programs():
    ticker = subprocess.Popen(["ticker"], stdout=subprocess.PIPE, text=True)
    print("ticker says", ticker.stdout.readline().strip())
    print("meanwhile:", run("lottery", "meanwhile").stdout.strip())
    ticker.terminate()
    ticker.wait()
    print("ticker ended with", ticker.returncode)


def threads_running_commands():
    results = {}

    def draw(name, delay):
        time.sleep(delay)
        results[name] = run("lottery", name).stdout.strip()

    threads = [threading.Thread(target=draw, args=(f"t{index}", index * 0.4)) for index in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for name in sorted(results):
        print(results[name])


# alterations
def altered_command_line():
    today = datetime.date.today().isoformat()
    print(run("stamp", today, "sales").stdout.strip().replace(today, "<today>"))
