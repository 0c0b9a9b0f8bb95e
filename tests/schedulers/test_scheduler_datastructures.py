"""JobResource, ParEnvJobResource, CodeRun and JobTemplate: validation and immutability."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from provgraph.exceptions import ValidationError
from provgraph.schedulers.datastructures import CodeRun, JobInfo, JobResource, JobState, JobTemplate, ParEnvJobResource


@pytest.mark.parametrize(("kwargs", "expected"), [
    ({"num_machines": 2, "num_mpiprocs_per_machine": 4}, (2, 4, 8)),
    ({"num_machines": 2, "tot_num_mpiprocs": 8}, (2, 4, 8)),
    ({"num_mpiprocs_per_machine": 4, "tot_num_mpiprocs": 8}, (2, 4, 8)),
    ({"num_machines": 2, "num_mpiprocs_per_machine": 4, "tot_num_mpiprocs": 8}, (2, 4, 8)),
])
def test_job_resource_fills_in_the_third_count(kwargs, expected):
    resource = JobResource(**kwargs)
    assert (resource.num_machines, resource.num_mpiprocs_per_machine, resource.tot_num_mpiprocs) == expected


@pytest.mark.parametrize("kwargs", [
    {}, {"num_machines": 2}, {"num_machines": 0, "num_mpiprocs_per_machine": 1},
    {"num_machines": 2, "num_mpiprocs_per_machine": 4, "tot_num_mpiprocs": 9},
    {"num_machines": 2, "tot_num_mpiprocs": 7}, {"num_mpiprocs_per_machine": 3, "tot_num_mpiprocs": 7},
    {"num_machines": 1.5, "num_mpiprocs_per_machine": 1}, {"num_machines": True, "num_mpiprocs_per_machine": 1},
    {"num_machines": 1, "num_mpiprocs_per_machine": 1, "num_cores_per_mpiproc": 0},
])
def test_job_resource_rejects_bad_values(kwargs):
    with pytest.raises(ValidationError):
        JobResource(**kwargs)


@given(st.integers(1, 1000), st.integers(1, 1000))
def test_any_two_counts_give_the_same_resource(machines, per_machine):
    total = machines * per_machine
    a = JobResource(num_machines=machines, num_mpiprocs_per_machine=per_machine)
    assert a == JobResource(num_machines=machines, tot_num_mpiprocs=total) \
        == JobResource(num_mpiprocs_per_machine=per_machine, tot_num_mpiprocs=total)


def test_par_env_resource():
    assert ParEnvJobResource("mpi", 16).tot_num_mpiprocs == 16
    for bad in [("", 1), ("mpi rr", 1), ("mpi", 0)]:
        with pytest.raises(ValidationError):
            ParEnvJobResource(*bad)


def test_code_run_needs_an_executable():
    with pytest.raises(ValidationError):
        CodeRun(())
    assert CodeRun(["a", 1]).cmdline_params == ("a", "1")


def test_template_validation_and_immutability():
    resources = JobResource(num_machines=1, num_mpiprocs_per_machine=1)
    with pytest.raises(ValidationError, match="variable name"):
        JobTemplate(resources=resources, environment_variables={"BAD-NAME": "x"})
    with pytest.raises(ValidationError, match="max_wallclock_seconds"):
        JobTemplate(resources=resources, max_wallclock_seconds=0)
    with pytest.raises(ValidationError, match="resources"):
        JobTemplate(resources={"num_machines": 1})  # type: ignore[arg-type]
    template = JobTemplate(resources=resources, environment_variables={"A": "1"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        template.job_name = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        template.environment_variables["B"] = "2"  # type: ignore[index]


def test_job_info_is_frozen():
    info = JobInfo(job_id="1", job_state=JobState.RUNNING, raw={"a": "b"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.job_state = JobState.DONE  # type: ignore[misc]
    with pytest.raises(TypeError):
        info.raw["a"] = "c"  # type: ignore[index]
