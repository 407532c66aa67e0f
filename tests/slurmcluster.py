"""A one-node SLURM cluster for the tests: munged, slurmctld and slurmd of this machine, all in one directory.

Everything is private to the directory: a fresh munge key and socket, state and spool dirs, free ports on
the loopback. Clients find it through ``SLURM_CONF`` (``cluster.env``), so the machine's own
``/etc/slurm`` and ``/etc/munge`` are neither read nor touched. The daemons run in the foreground as our
children and are stopped by pid.
"""
from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

PROGRAMS = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "sinfo", "scancel")
MISSING_REASON = ("SLURM and munge are not installed (apt-get install slurmctld slurmd slurm-client munge; "
                  ".ci/run does it)")


# the daemons live in sbin, which is not on every user's PATH
SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])


def program(name: str) -> str:
    return shutil.which(name, path=SEARCH_PATH) or name


def missing_programs() -> list[str]:
    return [name for name in PROGRAMS if shutil.which(name, path=SEARCH_PATH) is None]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def slurm_conf(root: Path, node: str, ctld_port: int, node_port: int, user: str) -> str:
    return f"""\
ClusterName=capturemock
SlurmctldHost={node}(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={node_port}
SlurmUser={user}
SlurmdUser={user}
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={root}/munge/socket
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.pid
SlurmctldLogFile={root}/log/slurmctld.log
SlurmdLogFile={root}/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
MpiDefault=none
SwitchType=switch/none
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
ReturnToService=2
NodeName={node} NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
"""


class OneNodeCluster:
    """Start with ``start()``, stop with ``stop()``; ``env`` points SLURM's clients at it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.node = socket.gethostname().split(".")[0]
        self.conf = root / "slurm.conf"
        self.env = {"SLURM_CONF": str(self.conf)}
        self.daemons: list[subprocess.Popen] = []

    def start(self, timeout: float = 60) -> None:
        for name in ("munge", "state", "spool", "log"):
            (self.root / name).mkdir(mode=0o700, parents=True, exist_ok=True)
        key = self.root / "munge" / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o400)
        self.conf.write_text(slurm_conf(self.root, self.node, free_port(), free_port(), getpass.getuser()))
        munge = self.root / "munge"
        self.spawn(["munged", "--foreground", "--force", f"--socket={munge}/socket", f"--key-file={key}",
                    f"--log-file={munge}/munged.log", f"--pid-file={munge}/munged.pid", f"--seed-file={munge}/seed"])
        self.wait_for(lambda: (munge / "socket").exists(), timeout, "munged did not create its socket")
        self.spawn(["slurmctld", "-D", "-i", "-f", str(self.conf)])
        self.spawn(["slurmd", "-D", "-N", self.node, "-f", str(self.conf)])
        self.wait_for(self.node_idle, timeout, "the node did not become idle")

    def spawn(self, args: list[str]) -> None:
        log = open(self.root / "log" / f"{args[0]}.out", "w")
        self.daemons.append(subprocess.Popen([program(args[0]), *args[1:]], stdin=subprocess.DEVNULL, stdout=log,
                                             stderr=subprocess.STDOUT, env={**os.environ, **self.env}))
        log.close()

    def client(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(args, env={**os.environ, **self.env}, capture_output=True, text=True, timeout=60)

    def node_idle(self) -> bool:
        return self.client("sinfo", "-h", "-N", "-o", "%t").stdout.split() == ["idle"]

    def wait_for(self, ready, timeout: float, failure: str) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            exited = [proc.args[0] for proc in self.daemons if proc.poll() is not None]
            if exited or time.monotonic() > deadline:
                logs = "\n".join(f"--- {path.name}\n{path.read_text()[-2000:]}"
                                 for path in sorted((self.root / "log").glob("*")))
                raise RuntimeError(f"{failure} (exited: {exited or 'none'})\n{logs}")
            time.sleep(0.2)

    def stop(self) -> None:
        """Cancels what is left, then stops the daemons in reverse order of start."""
        if self.daemons:
            self.client("scancel", "--me")
        for proc in reversed(self.daemons):
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.daemons = []

    def log_text(self) -> str:
        return (self.root / "log" / "slurmctld.log").read_text()
