"""Computers, codes, groups (and their nodes), users and statistics."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from fastapi import APIRouter, Query

from provgraph.web.errors import ApiError
from provgraph.web.paging import DEFAULT_LIMIT, page
from provgraph.web.serialize import SUMMARY_FIELDS, jsonable, summary_row

router = APIRouter()
#: at most this many months in the per-month statistics (the most recent ones)
MAX_MONTHS = 120


def _first(row: list[Any]) -> Any:
    return jsonable(row[0])


def _entity_pk(kind: str, identifier: str) -> int:
    """The pk of the group or computer ``identifier`` (a pk, or a label)."""
    from provgraph.orm import QueryBuilder

    filters = {"pk": int(identifier)} if identifier.isdigit() else {"label": identifier}
    rows = QueryBuilder().append(entity_type=kind, filters=filters, project=["pk"]).limit(2).all()
    if not rows:
        from provgraph.exceptions import NotExistent

        raise NotExistent(f"no {kind} with pk or label {identifier!r}")
    if len(rows) > 1:
        raise ApiError(409, f"several {kind}s are labelled {identifier!r}: use the pk")
    return rows[0][0]


@router.get("/computers", tags=["computers"])
def list_computers(limit: int = DEFAULT_LIMIT, offset: int = 0) -> dict[str, Any]:
    """Computers, by pk."""
    from provgraph.orm import QueryBuilder

    qb = QueryBuilder().append(entity_type="computer", tag="c", project="*").order_by({"c": ["pk"]})
    return page(qb, limit, offset, _first)


@router.get("/computers/{identifier}", tags=["computers"])
def get_computer(identifier: str) -> dict[str, Any]:
    """A computer (by pk or label) with the counts of nodes on it."""
    from provgraph.orm import QueryBuilder

    pk = _entity_pk("computer", identifier)
    data = jsonable(QueryBuilder().append(entity_type="computer", filters={"pk": pk}, project="*").one()[0])
    on_it = QueryBuilder().append(entity_type="computer", filters={"pk": pk}, tag="c")
    on_it.append(cls=_node(), with_computer="c", project=["pk"])
    data["node_count"] = on_it.count()
    return data


@router.get("/computers/{identifier}/nodes", tags=["computers"])
def computer_nodes(identifier: str, limit: int = DEFAULT_LIMIT, offset: int = 0) -> dict[str, Any]:
    """The nodes (codes, CalcJobs, remote folders) on a computer, newest first."""
    from provgraph.orm import QueryBuilder

    pk = _entity_pk("computer", identifier)
    qb = QueryBuilder().append(entity_type="computer", filters={"pk": pk}, tag="c")
    qb.append(cls=_node(), with_computer="c", tag="n", project=list(SUMMARY_FIELDS))
    qb.order_by({"n": [{"pk": "desc"}]})
    return page(qb, limit, offset, summary_row)


def _node() -> type:
    from provgraph.orm import Node

    return Node


@router.get("/codes", tags=["computers"])
def list_codes(limit: int = DEFAULT_LIMIT, offset: int = 0) -> dict[str, Any]:
    """Codes, by pk, with their default plugin."""
    from provgraph.orm import AbstractCode, QueryBuilder

    qb = QueryBuilder().append(AbstractCode, tag="c", project=[*SUMMARY_FIELDS, "attributes.input_plugin"])
    qb.order_by({"c": ["pk"]})
    return page(qb, limit, offset, lambda row: {**summary_row(row[:-1]), "default_calc_job_plugin": row[-1]})


@router.get("/groups", tags=["groups"])
def list_groups(type_string: str | None = None, limit: int = DEFAULT_LIMIT, offset: int = 0) -> dict[str, Any]:
    """Groups, by pk."""
    from provgraph.orm import QueryBuilder

    filters = {"type_string": type_string} if type_string else None
    qb = QueryBuilder().append(entity_type="group", tag="g", filters=filters, project="*").order_by({"g": ["pk"]})
    return page(qb, limit, offset, _first)


@router.get("/groups/{identifier}", tags=["groups"])
def get_group(identifier: str) -> dict[str, Any]:
    """A group (by pk or label) with its member count."""
    from provgraph.orm import QueryBuilder

    pk = _entity_pk("group", identifier)
    data = jsonable(QueryBuilder().append(entity_type="group", filters={"pk": pk}, project="*").one()[0])
    data["node_count"] = _members(pk).count()
    return data


def _members(pk: int) -> Any:
    from provgraph.orm import QueryBuilder

    qb = QueryBuilder().append(entity_type="group", filters={"pk": pk}, tag="g")
    return qb.append(cls=_node(), with_group="g", tag="n", project=list(SUMMARY_FIELDS)).order_by({"n": ["pk"]})


@router.get("/groups/{identifier}/nodes", tags=["groups"])
def group_nodes(identifier: str, limit: int = DEFAULT_LIMIT, offset: int = 0) -> dict[str, Any]:
    """The members of a group, by pk."""
    return page(_members(_entity_pk("group", identifier)), limit, offset, summary_row)


@router.get("/users", tags=["users"])
def list_users(limit: int = DEFAULT_LIMIT, offset: int = 0) -> dict[str, Any]:
    """Users, by email."""
    from provgraph.orm import QueryBuilder

    qb = QueryBuilder().append(entity_type="user", tag="u", project="*").order_by({"u": ["email"]})
    return page(qb, limit, offset, _first)


@router.get("/statistics", tags=["statistics"])
def statistics(user: str | None = Query(None, description="only nodes of this user (email)")) -> dict[str, Any]:
    """Node counts: in total, per node type, and per month of creation."""
    from provgraph.orm import QueryBuilder

    base = {"user": user} if user else None
    types = QueryBuilder().append(cls=_node(), filters=base, project=["node_type"]).distinct().all(flat=True)
    per_type = {}
    for node_type in sorted(types):
        filters = {"node_type": node_type, **(base or {})}
        per_type[node_type] = QueryBuilder().append(cls=_node(), filters=filters).count()
    return {"total": sum(per_type.values()), "types": per_type, "months": _per_month(base)}


def _per_month(base: dict[str, Any] | None) -> dict[str, int]:
    from provgraph.orm import QueryBuilder

    def edge(direction: str) -> datetime | None:
        qb = QueryBuilder().append(cls=_node(), tag="n", filters=base, project=["ctime"])
        return qb.order_by({"n": [{"ctime": direction}]}).first(flat=True)

    first, last = edge("asc"), edge("desc")
    if first is None or last is None:
        return {}
    months = []
    year, month = last.year, last.month
    while (year, month) >= (first.year, first.month) and len(months) < MAX_MONTHS:
        months.append((year, month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    result = {}
    for year, month in reversed(months):
        start = datetime(year, month, 1, tzinfo=timezone.utc)
        end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=timezone.utc)
        filters = {"and": [{"ctime": {">=": start}}, {"ctime": {"<": end}}] + ([base] if base else [])}
        result[f"{year:04d}-{month:02d}"] = QueryBuilder().append(cls=_node(), filters=filters).count()
    return result
