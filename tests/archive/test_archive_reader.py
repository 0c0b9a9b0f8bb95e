"""Browsing an archive without importing it, and inspecting it."""

from __future__ import annotations

import hashlib

import pytest
from archive_support import small_archive

import provgraph.archive
from provgraph.archive import inspect_archive
from provgraph.exceptions import ArchiveError, NotExistent
from provgraph.orm import CalcFunctionNode, Int

CONTENT = b"file content of the small archive\n"


def test_querybuilder_and_load_node_on_an_archive(tmp_path):
    path = small_archive(tmp_path)
    before = path.read_bytes()
    with provgraph.archive.open(path) as archive:
        values = sorted(archive.querybuilder().append(Int, project="attributes.value").all(flat=True))
        assert values == [1, 3]
        assert archive.querybuilder().append(Int).count() == 2
        rows = (archive.querybuilder().append(Int, tag="i", project="pk")
                .append(CalcFunctionNode, with_incoming="i", project="*", edge_project="label").all())
        assert len(rows) == 1 and rows[0][0] == 1 and rows[0][2] == "x"
        assert isinstance(rows[0][1], CalcFunctionNode)
        node = archive.load_node(3)
        assert isinstance(node, Int) and node.value == 3
        assert archive.load_node(uuid=node.uuid).pk == 3
        assert archive.load_node(node.uuid[:13]).uuid == node.uuid
        files = archive.load_node(4)
        key = files.base.repository.object_key("f.txt")
        assert key == hashlib.sha256(CONTENT).hexdigest()
        assert archive.get_object_content(key) == CONTENT
        with pytest.raises(NotExistent):
            archive.load_node(999)
        with pytest.raises(ArchiveError, match="not in the archive"):
            archive.get_object_content("0" * 64)
        assert archive.metadata.format_version == 1
        scratch = archive._archive.workdir
        assert scratch.exists()
    assert not scratch.exists()
    assert path.read_bytes() == before


def test_open_refuses_a_bad_archive(tmp_path):
    (tmp_path / "bad.zip").write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(ArchiveError):
        provgraph.archive.open(tmp_path / "bad.zip")


def test_inspect_counts_per_type(tmp_path):
    summary = inspect_archive(small_archive(tmp_path))
    assert summary.nodes_by_type == {"data.core.int": 2, "process.calculation.calcfunction": 1,
                                     "data.core.singlefile": 1}
    assert summary.links_by_type == {"INPUT_CALC": 1, "CREATE": 1}
    assert summary.counts["groups"] == 1 and summary.counts["objects"] == 1 and summary.counts["logs"] == 1
    assert summary.as_dict()["metadata"]["format_version"] == 1
