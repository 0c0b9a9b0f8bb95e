"""``POST /querybuilder``: run a QueryBuilder given in its dict form, one page at a time."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body

from provgraph.web.paging import MAX_LIMIT
from provgraph.web.qb_dict import querybuilder_from_dict
from provgraph.web.serialize import jsonable

router = APIRouter(tags=["querybuilder"])
EXAMPLE = {"path": [{"cls": "Int", "tag": "x"}], "filters": {"x": {"attributes.value": {">": 5}}},
           "project": {"x": ["pk", "attributes.value"]}, "order_by": [{"x": [{"pk": {"order": "asc"}}]}], "limit": 10}


@router.post("/querybuilder")
def run_querybuilder(spec: Annotated[Any, Body(examples=[EXAMPLE])]) -> dict[str, Any]:
    """Rows as ``{tag: {projection: value}}`` and the total count (limit capped to the maximum page)."""
    qb = querybuilder_from_dict(spec, MAX_LIMIT)
    total = qb.count()
    limit = MAX_LIMIT if spec.get("limit") is None else spec["limit"]
    return {"total": total, "limit": limit, "offset": spec.get("offset") or 0, "rows": jsonable(qb.dict())}
