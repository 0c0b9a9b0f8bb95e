"""aiida-core and provgraph side by side: the same workloads in one run, one table of figures and ratios.

``make bench-aiida`` installs aiida-core into its own virtualenv (``bench/.aiida-venv``) and runs
this script. It makes a throw-away aiida-core ``presto`` profile (sqlite_dos, under
``bench/.aiida-home``), a throw-away provgraph sqlite profile, and uses the ``services``
profile's Neo4j; runs ``bench/_workloads.py`` (the same code on both: bulk ingest, store()
loop, store() inside a transaction, calcfunction run, QueryBuilder attribute filter and join,
chain and lattice ancestors/descendants, first call and warm, peak RSS) on each, and
``bench/neo4j_limit.py`` for the bare driver's rates on the same server. Prints one table,
the ratios against aiida-core and Neo4j's limit, and one ``RESULT {...}`` line.

Sized for a shared 2-core machine (a few minutes); ``--scale 10`` gives the issue's sizes
for the rates (``--scale`` multiplies every count).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
AIIDA_VENV = HERE / ".aiida-venv"
AIIDA_HOME = HERE / ".aiida-home"
#: figure -> (higher is better, target against aiida-core, target as a fraction of Neo4j's limit, limit figure)
TARGETS = {
    "bulk_ingest_nodes_per_s": (True, 1.5, 0.6, "unwind_nodes_per_s"),
    "store_loop_nodes_per_s": (True, None, 0.8, "autocommit_nodes_per_s"),
    "store_in_transaction_nodes_per_s": (True, None, None, None),
}


def child(command: list[str], env: dict[str, str], label: str) -> dict:
    """Run one measuring process, echoing its output; return its RESULT figures (empty when it failed)."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                               cwd=HERE)
    result: dict = {}
    for line in process.stdout:
        if line.startswith("RESULT "):
            result = json.loads(line[len("RESULT "):])
        print(f"[{label}] {line}", end="", flush=True)  # RESULT lines too: a long run's parts are never lost
    if process.wait() != 0:
        print(f"[{label}] failed with exit status {process.returncode}", flush=True)
    return result


def aiida_profile(python: Path) -> tuple[str, dict[str, str]]:
    """A fresh aiida-core presto profile (sqlite_dos) under bench/.aiida-home; return its name and environment."""
    name = f"bench-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "AIIDA_PATH": str(AIIDA_HOME)}
    verdi = python.parent / "verdi"
    subprocess.run([str(verdi), "presto", "--profile-name", name], env=env, check=True, capture_output=True)
    return name, env


def provgraph_sqlite_env() -> dict[str, str]:
    """The environment of a throw-away provgraph sqlite profile (``bench-sqlite``) in a temporary folder."""
    from provgraph.profiles import Config, Profile

    root = Path(tempfile.mkdtemp(prefix="provgraph-side-by-side-"))
    profile = Profile(name="bench-sqlite",
                      storage={"backend": "sqlite", "config": {"path": str(root / "storage.sqlite")}},
                      repository={"backend": "local", "config": {"path": str(root / "repository")}}, broker={})
    Config(root / "home").store(profile, make_default=True)
    return {**os.environ, "PROVGRAPH_HOME": str(root / "home"), "PROVGRAPH_PROFILE": "bench-sqlite"}


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and value < 100:
        return f"{value:,.1f}"
    return f"{value:,.0f}" if isinstance(value, (int, float)) else str(value)


def _ratio(value: object, base: object, higher_better: bool) -> str:
    if not isinstance(value, (int, float)) or not isinstance(base, (int, float)) or not value or not base:
        return "-"
    return f"{(value / base if higher_better else base / value):.2f}x"


def table(results: dict[str, dict], limit: dict) -> str:
    """One row per figure: aiida-core, provgraph sqlite, provgraph neo4j, their speed-ups, Neo4j's limit."""
    header = ("figure", "aiida-core", "pg sqlite", "pg neo4j", "sqlite/aiida", "neo4j/aiida", "neo4j limit",
              "neo4j/limit")
    rows = [header]
    keys = dict.fromkeys(k for figures in results.values() for k in figures)
    for key in keys:
        higher = key.endswith("_per_s")
        aiida, sqlite, neo4j = (results[s].get(key) for s in ("aiida", "sqlite", "neo4j"))
        limit_key = TARGETS.get(key, (None, None, None, None))[3]
        bare = limit.get(limit_key) if limit_key else None
        rows.append((key, _cell(aiida), _cell(sqlite), _cell(neo4j), _ratio(sqlite, aiida, higher),
                     _ratio(neo4j, aiida, higher), _cell(bare), _ratio(neo4j, bare, True) if bare else "-"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))
             for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def verdicts(results: dict[str, dict], limit: dict) -> list[str]:
    """Hit or miss of the issue's targets that this run measures."""
    lines = []
    neo4j, aiida = results.get("neo4j", {}), results.get("aiida", {})
    for key, (_, vs_aiida, vs_limit, limit_key) in TARGETS.items():
        value = neo4j.get(key)
        if value is None:
            continue
        if vs_aiida and aiida.get(key):
            ratio = value / aiida[key]
            lines.append(f"neo4j {key} vs aiida-core: {ratio:.2f}x (target >= {vs_aiida}) "
                         f"{'HIT' if ratio >= vs_aiida else 'MISS'}")
        if vs_limit and limit.get(limit_key):
            ratio = value / limit[limit_key]
            lines.append(f"neo4j {key} vs bare driver: {ratio:.2f}x (target >= {vs_limit}) "
                         f"{'HIT' if ratio >= vs_limit else 'MISS'}")
    if neo4j.get("store_in_transaction_nodes_per_s"):
        rate = neo4j["store_in_transaction_nodes_per_s"]
        lines.append(f"neo4j store() inside transaction(): {rate:,.0f} nodes/s (target >= 3,000) "
                     f"{'HIT' if rate >= 3000 else 'MISS'}")
    return lines


def main() -> None:
    """Run every side, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies every workload's size (10: the issue's)")
    parser.add_argument("--aiida-python", type=Path, default=AIIDA_VENV / "bin" / "python",
                        help="interpreter with aiida-core installed (make bench-aiida makes bench/.aiida-venv)")
    sides = ["aiida", "sqlite", "neo4j"]
    parser.add_argument("--sides", nargs="+", default=sides, choices=sides)
    args = parser.parse_args()
    scale = str(args.scale)
    workloads = str(HERE / "_workloads.py")
    results: dict[str, dict] = {"aiida": {}, "sqlite": {}, "neo4j": {}}
    limit: dict = {}
    if "aiida" in args.sides:
        if not args.aiida_python.exists():
            raise SystemExit(f"no aiida-core interpreter at {args.aiida_python}: run `make bench-aiida`")
        name, env = aiida_profile(args.aiida_python)
        results["aiida"] = child([str(args.aiida_python), workloads, "aiida", name, scale], env, "aiida-core")
    if "sqlite" in args.sides:
        results["sqlite"] = child([sys.executable, workloads, "provgraph", "bench-sqlite", scale],
                                  provgraph_sqlite_env(), "provgraph sqlite")
    if "neo4j" in args.sides:
        env = {k: v for k, v in os.environ.items() if k not in ("PROVGRAPH_HOME", "PROVGRAPH_PROFILE")}
        limit = child([sys.executable, str(HERE / "neo4j_limit.py")], env, "neo4j limit")
        results["neo4j"] = child([sys.executable, workloads, "provgraph", "services", scale], env, "provgraph neo4j")
    print()
    print(table(results, limit))
    print()
    for line in verdicts(results, limit):
        print(line)
    print("RESULT " + json.dumps({"bench": "aiida_side_by_side", "scale": args.scale, **results, "neo4j_limit": limit}))


if __name__ == "__main__":
    main()
