"""metadata.dry_run: the input folder is prepared in ./submit_test, nothing is stored, nothing is submitted."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import pytest

from provgraph.engine import WorkChain, run, submit
from provgraph.engine.examples_calcjobs import ArithmeticAddCalculation
from provgraph.engine.processes.calcjobs import CalcInfo, CalcJob, CodeInfo
from provgraph.exceptions import ValidationError
from provgraph.orm import Int, SinglefileData
from provgraph.orm.computers import Computer
from provgraph.orm.nodes.data.code import InstalledCode
from provgraph.orm.nodes.process.process import CalcJobNode
from provgraph.orm.querybuilder import QueryBuilder

OPTIONS = {"resources": {"num_machines": 1, "num_mpiprocs_per_machine": 1}}


@pytest.fixture
def unreachable(tmp_path, monkeypatch):
    """A bash code on a core.ssh computer nobody can reach; the test runs in ``tmp_path``."""
    monkeypatch.chdir(tmp_path)
    computer = Computer(f"pg-dry-{uuid.uuid4().hex[:10]}", "host.invalid", "core.ssh", "core.slurm",
                        workdir="/nonexistent/{username}/").store()
    return InstalledCode(computer=computer, filepath_executable="/bin/bash", label="bash").store()


def _jobs_on(code) -> int:
    return QueryBuilder().append(CalcJobNode, filters={"computer": code.computer}).count()


def test_a_dry_run_prepares_the_folder_and_stores_nothing(unreachable, tmp_path):
    x, y = Int(4), Int(5)
    outputs, node = run.get_node(ArithmeticAddCalculation, code=unreachable, x=x, y=y,
                                 metadata={"dry_run": True, "options": {**OPTIONS, "max_wallclock_seconds": 60}})
    assert outputs == {}
    assert not node.is_stored and not x.is_stored and not y.is_stored
    assert node.is_finished_ok and node.dry_run_info == node.base.attributes.get("dry_run_info")
    folder = Path(node.dry_run_info["folder"])
    assert folder.parent == tmp_path / "submit_test" and folder.name.endswith("-00001")
    assert (folder / "aiida.in").read_text() == "echo $((4 + 5))\n"
    script = (folder / node.dry_run_info["script_filename"]).read_text()
    assert "#SBATCH --time=00:01:00" in script and "/bin/bash < aiida.in > aiida.out" in script
    assert _jobs_on(unreachable) == 0


def test_submit_of_a_dry_run_runs_it_here_and_folders_are_numbered(unreachable, tmp_path):
    node = submit(ArithmeticAddCalculation, code=unreachable, x=Int(1), y=Int(2),
                  metadata={"dry_run": True, "store_provenance": False, "options": OPTIONS})
    again = ArithmeticAddCalculation.get_builder()
    again.code, again.x, again.y = unreachable, Int(3), Int(4)
    again.metadata.dry_run = True
    again.metadata.options = OPTIONS
    _, second = run.get_node(again)
    assert not node.is_stored and not second.is_stored
    names = sorted(path.name[-5:] for path in (tmp_path / "submit_test").iterdir())
    assert names == ["00001", "00002"]
    assert (Path(second.dry_run_info["folder"]) / "aiida.in").read_text() == "echo $((3 + 4))\n"
    assert _jobs_on(unreachable) == 0


def test_store_provenance_false_needs_a_dry_run(unreachable):
    with pytest.raises(ValidationError, match="store_provenance=False"):
        run(ArithmeticAddCalculation, code=unreachable, x=Int(1), y=Int(2),
            metadata={"store_provenance": False, "options": OPTIONS})
    assert _jobs_on(unreachable) == 0


class CopyCalculation(CalcJob):
    """Copies its (possibly unstored) input file into the folder through local_copy_list."""

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.input("file", valid_type=SinglefileData)

    def prepare_for_submission(self, folder):
        source = self.inputs.file
        return CalcInfo(codes_info=[CodeInfo(code_uuid=self.inputs.code.uuid, cmdline_params=["in.txt"])],
                        local_copy_list=[(source.uuid, source.filename, "in.txt")])


def test_local_copy_list_takes_unstored_inputs(unreachable):
    data = SinglefileData(io.BytesIO(b"payload\n"), filename="data.txt")
    _, node = run.get_node(CopyCalculation, code=unreachable, file=data,
                           metadata={"dry_run": True, "options": OPTIONS})
    assert not data.is_stored
    assert (Path(node.dry_run_info["folder"]) / "in.txt").read_text() == "payload\n"


class DryInside(WorkChain):
    """Tries a dry run of a child: refused."""

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.input("code", valid_type=InstalledCode)
        spec.outline(cls.launch)

    def launch(self):
        self.submit(ArithmeticAddCalculation, code=self.inputs.code, x=Int(1), y=Int(1),
                    metadata={"dry_run": True, "options": OPTIONS})


def test_a_dry_run_inside_a_process_is_refused(unreachable):
    with pytest.raises(ValidationError, match="dry run cannot be launched from inside another process"):
        run(DryInside, code=unreachable)
    assert _jobs_on(unreachable) == 0
