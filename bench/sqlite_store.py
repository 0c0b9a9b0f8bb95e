"""Store benchmark of the sqlite backend: bulk API, a store() loop, and several writer processes at once.

Runs on a throw-away sqlite profile in a temporary folder (no service needed). The bulk run
stores BENCH_SQLITE_DICTS Dict nodes of 5 keys plus one calculation per 5 Dicts (dict0 ->
calc -> dict1..dict4, link rules checked); the loop stores BENCH_SQLITE_LOOP nodes one
``store()`` at a time; the concurrent run has BENCH_SQLITE_WORKERS processes storing single
nodes into the same file at once. Prints nodes/s of each and one ``RESULT {...}`` JSON line.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import tempfile
import time
from pathlib import Path

N_DICTS = int(os.environ.get("BENCH_SQLITE_DICTS", 50_000))
BATCH = 10_000
LOOP = int(os.environ.get("BENCH_SQLITE_LOOP", 3_000))
WORKERS = int(os.environ.get("BENCH_SQLITE_WORKERS", 4))


def _use_profile(root: Path, create: bool = True) -> None:
    from provgraph.profiles import Config, Profile, load_profile

    os.environ["PROVGRAPH_HOME"] = str(root / "home")
    if create:
        profile = Profile(name="bench-sqlite",
                          storage={"backend": "sqlite", "config": {"path": str(root / "storage.sqlite")}},
                          repository={"backend": "local", "config": {"path": str(root / "repository")}}, broker={})
        Config(root / "home").store(profile, make_default=True)
    load_profile("bench-sqlite")


def _batch(start: int, count: int) -> tuple[list, list]:
    from provgraph.common.links import LinkType
    from provgraph.orm import CalcFunctionNode, Dict

    nodes, links = [], []
    for group in range(start, start + count, 5):
        base = len(nodes)
        nodes += [Dict({"a": group, "b": float(group), "c": f"s{group}", "d": [group, 1], "e": {"f": True}})
                  for _ in range(5)]
        nodes.append(CalcFunctionNode(process_label="bench"))
        links.append((base, base + 5, LinkType.INPUT_CALC, "x"))
        links += [(base + 5, base + k, LinkType.CREATE, f"out{k}") for k in range(1, 5)]
    return nodes, links


def bench_bulk() -> float:
    """Nodes/s of the bulk API (store_graph), rule checks included."""
    from provgraph.orm.bulk import store_graph

    total, elapsed = 0, 0.0
    for start in range(0, N_DICTS, BATCH):
        nodes, links = _batch(start, BATCH)
        began = time.perf_counter()
        store_graph(nodes, links)
        elapsed += time.perf_counter() - began
        total += len(nodes)
    return total / elapsed


def _loop(count: int) -> float:
    from provgraph.orm import Dict

    began = time.perf_counter()
    for i in range(count):
        Dict({"a": i, "b": float(i), "c": "x", "d": [i], "e": {"f": i}}).store()
    return count / (time.perf_counter() - began)


def _worker(root: str, count: int, start: float) -> float:
    _use_profile(Path(root), create=False)
    while time.time() < start:
        time.sleep(0.001)
    return _loop(count)


def bench_concurrent(root: Path) -> float:
    """Total nodes/s of WORKERS processes storing single nodes into the same database at once."""
    start = time.time() + 2.0
    per_worker = LOOP // WORKERS
    began = time.time()
    with multiprocessing.get_context("spawn").Pool(WORKERS) as pool:
        pool.starmap(_worker, [(str(root), per_worker, start)] * WORKERS)
    return per_worker * WORKERS / (time.time() - max(began, start))


def main() -> None:
    """Run the three measurements and print them."""
    with tempfile.TemporaryDirectory(prefix="bench-sqlite-") as folder:
        root = Path(folder)
        _use_profile(root)
        bulk = bench_bulk()
        loop = _loop(LOOP)
        concurrent = bench_concurrent(root)
        from provgraph.orm.backend import get_backend

        stored = sum(get_backend().nodes.count_by("nodes").values())
    expected = N_DICTS + N_DICTS // 5 + LOOP + (LOOP // WORKERS) * WORKERS
    print(f"sqlite bulk API       {bulk:10,.0f} nodes/s ({N_DICTS + N_DICTS // 5} nodes, links checked)")
    print(f"sqlite store() loop   {loop:10,.0f} nodes/s ({LOOP} nodes)")
    print(f"sqlite {WORKERS} writers      {concurrent:10,.0f} nodes/s in total (start-up included)")
    print(f"stored {stored} of {expected} nodes")
    print("RESULT " + json.dumps({"bench": "sqlite_store", "backend": "sqlite", "bulk_nodes_per_s": round(bulk),
                                  "store_loop_nodes_per_s": round(loop), "writers": WORKERS,
                                  "concurrent_nodes_per_s": round(concurrent), "lost_writes": expected - stored}))


if __name__ == "__main__":
    main()
