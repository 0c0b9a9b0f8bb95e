"""RemoteStashCompressedData (core.remote.stash.compress) stores and loads back on both backends."""

from __future__ import annotations

import pytest

from provgraph.exceptions import ValidationError
from provgraph.orm import RemoteStashCompressedData, RemoteStashFolderData, load_node
from provgraph.orm.nodes.data.remote_stash import StashMode
from provgraph.plugins import DataFactory

pytestmark = [pytest.mark.requires_neo4j, pytest.mark.requires_s3]


@pytest.fixture(autouse=True)
def _orm_profile(backend_profile):
    """Run every test of this module on each storage backend."""
    return backend_profile


@pytest.mark.parametrize("mode", [StashMode.COMPRESS_TAR, StashMode.COMPRESS_TARGZ, StashMode.COMPRESS_TARBZ2,
                                  StashMode.COMPRESS_TARXZ])
def test_compressed_stash_round_trip(mode):
    node = RemoteStashCompressedData(mode, f"/scratch/st/ab.{mode.value}", ["a.out", "out/*"], dereference=True,
                                     computer="pg-any").store()
    loaded = load_node(node.pk)
    assert type(loaded) is RemoteStashCompressedData and isinstance(loaded, RemoteStashFolderData)
    assert loaded.stash_mode is mode and loaded.dereference is True
    assert loaded.target_basepath == f"/scratch/st/ab.{mode.value}" and loaded.source_list == ["a.out", "out/*"]
    assert DataFactory("core.remote.stash.compress") is RemoteStashCompressedData


def test_compressed_stash_refuses_copy_mode_and_a_non_bool_dereference():
    with pytest.raises(ValidationError, match="tar stash_mode"):
        RemoteStashCompressedData(StashMode.COPY, "/x.tar", ["a"])
    with pytest.raises(ValidationError, match="dereference"):
        RemoteStashCompressedData(StashMode.COMPRESS_TAR, "/x.tar", ["a"], dereference="yes")
