"""Helpers of the archive tests: a provenance graph to export, snapshots to compare, hand-made archives."""

from __future__ import annotations

import json
import uuid as uuid_module
import zipfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from provgraph.archive.database import create_database
from provgraph.archive.format import DATABASE_NAME, METADATA_NAME, ArchiveMetadata, object_name
from provgraph.common.links import Direction
from provgraph.orm.backend import get_backend, get_repository
from provgraph.storage.entities import LogRecord
from provgraph.storage.sqlite import schema


def activate(profile: Any) -> Any:
    """Make ``profile`` the current profile (it need not be in the configuration directory)."""
    from provgraph import profiles

    profiles._CURRENT.set(profile)
    return profile


def make_provenance(tag: str) -> dict[str, Any]:
    """Store a small graph in the current profile: a workfunction calling two calcfunctions, files,
    extras, comments, logs, a group. Return the group label and the nodes' uuids."""
    from provgraph.engine.examples import add_multiply
    from provgraph.orm import Dict, FolderData, Group, Int, SinglefileData

    x, y, z = Int(2), Int(3), Int(4)
    x.base.extras.set_many({"tag": tag, "nested": {"a": [1, 2, {"b": None}]}})
    result = add_multiply(x, y, z)
    workflow = result.base.links.get_incoming(link_type="RETURN").all()[0].node
    notes = SinglefileData.from_string(f"notes of {tag}\n", filename="notes.txt")
    notes.base.extras.set("kind", "notes")
    notes.store()
    folder = FolderData()
    folder.base.repository.put_object_from_bytes(b"\x00\x01binary" * 10, "sub/data.bin")
    folder.base.repository.put_object_from_bytes(f"readme {tag}".encode(), "README")
    folder.store()
    params = Dict({"energy": {"total": -1.5, "parts": [1, 2.5, "x"]}, "big": 2**80, "empty": {}})
    params.store()
    from provgraph.orm import RemoteData
    from provgraph.storage.entities import ComputerRecord

    get_backend().computers.store(ComputerRecord(label=f"archive-{tag}", hostname="localhost",
                                                 transport_type="core.local", scheduler_type="core.direct",
                                                 metadata={"note": tag}))
    remote = RemoteData(remote_path=f"/tmp/{tag}", computer=f"archive-{tag}")
    remote.store()
    workflow.base.comments.add(f"a comment on the workflow of {tag}")
    notes.base.comments.add("second comment")
    get_backend().logs.add_many([LogRecord(workflow.pk, f"log of {tag}", "REPORT", "provgraph.test",
                                           metadata={"step": 1})])
    group = Group(label=f"archive-{tag}").store()
    group.add_nodes([workflow, notes, folder, params, remote])
    return {"group": group.label, "computer": f"archive-{tag}",
            "workflow": workflow.uuid, "result": result.uuid, "inputs": [x.uuid, y.uuid, z.uuid],
            "notes": notes.uuid, "folder": folder.uuid, "params": params.uuid}


def exported_uuids(group_label: str) -> set[str]:
    """The uuids the default rules export for a group of the current profile."""
    from provgraph.archive.rules import export_rules

    backend = get_backend()
    members = backend.groups.node_pks(backend.groups.get(label=group_label).pk)
    return {backend.nodes.get(pk=pk).uuid for pk in backend.nodes.traverse(members, export_rules())}


def snapshot(uuids: set[str], group_label: str) -> dict[str, Any]:
    """Everything the current profile holds about the nodes ``uuids`` and the group, keyed by uuid."""
    backend, repository = get_backend(), get_repository()
    records = {uuid: backend.nodes.get(uuid=uuid) for uuid in uuids}
    uuid_of = {record.pk: uuid for uuid, record in records.items()}
    nodes, links, comments, logs = {}, set(), {}, {}
    for uuid, r in records.items():
        files = {path: repository.get_object_content(key) for path, key in r.repository.items()}
        nodes[uuid] = (r.node_type, frozenset(r.labels), r.label, r.description, _t(r.ctime), _t(r.mtime), r.user,
                       json.dumps(r.attributes, sort_keys=True), json.dumps(r.extras, sort_keys=True), files, r.hash,
                       r.computer)
        for triple in backend.nodes.links(r.pk, Direction.FORWARD):
            if triple.node_pk in uuid_of:
                links.add((uuid, uuid_of[triple.node_pk], triple.link_type.value, triple.label))
        for c in backend.comments.for_node(r.pk):
            comments[c.uuid] = (uuid, c.content, c.user, _t(c.ctime), _t(c.mtime))
        for log in backend.logs.for_node(r.pk):
            logs[log.uuid] = (uuid, log.message, log.levelname, log.loggername, _t(log.time), log.metadata)
    group = backend.groups.get(label=group_label)
    members = {uuid_of[pk] for pk in backend.groups.node_pks(group.pk) if pk in uuid_of}
    computers = {}
    for label in {r.computer for r in records.values() if r.computer}:
        c = backend.computers.get(label=label)
        computers[c.uuid] = (c.label, c.hostname, c.transport_type, c.scheduler_type, c.workdir, c.metadata)
    return {"nodes": nodes, "links": links, "comments": comments, "logs": logs, "computers": computers,
            "group": (group.uuid, group.label, group.type_string, group.description, frozenset(members))}


def _t(value: datetime) -> str:
    return value.astimezone(timezone.utc).isoformat(timespec="microseconds")


def delete_set(uuids: set[str], group_label: str) -> None:
    """Delete the nodes ``uuids`` (with their links, comments, logs) and the group from the current profile."""
    backend = get_backend()
    backend.groups.delete(backend.groups.get(label=group_label).pk)
    records = [backend.nodes.get(uuid=uuid) for uuid in uuids]
    backend.nodes.delete([record.pk for record in records])
    for label in {record.computer for record in records if record.computer}:
        backend.computers.delete(backend.computers.get(label=label).pk)


def node_count() -> int:
    """How many nodes the current profile holds."""
    from provgraph.orm import Node, QueryBuilder

    return QueryBuilder().append(Node).count()


# -- hand-made archives (no profile needed) ------------------------------------------------------

_T0 = "2026-01-01T00:00:00.000000+00:00"


def _node(pk: int, labels: str, node_type: str, repository: dict[str, str] | None = None) -> dict[str, Any]:
    uuid = str(uuid_module.uuid5(uuid_module.NAMESPACE_OID, f"node-{pk}"))
    return {"pk": pk, "uuid": uuid, "node_type": node_type, "labels": labels,
            "ctime": _T0, "mtime": _T0, "user": "tester@example.com", "label": f"n{pk}", "description": "",
            "attributes": json.dumps({"value": pk}), "extras": "{}",
            "repository": json.dumps(repository or {}), "hash": None, "computer": None}


def small_database(path: Path, objects: dict[str, bytes]) -> None:
    """Write a small valid archive database: Int -> CalcFunction -> Int, a file node, a group, comment, log."""
    key = next(iter(objects)) if objects else None
    engine = create_database(path)
    with engine.begin() as c:
        c.execute(schema.nodes.insert(), [
            _node(1, "|Node|Data|Int|", "data.core.int"),
            _node(2, "|Node|ProcessNode|CalculationNode|CalcFunctionNode|", "process.calculation.calcfunction"),
            _node(3, "|Node|Data|Int|", "data.core.int"),
            _node(4, "|Node|Data|SinglefileData|", "data.core.singlefile", {"f.txt": key} if key else None),
        ])
        c.execute(schema.links.insert(), [{"source": 1, "target": 2, "type": "INPUT_CALC", "label": "x"},
                                          {"source": 2, "target": 3, "type": "CREATE", "label": "result"}])
        c.execute(schema.users.insert(), [{"email": "tester@example.com", "first_name": "T", "last_name": "E",
                                           "institution": ""}])
        c.execute(schema.groups.insert(), [{"pk": 7, "uuid": str(uuid_module.UUID(int=7)), "label": "g",
                                            "type_string": "core", "description": "", "user": "tester@example.com",
                                            "time": _T0, "extras": "{}"}])
        c.execute(schema.group_nodes.insert(), [{"group_pk": 7, "node_pk": 2}, {"group_pk": 7, "node_pk": 4}])
        c.execute(schema.comments.insert(), [{"pk": 1, "uuid": str(uuid_module.UUID(int=101)), "node_pk": 2,
                                              "ctime": _T0, "mtime": _T0, "user": "tester@example.com",
                                              "content": "hi"}])
        c.execute(schema.logs.insert(), [{"pk": 1, "uuid": str(uuid_module.UUID(int=201)), "node_pk": 2,
                                          "time": _T0, "loggername": "t", "levelname": "INFO", "message": "m",
                                          "metadata": "{}"}])
    engine.dispose()


def zip_archive(path: Path, db_path: Path, objects: dict[str, bytes], *, metadata: dict[str, Any] | None = None,
                extra_members: dict[str, bytes] | None = None, compression: int = zipfile.ZIP_DEFLATED) -> Path:
    """Pack a database and objects into an archive zip (metadata overridable for bad-archive tests)."""
    meta = ArchiveMetadata(format_version=1, created=_T0, provgraph_version="0.1.0").to_json()
    if metadata is not None:
        meta = json.dumps(metadata)
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        archive.write(db_path, DATABASE_NAME)
        for key, content in objects.items():
            archive.writestr(object_name(key), content)
        for name, content in (extra_members or {}).items():
            archive.writestr(name, content)
        archive.writestr(METADATA_NAME, meta)
    return path


def small_archive(tmp_path: Path, name: str = "small.zip") -> Path:
    """A small valid hand-made archive."""
    import hashlib

    content = b"file content of the small archive\n"
    objects = {hashlib.sha256(content).hexdigest(): content}
    db = tmp_path / f"{name}.db"
    small_database(db, objects)
    return zip_archive(tmp_path / name, db, objects)


def archive_bytes(tmp_path: Path) -> bytes:
    """The bytes of :func:`small_archive`."""
    return small_archive(tmp_path, "bytes.zip").read_bytes()

