"""``provgraph storage maintain`` and ``provgraph node show`` on the services profile."""

from __future__ import annotations

import io
import os

import pytest
from click.testing import CliRunner

from provgraph.cli.main import cli
from provgraph.orm import Dict, SinglefileData
from provgraph.orm.backend import get_repository

pytestmark = [pytest.mark.requires_neo4j, pytest.mark.requires_s3]


def test_maintain_dry_run_then_remove(neo4j_profile):
    """On the shared stack only the grace period's side is tested: a fresh orphan is kept.

    (Removing objects of the shared repository with no grace period would delete other sessions'
    files being stored; removal is tested on a private repository in tests/probe/test_maintain_probe.py.)
    """
    kept = SinglefileData(io.BytesIO(b"referenced " + os.urandom(8).hex().encode()), filename="kept.txt").store()
    orphan_key = get_repository().put_object_from_filelike(io.BytesIO(b"orphan " + os.urandom(8).hex().encode()))
    runner = CliRunner()
    result = runner.invoke(cli, ["-p", "services", "storage", "maintain"])
    assert result.exit_code == 0, result.output
    assert "would remove" in result.output and "kept" in result.output and "written within" in result.output
    assert get_repository().has_objects([orphan_key]) == [True]
    result = runner.invoke(cli, ["-p", "services", "storage", "maintain", "--no-dry-run", "--force"])
    assert result.exit_code == 0, result.output
    assert get_repository().has_objects([orphan_key]) == [True]  # younger than the grace period
    assert kept.get_content().startswith("referenced ")


def test_node_show(neo4j_profile):
    node = Dict({"energy": -1.5}, label="shown").store()
    node.base.extras.set("tag", "x")
    result = CliRunner().invoke(cli, ["-p", "services", "node", "show", str(node.pk)])
    assert result.exit_code == 0, result.output
    assert f"Dict pk {node.pk}" in result.output and '"energy": -1.5' in result.output and '"tag": "x"' in result.output
    result = CliRunner().invoke(cli, ["-p", "services", "node", "show", "999999999999"])
    assert result.exit_code == 1 and "NotExistent" in result.output
