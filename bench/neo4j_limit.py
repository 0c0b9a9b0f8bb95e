"""Neo4j's own limit on this machine: the bare driver's UNWIND and auto-commit rates, same node shape.

Writes Dict-shaped nodes (labels ``Node:Data:Dict``, the fixed fields plus 5 flattened
attributes, exactly the properties provgraph writes, under the same uniqueness constraints)
with the official driver and nothing else: property maps prepared before the clock starts
(in provgraph's cheapest wire shape, times as epoch numbers), one ``UNWIND`` statement
per batch of 10,000 in one transaction per 30,000 nodes, and one auto-committed ``CREATE``
per node. Sizes: BENCH_LIMIT_UNWIND (default 10,000) and BENCH_LIMIT_AUTOCOMMIT (default 500).
Prints nodes/s of each and one ``RESULT {...}`` line; ``bench/aiida_side_by_side.py`` divides
provgraph's Neo4j figures by these.
"""

from __future__ import annotations

import json
import os
import time

from _backend import use_backend

UNWIND_NODES = int(os.environ.get("BENCH_LIMIT_UNWIND", 10_000))
AUTOCOMMIT_NODES = int(os.environ.get("BENCH_LIMIT_AUTOCOMMIT", 500))
BATCH = 10_000
TX_NODES = 30_000
#: provgraph's own statement text for Dicts (times travel as [epoch seconds, nanoseconds]: the cheapest encoding)
CREATE = ("UNWIND $rows AS row CREATE (n:Node:Data:Dict) SET n = row.p, "
          "n.ctime = datetime({epochSeconds: row.c[0], nanosecond: row.c[1]}), "
          "n.mtime = datetime({epochSeconds: row.m[0], nanosecond: row.m[1]})")


def rows(backend, count: int) -> list[dict]:
    """``count`` property maps of Dicts of 5 keys, exactly as provgraph writes them, with fresh pks."""
    from provgraph.orm import Dict
    from provgraph.storage.neo4j.nodes import to_properties, wire_row

    prepared = []
    for i, pk in enumerate(backend.nodes._pks.take(count)):
        record = Dict({"a": i, "b": float(i), "c": f"s{i}", "d": [i, 1], "e": {"f": True}})._record
        record.pk = pk
        prepared.append(wire_row(to_properties(record)))
    return prepared


def unwind_rate(backend) -> float:
    """Nodes/s of batched UNWIND writes (property maps prepared beforehand, not timed)."""
    prepared = rows(backend, UNWIND_NODES)
    began = time.perf_counter()
    with backend.driver.session(database=backend.database) as session:
        for start in range(0, len(prepared), TX_NODES):
            chunk = prepared[start:start + TX_NODES]

            def write(tx, chunk=chunk):
                for offset in range(0, len(chunk), BATCH):
                    tx.run(CREATE, rows=chunk[offset:offset + BATCH]).consume()

            session.execute_write(write)
    return len(prepared) / (time.perf_counter() - began)


def autocommit_rate(backend) -> float:
    """Nodes/s of one auto-committed CREATE per node, on one session (the server's commit rate)."""
    prepared = rows(backend, AUTOCOMMIT_NODES)
    began = time.perf_counter()
    with backend.driver.session(database=backend.database) as session:
        for row in prepared:
            session.run(CREATE, rows=[row]).consume()
    return len(prepared) / (time.perf_counter() - began)


def measure() -> dict:
    """Both rates on the services profile's Neo4j."""
    use_backend("neo4j")
    from provgraph.orm.backend import get_backend

    backend = get_backend()
    backend.driver.execute_query("RETURN 1", database_=backend.database)  # warm the connection pool
    unwind = unwind_rate(backend)
    return {"unwind_nodes_per_s": round(unwind), "autocommit_nodes_per_s": round(autocommit_rate(backend))}


def paired(rounds: int = 3, bulk: int = 2000, loop: int = 50) -> dict:
    """provgraph against the bare driver in alternation, so both see the same (shared) server load.

    Each round times the bare UNWIND then ``store_graph`` of as many Dicts, and the bare
    auto-commit then the ``store()`` loop; returns the median ratios and rates.
    """
    import statistics

    use_backend("neo4j")
    import provgraph
    from provgraph.orm import Dict
    from provgraph.orm.backend import get_backend
    from provgraph.orm.bulk import store_graph

    backend = get_backend()

    def five(i: int) -> dict:
        return {"a": i, "b": float(i), "c": f"s{i}", "d": [i, 1], "e": {"f": True}}

    def rate(func, count: int) -> float:
        began = time.perf_counter()
        func()
        return count / (time.perf_counter() - began)

    def in_transaction() -> None:
        with provgraph.transaction():
            for i in range(bulk):
                Dict(five(i)).store()

    found: dict[str, list[float]] = {}
    for _ in range(rounds):
        global UNWIND_NODES, AUTOCOMMIT_NODES
        UNWIND_NODES, AUTOCOMMIT_NODES = bulk, loop
        figures = {"bare_unwind": unwind_rate(backend)}
        batch = [Dict(five(i)) for i in range(bulk)]  # built before the clock starts, as the bare rows are
        figures["bulk"] = rate(lambda batch=batch: store_graph(batch), bulk)
        figures["bare_autocommit"] = autocommit_rate(backend)
        figures["loop"] = rate(lambda: [Dict(five(i)).store() for i in range(loop)], loop)
        figures["transaction"] = rate(in_transaction, bulk)
        for key, value in figures.items():
            found.setdefault(key, []).append(value)
        found.setdefault("bulk_vs_unwind", []).append(figures["bulk"] / figures["bare_unwind"])
        found.setdefault("loop_vs_autocommit", []).append(figures["loop"] / figures["bare_autocommit"])
    return {key: round(statistics.median(values), 3) for key, values in found.items()}


def main() -> None:
    """Measure and print (``--paired``: provgraph and the bare driver in alternation)."""
    import sys

    if "--paired" in sys.argv:
        figures = paired()
        for key, value in figures.items():
            print(f"{key:20} {value:12,.2f}")
        print(f"bulk / bare UNWIND: {figures['bulk_vs_unwind']:.2f}x (target >= 0.6) "
              f"{'HIT' if figures['bulk_vs_unwind'] >= 0.6 else 'MISS'}")
        print(f"store() loop / bare auto-commit: {figures['loop_vs_autocommit']:.2f}x (target >= 0.8) "
              f"{'HIT' if figures['loop_vs_autocommit'] >= 0.8 else 'MISS'}")
        print(f"store() inside transaction(): {figures['transaction']:,.0f} nodes/s (target >= 3,000) "
              f"{'HIT' if figures['transaction'] >= 3000 else 'MISS'}")
        print("RESULT " + json.dumps({"bench": "neo4j_paired", **figures}))
        return
    figures = measure()
    print(f"bare driver UNWIND       {figures['unwind_nodes_per_s']:10,} nodes/s ({UNWIND_NODES:,} nodes)")
    print(f"bare driver auto-commit  {figures['autocommit_nodes_per_s']:10,} nodes/s ({AUTOCOMMIT_NODES:,} nodes)")
    print("RESULT " + json.dumps({"bench": "neo4j_limit", **figures}))


if __name__ == "__main__":
    main()
