"""Query benchmark (issue: QueryBuilder → Cypher / SQL), on ``--backend neo4j`` (default) or ``sqlite``.

neo4j runs on the ``services`` profile; sqlite on a profile kept under ``.services/bench/query-<N>``
(see ``bench/_backend.py``), so the graph is built once per backend and size.

Builds (once; later runs reuse it) a provenance-shaped graph of BENCH_QUERY_NODES
nodes (default 1,000,000) through the bulk API: calcfunction triples Int → calc → Int,
a 1,000-step chain, a root with 100,000 descendants, and a 40-layer "lattice" of 10
Ints per layer (each calc takes 2 Ints of the layer before and creates 1). Then prints
the median ms of 5 runs of Q1..Q6, the peak RSS of a full ``iterall``, and the time
to build and compile a 3-vertex query; finally one ``RESULT {...}`` JSON line.
Targets (2 cores): Q1 <= 300, Q2 <= 30, Q3 <= 15, Q4 <= 1000, Q5 RSS <= 300 MiB,
Q6 <= 50 each, compile <= 1 ms.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time

from _backend import parse_backend, use_backend

from provgraph.common.links import LinkType
from provgraph.orm import CalcFunctionNode, Int, Node, QueryBuilder
from provgraph.orm.bulk import store_graph

TOTAL = int(os.environ.get("BENCH_QUERY_NODES", 1_000_000))
TAG = f"query-bench-{TOTAL}"
ROOT_DESCENDANTS = min(100_000, TOTAL // 10)
CHAIN = 1000
VALUES = 300  # triple inputs take values 0..299, so each value feeds ~1,000 calculations
BATCH = 30_000


def _int(value: int, role: str) -> Int:
    node = Int(value)
    node.base.extras.set_many({"bench": TAG, "role": role})
    return node


def _flush(nodes: list, links: list) -> None:
    if nodes:
        store_graph(nodes, links)
        nodes.clear()
        links.clear()


def build_chain() -> None:
    nodes, links = [_int(0, "chain0")], []
    for step in range(1, CHAIN + 1):
        nodes += [CalcFunctionNode(), _int(step, "chain_last" if step == CHAIN else "chain")]
        links += [(len(nodes) - 3, len(nodes) - 2, LinkType.INPUT_CALC, "x"),
                  (len(nodes) - 2, len(nodes) - 1, LinkType.CREATE, "result")]
    _flush(nodes, links)


def build_root() -> None:
    root = _int(-1, "root")
    root.store()
    nodes, links = [], []
    for _ in range(ROOT_DESCENDANTS // 4):
        nodes += [CalcFunctionNode(), _int(1, "leaf"), _int(2, "leaf"), _int(3, "leaf")]
        base = len(nodes) - 4
        links += [(root, base, LinkType.INPUT_CALC, f"x{len(links)}")]
        links += [(base, base + k, LinkType.CREATE, f"out{k}") for k in (1, 2, 3)]
        if len(nodes) >= BATCH:
            _flush(nodes, links)
    _flush(nodes, links)


def build_lattice() -> None:
    nodes, links = [_int(i, "lattice0") for i in range(10)], []
    previous = list(range(10))
    for layer in range(1, 40):
        current = []
        for i in range(10):
            calc = len(nodes)
            nodes += [CalcFunctionNode(), _int(i, f"lattice{layer}")]
            links += [(previous[i], calc, LinkType.INPUT_CALC, "a"),
                      (previous[(i + 1) % 10], calc, LinkType.INPUT_CALC, "b"),
                      (calc, calc + 1, LinkType.CREATE, "result")]
            current.append(calc + 1)
        previous = current
    _flush(nodes, links)


def build_triples(count: int) -> None:
    nodes, links = [], []
    for i in range(count):
        nodes += [_int(i % VALUES, "triple_in"), CalcFunctionNode(), _int(i, "triple_out")]
        links += [(len(nodes) - 3, len(nodes) - 2, LinkType.INPUT_CALC, "x"),
                  (len(nodes) - 2, len(nodes) - 1, LinkType.CREATE, "result")]
        if len(nodes) >= BATCH:
            _flush(nodes, links)
    _flush(nodes, links)


def ensure_graph() -> None:
    """Build the graph unless a previous run did."""
    if QueryBuilder().append(Int, filters={"extras.bench": TAG, "extras.role": "chain_last"}).count():
        print(f"reusing the graph {TAG}")
        return
    began = time.perf_counter()
    build_chain()
    build_root()
    build_lattice()
    built = 2 * CHAIN + 1 + ROOT_DESCENDANTS + 1 + 10 + 39 * 20
    build_triples(max(0, (TOTAL - built) // 3))
    elapsed = time.perf_counter() - began
    print(f"built {TOTAL:,} nodes in {elapsed:.0f} s ({TOTAL / elapsed:,.0f} nodes/s through the bulk API)")


def pk_of(role: str, value: int | None = None) -> int:
    filters = {"extras.bench": TAG, "extras.role": role}
    if value is not None:
        filters["attributes.value"] = value
    return QueryBuilder().append(Int, filters=filters, project="pk").first(flat=True)


def median_ms(func, runs: int = 5) -> float:
    func()  # warm-up (plan cache)
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        func()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def q5_rss(profile: str) -> tuple[float, float]:
    """Run a full iterall in a fresh process; return (seconds, peak RSS MiB from VmHWM)."""
    code = (
        f"import time; from provgraph.profiles import load_profile; load_profile({profile!r});"
        "from provgraph.orm import Node, QueryBuilder; t=time.perf_counter(); n=0\n"
        "for row in QueryBuilder().append(Node, project=['pk', 'node_type']).iterall(batch_size=1000): n += 1\n"
        "hwm=[l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
        "print(n, time.perf_counter()-t, int(hwm)/1024)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    print(f"Q5 iterall over {int(out[0]):,} rows in {float(out[1]):.1f} s")
    return float(out[1]), float(out[2])


def compile_ms() -> float:
    from provgraph.orm.backend import get_backend

    def build():
        qb = QueryBuilder().append(Int, tag="x", filters={"attributes.value": {">": 5}}, project="pk")
        qb.append(CalcFunctionNode, tag="c", with_incoming="x", edge_filters={"label": "x"})
        qb.append(Int, with_incoming="c", project=["pk", "attributes.value"])
        get_backend().queries.compile(qb.as_ir())

    build()
    began = time.perf_counter()
    for _ in range(1000):
        build()
    return (time.perf_counter() - began)


def main() -> None:
    """Build (or reuse) the graph, time the queries, print the figures."""
    backend = parse_backend(__doc__)
    profile = use_backend(backend, keep=f"query-{TOTAL}")
    ensure_graph()
    chain_last, root = pk_of("chain_last"), pk_of("root")
    lattice_last, lattice_first = pk_of("lattice39", 0), pk_of("lattice0", 0)
    threshold = TOTAL // 6
    figures = {
        "Q1_count_int_value_gt": median_ms(lambda: QueryBuilder().append(
            Int, filters={"attributes.value": {">": threshold}}).count()),
        "Q2_calcs_consuming_value_1000_rows": median_ms(lambda: QueryBuilder().append(
            Int, tag="x", filters={"attributes.value": 7}).append(
            CalcFunctionNode, with_incoming="x", project="pk").limit(1000).all()),
        "Q3_chain_ancestors": median_ms(lambda: QueryBuilder().append(
            Int, tag="n", filters={"pk": chain_last}).append(Node, with_descendants="n", project="pk").all()),
        "Q4_root_descendants_count": median_ms(lambda: QueryBuilder().append(
            Int, tag="n", filters={"pk": root}).append(Node, with_ancestors="n").count()),
        "Q6_lattice_ancestors": median_ms(lambda: QueryBuilder().append(
            Int, tag="n", filters={"pk": lattice_last}).append(Node, with_descendants="n", project="pk").all()),
        "Q6_lattice_descendants": median_ms(lambda: QueryBuilder().append(
            Int, tag="n", filters={"pk": lattice_first}).append(Node, with_ancestors="n", project="pk").all()),
    }
    q5_seconds, q5_rss_mib = q5_rss(profile)
    figures["Q5_iterall_peak_rss_mib"] = q5_rss_mib
    figures["compile_3_vertex_ms"] = compile_ms()
    targets = {"Q1": 300, "Q2": 30, "Q3": 15, "Q4": 1000, "Q5": 300, "Q6": 50, "compile": 1}
    for name, value in figures.items():
        target = targets[name.split("_")[0]]
        unit = "MiB" if "rss" in name else "ms"
        print(f"{name:<38} {value:10.2f} {unit:<4} (target <= {target})")
    print("RESULT " + json.dumps({"bench": "query", "backend": backend, "nodes": TOTAL,
                                  **{k: round(v, 3) for k, v in figures.items()}}))


if __name__ == "__main__":
    main()
