"""SLURM queue system for TextTest 4.4.7 (``queue_system_module:SLURM`` with ``config_module:texttest_plugin``).

TextTest ships SGE, LSF, condor and ec2 queue systems only and finds them by importing
``texttestlib.queuesystem.<name>``; ``register()`` puts this module under that name so a suite selects
SLURM from its own config without editing TextTest's files. Each test runs as one batch job
(``sbatch --wrap``) holding a TextTest slave, which reports back to the master over TCP, so capturemock's
traffic server runs inside the job, next to the program under test.

The interface is the one TextTest's master and slave call on SGE / LSF: ``QueueSystem`` (submit, poll,
cancel, failure info), ``MachineInfo`` (performance machines), ``getUserSignalKillInfo`` and
``getExecutionMachines``.
"""
from __future__ import annotations

import getpass
import os
import shlex
import subprocess
import sys
from typing import Callable, Optional

from texttestlib import plugins
from texttestlib.queuesystem import gridqueuesystem

REGISTERED_NAME = "texttestlib.queuesystem.slurm"

# squeue's compact state codes of live jobs -> TextTest's (brief, explanation). Finished jobs (CD, F, CA,
# TO, NF, OOM, ...) are left out of the status report: TextTest then checks whether the slave reported
# and, if not, fails the test with the job's failure information.
LIVE_STATES = {
    "PD": ("PEND", "Pending"),
    "CF": ("CONF", "Configuring: waiting for its nodes to boot"),
    "R": ("RUN", "Running"),
    "CG": ("COMPL", "Completing"),
    "S": ("SUSP", "Suspended"),
    "ST": ("STOP", "Stopped"),
    "RQ": ("REQUEUED", "Requeued"),
    "RF": ("REQUEUED", "Requeued by federation"),
    "RH": ("HOLD", "Held after a requeue"),
    "RS": ("RESIZE", "Resizing"),
    "RV": ("REVOKED", "Revoked by federation"),
    "SI": ("SIGNAL", "Being signalled"),
    "SO": ("STAGEOUT", "Staging out data"),
    "RD": ("HOLD", "Held: its reservation was deleted"),
}
FINISHED_STATES = {"CD", "F", "CA", "TO", "NF", "OOM", "BF", "DL", "PR", "SE"}


def register() -> None:
    """Make this module TextTest's ``queuesystem.slurm`` (idempotent: config modules are imported repeatedly)."""
    sys.modules.setdefault(REGISTERED_NAME, sys.modules[__name__])


def run_command(args: list[str]) -> subprocess.CompletedProcess:
    """Runs a SLURM client command; a missing program reads like the command's own failure."""
    try:
        return subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    except OSError as error:
        return subprocess.CompletedProcess(args, 127, "", f"{args[0]}: {error.strerror}\n")


def parse_job_id(stdout: str) -> str:
    """``sbatch --parsable`` prints ``<jobid>`` or ``<jobid>;<cluster>``."""
    for line in stdout.splitlines():
        if line.strip():
            return line.strip().split(";")[0]
    return ""


def parse_submit_error(stderr: str) -> Optional[str]:
    """The first error line of sbatch (its warnings and notes do not stop the submission)."""
    for line in stderr.splitlines():
        if "error" in line.lower():
            return line.strip()
    return None


def parse_job_states(stdout: str) -> dict[str, tuple[str, str]]:
    """``squeue -h -o "%i %t"`` lines -> TextTest's status per live job id."""
    statuses = {}
    for line in stdout.splitlines():
        words = line.split()
        if len(words) < 2 or words[1] in FINISHED_STATES:
            continue
        job_id, state = words[0], words[1]
        status = LIVE_STATES.get(state)
        if status is None:
            plugins.log.info(f"WARNING: unexpected job state {state!r} received from SLURM!")
            status = state, state
        statuses[job_id] = status
    return statuses


def expand_hostlist(hostlist: str) -> list[str]:
    """SLURM's compressed host list (``node[1-3],gpu7``) as short host names, via ``scontrol show hostnames``."""
    proc = run_command(["scontrol", "show", "hostnames", hostlist])
    names = proc.stdout.split() if proc.returncode == 0 else hostlist.split(",")
    return [name.split(".")[0] for name in names]


class QueueSystem(gridqueuesystem.QueueSystem):
    """What TextTest's master calls to submit, poll and cancel slave jobs."""

    submitProg = "sbatch"

    def getSlaveStartErrorFile(self) -> str:  # noqa: N802 - TextTest's naming style
        """Where sbatch writes what a job prints before the slave redirects its own logs (like SGE's)."""
        return os.path.join(self.coreFileLocation, "slave_start_errors." + getpass.getuser())

    def getSubmitCmdArgs(self, submissionRules, commandArgs=(), slaveEnv=None) -> list[str]:  # noqa: N802,N803
        args = ["sbatch", "--parsable", "--job-name=" + submissionRules.getJobName()]
        if submissionRules.processesNeeded != 1:
            args.append(f"--ntasks={submissionRules.processesNeeded}")
        queue = submissionRules.findQueue()
        if queue:
            args.append("--partition=" + queue)
        resources = submissionRules.findResourceList()
        if resources:
            args.append("--constraint=" + "&".join(resources))
        machines = submissionRules.findMachineList()
        if machines:
            args.append("--nodelist=" + ",".join(machines))
        # the whole environment goes with the job (TextTest hands sbatch a full copy of its own)
        args += ["--export=ALL", "--output=" + os.devnull, "--error=" + self.getSlaveStartErrorFile(),
                 "--open-mode=append"]
        args += submissionRules.getExtraSubmitArgs()
        if commandArgs:
            args += ["--wrap", "exec " + shlex.join(commandArgs)]
        return args

    def formatCommand(self, cmdArgs) -> str:  # noqa: N802,N803
        return " ".join(cmdArgs[:-2]) + " --wrap ..." if "--wrap" in cmdArgs else " ".join(cmdArgs)

    def findSubmitError(self, stderr: str) -> Optional[str]:  # noqa: N802
        return parse_submit_error(stderr)

    def findJobId(self, stdout: str) -> str:  # noqa: N802
        return parse_job_id(stdout)

    def getStatusForAllJobs(self) -> Optional[dict[str, tuple[str, str]]]:  # noqa: N802
        proc = run_command(["squeue", "--me", "-h", "-o", "%i %t"])
        if proc.returncode != 0:
            return None  # SLURM unavailable for the moment: keep the last known states
        return parse_job_states(proc.stdout)

    def killJob(self, jobId: str) -> bool:  # noqa: N802,N803
        """True if the job was still there to cancel (scancel fails for a finished or unknown job)."""
        proc = run_command(["scancel", "--verbose", jobId])
        return proc.returncode == 0 and "error" not in proc.stderr.lower()

    def setSuspendState(self, jobId: str, newState: bool) -> None:  # noqa: N802,N803
        args = ["scontrol", "suspend" if newState else "resume", jobId]
        proc = run_command(args)
        if proc.returncode != 0:
            raise plugins.TextTestError(f"Failed to {args[1]} job using command '{' '.join(args)}'\n"
                                        f"Error message from SLURM follows:\n{proc.stderr}")

    def getJobFailureInfo(self, jobId) -> str:  # noqa: N802,N803
        text = gridqueuesystem.QueueSystem.getJobFailureInfo(self, jobId)
        start_errors = self.recentStartErrors()
        return start_errors + "\n" + text if start_errors else text

    def recentStartErrors(self) -> str:  # noqa: N802
        path = self.getSlaveStartErrorFile()
        if not os.path.isfile(path):
            return ""
        with open(path, errors="replace") as handle:
            last_lines = "\n".join(handle.read().splitlines()[-3:])
        if not last_lines:
            return ""
        return (self.makeHeader("Recent errors written when starting SLURM slave jobs") + last_lines
                + "\n(full file is at " + path + ")")

    def _getJobFailureInfo(self, jobId: str) -> str:  # noqa: N802,N803
        proc = run_command(["scontrol", "show", "job", jobId])
        if proc.returncode == 0:
            return proc.stdout
        return f"Could not find info about job: {jobId}\nscontrol said:\n{proc.stderr}"


class MachineInfo:
    """What TextTest's slave asks about machines when it checks performance tests."""

    def findActualMachines(self, machineOrGroup: str) -> list[str]:  # noqa: N802,N803
        return expand_hostlist(machineOrGroup)

    def findResourceMachines(self, resource: str) -> list[str]:  # noqa: N802
        """Nodes with the feature(s) ``resource`` (resources are submitted as ``--constraint``)."""
        proc = run_command(["sinfo", "-h", "-N", "-o", "%N", "--constraint=" + resource])
        return sorted({name.split(".")[0] for name in proc.stdout.split()}) if proc.returncode == 0 else []

    def findRunningJobs(self, machine: str) -> list[tuple[str, str, str]]:  # noqa: N802
        """(user, job id, job name) of the other jobs running on ``machine``."""
        proc = run_command(["squeue", "-h", "-t", "R", "-w", machine, "-o", "%u %i %j"])
        own_job = os.getenv("SLURM_JOB_ID")
        jobs = []
        for line in proc.stdout.splitlines() if proc.returncode == 0 else []:
            words = line.split(None, 2)
            if len(words) == 3 and words[1] != own_job:
                jobs.append((words[0], words[1], words[2]))
        return jobs


def getUserSignalKillInfo(userSignalNumber: str, explicitKillMethod: Callable):  # noqa: N802,N803
    """SLURM ends a job with SIGTERM / SIGKILL, never with SIGUSR1/2: the explicit kill is the whole story."""
    return explicitKillMethod()


def getExecutionMachines() -> list[str]:  # noqa: N802
    """The job's nodes (``SLURM_JOB_NODELIST``), or this host outside a job."""
    hostlist = os.getenv("SLURM_JOB_NODELIST")
    return expand_hostlist(hostlist) if hostlist else [plugins.gethostname()]
