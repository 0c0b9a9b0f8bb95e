"""Archive benchmark (issue 8): export and import N nodes with links and small files, on both backends.

The graph is N/5 units of ``x, y -> calc -> sum, file``: two Int inputs (INPUT_CALC), a
CalcFunctionNode, an Int and a SinglefileData it created (CREATE) holding a small unique file;
a group holds the calculations, and the export follows the default traversal rules from it.

Steps, each timed in a child process of its own (so its peak RSS is its own):

1. generate the graph in a throw-away sqlite profile (not timed);
2. export it (sqlite) -> archive A;  3. import A into a fresh sqlite profile;
4. import A into the neo4j ``services`` profile;  5. export it from neo4j -> archive B;
6. remove the benchmark's nodes from neo4j again.

Steps 4-6 run when ``neo4j`` is in ``$BENCH_ARCHIVE_BACKENDS`` (default ``sqlite,neo4j``).
N: ``$BENCH_ARCHIVE_NODES`` (default 100,000). Prints nodes/s each way, archive sizes and peak
RSS per step (and the step's CPU seconds: on a loaded machine wall time includes waiting for a
core), then one ``RESULT {...}`` JSON line. Targets on 2 cores: export >= 20,000 nodes/s,
import >= 10,000 nodes/s, peak RSS <= 500 MiB.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

N_NODES = int(os.environ.get("BENCH_ARCHIVE_NODES", 100_000))
BACKENDS = os.environ.get("BENCH_ARCHIVE_BACKENDS", "sqlite,neo4j").split(",")
UNIT = 5
BATCH_UNITS = 1000
#: the configuration directory of the services profile (this script points PROVGRAPH_HOME elsewhere)
ORIGINAL_HOME = os.environ.get("PROVGRAPH_HOME")


def _use(home: Path | None, profile: str) -> None:
    if home is not None:
        os.environ["PROVGRAPH_HOME"] = str(home)
    from provgraph.profiles import load_profile

    load_profile(profile)


def _make_profiles(root: Path) -> Path:
    from provgraph.profiles import Config, Profile

    home = root / "home"
    for name in ("bench-src", "bench-dst"):
        Config(home).store(Profile(
            name=name, storage={"backend": "sqlite", "config": {"path": str(root / name / "storage.sqlite")}},
            repository={"backend": "local", "config": {"path": str(root / name / "repository")}}, broker={}))
    return home


def _unit_records(index: int, key: str, stamp: datetime) -> list:
    from provgraph.storage.base import NodeRecord

    def node(node_type: str, labels: tuple[str, ...], attributes: dict, repository: dict | None = None):
        return NodeRecord(uuid=str(uuid.uuid4()), node_type=node_type, labels=("Node", *labels), ctime=stamp,
                          mtime=stamp, user="bench@example.com", attributes=attributes,
                          repository=repository or {})

    data = ("Data", "Int")
    return [
        node("data.core.int", data, {"value": index}),
        node("data.core.int", data, {"value": 2 * index}),
        node("process.calculation.calcfunction", ("ProcessNode", "CalculationNode", "CalcFunctionNode"),
             {"process_state": "finished", "exit_status": 0, "sealed": True, "function_name": "add"}),
        node("data.core.int", data, {"value": 3 * index}),
        node("data.core.singlefile", ("Data", "SinglefileData"), {"filename": "out.txt"}, {"out.txt": key}),
    ]


def generate(group_label: str) -> None:
    """Store the benchmark graph in the current profile (records straight through nodes.store)."""
    from provgraph.common.links import LinkRecord, LinkType
    from provgraph.orm.backend import get_backend, get_repository
    from provgraph.storage.entities import GroupRecord

    backend, repository = get_backend(), get_repository()
    stamp = datetime.now(timezone.utc)
    group_pk = backend.groups.store(GroupRecord(label=group_label))
    units = N_NODES // UNIT
    with ThreadPoolExecutor(8) as pool:
        for start in range(0, units, BATCH_UNITS):
            count = min(BATCH_UNITS, units - start)
            contents = [f"output of unit {start + i}: {uuid.uuid4()}\n".encode() * 3 for i in range(count)]
            keys = list(pool.map(repository.put_object_from_bytes, contents))
            records, links = [], []
            for i, key in enumerate(keys):
                base = len(records)
                records += _unit_records(start + i, key, stamp)
                x, y, calc, total, file = (-(base + j + 1) for j in range(UNIT))
                links += [LinkRecord(x, calc, LinkType.INPUT_CALC, "x"), LinkRecord(y, calc, LinkType.INPUT_CALC, "y"),
                          LinkRecord(calc, total, LinkType.CREATE, "sum"),
                          LinkRecord(calc, file, LinkType.CREATE, "file")]
            pks = backend.nodes.store(records, links)
            backend.groups.add_nodes(group_pk, pks[2::UNIT])


def phase(kind: str, group_label: str, path: str) -> dict:
    """Run one timed step in this (child) process and return its figures."""
    from provgraph.archive import create_archive, import_archive

    started = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = before.ru_utime + before.ru_stime
    if kind == "export":
        nodes = create_archive(path, groups=[group_label], overwrite=True).counts["nodes"]
    elif kind == "import":
        report = import_archive(path)
        nodes = report.nodes_new + report.nodes_existing
    else:
        nodes = _cleanup(group_label)
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"step": kind, "nodes": nodes, "seconds": round(seconds, 2), "nodes_per_s": round(nodes / seconds),
            "cpu_seconds": round(usage.ru_utime + usage.ru_stime - cpu_before, 2),
            "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "archive_bytes": Path(path).stat().st_size if Path(path).exists() else None}


def _cleanup(group_label: str) -> int:
    from provgraph.archive.rules import export_rules
    from provgraph.orm.backend import get_backend

    backend = get_backend()
    group = backend.groups.get(label=group_label)
    pks = sorted(backend.nodes.traverse(backend.groups.node_pks(group.pk), export_rules()))
    backend.groups.delete(group.pk)
    for start in range(0, len(pks), 10_000):
        backend.nodes.delete(pks[start:start + 10_000])
    return len(pks)


def _child(kind: str, home: Path | None, profile: str, group_label: str, path: Path) -> dict:
    env = dict(os.environ)
    env.pop("PROVGRAPH_HOME", None)
    if home is not None or ORIGINAL_HOME is not None:
        env["PROVGRAPH_HOME"] = str(home if home is not None else ORIGINAL_HOME)
    output = subprocess.run([sys.executable, __file__, "phase", kind, profile, group_label, str(path)],
                            env=env, capture_output=True, text=True)
    if output.returncode != 0:
        raise RuntimeError(f"{kind} on {profile} failed:\n{output.stdout}\n{output.stderr}")
    return json.loads(output.stdout.strip().splitlines()[-1])


def main() -> None:
    """Run every step and print the figures."""
    root = Path(tempfile.mkdtemp(prefix="bench-archive-"))
    home = _make_profiles(root)
    group_label = f"bench-archive-{uuid.uuid4().hex[:8]}"
    _use(home, "bench-src")
    started = time.perf_counter()
    generate(group_label)
    print(f"generated {N_NODES} nodes in {time.perf_counter() - started:.1f} s (sqlite)", flush=True)
    results = {}
    steps = [("sqlite export", "export", home, "bench-src", root / "a.zip"),
             ("sqlite import", "import", home, "bench-dst", root / "a.zip")]
    if "neo4j" in BACKENDS:
        steps += [("neo4j import", "import", None, "services", root / "a.zip"),
                  ("neo4j export", "export", None, "services", root / "b.zip"),
                  ("neo4j cleanup", "cleanup", None, "services", root / "none")]
    for name, kind, step_home, profile, path in steps:
        figures = _child(kind, step_home, profile, group_label, path)
        results[name] = figures
        size = f", archive {figures['archive_bytes'] / 2**20:.1f} MiB" if kind == "export" else ""
        print(f"{name:14s} {figures['nodes']:>7d} nodes in {figures['seconds']:7.2f} s = "
              f"{figures['nodes_per_s']:>6d} nodes/s (CPU {figures['cpu_seconds']:.2f} s), "
              f"peak RSS {figures['peak_rss_mib']:.0f} MiB{size}", flush=True)
    print("RESULT " + json.dumps({"bench": "archive", "nodes": N_NODES, "steps": results}))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "phase":
        _kind, _profile, _group, _path = sys.argv[2:6]
        _use(None, _profile)
        print(json.dumps(phase(_kind, _group, _path)))
    else:
        main()
