"""The Data classes of DESIGN §2 store and load back with their files and attributes."""

from __future__ import annotations

import io

import numpy
import pytest

from provgraph.exceptions import ModificationNotAllowed, ValidationError
from provgraph.orm import (
    ArrayData,
    FolderData,
    InstalledCode,
    PortableCode,
    RemoteData,
    SinglefileData,
    StructureData,
    load_node,
)

pytestmark = [pytest.mark.requires_neo4j, pytest.mark.requires_s3]


@pytest.fixture(autouse=True)
def _orm_profile(backend_profile):
    """Run every test of this module on each storage backend (neo4j and sqlite), its profile current."""
    return backend_profile


def test_singlefile_round_trip(tmp_path):
    path = tmp_path / "input.txt"
    path.write_text("line 1\nline 2\n")
    node = SinglefileData(path).store()
    loaded = load_node(node.pk)
    assert loaded.filename == "input.txt"
    assert loaded.get_content() == "line 1\nline 2\n"
    with loaded.open("rb") as handle:
        assert handle.read(4) == b"line"
    with pytest.raises(ModificationNotAllowed):
        loaded.base.repository.put_object_from_bytes(b"x", "other.txt")


def test_singlefile_from_filelike_and_dedup():
    first = SinglefileData(io.BytesIO(b"same bytes"), filename="a.bin").store()
    second = SinglefileData(io.BytesIO(b"same bytes"), filename="b.bin").store()
    assert first.base.repository.object_key("a.bin") == second.base.repository.object_key("b.bin")


def test_folder_tree(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "top.txt").write_text("top")
    (tmp_path / "sub" / "deep.txt").write_text("deep")
    node = FolderData(tree=tmp_path).store()
    loaded = load_node(node.pk)
    assert loaded.list_object_names() == ["sub", "top.txt"]
    assert loaded.list_object_names("sub") == ["deep.txt"]
    assert loaded.get_object_content("sub/deep.txt") == "deep"
    out = tmp_path / "copy"
    loaded.base.repository.copy_tree(out)
    assert (out / "sub" / "deep.txt").read_text() == "deep"


@pytest.mark.parametrize("path", ["/abs", "../up", "a/../b", "", "a//b"])
def test_repository_paths_cannot_escape(path):
    with pytest.raises(ValidationError):
        FolderData().base.repository.put_object_from_bytes(b"x", path)


def test_array_data():
    arrays = {"forces": numpy.arange(12.0).reshape(4, 3), "ids": numpy.array([3, 1, 2])}
    node = ArrayData(arrays).store()
    loaded = load_node(node.pk)
    assert loaded.get_arraynames() == ["forces", "ids"]
    assert loaded.get_shape("forces") == (4, 3)
    numpy.testing.assert_array_equal(loaded.get_array("forces"), arrays["forces"])
    with pytest.raises(ValidationError):
        ArrayData(numpy.array([object()]))


def test_structure_data():
    structure = StructureData(cell=[[2.0, 0, 0], [0, 2.0, 0], [0, 0, 2.0]])
    structure.append_atom("O", (0, 0, 0))
    structure.append_atom("H", (0.76, 0.59, 0))
    structure.append_atom("H", (-0.76, 0.59, 0))
    loaded = load_node(structure.store().pk)
    assert loaded.get_formula() == "H2O"
    assert loaded.get_volume() == pytest.approx(8.0)
    with pytest.raises(ValidationError):
        StructureData().append_atom("Xx1", (0, 0, 0))


def test_remote_data_and_codes(tmp_path):
    remote = RemoteData(remote_path="/scratch/run1", computer="cluster").store()
    assert load_node(remote.pk).get_remote_path() == "/scratch/run1"
    assert load_node(remote.pk).computer == "cluster"
    with pytest.raises(ValidationError):
        RemoteData(remote_path="relative/path")
    with pytest.raises(ValidationError, match="needs a remote_path and a computer"):
        RemoteData(remote_path="/x").store()

    code = InstalledCode(computer="cluster", filepath_executable="/usr/bin/bash", label="bash").store()
    assert load_node(code.pk).full_label == "bash@cluster"
    (tmp_path / "run.sh").write_text("#!/bin/sh\necho hi\n")
    portable = PortableCode(filepath_executable="run.sh", filepath_files=tmp_path, label="script").store()
    assert load_node(portable.pk).base.repository.get_object_content("run.sh").startswith("#!/bin/sh")
    with pytest.raises(ValidationError, match="not among its files"):
        PortableCode(filepath_executable="missing.sh", filepath_files=tmp_path).store()
