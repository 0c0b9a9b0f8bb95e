"""Run the ingest and query benchmarks on both backends and print their figures side by side.

Each benchmark runs as ``bench/<name>.py --backend <backend>`` in its own process (their output
is echoed with a ``[name/backend]`` prefix), then one table lists every figure per backend.
Sizes come from the benchmarks' own environment variables (BENCH_QUERY_NODES, BENCH_INGEST_DICTS...).
Ends with one ``RESULT {...}`` JSON line holding every figure.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = ("ingest", "query")
BACKENDS = ("neo4j", "sqlite")


def run(name: str, backend: str) -> dict:
    """Run one benchmark on one backend, echoing its output; return its RESULT figures."""
    process = subprocess.Popen([sys.executable, str(HERE / f"{name}.py"), "--backend", backend],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    result: dict = {}
    for line in process.stdout:
        print(f"[{name}/{backend}] {line}", end="", flush=True)
        if line.startswith("RESULT "):
            result = json.loads(line[len("RESULT "):])
    if process.wait() != 0:
        raise SystemExit(f"bench/{name}.py --backend {backend} failed with exit status {process.returncode}")
    return result


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def table(results: dict[tuple[str, str], dict], backends: list[str]) -> str:
    """The figures of every benchmark, one row per figure, one column per backend."""
    rows = [("figure", *backends)]
    for name in dict.fromkeys(name for name, _ in results):
        keys = dict.fromkeys(k for (n, _), figures in results.items() if n == name for k in figures)
        for key in keys:
            if key in ("bench", "backend"):
                continue
            rows.append((f"{name}.{key}", *(_cell(results.get((name, b), {}).get(key, "-")) for b in backends)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                       for i, (cell, w) in enumerate(zip(row, widths, strict=True))) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main() -> None:
    """Run the chosen benchmarks on the chosen backends and print the comparison table."""
    parser = argparse.ArgumentParser(description="ingest and query benchmarks on neo4j and sqlite, side by side")
    parser.add_argument("--bench", nargs="+", choices=BENCHMARKS, default=list(BENCHMARKS))
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS))
    args = parser.parse_args()
    results = {(name, backend): run(name, backend) for name in args.bench for backend in args.backends}
    print()
    print(table(results, args.backends))
    print("RESULT " + json.dumps({"bench": "compare",
                                  **{f"{b}.{n}": {k: v for k, v in r.items() if k not in ("bench", "backend")}
                                     for (n, b), r in results.items()}}))


if __name__ == "__main__":
    main()
