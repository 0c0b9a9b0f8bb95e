"""provgraph.cypher: read-only by default, ORM nodes in rows, clear errors; the CLI commands."""

from __future__ import annotations

import uuid

import pytest
from click.testing import CliRunner

import provgraph
from provgraph.cli.main import cli
from provgraph.exceptions import QueryError
from provgraph.orm import Int

pytestmark = [pytest.mark.requires_neo4j, pytest.mark.requires_s3]


def test_read_returns_orm_nodes_and_plain_values():
    node = Int(7).store()
    rows = provgraph.cypher("MATCH (n:Node {pk: $pk}) RETURN n, n.`attributes.value` AS v, n.ctime AS t, [1, 'a']",
                            pk=node.pk)
    assert rows.keys[:2] == ["n", "v"]
    (found, value, ctime, items), = rows
    assert isinstance(found, Int) and found.pk == node.pk
    assert value == 7 and ctime == node.ctime and items == [1, "a"]


def test_write_is_refused_in_read_mode():
    marker = uuid.uuid4().hex
    with pytest.raises(QueryError, match="write=True"):
        provgraph.cypher("CREATE (:Scratch {m: $m})", m=marker)
    assert provgraph.cypher("MATCH (s:Scratch {m: $m}) RETURN count(s)", m=marker)[0][0] == 0
    provgraph.cypher("CREATE (:Scratch {m: $m})", write=True, m=marker)
    assert provgraph.cypher("MATCH (s:Scratch {m: $m}) RETURN count(s)", m=marker)[0][0] == 1
    provgraph.cypher("MATCH (s:Scratch {m: $m}) DELETE s", write=True, m=marker)


def test_syntax_error_is_a_query_error():
    with pytest.raises(QueryError, match="Cypher error"):
        provgraph.cypher("MATCH (n RETURN n")


def test_cli_cypher_and_query(neo4j_profile):
    node = Int(31337).store()
    result = CliRunner().invoke(cli, ["-p", "services", "cypher", "MATCH (n:Node {pk: $pk}) RETURN n.pk AS pk, n",
                                      "-P", f"pk={node.pk}"])
    assert result.exit_code == 0, result.output
    assert str(node.pk) in result.output and "Int<" in result.output and "1 row(s)" in result.output
    result = CliRunner().invoke(cli, ["-p", "services", "cypher", "CREATE (:Scratch)"])
    assert result.exit_code == 1 and "write=True" in result.output
    result = CliRunner().invoke(cli, ["-p", "services", "query", "nodes", "-t", "Int", "-f", "attributes.value",
                                      "==", "31337", "-p", "pk,attributes.value"])
    assert result.exit_code == 0, result.output
    assert str(node.pk) in result.output and "31337" in result.output
    result = CliRunner().invoke(cli, ["-p", "services", "query", "nodes", "-t", "Nope"])
    assert result.exit_code == 1 and "unknown node class 'Nope'" in result.output
