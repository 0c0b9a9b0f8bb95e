"""The expression indexes of migration 2: QueryBuilder's attribute filters and joins use them, never a scan."""

from __future__ import annotations

import pytest

from provgraph.orm import CalcFunctionNode, Int, QueryBuilder
from provgraph.storage.sqlite import db


def plan(backend, qb: QueryBuilder) -> str:
    """sqlite's EXPLAIN QUERY PLAN of the statement the compiler writes for ``qb``, one step a line."""
    text, params = backend.queries.compile(qb.as_ir())
    with db.read(backend.engine) as connection:
        rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + _positional(text, params)[0],
                                          _positional(text, params)[1]).all()
    return "\n".join(row[-1] for row in rows)


def _positional(text: str, params: dict) -> tuple[str, tuple]:
    """The statement with ``:name`` parameters turned into ``?`` ones, for the raw driver."""
    import re

    values = []

    def swap(match: re.Match) -> str:
        values.append(params[match.group(1)])
        return "?"

    return re.sub(r":(p\d+)\b", swap, text), tuple(values)


@pytest.mark.parametrize("filters", [{"attributes.value": 7}, {"attributes.value": {">": 5}},
                                     {"attributes.value": {"in": [1, 2]}}])
def test_attribute_filters_search_the_index(sqlite_backend, filters):
    steps = plan(sqlite_backend, QueryBuilder().append(Int, filters=filters))
    assert "ix_nodes_attributes_value" in steps, steps
    assert "SCAN v0" not in steps, steps


def test_a_join_from_a_filtered_attribute_never_scans(sqlite_backend):
    qb = QueryBuilder().append(Int, tag="x", filters={"attributes.value": 7})
    qb.append(CalcFunctionNode, with_incoming="x", project="pk")
    steps = plan(sqlite_backend, qb)
    assert "ix_nodes_attributes_value" in steps, steps
    assert "SCAN" not in steps, steps


def test_process_results_are_indexed_too(sqlite_backend):
    qb = QueryBuilder().append(CalcFunctionNode, filters={"attributes.exit_status": 0})
    assert "ix_nodes_attributes_exit_status" in plan(sqlite_backend, qb)
