"""A real workflow run and a few more entities, made once per backend for the web tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path

from provgraph.profiles import Profile


@dataclass
class World:
    """What the web tests look at: pks of one MainJobWorkChain run and of marked extra nodes."""

    profile: Profile
    marker: str
    root: int
    result: int
    job: int
    add: int
    computer: int
    computer_label: str
    code: int
    group: int
    group_label: str
    ints: list[int] = field(default_factory=list)
    folder: int = 0


_WORLDS: dict[str, World] = {}
#: a file name a Content-Disposition header must survive
WEIRD_NAME = 'weird/na\u00efve "quoted"\r\nX-Injected: 1.txt'


def world(profile: Profile, workdir: Path) -> World:
    """The world of ``profile`` (the current profile), built on first use."""
    if profile.name not in _WORLDS:
        _WORLDS[profile.name] = _build(profile, workdir)
    return _WORLDS[profile.name]


def _build(profile: Profile, workdir: Path) -> World:
    from provgraph.engine import run
    from provgraph.engine.examples_demo import MainJobWorkChain
    from provgraph.orm import CalcFunctionNode, CalcJobNode, Computer, FolderData, Group, Int, QueryBuilder
    from provgraph.orm.nodes.data.code import InstalledCode

    marker = f"web-{uuid.uuid4().hex[:12]}"
    computer = Computer(f"{marker}-local", "localhost", "core.local", "core.direct", workdir=str(workdir),
                        metadata={"minimum_job_poll_interval": 0.2}).store()
    code = InstalledCode(computer=computer, filepath_executable="/bin/bash", label=f"{marker}-bash").store()
    outputs, node = run.get_node(MainJobWorkChain, x=Int(2), y=Int(3), z=Int(4), code=code)
    assert node.is_finished_ok, node.exit_message
    called = QueryBuilder().append(cls=type(node), filters={"pk": node.pk}, tag="root")
    called.append((CalcFunctionNode, CalcJobNode), with_incoming="root", project=["pk", "attributes.process_label"])
    by_label = {label: pk for pk, label in called.all()}
    ints = []
    for value in range(7):
        number = Int(value * 10, label=marker)
        number.base.extras.set("rank", value)
        ints.append(number.store().pk)
    folder = FolderData(label=marker)
    folder.base.repository.put_object_from_bytes(b"hello from the web tests\n", "sub/hello.txt")
    folder.base.repository.put_object_from_bytes(bytes(range(256)) * 1000, "blob.bin")
    folder.base.repository.put_object_from_bytes(b"odd", WEIRD_NAME)
    folder.store()
    group = Group(f"{marker}-group", description="web test group").store()
    from provgraph.orm import load_node

    group.add_nodes([load_node(pk) for pk in ints[:3]])
    return World(profile=profile, marker=marker, root=node.pk, result=outputs["result"].pk,
                 job=by_label["ArithmeticAddCalculation"], add=by_label["add"], computer=computer.pk,
                 computer_label=computer.label, code=code.pk, group=group.pk, group_label=group.label, ints=ints,
                 folder=folder.pk)
