"""TextTest's SLURM queue system (texttest_plugin/slurm.py).

Command lines and parsing run against stand-in SLURM programs on PATH; the acceptance suite then runs
for real through sbatch on a one-node SLURM started here (munged, slurmctld, slurmd).
"""
from __future__ import annotations

import getpass
import logging
import os
import subprocess
from pathlib import Path

import pytest
from slurmcluster import MISSING_REASON, OneNodeCluster, missing_programs
from test_texttest import ROOT, run_texttest
from texttestlib import plugins

import texttest_plugin  # noqa: F401 - registers the queue system as TextTest's queuesystem.slurm
from texttest_plugin import slurm


class Rules:
    """The parts of TextTest's TestSubmissionRules the submit command reads."""

    def __init__(self, processes=1, queue="", resources=(), machines=(), extra=()):
        self.processesNeeded = processes
        self.queue, self.resources, self.machines, self.extra = queue, list(resources), list(machines), list(extra)

    def getJobName(self):  # noqa: N802
        return "Test-Quotes-CM"

    def findQueue(self):  # noqa: N802
        return self.queue

    def findResourceList(self):  # noqa: N802
        return list(self.resources)

    def findMachineList(self):  # noqa: N802
        return list(self.machines)

    def getExtraSubmitArgs(self):  # noqa: N802
        return list(self.extra)


class App:
    def __init__(self, core_dir: Path):
        self.core_dir = core_dir

    def getConfigValue(self, key):  # noqa: N802
        assert key == "queue_system_core_file_location"
        return str(self.core_dir)


@pytest.fixture
def fake_slurm(tmp_path, monkeypatch):
    """Stand-ins for sbatch, squeue, scancel and scontrol: each logs its arguments (``[arg] ...``, one call a
    line) and prints what the test
    put in ``<name>.out`` / ``<name>.err``, exiting with ``<name>.status``."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("sbatch", "squeue", "scancel", "scontrol"):
        script = bin_dir / name
        script.write_text(f"#!/bin/sh\nprintf '[%s] ' \"$@\" >> {bin_dir}/{name}.args\necho >> {bin_dir}/{name}.args\n"
                          f"cat {bin_dir}/{name}.out 2>/dev/null\ncat {bin_dir}/{name}.err >&2 2>/dev/null\n"
                          f"exit $(cat {bin_dir}/{name}.status 2>/dev/null || echo 0)\n")
        script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return bin_dir


@pytest.fixture
def queue(fake_slurm, tmp_path):
    return slurm.QueueSystem(App(tmp_path))


def test_texttest_finds_the_queue_system_under_its_own_package():
    from texttestlib.queuesystem.slurm import QueueSystem
    assert QueueSystem is slurm.QueueSystem


def test_submit_command_defaults(queue, tmp_path):
    errors = tmp_path / f"slave_start_errors.{getpass.getuser()}"
    assert queue.getSubmitCmdArgs(Rules(), ["texttest", "-d", "my suite"]) == [
        "sbatch", "--parsable", "--job-name=Test-Quotes-CM", "--export=ALL", "--output=/dev/null",
        f"--error={errors}", "--open-mode=append", "--wrap", "exec texttest -d 'my suite'"]


def test_submit_command_carries_queue_resources_machines_processes_and_extra_args(queue):
    rules = Rules(processes=4, queue="long", resources=["bigmem", "ssd"], machines=["n1", "n2"],
                  extra=["--time=10"])
    args = queue.getSubmitCmdArgs(rules, ["texttest"])
    assert args[:7] == ["sbatch", "--parsable", "--job-name=Test-Quotes-CM", "--ntasks=4", "--partition=long",
                        "--constraint=bigmem&ssd", "--nodelist=n1,n2"]
    assert args[-3:] == ["--time=10", "--wrap", "exec texttest"]


def test_submit_returns_the_job_id(queue, fake_slurm, tmp_path):
    (fake_slurm / "sbatch.out").write_text("4711;cluster\n")
    args = queue.getSubmitCmdArgs(Rules(), ["texttest", "-slave"])
    assert queue.submitSlaveJob(args, dict(os.environ), str(tmp_path), Rules(), "") == ("4711", None)
    assert (fake_slurm / "sbatch.args").read_text().endswith("[--wrap] [exec texttest -slave] \n")


def test_a_refused_submission_names_sbatch_error(queue, fake_slurm, tmp_path):
    (fake_slurm / "sbatch.err").write_text("sbatch: error: invalid partition specified: nosuch\n"
                                           "sbatch: error: Batch job submission failed: Invalid partition name\n")
    (fake_slurm / "sbatch.status").write_text("1")
    args = queue.getSubmitCmdArgs(Rules(queue="nosuch"), ["texttest"])
    job_id, error = queue.submitSlaveJob(args, dict(os.environ), str(tmp_path), Rules(), "")
    assert job_id is None
    assert error.splitlines()[0] == "Failed to submit to SLURM (sbatch: error: invalid partition specified: nosuch)"
    assert error.splitlines()[1].endswith("--open-mode=append --wrap ...'")


def test_sbatch_warnings_do_not_stop_a_submission():
    assert slurm.parse_submit_error("sbatch: warning: can't honor --ntasks-per-node\n") is None


def test_job_states_map_live_jobs_and_leave_finished_ones_out(queue, fake_slurm, monkeypatch, caplog):
    monkeypatch.setattr(plugins, "log", logging.getLogger("texttest log"))  # TextTest's log, set up by TextTest
    (fake_slurm / "squeue.out").write_text("11 PD\n12 R\n13 CG\n14 CD\n15 F\n16 XX\n")
    with caplog.at_level(logging.INFO):
        assert queue.getStatusForAllJobs() == {"11": ("PEND", "Pending"), "12": ("RUN", "Running"),
                                               "13": ("COMPL", "Completing"), "16": ("XX", "XX")}
    assert caplog.messages == ["WARNING: unexpected job state 'XX' received from SLURM!"]
    assert (fake_slurm / "squeue.args").read_text() == "[--me] [-h] [-o] [%i %t] \n"


def test_unavailable_squeue_keeps_the_last_known_states(queue, fake_slurm):
    (fake_slurm / "squeue.status").write_text("1")
    assert queue.getStatusForAllJobs() is None


def test_cancel_tells_whether_the_job_was_still_there(queue, fake_slurm):
    (fake_slurm / "scancel.err").write_text("scancel: Terminating job 7\n")
    assert queue.killJob("7") is True
    # scancel exits 0 for a finished job too: only its message tells
    (fake_slurm / "scancel.err").write_text("scancel: error: Kill job error on job id 8: Job/step already "
                                            "completing or completed\n")
    assert queue.killJob("8") is False
    assert (fake_slurm / "scancel.args").read_text() == "[--verbose] [7] \n[--verbose] [8] \n"


def test_failure_info_shows_the_job_and_recent_start_errors(queue, fake_slurm):
    (fake_slurm / "scontrol.out").write_text("JobId=9 JobName=Test-Quotes-CM\n   JobState=FAILED\n")
    Path(queue.getSlaveStartErrorFile()).write_text("one\ntwo\nthree\n/bin/sh: texttest: not found\n")
    info = queue.getJobFailureInfo("9")
    assert info.splitlines()[:4] == ["---------- Recent errors written when starting SLURM slave jobs ----------",
                                     "two", "three", "/bin/sh: texttest: not found"]
    assert info.endswith("---------- Full accounting info from SLURM ----------\n"
                         "JobId=9 JobName=Test-Quotes-CM\n   JobState=FAILED\n")
    assert (fake_slurm / "scontrol.args").read_text() == "[show] [job] [9] \n"


def test_execution_machines_expand_the_job_node_list(fake_slurm, monkeypatch):
    (fake_slurm / "scontrol.out").write_text("node1.example.org\nnode2\n")
    monkeypatch.setenv("SLURM_JOB_NODELIST", "node[1-2]")
    assert slurm.getExecutionMachines() == ["node1", "node2"]
    assert (fake_slurm / "scontrol.args").read_text() == "[show] [hostnames] [node[1-2]] \n"


# ---- for real: a one-node SLURM ----

REPLAYED = ["Quotes", "Both", "Python/CallbackCalled", "Python/ChildProcess", "CommandLine/EnvironmentFromTextTest",
            "CommandLine/ModifiedFile", "ClientServer/HttpClient", "ClientServer/ClassicServer",
            "RcLayering/TestRcOverridesKey"]
# tests whose live run gives the stored mock again (the others record fresh random values)
RECORDED = ["Python/VendorExceptionCaught", "CommandLine/CopyFile", "ClientServer/HttpServer",
            "ClientServer/XmlRpcServer"]


@pytest.fixture(scope="session")
def cluster(tmp_path_factory):
    missing = missing_programs()
    if missing:
        pytest.skip(f"{MISSING_REASON}: missing {', '.join(missing)}")
    one_node = OneNodeCluster(tmp_path_factory.mktemp("slurm"))
    try:
        one_node.start()
        yield one_node
    finally:
        one_node.stop()


def run_on_slurm(cluster, tmp_path, monkeypatch, tests, *options):
    """The acceptance suite, unchanged, with SLURM chosen in TextTest's personal config."""
    (tmp_path / "tt-home").mkdir()
    (tmp_path / "tt-home" / "config").write_text("queue_system_module:SLURM\n")
    for name, value in cluster.env.items():
        monkeypatch.setenv(name, value)
    names = "|".join(test.split("/")[-1] for test in tests)
    proc = run_texttest(ROOT / "testsuite", "cm", tmp_path, "-b", "ci", "-t", f"^({names})$", *options)
    return proc.stdout + proc.stderr, proc.returncode


def assert_all_ran_as_jobs(log: str, status: int, tests: list[str], cluster) -> None:
    assert status == 0, log
    assert f"Tests Run: {len(tests)}\n" in log, log
    for test in tests:
        assert f"Q: Submitting CM test-case {test.split('/')[-1]} to default SLURM queue" in log
        assert f"S: CM test-case {test} succeeded on {cluster.node}" in log
    assert "sched: Allocate JobId=" in cluster.log_text()


def test_acceptance_suite_replays_through_sbatch(cluster, tmp_path, monkeypatch):
    log, status = run_on_slurm(cluster, tmp_path, monkeypatch, REPLAYED)
    assert "Using SLURM queues for Application CM" in log
    assert_all_ran_as_jobs(log, status, REPLAYED, cluster)


def test_acceptance_suite_records_through_sbatch(cluster, tmp_path, monkeypatch):
    log, status = run_on_slurm(cluster, tmp_path, monkeypatch, RECORDED, "-rectraffic")
    assert_all_ran_as_jobs(log, status, RECORDED, cluster)
    recorded = sorted(path.relative_to(tmp_path / "tt-tmp").parts[-2] for path in
                      (tmp_path / "tt-tmp").glob("cm.*/cm/*/*/*mocks.cm"))
    assert recorded == sorted(test.split("/")[-1] for test in RECORDED)


def test_a_refused_submission_makes_the_test_not_submitted(cluster, tmp_path, monkeypatch):
    log, status = run_on_slurm(cluster, tmp_path, monkeypatch, ["Quotes"], "-q", "nosuchpartition")
    assert ("CM test-case Quotes not compared: Failed to submit to SLURM "
            "(sbatch: error: invalid partition specified: nosuchpartition)") in log
    assert "Tests Run: 1, Incomplete: 1" in log
    assert status == 1


def test_hostile_test_names_in_the_wrapped_command_reach_the_job_as_plain_arguments(queue, tmp_path):
    """sbatch runs ``--wrap`` text with /bin/sh: a test name or option holding shell syntax must arrive as
    the same argument, never run (checked by running the wrapped text as sbatch's script would)."""
    marker = tmp_path / "ran"
    hostile = [f"$(touch {marker})", f"`touch {marker}`", f"x; touch {marker}", "a'b\"c\nd", "*", "--x=$HOME"]
    wrap = queue.getSubmitCmdArgs(Rules(), ["printf", r"%s\0", *hostile])[-1]
    script = tmp_path / "job.sh"
    script.write_text("#!/bin/sh\n" + wrap + "\n")
    done = subprocess.run(["/bin/sh", str(script)], cwd=tmp_path, capture_output=True, timeout=30)
    assert done.stdout.split(b"\0")[:-1] == [arg.encode() for arg in hostile]
    assert not marker.exists()
