"""Engine benchmark (issue 5): in-process calcfunctions, submitted WorkChains, waiting parents.

On the ``services`` profile (real Neo4j, RabbitMQ, MinIO), sized for a 2-core machine:

(a) ``run`` of N ``add`` calcfunctions in this interpreter → calcfunctions/s
    (N: ``$BENCH_ENGINE_CALCS``, default 2,000; the issue asks 2,000);
(b) M submitted ``AddMultiplyWorkChain`` on 2 workers (``provgraph worker start --workers 2``
    on a queue of its own) → workchains/hour, from the first submit until all ended
    (M: ``$BENCH_ENGINE_WORKCHAINS``, default 1,000; the issue asks 2,000);
(c) K submitted ``NestedAddMultiplyWorkChain`` (each submits a child WorkChain and waits for it)
    on the same workers → the peak number of parents ``waiting`` at once (QueryBuilder counts)
    and the peak RSS of each worker (``VmHWM`` of its main and pool processes)
    (K: ``$BENCH_ENGINE_PARENTS``, default 1,000; the issue asks 10,000).

Pool processes per worker: ``$BENCH_ENGINE_CONCURRENCY`` (default 2). The workers run the
periodic reconciler as in production. They are always stopped and the queue deleted at the end.
Prints the figures, then one ``RESULT {...}`` JSON line. Targets (2 cores): (a) >= 200/s,
(b) >= 60,000/hour, (c) >= 5,000 waiting parents with RSS <= 500 MiB per worker.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from click.testing import CliRunner

from provgraph.cli.main import cli
from provgraph.common.states import TERMINAL_STATES
from provgraph.engine import run, submit
from provgraph.engine.celery.app import QUEUE_ENV, current_app
from provgraph.engine.celery.tasks import install_submitter
from provgraph.engine.examples import AddMultiplyWorkChain, NestedAddMultiplyWorkChain, add
from provgraph.engine.launch import set_submitter
from provgraph.orm import Int, ProcessNode, QueryBuilder
from provgraph.profiles import load_profile

N_CALCS = int(os.environ.get("BENCH_ENGINE_CALCS", 2_000))
M_CHAINS = int(os.environ.get("BENCH_ENGINE_WORKCHAINS", 1_000))
K_PARENTS = int(os.environ.get("BENCH_ENGINE_PARENTS", 1_000))
CONCURRENCY = int(os.environ.get("BENCH_ENGINE_CONCURRENCY", 2))
#: seconds (b) and (c) may take each before the benchmark gives up
TIMEOUT = float(os.environ.get("BENCH_ENGINE_TIMEOUT", 900))
TERMINAL = [state.value for state in TERMINAL_STATES]


def cli_call(*args: str) -> str:
    """``provgraph -p services ARGS`` in this interpreter; raise with the output on failure."""
    result = CliRunner().invoke(cli, ["-p", "services", *args], catch_exceptions=False)
    if result.exit_code != 0:
        raise RuntimeError(f"provgraph {' '.join(args)} failed:\n{result.output}")
    return result.output


def bench_calcfunctions() -> float:
    """(a) calcfunctions/s of in-process ``run(add, ...)``."""
    began = time.perf_counter()
    for i in range(N_CALCS):
        run(add, x=Int(i), y=Int(1))
    return N_CALCS / (time.perf_counter() - began)


@contextmanager
def fleet() -> Iterator[Path]:
    """Two workers on a fresh queue and workers dir; always stopped, queue deleted, env restored."""
    names = (QUEUE_ENV, "PROVGRAPH_WORKERS_DIR")
    saved = {name: os.environ.get(name) for name in names}
    directory = Path(tempfile.mkdtemp(prefix="provgraph-bench-workers-"))
    queue = f"provgraph-bench-{uuid.uuid4().hex[:12]}"
    os.environ.update({QUEUE_ENV: queue, "PROVGRAPH_WORKERS_DIR": str(directory)})
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


def count(pks: Sequence[int], states: Sequence[str]) -> int:
    """How many of ``pks`` are in one of ``states`` (one QueryBuilder count)."""
    filters = {"pk": {"in": list(pks)}, "attributes.process_state": {"in": list(states)}}
    return QueryBuilder().append(ProcessNode, filters=filters).count()


def wait_all_ended(pks: Sequence[int], label: str, on_poll=None, poll: float = 0.5) -> None:
    """Poll until every one of ``pks`` ended (calling ``on_poll()`` each time); raise after TIMEOUT."""
    deadline = time.monotonic() + TIMEOUT
    while (ended := count(pks, TERMINAL)) < len(pks):
        if on_poll is not None:
            on_poll()
        if time.monotonic() > deadline:
            raise TimeoutError(f"{label}: only {ended} of {len(pks)} ended after {TIMEOUT:.0f} s")
        time.sleep(poll)


def bench_workchains() -> tuple[float, float, int]:
    """(b) Submit M AddMultiplyWorkChains; return (workchains/hour, seconds, finished OK)."""
    began = time.perf_counter()
    pks = [submit(AddMultiplyWorkChain, x=Int(i), y=Int(1), z=Int(2)).pk for i in range(M_CHAINS)]
    submitted = time.perf_counter() - began
    wait_all_ended(pks, "workchains")
    elapsed = time.perf_counter() - began
    print(f"  submitted {M_CHAINS} in {submitted:.1f} s, all ended after {elapsed:.1f} s")
    return M_CHAINS / elapsed * 3600, elapsed, count(pks, ["finished"])


def worker_pids(directory: Path) -> dict[int, list[int]]:
    """Worker index -> its main pid and all descendant pids (the prefork pool), from the pid files."""
    found = {}
    for pid_file in sorted(directory.glob("worker-*.pid")):
        main = int(pid_file.read_text().strip())
        found[int(pid_file.stem.split("-")[1])] = [main, *descendants(main)]
    return found


def descendants(pid: int) -> list[int]:
    """All descendants of ``pid`` (``/proc/<pid>/task/*/children``)."""
    result: list[int] = []
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            kids = [int(k) for k in children.read_text().split()]
        except OSError:
            continue
        for kid in kids:
            result += [kid, *descendants(kid)]
    return result


def status_kib(pid: int, field: str) -> int:
    """A ``/proc/<pid>/status`` memory field in KiB (0 if the process is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class RssSampler:
    """Samples each worker's RSS (main + pool, summed VmRSS) in a thread; keeps per-worker peaks.

    Also keeps the largest single-process high-water mark (VmHWM) seen.
    """

    def __init__(self, directory: Path, interval: float = 0.5) -> None:
        self.directory, self.interval = directory, interval
        self.peak_sum_kib: dict[int, int] = {}
        self.peak_hwm_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def sample(self) -> None:
        """One sample of every worker."""
        for index, pids in worker_pids(self.directory).items():
            total = sum(status_kib(pid, "VmRSS") for pid in pids)
            self.peak_sum_kib[index] = max(self.peak_sum_kib.get(index, 0), total)
            self.peak_hwm_kib = max([self.peak_hwm_kib, *(status_kib(pid, "VmHWM") for pid in pids)])

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> RssSampler:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


def bench_waiting_parents(directory: Path) -> tuple[int, float, int, RssSampler]:
    """(c) Submit K nested WorkChains; return (peak waiting parents, seconds, finished OK, RSS sampler)."""
    peak = 0

    def poll() -> None:
        nonlocal peak
        peak = max(peak, count(pks, ["waiting"]))

    with RssSampler(directory) as sampler:
        began = time.perf_counter()
        pks: list[int] = []
        for i in range(K_PARENTS):
            pks.append(submit(NestedAddMultiplyWorkChain, x=Int(i), y=Int(1), z=Int(2)).pk)
            if i % 100 == 99:
                poll()
        wait_all_ended(pks, "parents", on_poll=poll, poll=0.25)
        elapsed = time.perf_counter() - began
    return peak, elapsed, count(pks, ["finished"]), sampler


def mib(kib: int) -> float:
    """KiB → MiB."""
    return kib / 1024


def main() -> None:
    """Run (a), then (b) and (c) on one fleet of two workers; print the figures and RESULT."""
    load_profile(os.environ.get("PROVGRAPH_PROFILE", "services"))
    print(f"engine benchmark at {datetime.now(timezone.utc).isoformat(timespec='seconds')}, {os.cpu_count()} cores: "
          f"(a) {N_CALCS} calcfunctions in-process (issue: 2,000); (b) {M_CHAINS} AddMultiplyWorkChains "
          f"(issue: 2,000); (c) {K_PARENTS} parent WorkChains (issue: 10,000); 2 workers x {CONCURRENCY} pool")
    calcs = bench_calcfunctions()
    print(f"(a) calcfunctions in-process {calcs:10,.1f} /s     (target >= 200)")
    with fleet() as directory:
        chains_hour, chains_s, chains_ok = bench_workchains()
        print(f"(b) AddMultiplyWorkChains   {chains_hour:10,.0f} /hour  (target >= 60,000); "
              f"{chains_ok}/{M_CHAINS} finished in {chains_s:.1f} s")
        peak, parents_s, parents_ok, rss = bench_waiting_parents(directory)
    per_worker = {index: round(mib(kib), 1) for index, kib in sorted(rss.peak_sum_kib.items())}
    print(f"(c) peak waiting parents    {peak:10,d}        (target >= 5,000 at 10,000 parents); "
          f"{parents_ok}/{K_PARENTS} finished in {parents_s:.1f} s")
    print(f"    peak worker RSS (main + pool, summed) MiB per worker: {per_worker}  (target <= 500 each); "
          f"largest single-process VmHWM {mib(rss.peak_hwm_kib):.1f} MiB")
    print("RESULT " + json.dumps({
        "bench": "engine", "backend": "neo4j", "cores": os.cpu_count(), "concurrency": CONCURRENCY,
        "calcfunctions": N_CALCS, "calcfunctions_per_s": round(calcs, 1),
        "workchains": M_CHAINS, "workchains_finished": chains_ok, "workchains_seconds": round(chains_s, 1),
        "workchains_per_hour": round(chains_hour),
        "parents": K_PARENTS, "parents_finished": parents_ok, "parents_seconds": round(parents_s, 1),
        "peak_waiting_parents": peak, "peak_worker_rss_mib": per_worker,
        "peak_process_hwm_mib": round(mib(rss.peak_hwm_kib), 1)}))


if __name__ == "__main__":
    main()
