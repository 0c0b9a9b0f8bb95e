"""The fleet test's programs, run as ``python fleet_driver.py ACTION`` inside the hosts (or the root namespace).

Each prints one JSON document on stdout. The profile comes from ``$PROVGRAPH_HOME`` /
``$PROVGRAPH_PROFILE``; nothing here touches the pytest process's own configuration.

- ``setup COMPUTER_JSON``: migrate the storage; store the core.ssh + core.simulated computer and
  the bash code; print their labels/pks.
- ``submit CODE_PK WORKCHAINS CALCJOBS``: submit the workflows to the fleet (Celery); print the pks.
- ``ended PKS_JSON``: how many of the pks are in a terminal state.
- ``shape PKS_JSON``: per top-level process its state, exit status and provenance size (node and
  link counts of the tree of calls below it with every input and output), plus the job ids and
  working directories of all CalcJobs below them.
"""

from __future__ import annotations

import json
import sys


def _setup(spec: dict) -> dict:
    from click.testing import CliRunner

    from provgraph.cli.main import cli
    from provgraph.orm.backend import get_backend
    from provgraph.orm.computers import Computer
    from provgraph.orm.nodes.data.code import InstalledCode
    from provgraph.orm.nodes.node import default_user

    result = CliRunner().invoke(cli, ["storage", "migrate"], catch_exceptions=False)
    if result.exit_code != 0:
        raise SystemExit(f"storage migrate failed: {result.output}")
    get_backend().users.get_or_create(default_user())  # a fresh database knows no user yet
    computer = Computer(spec["label"], spec["host"], "core.ssh", "core.simulated", workdir=spec["workdir"],
                        metadata={"minimum_job_poll_interval": spec["poll"]}).store()
    computer.configure(default_user(), port=spec["port"], username=spec["username"],
                       key_filename=spec["key_filename"], known_hosts=spec["known_hosts"],
                       safe_open_interval=spec["safe_interval"])
    code = InstalledCode(computer=computer, filepath_executable="/bin/bash", label="bash").store()
    return {"computer": computer.label, "code": code.pk}


def _submit(code_pk: int, workchains: int, calcjobs: int) -> dict:
    from provgraph.engine import submit
    from provgraph.engine.celery.tasks import install_submitter
    from provgraph.engine.examples import NestedAddMultiplyWorkChain
    from provgraph.engine.examples_calcjobs import ArithmeticAddCalculation
    from provgraph.orm import Int, load_node

    install_submitter()
    code = load_node(code_pk)
    pks = {"workchains": [], "calcjobs": []}
    for index in range(max(workchains, calcjobs)):
        if index < workchains:
            node = submit(NestedAddMultiplyWorkChain, x=Int(index), y=Int(2), z=Int(3))
            pks["workchains"].append(node.pk)
        if index < calcjobs:
            node = submit(ArithmeticAddCalculation, code=code, x=Int(index), y=Int(1))
            pks["calcjobs"].append(node.pk)
    return pks


def _ended(pks: list[int]) -> dict:
    from provgraph.common.states import TERMINAL_STATES
    from provgraph.orm import ProcessNode, QueryBuilder

    filters = {"pk": {"in": pks}, "attributes.process_state": {"in": [s.value for s in TERMINAL_STATES]}}
    return {"ended": QueryBuilder().append(ProcessNode, filters=filters).count()}


def _tree(pk: int) -> tuple[dict, list[dict]]:
    """The provenance size of the call tree below ``pk`` and the CalcJobs in it."""
    from provgraph.common.links import LinkType
    from provgraph.orm import load_node
    from provgraph.orm.nodes.process.process import CalcJobNode

    calls = (LinkType.CALL_CALC, LinkType.CALL_WORK)
    top = load_node(pk)
    todo, processes = [top], []
    while todo:
        node = todo.pop()
        processes.append(node)
        todo.extend(t.node for t in node.base.links.get_outgoing(link_type=calls))
    nodes, links, jobs = set(), set(), []
    for process in processes:
        nodes.add(process.uuid)
        for triple in process.base.links.get_incoming():
            nodes.add(triple.node.uuid)
            links.add((triple.node.uuid, process.uuid, str(triple.link_type), triple.link_label))
        for triple in process.base.links.get_outgoing():
            nodes.add(triple.node.uuid)
            links.add((process.uuid, triple.node.uuid, str(triple.link_type), triple.link_label))
        if isinstance(process, CalcJobNode):
            jobs.append({"pk": process.pk, "job_id": process.base.attributes.get("job_id", None),
                         "workdir": process.base.attributes.get("remote_workdir", None)})
    shape = {"pk": pk, "class": top.process_label, "state": top.process_state.value,
             "exit_status": top.exit_status, "processes": len(processes),
             "nodes": len(nodes), "links": len(links)}
    return shape, jobs


def _shape(pks: list[int]) -> dict:
    from provgraph.orm import ProcessNode, QueryBuilder

    shapes, jobs = [], []
    for pk in pks:
        shape, found = _tree(pk)
        shapes.append(shape)
        jobs.extend(found)
    total = QueryBuilder().append(ProcessNode).count()
    return {"shapes": shapes, "jobs": jobs, "all_processes": total}


def main(argv: list[str]) -> None:
    """Dispatch ``argv`` (see the module docstring); print the JSON answer."""
    from provgraph.profiles import load_profile

    load_profile()
    action, args = argv[0], argv[1:]
    if action == "setup":
        answer = _setup(json.loads(args[0]))
    elif action == "submit":
        answer = _submit(int(args[0]), int(args[1]), int(args[2]))
    elif action == "ended":
        answer = _ended(json.loads(args[0]))
    elif action == "shape":
        answer = _shape(json.loads(args[0]))
    else:
        raise SystemExit(f"unknown action {action!r}")
    print(json.dumps(answer))


if __name__ == "__main__":
    main(sys.argv[1:])
