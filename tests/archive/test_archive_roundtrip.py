"""neo4j profile -> archive -> sqlite profile -> archive -> neo4j profile keeps everything."""

from __future__ import annotations

import uuid as uuid_module

import pytest
from archive_support import activate, delete_set, exported_uuids, make_provenance, snapshot

from provgraph.archive import create_archive, import_archive, inspect_archive

pytestmark = [pytest.mark.requires_neo4j, pytest.mark.requires_s3]


def _nothing_added(report) -> bool:
    return all(value == 0 for name, value in vars(report).items() if name not in ("nodes_existing",
                                                                                    "renamed_groups"))


def test_round_trip_neo4j_sqlite_neo4j(neo4j_profile, sqlite_target, tmp_path):
    activate(neo4j_profile)
    tag = uuid_module.uuid4().hex[:12]
    made = make_provenance(tag)
    uuids = exported_uuids(made["group"])
    assert {made["workflow"], made["result"], made["notes"], *made["inputs"]} <= uuids
    original = snapshot(uuids, made["group"])
    assert original["links"] and original["comments"] and original["logs"] and original["computers"]
    first = create_archive(tmp_path / "first.zip", groups=[made["group"]])
    assert first.counts["nodes"] == len(uuids)
    assert inspect_archive(tmp_path / "first.zip").counts["links"] == len(original["links"])

    activate(sqlite_target)
    report = import_archive(tmp_path / "first.zip")
    assert report.nodes_new == len(uuids) and report.links_new == len(original["links"])
    assert snapshot(uuids, made["group"]) == original
    assert _nothing_added(import_archive(tmp_path / "first.zip"))
    assert snapshot(uuids, made["group"]) == original
    create_archive(tmp_path / "second.zip", groups=[made["group"]])

    activate(neo4j_profile)
    # the nodes are still there: importing the copy adds nothing (merge by uuid across backends)
    assert _nothing_added(import_archive(tmp_path / "second.zip"))
    delete_set(uuids, made["group"])
    report = import_archive(tmp_path / "second.zip")
    assert report.nodes_new == len(uuids) and report.groups_new == 1 and report.computers_new == 1
    assert snapshot(uuids, made["group"]) == original
    assert _nothing_added(import_archive(tmp_path / "second.zip"))
