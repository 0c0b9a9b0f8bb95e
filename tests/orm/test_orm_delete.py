"""Deleting a node takes its provenance closure along (DESIGN §2)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from provgraph.cli.main import cli
from provgraph.common.links import LinkType
from provgraph.exceptions import NotExistent
from provgraph.orm import CalcFunctionNode, Int, WorkChainNode, load_node
from provgraph.orm.delete import delete_nodes

pytestmark = [pytest.mark.requires_neo4j, pytest.mark.requires_s3]


@pytest.fixture(autouse=True)
def _orm_profile(backend_profile):
    """Run every test of this module on each storage backend (neo4j and sqlite), its profile current."""
    return backend_profile


def _workflow():
    """x -> calc -> y, called by a workflow that returns y; y feeds calc2 -> z."""
    x = Int(1).store()
    work = WorkChainNode()
    work.base.links.add_incoming(x, LinkType.INPUT_WORK, "x")
    work.store()
    calc = CalcFunctionNode()
    calc.base.links.add_incoming(x, LinkType.INPUT_CALC, "x")
    calc.base.links.add_incoming(work, LinkType.CALL_CALC, "CALL")
    calc.store()
    y = Int(2)
    y.base.links.add_incoming(calc, LinkType.CREATE, "y")
    y.store()
    work.base.links.add_outgoing(y, LinkType.RETURN, "y")
    calc2 = CalcFunctionNode()
    calc2.base.links.add_incoming(y, LinkType.INPUT_CALC, "y")
    calc2.store()
    z = Int(3)
    z.base.links.add_incoming(calc2, LinkType.CREATE, "z")
    z.store()
    return {"x": x, "work": work, "calc": calc, "y": y, "calc2": calc2, "z": z}


def test_deleting_an_input_takes_everything_downstream():
    nodes = _workflow()
    closure = delete_nodes([nodes["x"].pk], dry_run=True)
    assert closure == {n.pk for n in nodes.values()}
    load_node(nodes["x"].pk)  # a dry run deletes nothing


def test_deleting_an_output_takes_its_creator_and_the_caller():
    nodes = _workflow()
    closure = delete_nodes([nodes["z"].pk], dry_run=True)
    assert closure == {nodes["z"].pk, nodes["calc2"].pk}
    closure = delete_nodes([nodes["y"].pk], dry_run=False)
    assert closure == {nodes[k].pk for k in ("y", "calc", "work", "calc2", "z")}
    assert load_node(nodes["x"].pk).base.links.get_outgoing().all() == []
    with pytest.raises(NotExistent):
        load_node(nodes["calc"].pk)


def test_create_backward_can_be_switched_off():
    nodes = _workflow()
    closure = delete_nodes([nodes["z"].pk], dry_run=True, create_backward=False)
    assert closure == {nodes["z"].pk}


def test_cli_dry_run_lists_and_keeps(backend_profile):
    nodes = _workflow()
    profile = backend_profile.name
    result = CliRunner().invoke(cli, ["-p", profile, "node", "delete", "--dry-run", str(nodes["z"].pk)])
    assert result.exit_code == 0, result.output
    assert f"2 node(s) to delete: {min(nodes['z'].pk, nodes['calc2'].pk)}" in result.output
    load_node(nodes["z"].pk)
    result = CliRunner().invoke(cli, ["-p", profile, "node", "delete", "--force", str(nodes["z"].pk)])
    assert result.exit_code == 0, result.output
    with pytest.raises(NotExistent):
        load_node(nodes["z"].pk)


def test_deleting_unknown_node_is_an_error():
    with pytest.raises(NotExistent):
        delete_nodes([10**15])
