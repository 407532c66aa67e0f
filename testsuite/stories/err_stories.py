"""Error paths of the capturemock command itself, as a suite's own scripts would meet them."""
import subprocess
import sys


def command_with_rc(rc_text, *command):
    """Write rc_text to an rc file and run the capturemock command with it in record mode."""
    with open("broken.rc", "w") as rc:
        rc.write(rc_text.replace("\\n", "\n") + "\n")
    args = ["capturemock", "--mode", "1", "--rcfiles", "broken.rc", "--record", "out.mock", *command]
    proc = subprocess.run(args, capture_output=True, text=True)
    print("exit status", proc.returncode)
    print("stdout:", proc.stdout, end="")
    print("stderr:", proc.stderr, end="")
    sys.stdout.flush()


def record_to(path, *command):
    proc = subprocess.run(["capturemock", "--mode", "1", "--record", path, *command], capture_output=True, text=True)
    print("exit status", proc.returncode)
    print("stderr:", proc.stderr, end="")
