"""The single-node SLURM service: a batch job runs to COMPLETED."""

from __future__ import annotations

import subprocess
import time

import pytest

pytestmark = pytest.mark.requires_slurm


def _run(cmd: list[str], env: dict, cwd=None) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd, timeout=60)
    assert proc.returncode == 0, f"{cmd}: {proc.stderr}"
    return proc.stdout


def _job_state(job_id: str, env: dict) -> str:
    out = _run(["scontrol", "show", "job", job_id, "--oneliner"], env)
    fields = dict(item.split("=", 1) for item in out.split() if "=" in item)
    return fields["JobState"]


def test_sbatch_job_completes(slurm_env, tmp_path):
    out = _run(["sbatch", "--parsable", "--output", str(tmp_path / "job.out"), "--wrap", "echo hello-slurm"],
               slurm_env, cwd=tmp_path)
    job_id = out.strip().split(";")[0]
    deadline = time.monotonic() + 60
    state = "PENDING"
    while time.monotonic() < deadline:
        state = _job_state(job_id, slurm_env)
        if state not in ("PENDING", "CONFIGURING", "RUNNING", "COMPLETING"):
            break
        time.sleep(0.5)
    assert state == "COMPLETED"
    assert (tmp_path / "job.out").read_text().strip() == "hello-slurm"


def test_squeue_lists_a_running_job(slurm_env, tmp_path):
    job_id = _run(["sbatch", "--parsable", "--output", "/dev/null", "--wrap", "sleep 30"],
                  slurm_env, cwd=tmp_path).strip().split(";")[0]
    try:
        deadline = time.monotonic() + 30
        listed = ""
        while time.monotonic() < deadline:
            listed = _run(["squeue", "--noheader", "--format=%i %T", "--jobs", job_id], slurm_env)
            if "RUNNING" in listed:
                break
            time.sleep(0.5)
        assert listed.split() == [job_id, "RUNNING"]
    finally:
        _run(["scancel", job_id], slurm_env)
