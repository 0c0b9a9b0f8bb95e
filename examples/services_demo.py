"""A short tour of the production stack: the ORM and an in-process WorkChain on Neo4j + MinIO.

Run by ``make demo-services`` on the ``services`` profile (Neo4j + MinIO + RabbitMQ):

1. stores two inputs, a calculation that consumed them and its outputs (one of
   them a file in the S3 repository), reads everything back and prints the triple;
2. runs the ``AddMultiplyWorkChain`` (calling two calcfunctions) in this
   interpreter through the engine's step machinery, and prints its provenance
   with a QueryBuilder query (what it called, and the ancestors of its result).
"""

from __future__ import annotations

import io
import sys

from provgraph.common.links import LinkType
from provgraph.orm import CalcFunctionNode, Dict, Int, SinglefileData, load_node
from provgraph.profiles import load_profile


def record_calculation() -> CalcFunctionNode:
    """Store ``x, y -> add_and_report -> sum, report`` and return the calculation node."""
    x, y = Int(2).store(), Int(40).store()
    calc = CalcFunctionNode(process_label="add_and_report")
    calc.base.links.add_incoming(x, LinkType.INPUT_CALC, "x")
    calc.base.links.add_incoming(y, LinkType.INPUT_CALC, "y")
    calc.store()
    total = x + y
    total.base.links.add_incoming(calc, LinkType.CREATE, "sum")
    total.store()
    report = SinglefileData(io.BytesIO(f"{x.value} + {y.value} = {total.value}\n".encode()), filename="report.txt")
    report.base.links.add_incoming(calc, LinkType.CREATE, "report")
    report.store()
    Dict({"demo": True, "inputs": [x.pk, y.pk]}, label="demo-run").store()
    return calc


def main() -> int:
    """Record, read back, print."""
    profile = load_profile("services")
    calc = load_node(record_calculation().pk)
    print(f"profile {profile.name}: storage {profile.storage['backend']}, repository {profile.repository['backend']}")
    print(f"calculation {calc.process_label} pk {calc.pk}")
    for label, node in sorted(calc.inputs.items()):
        print(f"  input  {label:<7} <- {type(node).__name__} pk {node.pk}: {node.value}")
    for label, node in sorted(calc.outputs.items()):
        shown = node.value if hasattr(node, "value") else node.get_content().strip()
        print(f"  output {label:<7} -> {type(node).__name__} pk {node.pk}: {shown}")
    report = calc.outputs["report"]
    assert report.get_content() == "2 + 40 = 42\n", "the report did not come back from the repository"
    assert calc.outputs["sum"].value == 42
    print("round trip through Neo4j and MinIO: ok")
    run_workchain()
    return 0


def run_workchain() -> None:
    """Run (2 + 3) * 4 as a WorkChain and show its provenance."""
    from provgraph.engine import run_get_node
    from provgraph.engine.examples import AddMultiplyWorkChain
    from provgraph.orm import Node, QueryBuilder, WorkChainNode

    outputs, node = run_get_node(AddMultiplyWorkChain, x=Int(2), y=Int(3), z=Int(4))
    result = outputs["result"]
    print(f"workchain {node.process_label} pk {node.pk}: {load_node(node.pk).process_state.value}, "
          f"exit status {load_node(node.pk).exit_status}, result {result.value}")
    qb = QueryBuilder().append(WorkChainNode, tag="w", filters={"pk": node.pk})
    qb.append(CalcFunctionNode, with_incoming="w", edge_project="label", project=["pk", "attributes.process_label"])
    for pk, label, link in sorted(qb.all()):
        print(f"  called   {label:<9} pk {pk} ({link})")
    qb = QueryBuilder().append(Int, tag="r", filters={"pk": result.pk})
    qb.append(Node, with_descendants="r", project=["pk", "node_type"])
    print(f"  ancestors of the result: {', '.join(f'{t.split(chr(46))[-1]}<{pk}>' for pk, t in sorted(qb.all()))}")
    assert result.value == 20


if __name__ == "__main__":
    sys.exit(main())
