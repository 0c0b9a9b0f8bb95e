"""The workloads of ``bench/aiida_side_by_side.py``, written once for aiida-core and for provgraph.

provgraph runs AiiDA 2.x user code with the imports renamed, so every workload is the same
code on both: ``side`` is ``aiida`` or ``provgraph`` and only the few calls that differ by
name (the storage transaction, the bulk insert, ``id`` vs ``pk``, loading the profile) are
switched. Run as ``<python> bench/_workloads.py <side> <profile> <scale>`` (by the
side-by-side script, with aiida-core's own interpreter for ``aiida``); prints one
``RESULT {...}`` line of figures. Nothing here imports provgraph at module level, so
aiida-core's virtualenv runs it without provgraph installed.
"""

from __future__ import annotations

import importlib
import json
import statistics
import sys
import time
from contextlib import contextmanager
from typing import Any


class Side:
    """The names one side (``aiida`` or ``provgraph``) gives to the APIs the workloads use."""

    def __init__(self, name: str, profile: str) -> None:
        self.name = name
        orm = importlib.import_module(f"{name}.orm")
        self.Dict, self.Int, self.Node = orm.Dict, orm.Int, orm.Node
        self.CalcFunctionNode, self.QueryBuilder = orm.CalcFunctionNode, orm.QueryBuilder
        self.LinkType = importlib.import_module(f"{name}.common.links").LinkType
        self.calcfunction = importlib.import_module(f"{name}.engine").calcfunction
        self.pk = "id" if name == "aiida" else "pk"
        if name == "aiida":
            importlib.import_module("aiida").load_profile(profile)
        else:
            importlib.import_module("provgraph.profiles").load_profile(profile)

    @contextmanager
    def transaction(self):
        """The storage transaction: ``storage.transaction()`` in aiida, ``provgraph.transaction()`` here."""
        if self.name == "aiida":
            from aiida.manage import get_manager

            with get_manager().get_profile_storage().transaction():
                yield
        else:
            import provgraph

            with provgraph.transaction():
                yield

    def bulk(self, count: int) -> None:
        """Insert ``count`` Dicts of 5 keys with the side's bulk API (aiida: ``bulk_insert``)."""
        if self.name == "aiida":
            _aiida_bulk(count)
        else:
            from provgraph.orm.bulk import store_graph

            store_graph([self.Dict(_five(i)) for i in range(count)])


def _five(i: int) -> dict[str, Any]:
    return {"a": i, "b": float(i), "c": f"s{i}", "d": [i, 1], "e": {"f": True}}


def _aiida_bulk(count: int) -> None:
    import uuid
    from datetime import datetime, timezone

    from aiida.manage import get_manager
    from aiida.orm import User
    from aiida.orm.entities import EntityTypes

    storage = get_manager().get_profile_storage()
    user = User.collection.get_default().pk
    now = datetime.now(timezone.utc)
    rows = [{"uuid": str(uuid.uuid4()), "node_type": "data.core.dict.Dict.", "process_type": None, "label": "",
             "description": "", "ctime": now, "mtime": now, "user_id": user, "dbcomputer_id": None,
             "attributes": _five(i), "extras": {}, "repository_metadata": {}} for i in range(count)]
    storage.bulk_insert(EntityTypes.NODE, rows)


def timed(func) -> float:
    """Seconds ``func()`` takes."""
    began = time.perf_counter()
    func()
    return time.perf_counter() - began


def first_and_warm(func, runs: int = 5) -> tuple[float, float]:
    """Milliseconds of the first call and the median of ``runs`` further calls."""
    first = timed(func) * 1000
    return first, statistics.median(timed(func) * 1000 for _ in range(runs))


def build_chain(side: Side, length: int) -> int:
    """A chain Int -> calc -> Int ... of ``length`` calculations, stored one node at a time; return the last pk."""
    last = side.Int(0).store()
    for step in range(length):
        calc = side.CalcFunctionNode()
        calc.base.links.add_incoming(last, side.LinkType.INPUT_CALC, "x")
        calc.store()
        last = side.Int(step + 1)
        last.base.links.add_incoming(calc, side.LinkType.CREATE, "result")
        last.store()
    return last.pk


def build_lattice(side: Side, layers: int, width: int = 10) -> tuple[int, int]:
    """``layers`` layers of ``width`` Ints, each made by a calc of 2 Ints of the layer before; return (first, last)."""
    previous = [side.Int(i).store() for i in range(width)]
    first = previous[0].pk
    for _ in range(1, layers):
        current = []
        for i in range(width):
            calc = side.CalcFunctionNode()
            calc.base.links.add_incoming(previous[i], side.LinkType.INPUT_CALC, "a")
            calc.base.links.add_incoming(previous[(i + 1) % width], side.LinkType.INPUT_CALC, "b")
            calc.store()
            out = side.Int(i)
            out.base.links.add_incoming(calc, side.LinkType.CREATE, "result")
            current.append(out.store())
        previous = current
    return first, previous[0].pk


def run_all(side: Side, scale: float) -> dict[str, float]:
    """Every workload once; return the figures (rates in /s, times in ms)."""
    n = {"bulk": int(5000 * scale), "loop": int(200 * scale), "tx": int(1000 * scale), "calc": int(20 * scale),
         "ints": int(2000 * scale), "chain": int(100 * scale), "lattice": max(8, round(16 * scale))}
    figures: dict[str, float] = {}
    Dict, Int, QB = side.Dict, side.Int, side.QueryBuilder
    figures["bulk_ingest_nodes_per_s"] = n["bulk"] / timed(lambda: side.bulk(n["bulk"]))
    figures["store_loop_nodes_per_s"] = n["loop"] / timed(lambda: [Dict(_five(i)).store() for i in range(n["loop"])])

    def in_transaction():
        with side.transaction():
            for i in range(n["tx"]):
                Dict(_five(i)).store()

    figures["store_in_transaction_nodes_per_s"] = n["tx"] / timed(in_transaction)

    @side.calcfunction
    def add(x, y):
        return x + y

    figures["calcfunction_run_per_s"] = n["calc"] / timed(lambda: [add(Int(i % 50), Int(1)) for i in range(n["calc"])])
    with side.transaction():
        for i in range(n["ints"]):
            Int(i).store()
    threshold = n["ints"] // 2
    figures["qb_attribute_filter_count_first_ms"], figures["qb_attribute_filter_count_warm_ms"] = first_and_warm(
        lambda: QB().append(Int, filters={"attributes.value": {">": threshold}}).count())
    figures["qb_join_first_ms"], figures["qb_join_warm_ms"] = first_and_warm(
        lambda: QB().append(Int, tag="x", filters={"attributes.value": 7}).append(
            side.CalcFunctionNode, with_incoming="x", project=side.pk).all())
    with side.transaction():  # building is not timed: one commit keeps it short on a busy server
        last = build_chain(side, n["chain"])
    figures["chain_ancestors_first_ms"], figures["chain_ancestors_warm_ms"] = first_and_warm(
        lambda: QB().append(Int, tag="n", filters={side.pk: last}).append(
            side.Node, with_descendants="n", project=side.pk).all())
    with side.transaction():
        first, last = build_lattice(side, n["lattice"])
    figures["lattice_ancestors_first_ms"], figures["lattice_ancestors_warm_ms"] = first_and_warm(
        lambda: QB().append(Int, tag="n", filters={side.pk: last}).append(
            side.Node, with_descendants="n", project=side.pk).all())
    figures["lattice_descendants_first_ms"], figures["lattice_descendants_warm_ms"] = first_and_warm(
        lambda: QB().append(Int, tag="n", filters={side.pk: first}).append(
            side.Node, with_ancestors="n", project=side.pk).all())
    with open("/proc/self/status") as status:
        hwm = next(line for line in status if line.startswith("VmHWM")).split()[1]
    figures["peak_rss_mib"] = int(hwm) / 1024
    return figures


def main() -> None:
    """``_workloads.py <side> <profile> <scale>``: run every workload, print one RESULT line."""
    name, profile, scale = sys.argv[1], sys.argv[2], float(sys.argv[3])
    figures = run_all(Side(name, profile), scale)
    print("RESULT " + json.dumps({key: round(value, 2) for key, value in figures.items()}), flush=True)


if __name__ == "__main__":
    main()
