"""ContainerizedCode: the submit script wraps the executable in the engine command (golden files), and a
container-free stand-in engine command runs a real job through core.local."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from provgraph.engine import run
from provgraph.engine.examples_calcjobs import ArithmeticAddCalculation
from provgraph.engine.processes.calcjobs.calcinfo import CalcInfo, CodeInfo
from provgraph.engine.processes.calcjobs.options import job_template
from provgraph.exceptions import ValidationError
from provgraph.orm import ContainerizedCode, Int, load_node
from provgraph.orm.computers import Computer
from provgraph.plugins import DataFactory, SchedulerFactory

GOLDEN = Path(__file__).resolve().parent / "golden_containerized"
#: set to 1 to rewrite the golden files after a deliberate change
UPDATE = os.environ.get("PROVGRAPH_UPDATE_GOLDEN") == "1"

ENGINES = {
    "docker": ("docker run -i -v $PWD:/workdir:rw -w /workdir {image_name} sh -c", "ubuntu:22.04", True, False),
    "apptainer": ("apptainer exec --bind $PWD:$PWD {image_name}", "/images/qe.sif", False, True),
    "sarus": ("sarus run --mount=src=$PWD,dst=/workdir,type=bind --workdir=/workdir {image_name}",
              "qe/7.2", False, True),
}


def _script(engine: str, scheduler: str) -> str:
    command, image, wrap, mpi = ENGINES[engine]
    computer = Computer("golden", "localhost", "core.local", scheduler, mpirun_command=["mpirun", "-np",
                                                                                      "{tot_num_mpiprocs}"])
    code = ContainerizedCode(command, image, filepath_executable="pw.x", wrap_cmdline_params=wrap,
                             computer="golden", label="pw")
    info = CalcInfo(codes_info=[CodeInfo(code_uuid=code.uuid, cmdline_params=["-in", "aiida.in"],
                                         stdout_name="aiida.out", stderr_name="aiida.err", withmpi=mpi)])
    scheduler_class = SchedulerFactory(scheduler)
    resources = {"num_machines": 1, "num_mpiprocs_per_machine": 2}
    options = {"resources": resources, **({"max_wallclock_seconds": 3600} if scheduler == "core.slurm" else {})}
    template = job_template(options, computer, scheduler_class(),
                            info, {code.uuid: code.get_executable_cmdline_params()}, ("", ""), "golden", "/scratch/w",
                            containers={code.uuid: (code.get_engine_command_words(), code.wrap_cmdline_params)})
    return scheduler_class().get_submit_script(template)


@pytest.mark.parametrize("engine", sorted(ENGINES))
@pytest.mark.parametrize("scheduler", ["core.direct", "core.slurm"])
def test_submit_scripts_match_the_golden_files(engine, scheduler):
    script = _script(engine, scheduler)
    golden = GOLDEN / f"{engine}-{scheduler.split('.')[1]}.sh"
    if UPDATE:
        golden.write_text(script)
    assert script == golden.read_text()


def test_the_run_lines_wrap_the_executable():
    docker = _script("docker", "core.direct").splitlines()[-1]
    assert docker == ('"docker" "run" "-i" "-v" "$PWD:/workdir:rw" "-w" "/workdir" "ubuntu:22.04" "sh" "-c" '
                      '"pw.x -in aiida.in > aiida.out 2> aiida.err"')
    apptainer = _script("apptainer", "core.direct").splitlines()[-1]
    assert apptainer == ("mpirun -np 2 \"apptainer\" \"exec\" \"--bind\" \"$PWD:$PWD\" \"/images/qe.sif\" "
                         "pw.x -in aiida.in > aiida.out 2> aiida.err")


def test_bad_containerized_codes_are_refused():
    with pytest.raises(ValidationError, match=r"\{image_name\}"):
        ContainerizedCode("docker run ubuntu", "ubuntu", filepath_executable="pw.x", computer="c")
    with pytest.raises(ValidationError, match="other than"):
        ContainerizedCode("docker run {image_name} {tag}", "ubuntu", filepath_executable="pw.x", computer="c")
    with pytest.raises(ValidationError, match="image_name"):
        ContainerizedCode("docker run {image_name}", "", filepath_executable="pw.x", computer="c")
    assert DataFactory("core.code.containerized") is ContainerizedCode


@pytest.mark.parametrize("wrap", [True, False])
def test_a_stand_in_engine_runs_a_real_job_through_core_local(tmp_path, wrap):
    computer = Computer(f"pg-container-{uuid.uuid4().hex[:10]}", "localhost", "core.local", "core.direct",
                        workdir=str(tmp_path / "work"), metadata={"minimum_job_poll_interval": 0.2}).store()
    engine = tmp_path / "fake-engine"  # records the image and the working directory, then runs the command
    engine.write_text('#!/bin/bash\necho "image=$1 pwd=$2" > engine.log\nshift 2\nexec "$@"\n')
    engine.chmod(0o755)
    command = f"{engine} {{image_name}} $PWD" + (" /bin/sh -c" if wrap else "")
    code = ContainerizedCode(command, "stand-in:1", filepath_executable="/bin/bash", wrap_cmdline_params=wrap,
                             computer=computer, label="bash-in-container").store()
    loaded = load_node(code.pk)
    assert (loaded.image_name, loaded.wrap_cmdline_params) == ("stand-in:1", wrap)
    options = {"resources": {"num_machines": 1, "num_mpiprocs_per_machine": 1},
               "additional_retrieve_list": ["engine.log"]}
    outputs, node = run.get_node(ArithmeticAddCalculation, code=loaded, x=Int(20), y=Int(22),
                                 metadata={"options": options})
    assert node.is_finished_ok, node.exit_message
    assert outputs["sum"].value == 42
    log = outputs["retrieved"].get_object_content("engine.log").strip()
    assert log == f"image=stand-in:1 pwd={node.base.attributes.get('remote_workdir')}"
    script = node.base.repository.get_object_content("_provgraph_submit.sh")
    assert f'"{engine}" "stand-in:1" "$PWD"' in script
