"""Traversal rules of an export, and the extras policies of an import (on sqlite profiles)."""

from __future__ import annotations

import sqlite3
import uuid as uuid_module

import pytest
from archive_support import make_provenance, small_archive, small_database, zip_archive

import provgraph.archive
from provgraph.archive import create_archive, import_archive
from provgraph.archive.rules import EXPORT_RULES, TOGGLEABLE, export_rules
from provgraph.exceptions import ArchiveError, NotExistent
from provgraph.orm import Node
from provgraph.orm.backend import get_backend


def _uuids(path) -> set[str]:
    with provgraph.archive.open(path) as archive:
        return set(archive.querybuilder().append(Node, project="uuid").all(flat=True))


def test_default_rules_bring_the_provenance(sqlite_target, tmp_path):
    made = make_provenance(uuid_module.uuid4().hex[:8])
    backend = get_backend()
    result_pk = backend.nodes.get(uuid=made["result"]).pk
    metadata = create_archive(tmp_path / "result.zip", nodes=[result_pk])
    exported = _uuids(tmp_path / "result.zip")
    # the creator (multiply) comes with its inputs, its caller (the workflow) with its inputs and calls
    assert {made["workflow"], made["result"], *made["inputs"]} <= exported
    assert metadata.nodes_by_type["process.calculation.calcfunction"] == 2
    assert made["notes"] not in exported
    assert metadata.rules["create_backward"] is True and metadata.rules["input_calc_forward"] is False
    assert metadata.entry == {"nodes": [result_pk], "groups": []}


def test_switching_rules_changes_what_is_exported(sqlite_target, tmp_path):
    made = make_provenance(uuid_module.uuid4().hex[:8])
    backend = get_backend()
    result_pk, x_pk = (backend.nodes.get(uuid=made[k] if k != "x" else made["inputs"][0]).pk
                       for k in ("result", "x"))
    create_archive(tmp_path / "alone.zip", nodes=[result_pk], rules={"create_backward": False})
    assert _uuids(tmp_path / "alone.zip") == {made["result"]}
    create_archive(tmp_path / "x.zip", nodes=[x_pk])
    assert _uuids(tmp_path / "x.zip") == {made["inputs"][0]}
    create_archive(tmp_path / "x-forward.zip", nodes=[x_pk], rules={"input_calc_forward": True})
    assert {made["workflow"], made["result"]} <= _uuids(tmp_path / "x-forward.zip")


def test_rule_table_and_refusals(sqlite_target, tmp_path):
    assert len({rule.name for rule in EXPORT_RULES}) == 12
    assert set(TOGGLEABLE) == {"create_backward", "call_calc_backward", "call_work_backward",
                               "input_calc_forward", "input_work_forward", "return_backward"}
    assert len(export_rules()) == 9
    with pytest.raises(ArchiveError, match="unknown traversal rule"):
        export_rules({"teleport": True})
    with pytest.raises(ArchiveError, match="cannot be switched off"):
        export_rules({"create_forward": False})
    with pytest.raises(ArchiveError, match="nothing to export"):
        create_archive(tmp_path / "none.zip")
    with pytest.raises(NotExistent):
        create_archive(tmp_path / "none.zip", nodes=[10**9])
    assert not (tmp_path / "none.zip").exists()
    (tmp_path / "exists.zip").write_bytes(b"keep me")
    with pytest.raises(ArchiveError, match="exists already"):
        create_archive(tmp_path / "exists.zip", all_nodes=True)
    assert (tmp_path / "exists.zip").read_bytes() == b"keep me"


def test_export_all_of_a_profile(sqlite_target, tmp_path):
    import_archive(small_archive(tmp_path))
    metadata = create_archive(tmp_path / "all.zip", all_nodes=True)
    assert metadata.counts["nodes"] == 4 and metadata.counts["links"] == 2 and metadata.counts["groups"] == 1
    assert metadata.counts["comments"] == 1 and metadata.counts["logs"] == 1 and metadata.counts["objects"] == 1
    assert metadata.entry == {"all": True}


@pytest.mark.parametrize(("policy", "expected"), [
    ("keep", {"a": 1, "local": 2}),
    ("merge", {"a": 1, "local": 2, "new": 1}),
    ("overwrite", {"a": 0, "local": 2, "new": 1}),
    ("mirror", {"a": 0, "new": 1}),
])
def test_extras_policies(sqlite_target, tmp_path, policy, expected):
    db = tmp_path / "extras.db"
    small_database(db, {})
    connection = sqlite3.connect(db)
    connection.execute("""UPDATE nodes SET extras = '{"a": 0, "new": 1}', repository = '{}' WHERE pk = 1""")
    connection.execute("UPDATE nodes SET repository = '{}'")
    connection.commit()
    connection.close()
    path = zip_archive(tmp_path / "extras.zip", db, {})
    import_archive(path)
    backend = get_backend()
    pk = backend.nodes.get(uuid=_node_uuid(1)).pk
    backend.nodes.update(pk, extras={"a": 1, "local": 2})
    report = import_archive(path, extras_policy=policy)
    assert backend.nodes.get(pk=pk).extras == expected
    assert report.extras_updated == (0 if policy == "keep" else 1) and report.nodes_new == 0


def _node_uuid(pk: int) -> str:
    return str(uuid_module.uuid5(uuid_module.NAMESPACE_OID, f"node-{pk}"))
