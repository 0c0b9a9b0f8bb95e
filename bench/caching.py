"""Caching benchmark (issue 15): N CalcJobs of which half repeat earlier ones, with caching on.

Runs ``ArithmeticAddCalculation`` (``bash`` on ``echo $((x + y))``) through core.local +
core.direct in this interpreter: first N/2 distinct jobs (all run for real, their hashes
stored), then the same N/2 inputs again (all served from the cache: outputs cloned, no
transport). Prints the mean time of a real and of a cached job, their ratio (issue target: a
cached job costs < 5 % of a real one) and the time the cache saved, then one ``RESULT {...}``
JSON line.

N: ``$BENCH_CACHING_JOBS`` (default 1,000). ``--backend neo4j|sqlite`` as the other benchmarks
(neo4j: the services profile).
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from _backend import parse_backend, use_backend

N_JOBS = int(os.environ.get("BENCH_CACHING_JOBS", 1_000))
OPTIONS = {"resources": {"num_machines": 1, "num_mpiprocs_per_machine": 1}}


def _code(workdir: Path):  # noqa: ANN202 - an InstalledCode
    from provgraph.orm.computers import Computer
    from provgraph.orm.nodes.data.code import InstalledCode

    computer = Computer(f"bench-cache-{uuid.uuid4().hex[:8]}", "localhost", "core.local", "core.direct",
                        workdir=str(workdir), metadata={"minimum_job_poll_interval": 0.1}).store()
    return InstalledCode(computer=computer, filepath_executable="/bin/bash", label="bash").store()


def _timed_runs(code, values: range) -> tuple[list[float], list]:  # noqa: ANN001
    from provgraph.engine import run
    from provgraph.engine.examples_calcjobs import ArithmeticAddCalculation
    from provgraph.orm import Int

    times, nodes = [], []
    for value in values:
        start = time.perf_counter()
        _, node = run.get_node(ArithmeticAddCalculation, code=code, x=Int(value), y=Int(1),
                               metadata={"options": OPTIONS})
        times.append(time.perf_counter() - start)
        nodes.append(node)
    return times, nodes


def main() -> None:
    """Run the workload and print the figures."""
    backend = use_backend(parse_backend(__doc__))
    from provgraph.manage.caching import enable_caching

    half = max(N_JOBS // 2, 1)
    salt = int(time.time()) * 10_000  # distinct inputs per run: earlier runs of the benchmark are no cache
    with tempfile.TemporaryDirectory(prefix="provgraph-bench-cache-") as folder, enable_caching():
        code = _code(Path(folder))
        real, first = _timed_runs(code, range(salt, salt + half))
        cached, second = _timed_runs(code, range(salt, salt + half))
    assert all(node.is_finished_ok for node in first + second)
    hits = sum(node.base.caching.get_cache_source() is not None for node in second)
    mean_real, mean_cached = statistics.mean(real), statistics.mean(cached)
    saved = sum(real) - sum(cached)
    print(f"backend {backend}: {half} real jobs, {half} repeats ({hits} served from the cache)")
    print(f"mean real job   {mean_real * 1000:8.1f} ms")
    print(f"mean cached job {mean_cached * 1000:8.1f} ms  ({100 * mean_cached / mean_real:.1f} % of a real one)")
    print(f"time saved by caching: {saved:.1f} s of {sum(real) * 2:.1f} s without it")
    print("RESULT " + json.dumps({
        "benchmark": "caching", "backend": backend, "jobs": 2 * half, "cache_hits": hits,
        "mean_real_s": round(mean_real, 4), "mean_cached_s": round(mean_cached, 4),
        "cached_fraction": round(mean_cached / mean_real, 4), "saved_s": round(saved, 2),
    }))


if __name__ == "__main__":
    main()
