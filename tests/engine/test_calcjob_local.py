"""CalcJobs over core.local + core.direct, run in this interpreter: real jobs, real files, real graph."""

from __future__ import annotations

import pytest
from calcjob_support import bash_code, local_computer

from provgraph.common.links import LinkType
from provgraph.engine import run
from provgraph.engine.examples_calcjobs import ArithmeticAddCalculation
from provgraph.exceptions import ValidationError
from provgraph.orm import Int, load_node
from provgraph.orm.nodes.data.files import FolderData
from provgraph.orm.nodes.data.remote import RemoteData
from provgraph.orm.nodes.process.process import CalcJobNode
from provgraph.orm.querybuilder import QueryBuilder


@pytest.fixture
def computer(tmp_path):
    """A core.local + core.direct computer working below ``tmp_path``."""
    return local_computer(str(tmp_path / "work"))


def test_add_job_runs_and_its_provenance_is_recorded(computer, tmp_path):
    code = bash_code(computer)
    outputs, node = run.get_node(ArithmeticAddCalculation, code=code, x=Int(4), y=Int(5),
                                 metadata={"options": {"resources": {"num_machines": 1,
                                                                     "num_mpiprocs_per_machine": 1}}})
    assert node.is_finished_ok, node.exit_message
    assert outputs["sum"].value == 9
    attributes = node.base.attributes.all
    assert attributes["input_filename"] == "aiida.in" and attributes["output_filename"] == "aiida.out"
    assert attributes["resources"] == {"num_machines": 1, "num_mpiprocs_per_machine": 1}
    assert attributes["job_id"].isdigit() and attributes["scheduler_state"] == "done"
    assert attributes["remote_workdir"].startswith(str(tmp_path / "work"))
    assert "aiida.out" in attributes["retrieve_list"]
    files = node.base.repository.walk_files()
    assert "_provgraph_submit.sh" in files and "aiida.in" in files
    script = node.base.repository.get_object_content("_provgraph_submit.sh")
    assert "/bin/bash < aiida.in > aiida.out" in script
    assert node.base.repository.get_object_content("aiida.in") == "echo $((4 + 5))\n"

    incoming = {t.link_label: t.node for t in node.base.links.get_incoming(link_type=LinkType.INPUT_CALC)}
    assert incoming["code"].uuid == code.uuid and incoming["x"].value == 4 and incoming["y"].value == 5
    created = {t.link_label: t.node for t in node.base.links.get_outgoing(link_type=LinkType.CREATE)}
    assert set(created) == {"remote_folder", "retrieved", "sum"}
    assert isinstance(created["remote_folder"], RemoteData)
    assert created["remote_folder"].get_remote_path() == attributes["remote_workdir"]
    assert isinstance(created["retrieved"], FolderData)
    assert created["retrieved"].get_object_content("aiida.out").strip() == "9"
    assert load_node(created["sum"].pk).value == 9


def test_a_negative_sum_finishes_with_the_parsers_exit_code(computer):
    _, node = run.get_node(ArithmeticAddCalculation, code=bash_code(computer), x=Int(1), y=Int(-3))
    assert node.exit_status == 410
    assert node.outputs["sum"].value == -2


def test_options_the_scheduler_cannot_honour_are_refused_before_anything_is_stored(computer):
    code = bash_code(computer)
    with pytest.raises(ValidationError, match="queue_name"):
        run(ArithmeticAddCalculation, code=code, x=Int(1), y=Int(2), metadata={"options": {"queue_name": "q"}})
    with pytest.raises(ValidationError, match="resources"):
        run(ArithmeticAddCalculation, code=code, x=Int(1), y=Int(2),
            metadata={"options": {"resources": {"num_machines": 0}}})
    with pytest.raises(ValidationError, match="parser_name"):
        run(ArithmeticAddCalculation, code=code, x=Int(1), y=Int(2), metadata={"options": {"parser_name": "nope"}})
    stored = QueryBuilder().append(CalcJobNode, filters={"computer": computer.label}).count()
    assert stored == 0
