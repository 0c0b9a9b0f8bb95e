"""REST API benchmark (issue 17): node page, links, a 200-node neighbourhood, POST /querybuilder, load.

Builds (once per backend and size; later runs reuse it) a graph of ``--nodes`` nodes
(default 30,000, what this shared 2-core machine takes in a minute; ``--nodes 1000000`` is
the issue's size) through the bulk API: calcfunction triples Int -> calc -> Int, plus one
"hub" calculation with 120 inputs and 79 outputs (a neighbourhood of 200 nodes). Then starts
``provgraph restapi`` in a child process and measures over HTTP:

- p95 of ``GET /nodes/{pk}`` and of ``GET /nodes/{pk}/links/incoming`` (target <= 100 ms);
- median of ``GET /nodes/{hub}/graph`` returning 200 nodes (target <= 200 ms);
- ``POST /querybuilder`` minus the same query run in Python (target <= 20 ms);
- ``--clients`` concurrent clients (default 50) for ``--seconds`` (default 20; the issue says 60):
  requests, errors (target: none), throughput and p95.

Figures are printed, never asserted; the last line is ``RESULT {...}`` (JSON).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from _backend import use_backend

from provgraph.common.links import LinkType
from provgraph.orm import CalcFunctionNode, Int, QueryBuilder
from provgraph.orm.bulk import store_graph

BATCH = 30_000
HUB_INPUTS, HUB_OUTPUTS = 120, 79


def _int(value: int, tag: str, role: str) -> Int:
    node = Int(value)
    node.base.extras.set_many({"bench": tag, "role": role})
    return node


def ensure_graph(total: int, tag: str) -> None:
    """Build the benchmark graph unless an earlier run did."""
    if QueryBuilder().append(CalcFunctionNode, filters={"extras.bench": tag, "extras.role": "hub"}).count():
        print(f"reusing the graph {tag}")
        return
    began = time.perf_counter()
    hub = CalcFunctionNode()
    hub.base.extras.set_many({"bench": tag, "role": "hub"})
    nodes: list = [hub]
    links: list = []
    for i in range(HUB_INPUTS):
        nodes.append(_int(i, tag, "hub_in"))
        links.append((len(nodes) - 1, 0, LinkType.INPUT_CALC, f"x{i}"))
    for i in range(HUB_OUTPUTS):
        nodes.append(_int(i, tag, "hub_out"))
        links.append((0, len(nodes) - 1, LinkType.CREATE, f"out{i}"))
    store_graph(nodes, links)
    nodes, links = [], []
    for i in range((total - 200) // 3):
        calc = CalcFunctionNode()
        calc.base.extras.set_many({"bench": tag, "role": "calc"})
        nodes += [_int(i % 300, tag, "in"), calc, _int(i, tag, "out")]
        links += [(len(nodes) - 3, len(nodes) - 2, LinkType.INPUT_CALC, "x"),
                  (len(nodes) - 2, len(nodes) - 1, LinkType.CREATE, "result")]
        if len(nodes) >= BATCH:
            store_graph(nodes, links)
            nodes, links = [], []
            print(f"  built {i * 3:,} nodes", flush=True)
    if nodes:
        store_graph(nodes, links)
    print(f"built {total:,} nodes in {time.perf_counter() - began:.1f} s", flush=True)


def start_server(profile: str, port: int) -> subprocess.Popen:
    """``provgraph restapi`` in a child process, once it answers."""
    import httpx

    command = [str(Path(sys.executable).parent / "provgraph"), "-p", profile, "restapi", "--port", str(port)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/info", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
        if server.poll() is not None:
            raise SystemExit(f"provgraph restapi exited: {server.stderr.read().decode()}")
    server.kill()
    raise SystemExit("provgraph restapi did not answer within 60 s")


def timed(client, method: str, url: str, **kwargs) -> float:
    """Milliseconds of one request (which must succeed)."""
    began = time.perf_counter()
    response = client.request(method, url, **kwargs)
    elapsed = (time.perf_counter() - began) * 1000
    response.raise_for_status()
    return elapsed


def p95(values: list[float]) -> float:
    """The 95th percentile."""
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def load_test(base: str, pks: list[int], clients: int, seconds: float) -> dict:
    """``clients`` threads hitting node, links and search endpoints for ``seconds``."""
    import httpx

    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker(seed: int) -> None:
        chooser = random.Random(seed)
        with httpx.Client(base_url=base, timeout=30) as client:
            while time.monotonic() < stop:
                pk = chooser.choice(pks)
                url = chooser.choice([f"/api/v1/nodes/{pk}", f"/api/v1/nodes/{pk}/links/incoming",
                                      f"/api/v1/nodes/{pk}/links/outgoing", "/api/v1/processes?limit=10"])
                try:
                    elapsed = timed(client, "GET", url)
                except Exception as exc:  # noqa: BLE001 - every failure counts as an error
                    with lock:
                        errors.append(f"{url}: {exc}")
                    continue
                with lock:
                    latencies.append(elapsed)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"requests": len(latencies) + len(errors), "errors": len(errors), "first_errors": errors[:3],
            "per_s": round(len(latencies) / seconds, 1), "p95_ms": round(p95(latencies), 1) if latencies else None}


def main() -> None:
    """Build or reuse the graph, start the server, print the figures."""
    import httpx

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("neo4j", "sqlite"), default="neo4j")
    parser.add_argument("--nodes", type=int, default=int(os.environ.get("BENCH_WEB_NODES", 30_000)),
                        help="graph size (the issue's figure is 1000000)")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--samples", type=int, default=100)
    args = parser.parse_args()
    tag = f"web-bench-{args.nodes}"
    profile = use_backend(args.backend, keep=f"web-{args.nodes}")
    ensure_graph(args.nodes, tag)
    hub = QueryBuilder().append(CalcFunctionNode, filters={"extras.bench": tag, "extras.role": "hub"},
                                project="pk").first(flat=True)
    calcs = QueryBuilder().append(CalcFunctionNode, filters={"extras.bench": tag, "extras.role": "calc"},
                                  project="pk").limit(5000).all(flat=True)
    from provgraph.web.browser import free_port

    port = free_port()
    server = start_server(profile, port)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=60) as client:
            sample = random.Random(1).sample(calcs, min(args.samples, len(calcs)))
            timed(client, "GET", f"/api/v1/nodes/{sample[0]}")  # warm up
            node_ms = [timed(client, "GET", f"/api/v1/nodes/{pk}") for pk in sample]
            links_ms = [timed(client, "GET", f"/api/v1/nodes/{pk}/links/incoming") for pk in sample]
            graph = client.get(f"/api/v1/nodes/{hub}/graph", params={"max_nodes": 200}).json()
            graph_ms = [timed(client, "GET", f"/api/v1/nodes/{hub}/graph", params={"max_nodes": 200})
                        for _ in range(20)]
            spec = {"path": [{"cls": "CalcFunctionNode", "tag": "c"}, {"cls": "Int", "tag": "i",
                                                                       "joining_keyword": "with_outgoing",
                                                                       "joining_value": "c"}],
                    "filters": {"c": {"pk": hub}}, "project": {"i": ["pk", "attributes.value"]},
                    "order_by": [{"i": ["pk"]}], "limit": 100}
            python_ms, http_ms = [], []
            for _ in range(20):
                began = time.perf_counter()
                qb = QueryBuilder().append(CalcFunctionNode, tag="c", filters={"pk": hub})
                qb.append(Int, tag="i", with_outgoing="c", project=["pk", "attributes.value"])
                qb.order_by({"i": ["pk"]}).limit(100)
                qb.count()
                qb.dict()
                python_ms.append((time.perf_counter() - began) * 1000)
                http_ms.append(timed(client, "POST", "/api/v1/querybuilder", json=spec))
        load = load_test(base, calcs, args.clients, args.seconds)
    finally:
        server.terminate()
        server.wait(timeout=30)
    figures = {
        "node_page_p95_ms": round(p95(node_ms), 1), "links_p95_ms": round(p95(links_ms), 1),
        "graph_nodes": len(graph["nodes"]), "graph_median_ms": round(statistics.median(graph_ms), 1),
        "querybuilder_overhead_ms": round(statistics.median(http_ms) - statistics.median(python_ms), 1),
        "load": load,
    }
    print(f"backend {args.backend}, {args.nodes:,} nodes")
    print(f"node page p95          {figures['node_page_p95_ms']:8.1f} ms   (target <= 100)")
    print(f"links API p95          {figures['links_p95_ms']:8.1f} ms   (target <= 100)")
    print(f"graph of {figures['graph_nodes']} nodes     {figures['graph_median_ms']:8.1f} ms   (target <= 200)")
    print(f"POST /querybuilder     {figures['querybuilder_overhead_ms']:8.1f} ms over Python (target <= 20)")
    print(f"{args.clients} clients x {args.seconds:.0f} s: {load['requests']} requests, {load['errors']} errors, "
          f"{load['per_s']}/s, p95 {load['p95_ms']} ms (target: no error)")
    print("RESULT " + json.dumps({"bench": "web", "backend": args.backend, "nodes": args.nodes, **figures}))


if __name__ == "__main__":
    main()
