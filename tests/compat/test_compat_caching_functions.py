"""Caching of calcfunctions (AiiDA 2.x): a call whose hash matches a finished, valid one is not run.

Most tests run on the embedded sqlite profile; one runs on the shared Neo4j server.
"""

from __future__ import annotations

import random

import pytest

from provgraph.common.links import LinkType
from provgraph.engine import ExitCode, calcfunction, submit, workfunction
from provgraph.manage.caching import enable_caching, reset_configuration
from provgraph.orm import Int, load_node

CALLS: list[str] = []


@calcfunction
def add_counted(x, y):
    CALLS.append("add")
    return {"sum": Int(x.value + y.value), "diff": Int(x.value - y.value)}


@calcfunction
def refuse_negative(x):
    CALLS.append("refuse")
    if x.value < 0:
        return ExitCode(400, "negative")
    return Int(x.value)


@calcfunction
def square(x):
    CALLS.append("square")
    return Int(x.value ** 2)


@workfunction
def double_via_square(x):
    CALLS.append("workfunction")
    return {"squared": square(x)}


ADD = add_counted.process_class.process_type()


@pytest.fixture(autouse=True)
def _clean(monkeypatch):
    for name in ("PROVGRAPH_CACHING_DEFAULT_ENABLED", "PROVGRAPH_CACHING_ENABLED_FOR",
                 "PROVGRAPH_CACHING_DISABLED_FOR"):
        monkeypatch.delenv(name, raising=False)
    reset_configuration()
    CALLS.clear()
    yield
    reset_configuration()
    add_counted.process_class.CACHE_VERSION = None


def _fresh() -> int:
    """An input value no earlier run (on the shared server) used."""
    return random.randrange(10**9, 10**12)


def _check_cached_add(value: int) -> None:
    first, first_node = add_counted.run_get_node(Int(value), Int(2))
    assert CALLS == ["add"] and first_node.base.caching.get_cache_source() is None
    assert first_node.base.caching.get_hash() == load_node(first_node.pk).base.caching.compute_hash()
    with enable_caching(identifier=ADD):
        second, node = add_counted.run_get_node(Int(value), Int(2))
    assert CALLS == ["add"], "the cached call ran the function body"
    assert node.pk != first_node.pk and node.is_finished_ok
    assert node.base.caching.get_cache_source() == first_node.uuid
    assert load_node(node.pk).base.caching.is_created_from_cache
    assert {key: out.value for key, out in second.items()} == {"sum": value + 2, "diff": value - 2}
    assert second["sum"].uuid != first["sum"].uuid
    created = {t.link_label: t.node.pk for t in load_node(node.pk).base.links.get_outgoing(link_type=LinkType.CREATE)}
    assert created == {"sum": second["sum"].pk, "diff": second["diff"].pk}


def test_cached_calcfunction_clones_outputs_and_records_source(embedded_profile):
    _check_cached_add(_fresh())


def test_cached_calcfunction_on_neo4j(neo4j_profile):
    _check_cached_add(_fresh())


def test_cache_misses_and_switches(embedded_profile):
    value = _fresh()
    add_counted(Int(value), Int(1))
    add_counted(Int(value), Int(1))  # caching off: runs again
    assert CALLS == ["add", "add"]
    with enable_caching(identifier="other.module:*"):
        add_counted(Int(value), Int(1))
    with enable_caching():
        add_counted(Int(value), Int(2))  # other input: runs
        add_counted(Int(value), Int(1), metadata={"disable_cache": True})
        assert len(CALLS) == 5
        add_counted(Int(value), Int(1))
        assert len(CALLS) == 5
        add_counted.process_class.CACHE_VERSION = 2  # earlier runs no longer match
        _, node = add_counted.run_get_node(Int(value), Int(1))
        assert len(CALLS) == 6 and node.base.attributes.get("cache_version") == {"calc_function": 2}
        node.base.caching.is_valid_cache = False
        add_counted(Int(value), Int(1))
        assert len(CALLS) == 7


def test_failed_function_is_served_with_its_exit_code(embedded_profile):
    value = -_fresh()
    _, first = refuse_negative.run_get_node(Int(value))
    assert first.exit_status == 400
    with enable_caching():
        result, node = refuse_negative.run_get_node(Int(value))
    assert CALLS == ["refuse"] and node.exit_status == 400 and node.exit_message == "negative"
    assert node.base.caching.get_cache_source() == first.uuid and not dict(result)


def test_workfunctions_are_never_cached_but_their_calcfunctions_are(embedded_profile):
    value = _fresh()
    double_via_square(Int(value))
    with enable_caching():
        out, node = double_via_square.run_get_node(Int(value))
    assert CALLS == ["workfunction", "square", "workfunction"]
    assert out["squared"].value == value ** 2 and node.base.caching.get_cache_source() is None
    called = load_node(node.pk).base.links.get_outgoing(link_type=LinkType.CALL_CALC).all()
    assert len(called) == 1 and called[0].node.base.caching.is_created_from_cache


def test_submitted_calcfunction_is_cached(sqlite_profile, monkeypatch):
    from provgraph.engine.launch import Runner, set_submitter
    from provgraph.orm import backend as orm_backend
    from provgraph.profiles import load_profile

    sqlite, home = sqlite_profile
    monkeypatch.setenv("PROVGRAPH_HOME", str(home))
    orm_backend.get_backend(sqlite).migrate()
    load_profile(sqlite.name)
    previous = set_submitter(lambda pk: Runner(poll_interval=0.01).drive(pk))
    try:
        value = _fresh()
        _, first = square.run_get_node(Int(value))
        with enable_caching():
            node = load_node(submit(square, x=Int(value)).pk)
    finally:
        set_submitter(previous)
    assert CALLS == ["square"] and node.is_finished_ok
    assert node.base.caching.get_cache_source() == first.uuid
    assert node.base.caching.get_hash() == first.base.caching.get_hash()
    assert node.outputs["result"].value == value ** 2
