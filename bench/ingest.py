"""Ingest benchmark (issue: ORM on Neo4j): bulk API vs a hand-written raw write vs a store() loop.

Stores 100,000 Dict nodes of 5 keys each plus 20,000 calculations linking them
(each calculation consumes one Dict and creates four), on ``--backend neo4j`` (the
``services`` profile, default) or ``--backend sqlite`` (a throw-away profile in a temporary
folder). The raw write is a hand-written UNWIND on neo4j and plain multi-row INSERTs on
sqlite, without rule checks. Prints nodes/s of each path and the bulk/raw ratio, then one
``RESULT {...}`` JSON line. Targets (2 cores): bulk/raw >= 0.5, store() loop >= 500 nodes/s.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from datetime import datetime, timezone

from _backend import parse_backend, use_backend

from provgraph.common.links import LinkType
from provgraph.orm import CalcFunctionNode, Dict
from provgraph.orm.backend import get_backend
from provgraph.orm.bulk import store_graph

N_DICTS = int(os.environ.get("BENCH_INGEST_DICTS", 100_000))
BATCH = 10_000
LOOP = int(os.environ.get("BENCH_INGEST_LOOP", 5_000))


def make_batch(start: int, count: int) -> tuple[list, list]:
    """``count`` Dicts and count/5 calculations: dict0 -> calc -> dict1..dict4."""
    nodes, links = [], []
    for group in range(start, start + count, 5):
        base = len(nodes)
        nodes += [Dict({"a": group, "b": float(group), "c": f"s{group}", "d": [group, 1], "e": {"f": True}})
                  for _ in range(5)]
        nodes.append(CalcFunctionNode(process_label="bench"))
        calc = base + 5
        links.append((base, calc, LinkType.INPUT_CALC, "x"))
        links += [(calc, base + k, LinkType.CREATE, f"out{k}") for k in range(1, 5)]
    return nodes, links


def bench_bulk() -> float:
    """Nodes/s of the bulk API."""
    total, elapsed = 0, 0.0
    for start in range(0, N_DICTS, BATCH):
        nodes, links = make_batch(start, BATCH)
        began = time.perf_counter()
        store_graph(nodes, links)
        elapsed += time.perf_counter() - began
        total += len(nodes)
    return total / elapsed


def bench_raw() -> float:
    """Nodes/s of a hand-written UNWIND of the same properties and links (no rule checks)."""
    from provgraph.storage.neo4j.nodes import to_properties, wire_row

    backend = get_backend()
    total, elapsed = 0, 0.0
    for start in range(0, N_DICTS, BATCH):
        nodes, links = make_batch(start, BATCH)
        pks = backend.nodes._pks.take(len(nodes))
        for node, pk in zip(nodes, pks, strict=True):
            node._record.pk = pk
        dicts = [wire_row(to_properties(n._record)) for n in nodes if isinstance(n, Dict)]
        calcs = [wire_row(to_properties(n._record)) for n in nodes if not isinstance(n, Dict)]
        rels = [{"s": pks[s], "t": pks[t], "label": label, "type": kind.value} for s, t, kind, label in links]
        began = time.perf_counter()
        with backend.driver.session(database=backend.database) as session:
            session.execute_write(_raw_write, dicts, calcs, rels)
        elapsed += time.perf_counter() - began
        total += len(nodes)
    return total / elapsed


def bench_raw_sqlite() -> float:
    """Nodes/s of plain multi-row INSERTs of the same rows and links into sqlite (no rule checks)."""
    from sqlalchemy import insert

    from provgraph.storage.sqlite import db, schema
    from provgraph.storage.sqlite.records import node_row

    engine = get_backend().engine
    total, elapsed = 0, 0.0
    for start in range(0, N_DICTS, BATCH):
        nodes, links = make_batch(start, BATCH)
        began = time.perf_counter()
        with db.write(engine) as connection:
            first = connection.exec_driver_sql("SELECT coalesce(max(pk), 0) + 1 FROM nodes").scalar_one()
            rows = [{**node_row(node._record), "pk": first + i} for i, node in enumerate(nodes)]
            connection.execute(insert(schema.nodes), rows)
            connection.execute(insert(schema.links), [{"source": first + s, "target": first + t, "type": kind.value,
                                                       "label": label} for s, t, kind, label in links])
        elapsed += time.perf_counter() - began
        total += len(nodes)
    return total / elapsed


def _raw_write(tx, dicts: list, calcs: list, rels: list) -> None:
    times = ("n.ctime = datetime({epochSeconds: row.c[0], nanosecond: row.c[1]}), "
             "n.mtime = datetime({epochSeconds: row.m[0], nanosecond: row.m[1]})")
    tx.run(f"UNWIND $rows AS row CREATE (n:Node:Data:Dict) SET n = row.p, {times}", rows=dicts).consume()
    tx.run(f"UNWIND $rows AS row CREATE (n:Node:ProcessNode:CalculationNode:CalcFunctionNode) SET n = row.p, {times}",
           rows=calcs).consume()
    for kind in ("INPUT_CALC", "CREATE"):
        tx.run(f"UNWIND $rels AS r MATCH (s:Node {{pk: r.s}}) MATCH (t:Node {{pk: r.t}}) "
               f"CREATE (s)-[:{kind} {{label: r.label}}]->(t)", rels=[r for r in rels if r["type"] == kind]).consume()


def bench_loop() -> float:
    """Nodes/s of ``Dict(...).store()`` one at a time."""
    began = time.perf_counter()
    for i in range(LOOP):
        Dict({"a": i, "b": float(i), "c": "x", "d": [i], "e": {"f": i}}).store()
    return LOOP / (time.perf_counter() - began)


def main() -> None:
    """Run the three measurements and print them."""
    backend = parse_backend(__doc__)
    use_backend(backend)
    run = uuid.uuid4().hex[:8]
    print(f"ingest benchmark {run} at {datetime.now(timezone.utc).isoformat(timespec='seconds')}: "
          f"{N_DICTS} Dicts + {N_DICTS // 5} calculations per bulk/raw run, {LOOP} store() calls")
    bulk = bench_bulk()
    raw = bench_raw() if backend == "neo4j" else bench_raw_sqlite()
    loop = bench_loop()
    print(f"bulk API          {bulk:10,.0f} nodes/s")
    print(f"raw {'UNWIND' if backend == 'neo4j' else 'INSERT'}        {raw:10,.0f} nodes/s")
    print(f"bulk/raw ratio    {bulk / raw:10.2f}   (target >= 0.5)")
    print(f"store() loop      {loop:10,.0f} nodes/s (target >= 500)")
    print("RESULT " + json.dumps({"bench": "ingest", "backend": backend, "bulk_nodes_per_s": round(bulk),
                                  "raw_nodes_per_s": round(raw), "ratio": round(bulk / raw, 3),
                                  "store_loop_nodes_per_s": round(loop)}))


if __name__ == "__main__":
    main()
