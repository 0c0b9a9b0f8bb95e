"""What every registered scheduler plugin promises, parametrised over the entry points."""

from __future__ import annotations

import pytest
from scheduler_testing import CODES, RecordingTransport

from provgraph.exceptions import ValidationError
from provgraph.plugins import load_plugin, plugin_names
from provgraph.schedulers.base import BashScheduler, Scheduler
from provgraph.schedulers.datastructures import CodeRun, CodeRunMode, JobResource, JobTemplate, ParEnvJobResource

BUILTINS = ["core.direct", "core.lsf", "core.pbspro", "core.sge", "core.slurm", "core.torque"]


def test_the_builtins_are_registered():
    assert set(BUILTINS) <= set(plugin_names("schedulers"))


@pytest.fixture(params=BUILTINS)
def scheduler(request) -> BashScheduler:
    """An instance of each built-in scheduler."""
    cls = load_plugin("schedulers", request.param)
    assert issubclass(cls, Scheduler)
    return cls()


def _resources(scheduler: BashScheduler):
    if scheduler.resource_class is ParEnvJobResource:
        return scheduler.create_resource(parallel_env="mpi", tot_num_mpiprocs=4)
    return scheduler.create_resource(num_machines=1, num_mpiprocs_per_machine=4)


def test_script_starts_with_the_shebang_and_has_the_run_lines(scheduler):
    template = JobTemplate(resources=_resources(scheduler), codes=CODES, shebang="#!/bin/bash -l",
                           prepend_text="echo pre", append_text="echo post")
    script = scheduler.get_submit_script(template)
    assert script.startswith("#!/bin/bash -l\n") and script.endswith("echo post\n")
    assert script.index("echo pre") < script.index("mpirun -np 4 /opt/codes/pw.x") < script.index("post-process")


def test_custom_scheduler_commands_come_right_after_the_directives(scheduler):
    template = JobTemplate(resources=_resources(scheduler), codes=CODES, custom_scheduler_commands="#CUSTOM x",
                           environment_variables={"A": "1"})
    lines = scheduler.get_submit_script(template).splitlines()
    directives = [i for i, line in enumerate(lines) if line.startswith("#") and i > 0]
    assert lines.index("#CUSTOM x") == max(directives)
    assert lines.index("#CUSTOM x") < lines.index("export A=1")


def test_parallel_codes_run_in_the_background_and_are_waited_for(scheduler):
    template = JobTemplate(resources=_resources(scheduler), codes=CODES, codes_run_mode=CodeRunMode.PARALLEL)
    script = scheduler.get_submit_script(template)
    assert "aiida.err &\n" in script and "post.out 2>&1 &\n" in script and script.endswith("\nwait\n")


def test_environment_double_quotes_let_variables_expand(scheduler):
    template = JobTemplate(resources=_resources(scheduler), environment_variables={"P": 'a "b" $HOME'},
                           environment_variables_double_quotes=True)
    assert 'export P="a \\"b\\" $HOME"' in scheduler.get_submit_script(template)


def test_bad_mpirun_placeholder_is_refused(scheduler):
    template = JobTemplate(resources=_resources(scheduler), codes=(CodeRun(("x",), withmpi=True),),
                           mpirun_command=("srun", "-n", "{unknown}"))
    with pytest.raises(ValidationError, match="mpirun_command"):
        scheduler.get_submit_script(template)


def test_the_other_resource_type_is_refused(scheduler):
    other = JobResource(num_machines=1, num_mpiprocs_per_machine=1) \
        if scheduler.resource_class is ParEnvJobResource else ParEnvJobResource("mpi", 1)
    with pytest.raises(ValidationError):
        scheduler.get_submit_script(JobTemplate(resources=other))


def test_job_ids_with_shell_characters_never_reach_a_command(scheduler):
    for bad in ["1; rm -rf /", "$(reboot)", "1 2", ""]:
        with pytest.raises(ValidationError):
            scheduler.joblist_command([bad])
        with pytest.raises(ValidationError):
            scheduler.kill_command(bad)


def test_get_jobs_issues_one_command_for_many_jobs_and_none_for_zero(scheduler):
    transport = RecordingTransport()
    assert scheduler.get_jobs(transport, []) == {}
    scheduler.get_jobs(transport, [str(n) for n in range(100, 150)])
    assert len(transport.commands) == 1


def test_create_resource_rejects_unknown_arguments(scheduler):
    with pytest.raises(ValidationError):
        scheduler.create_resource(bogus=1)
