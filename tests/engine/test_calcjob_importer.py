"""Importing a job that ran outside provgraph: ``remote_folder`` input and ``CalcJobImporter`` (services profile)."""

from __future__ import annotations

import pytest
from calcjob_support import bash_code, local_computer

from provgraph.common.links import LinkType
from provgraph.engine import run
from provgraph.engine.examples_calcjobs import ArithmeticAddCalculation
from provgraph.engine.processes.calcjobs.importer import ArithmeticAddCalculationImporter, CalcJobImporter
from provgraph.exceptions import NotExistent, ValidationError
from provgraph.orm import Int, load_node
from provgraph.orm.nodes.data.remote import RemoteData

OPTIONS = {"resources": {"num_machines": 1, "num_mpiprocs_per_machine": 1}}


@pytest.fixture
def code(tmp_path):
    return bash_code(local_computer(str(tmp_path / "work")))


def _job_folder(tmp_path, code, x: int, y: int, output: str) -> RemoteData:
    """A folder as a job run by hand leaves it: the input script and the shell's output."""
    folder = tmp_path / "outside-run"
    folder.mkdir()
    (folder / "aiida.in").write_text(f"echo $(({x} + {y}))\n")
    (folder / "aiida.out").write_text(output)
    return RemoteData(remote_path=str(folder), computer=code.computer).store()


def test_import_through_the_importer_and_the_parser(tmp_path, code):
    remote = _job_folder(tmp_path, code, 4, 38, "42\n")
    before = sorted(p.name for p in (tmp_path / "outside-run").iterdir())
    importer = ArithmeticAddCalculation.get_importer()
    assert isinstance(importer, CalcJobImporter)
    inputs = importer.parse_remote_data(remote, code=code)
    assert {k: v.value for k, v in inputs.items() if k != "code"} == {"x": 4, "y": 38}
    result, node = run.get_node(ArithmeticAddCalculation, remote_folder=remote, metadata={"options": OPTIONS},
                                **inputs)
    node = load_node(node.pk)
    assert node.is_finished_ok and result["sum"].value == 42
    assert node.base.attributes.get("imported") is True and node.base.attributes.get("job_id", None) is None
    incoming = {t.link_label: t.node.pk for t in node.base.links.get_incoming(link_type=LinkType.INPUT_CALC)}
    assert incoming["remote_folder"] == remote.pk
    assert node.outputs["retrieved"].base.repository.get_object_content("aiida.out") == "42\n"
    assert node.outputs["remote_folder"].get_remote_path() == remote.get_remote_path()
    assert node.base.repository.get_object_content("aiida.in") == "echo $((4 + 38))\n"
    assert sorted(p.name for p in (tmp_path / "outside-run").iterdir()) == before, "the import wrote to the folder"
    assert not (tmp_path / "work").exists() or not any((tmp_path / "work").rglob("*")), "a job was uploaded"


def test_imported_output_is_judged_by_the_parser(tmp_path, code):
    remote = _job_folder(tmp_path, code, 1, 2, "not a number\n")
    _, node = run.get_node(ArithmeticAddCalculation, remote_folder=remote, code=code, x=Int(1), y=Int(2),
                           metadata={"options": OPTIONS})
    assert node.exit_status == 320 and "sum" not in node.outputs


def test_bad_folders_and_importers_are_refused(tmp_path, code):
    missing = RemoteData(remote_path=str(tmp_path / "nowhere"), computer=code.computer).store()
    with pytest.raises(ValidationError, match="not a folder"):
        run(ArithmeticAddCalculation, remote_folder=missing, code=code, x=Int(1), y=Int(2),
            metadata={"options": OPTIONS})
    with pytest.raises(NotExistent, match="does not exist"):
        ArithmeticAddCalculationImporter.parse_remote_data(missing)
    other = tmp_path / "other"
    other.mkdir()
    (other / "aiida.in").write_text("print(1)\n")
    with pytest.raises(ValidationError, match="does not hold"):
        ArithmeticAddCalculationImporter.parse_remote_data(RemoteData(remote_path=str(other),
                                                                      computer=code.computer).store())
    with pytest.raises(NotExistent, match="no CalcJob importer named 'core.nope'"):
        ArithmeticAddCalculation.get_importer("core.nope")
