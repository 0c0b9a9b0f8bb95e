"""CalcJob benchmark (issue 6): N CalcJobs of a trivial executable via core.local + core.direct on 2 workers.

On the ``services`` profile (real Neo4j, RabbitMQ, MinIO). Submits N ``ArithmeticAddCalculation``
(``bash`` on an input file holding ``echo $((x + y))``) to two workers started with ``provgraph
worker start --workers 2`` on a queue of their own, waits until all ended, and prints:

- CalcJobs/hour from the first submit until the last one ended (target on 2 cores: >= 10,000);
- scheduler status queries issued, against the job states they reported: without batching
  each of those would have been a query of its own (``jobs × polls``);
- transport connections opened (per worker process, reused, fleet-wide safe interval).

The counts come from the workers' statistics file (``$PROVGRAPH_CALCJOB_STATS``).
N: ``$BENCH_CALCJOBS`` (default 1,000); pool processes per worker ``$BENCH_CALCJOBS_CONCURRENCY``
(default 4: the steps mostly wait for Neo4j and MinIO); the computer's poll interval
``$BENCH_CALCJOBS_POLL`` seconds (default 2).
Prints the figures, then one ``RESULT {...}`` JSON line.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from click.testing import CliRunner

from provgraph.cli.main import cli
from provgraph.common.states import TERMINAL_STATES
from provgraph.engine import submit
from provgraph.engine.celery.app import QUEUE_ENV, current_app
from provgraph.engine.celery.tasks import install_submitter
from provgraph.engine.examples_calcjobs import ArithmeticAddCalculation
from provgraph.engine.launch import set_submitter
from provgraph.orm import Int, ProcessNode, QueryBuilder
from provgraph.orm.computers import Computer
from provgraph.orm.nodes.data.code import InstalledCode
from provgraph.profiles import load_profile

N_JOBS = int(os.environ.get("BENCH_CALCJOBS", 1_000))
CONCURRENCY = int(os.environ.get("BENCH_CALCJOBS_CONCURRENCY", 4))
POLL = float(os.environ.get("BENCH_CALCJOBS_POLL", 2.0))
TIMEOUT = float(os.environ.get("BENCH_CALCJOBS_TIMEOUT", 1800))
TERMINAL = [state.value for state in TERMINAL_STATES]


def cli_call(*args: str) -> str:
    """``provgraph -p services ARGS`` in this interpreter; raise with the output on failure."""
    result = CliRunner().invoke(cli, ["-p", "services", *args], catch_exceptions=False)
    if result.exit_code != 0:
        raise RuntimeError(f"provgraph {' '.join(args)} failed:\n{result.output}")
    return result.output


@contextmanager
def fleet(stats_file: Path) -> Iterator[Path]:
    """Two workers on a fresh queue, recording CalcJob statistics; always stopped, queue deleted, env restored."""
    directory = Path(tempfile.mkdtemp(prefix="provgraph-bench-cj-workers-"))
    queue = f"provgraph-bench-cj-{uuid.uuid4().hex[:12]}"
    settings = {QUEUE_ENV: queue, "PROVGRAPH_WORKERS_DIR": str(directory), "PROVGRAPH_CALCJOB_STATS": str(stats_file)}
    saved = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)
    try:
        print(cli_call("worker", "start", "--workers", "2", "--concurrency", str(CONCURRENCY)).strip())
        install_submitter()
        yield directory
    finally:
        set_submitter(None)
        try:
            print(cli_call("worker", "stop", "--timeout", "30").strip())
        finally:
            with current_app().connection_for_write() as connection:
                connection.default_channel.queue_delete(queue)
            for name, value in saved.items():
                os.environ.pop(name, None) if value is None else os.environ.__setitem__(name, value)


def count(pks: Sequence[int], states: Sequence[str], **extra: object) -> int:
    """How many of ``pks`` are in one of ``states`` (one QueryBuilder count)."""
    filters = {"pk": {"in": list(pks)}, "attributes.process_state": {"in": list(states)}, **extra}
    return QueryBuilder().append(ProcessNode, filters=filters).count()


def read_stats(path: Path) -> dict[str, int]:
    """event -> total count of the workers' statistics lines."""
    totals: dict[str, int] = {}
    for line in path.read_text().splitlines() if path.exists() else []:
        event, _, number = line.split()[:3]
        totals[event] = totals.get(event, 0) + int(number)
    return totals


def timeline(path: Path, start: float) -> dict[str, list[float]]:
    """event -> the seconds after ``start`` at which the workers recorded it."""
    times: dict[str, list[float]] = {}
    for line in path.read_text().splitlines() if path.exists() else []:
        event, _, _, when = line.split()
        times.setdefault(event, []).append(round(float(when) - start, 1))
    return times


def main() -> None:
    """Run the benchmark and print the figures."""
    load_profile("services")
    workdir = Path(tempfile.mkdtemp(prefix="provgraph-bench-cj-runs-"))
    stats_file = workdir / "stats.txt"
    computer = Computer(f"bench-cj-{uuid.uuid4().hex[:8]}", "localhost", "core.local", "core.direct",
                        workdir=str(workdir / "work"), metadata={"minimum_job_poll_interval": POLL}).store()
    code = InstalledCode(computer=computer, filepath_executable="/bin/bash", label="bash").store()
    print(f"{N_JOBS} CalcJobs (bash on an input file) via core.local + core.direct, 2 workers x {CONCURRENCY}, "
          f"poll interval {POLL} s")
    try:
        with fleet(stats_file):
            began, wall = time.perf_counter(), time.time()
            pks = [submit(ArithmeticAddCalculation, code=code, x=Int(i), y=Int(1)).pk for i in range(N_JOBS)]
            submitted = time.perf_counter() - began
            deadline = time.monotonic() + TIMEOUT
            while (ended := count(pks, TERMINAL)) < N_JOBS:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"only {ended} of {N_JOBS} CalcJobs ended after {TIMEOUT:.0f} s")
                time.sleep(1.0)
            elapsed = time.perf_counter() - began
        ok = count(pks, ["finished"], **{"attributes.exit_status": 0})
        stats = read_stats(stats_file)
        times = timeline(stats_file, wall)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    per_hour = N_JOBS / elapsed * 3600
    queries, job_states = stats.get("poll", 0), stats.get("polled_jobs", 0)
    print(f"  submitted {N_JOBS} in {submitted:.1f} s, all ended after {elapsed:.1f} s; finished OK: {ok}")
    print(f"  CalcJobs/hour: {per_hour:,.0f} (target >= 10,000)")
    print(f"  scheduler submissions: {stats.get('submit', 0)}")
    print(f"  scheduler status queries: {queries}, reporting {job_states} job states "
          f"(unbatched that would be {job_states} queries: {job_states / max(queries, 1):.1f} jobs per query)")
    print(f"  transport connections opened: {stats.get('open', 0)}")
    submits = sorted(times.get("submit", [0.0]))
    print(f"  jobs submitted to the scheduler from {submits[0]} s to {submits[-1]} s; status queries at "
          f"{sorted(times.get('poll', []))} s")
    print("RESULT " + json.dumps({
        "bench": "calcjobs", "jobs": N_JOBS, "seconds": round(elapsed, 1), "calcjobs_per_hour": round(per_hour),
        "finished_ok": ok, "submissions": stats.get("submit", 0), "status_queries": queries,
        "job_states_reported": job_states, "connections_opened": stats.get("open", 0),
    }))


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stop the workers and delete the queue on TERM too
    main()
