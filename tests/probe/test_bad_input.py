"""Issue 13 item 10 and the table-driven sweep of bad inputs over the CLI and the public Python API.

Every case states its expected outcome: a clear one-line error (exit status 1, or 2 for a usage
error; a ProvgraphError in Python), no traceback, and nothing changed (the node count and the
profile's files stay as they were). Runs on a fresh ``presto`` profile: no server needed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from sec_support import invoke, one_line_error

from provgraph.exceptions import ProvgraphError, QueryError, UnreachableStorage

HUGE = "9" * 30
ARABIC_THREE = "\u0663"  # int() reads it as 3
NOT_UTF8 = "\udcff"  # what Python makes of the byte 0xff in an argument


@pytest.fixture
def presto(provgraph_home, tmp_path, monkeypatch):
    """A fresh presto profile, current, with one stored Int; yields a function counting the nodes."""
    monkeypatch.setenv("PROVGRAPH_WORKERS_DIR", str(tmp_path / "workers"))
    from provgraph import profiles
    from provgraph.engine.launch import set_submitter
    from provgraph.orm import Int, QueryBuilder
    from provgraph.orm import backend as orm_backend

    previous = profiles._CURRENT.get()
    assert invoke("presto").exit_code == 0
    profiles.load_profile()
    Int(7).store()
    try:
        yield lambda: QueryBuilder().append(Int).count()
    finally:
        invoke("worker", "stop", "--timeout", "10")  # in case a case started one after all
        set_submitter(None)
        orm_backend.reset()
        profiles._CURRENT.set(previous)


#: (arguments, what the error must mention); every one must fail cleanly and change nothing
CLI_CASES = [
    (["node", "show", HUGE], "out of range"),
    (["node", "show", NOT_UTF8], "UTF-8"),
    (["node", "show", f"x{NOT_UTF8}y"], "UTF-8"),
    (["node", "delete", "--dry-run", HUGE], "out of range"),
    (["node", "graph", HUGE], "out of range"),
    (["node", "repo", "ls", HUGE], "out of range"),
    (["node", "repo", "cat", NOT_UTF8, "x"], "UTF-8"),
    (["process", "show", HUGE], "out of range"),
    (["process", "report", HUGE], "out of range"),
    (["process", "kill", HUGE], "out of range"),
    (["process", "pause", ARABIC_THREE], "pk"),
    (["node", "delete", HUGE], "out of range"),
    (["node", "rehash", HUGE], "out of range"),
    (["node", "comment", "remove", HUGE], "out of range"),
    (["process", "list", "--past-days", HUGE], "out of range"),
    (["calcjob", "inputls", HUGE], "out of range"),
    (["calcjob", "outputcat", NOT_UTF8], "UTF-8"),
    (["code", "show", HUGE], "out of range"),
    (["computer", "show", NOT_UTF8], "UTF-8"),
    (["computer", "show", ""], "computer"),
    (["computer", "test", ""], "computer"),
    (["archive", "create", "-N", HUGE, "out.zip"], "out of range"),
    (["query", "nodes", "-f", f"attributes.{NOT_UTF8}", "==", "1"], "UTF-8"),
    (["query", "nodes", "-l", HUGE], "out of range"),
    (["query", "nodes", "-l", ARABIC_THREE], "ASCII digits"),
    (["query", "nodes", "-l", "-1"], "out of range"),
    (["query", "nodes", "-t", "NoSuchClass"], "unknown node class"),
    (["query", "nodes", "-p", "attributes."], "projection"),
    (["query", "nodes", "-f", "pk", "nope", "1"], "unknown operator"),
    (["query", "nodes", "-o", "nosuchfield"], "nosuchfield"),
    (["worker", "reconcile", "--pk", HUGE], "out of range"),
    (["worker", "reconcile", "--pk", ARABIC_THREE], "ASCII digits"),
    (["worker", "reconcile", "--pk", "0"], "out of range"),
    (["worker", "logs", "-n", ARABIC_THREE], "ASCII digits"),
    (["worker", "stop", "--timeout", "-1"], "timeout"),
    (["worker", "start", "--concurrency", "-1"], "concurrency"),
    (["worker", "start", "--workers", ARABIC_THREE], "workers"),
    (["profile", "show", "nope"], "no profile named"),
    (["profile", "show", NOT_UTF8], "UTF-8"),
    (["profile", "delete", "--yes", "nope"], "no profile named"),
    (["profile", "set-default", "../x"], "no profile named"),
    (["-p", "nope", "status"], "no profile named"),
    (["-p", NOT_UTF8, "status"], "UTF-8"),
    (["presto", "--profile-name", "secrets"], "reserved"),
    (["presto", "--profile-name", "../up"], "invalid profile name"),
    (["cypher", "MATCH (n) RETURN n"], "neo4j profile"),
]


@pytest.mark.parametrize(("args", "mention"), CLI_CASES, ids=[" ".join(a).encode("ascii", "backslashreplace")
                                                           .decode() for a, _ in CLI_CASES])
def test_cli_refuses_bad_input_cleanly(presto, provgraph_home, args, mention):
    files_before = sorted(str(p) for p in provgraph_home.rglob("*") if "workers" not in p.parts)
    config_before = (provgraph_home / "config.json").read_bytes()
    result = invoke(*args)
    line = one_line_error(result)
    # a pk no backend can hold is either refused as a number or reported as no such node
    mentions = (mention, "no ") if mention == "out of range" else (mention,)
    assert any(each in line for each in mentions), result.output
    assert presto() == 1
    assert (provgraph_home / "config.json").read_bytes() == config_before
    files_after = sorted(str(p) for p in provgraph_home.rglob("*") if "workers" not in p.parts)
    assert files_after == files_before
    assert "started" not in result.output


def _deep(levels: int, combinator: str = "or") -> dict:
    filters: dict = {"pk": 1}
    for _ in range(levels):
        filters = {combinator: [filters]} if combinator != "~" else {"~": filters}
    return filters


def _deep_operators(levels: int) -> dict:
    operators: dict = {"==": 1}
    for _ in range(levels):
        operators = {"or": [operators]}
    return operators


def _api_cases():
    from provgraph.orm import Int, QueryBuilder, load_node

    return {
        "or nested 500 deep": lambda: QueryBuilder().append(Int, filters=_deep(500)).all(),
        "and nested 500 deep": lambda: QueryBuilder().append(Int, filters=_deep(500, "and")).all(),
        "not nested 500 deep": lambda: QueryBuilder().append(Int, filters=_deep(500, "~")).all(),
        "or nested in a field 500 deep": lambda: QueryBuilder().append(Int, filters={"pk": _deep_operators(500)}).all(),
        "value not valid Unicode": lambda: QueryBuilder().append(Int, filters={"label": NOT_UTF8}).all(),
        "value in a list not valid Unicode": lambda: QueryBuilder().append(
            Int, filters={"label": {"in": ["a", NOT_UTF8]}}).all(),
        "key not valid Unicode": lambda: QueryBuilder().append(Int, filters={f"extras.{NOT_UTF8}": 1}).all(),
        "projection not valid Unicode": lambda: QueryBuilder().append(Int, project=f"extras.{NOT_UTF8}").all(),
        "edge value not valid Unicode": lambda: QueryBuilder().append(Int, tag="x").append(
            Int, with_incoming="x", edge_filters={"label": NOT_UTF8}).all(),
        "filters not a dict": lambda: QueryBuilder().append(Int, filters=[1]).all(),
        "unknown operator": lambda: QueryBuilder().append(Int, filters={"pk": {"DELETE": 1}}).all(),
        "tag with a newline": lambda: QueryBuilder().append(Int, tag="x\n").all(),
        "NUL in a key": lambda: QueryBuilder().append(Int, filters={"extras.a\x00b": 1}).all(),
        "limit below zero": lambda: QueryBuilder().append(Int).limit(-1).all(),
        "load_node of a huge pk": lambda: load_node(10**30),
        "load_node of a negative pk": lambda: load_node(-1),
        "load_node of non-ASCII digits": lambda: load_node(ARABIC_THREE),
        "load_node of text not valid Unicode": lambda: load_node(NOT_UTF8),
    }


@pytest.mark.parametrize("case", sorted(_api_cases()))
def test_python_api_refuses_bad_input_cleanly(presto, case):
    with pytest.raises(ProvgraphError):
        _api_cases()[case]()
    assert presto() == 1


@pytest.mark.parametrize("combinator", ["or", "and", "~"])
def test_deep_nesting_is_a_query_error_before_any_compiler_recurses(combinator):
    from provgraph.orm import Int, QueryBuilder
    from provgraph.storage.neo4j.compiler import compile_query as to_cypher
    from provgraph.storage.sqlite.compiler import compile_query as to_sql

    with pytest.raises(QueryError, match="nested more than"):
        QueryBuilder().append(Int, filters=_deep(500, combinator)).as_ir()
    ir = QueryBuilder().append(Int, filters=_deep(60, combinator)).as_ir()  # deep but allowed: both compile
    assert to_cypher(ir).text and to_sql(ir).text


def test_real_non_utf8_argument_bytes(presto, provgraph_home):
    """The bytes reach provgraph as the shell passes them (not through click's test runner)."""
    code = "import sys; from provgraph.cli.main import cli; sys.exit(cli())"
    env = dict(os.environ, PROVGRAPH_HOME=str(provgraph_home))
    done = subprocess.run([sys.executable.encode(), b"-c", code.encode(), b"node", b"show", b"caf\xe9"],
                          capture_output=True, env=env, timeout=120)
    err = done.stderr.decode(errors="replace")
    assert done.returncode == 2, err
    assert "not valid UTF-8" in err and "Traceback" not in err


def test_mistyped_sqlite_path_is_refused_not_created(presto, provgraph_home):
    from provgraph import profiles
    from provgraph.orm import Int, QueryBuilder
    from provgraph.orm import backend as orm_backend

    config = json.loads((provgraph_home / "config.json").read_text())
    real = config["profiles"]["presto"]["storage"]["config"]["path"]
    mistyped = real.replace("storage.sqlite", "storgae.sqlite")
    config["profiles"]["presto"]["storage"]["config"]["path"] = mistyped
    (provgraph_home / "config.json").write_text(json.dumps(config))
    orm_backend.reset()
    profiles.load_profile("presto")
    with pytest.raises(UnreachableStorage, match="no sqlite database at"):
        QueryBuilder().append(Int).count()
    for args in (["node", "show", "1"], ["query", "nodes"]):
        assert "storgae.sqlite" in one_line_error(invoke(*args))
    status = invoke("status")
    assert status.exit_code == 1 and "no sqlite database at" in status.output and "storgae.sqlite" in status.output
    assert not os.path.exists(mistyped)
    # `storage migrate` is the explicit way to start an empty database at a new path
    assert invoke("storage", "migrate").exit_code == 0
    assert os.path.exists(mistyped)
