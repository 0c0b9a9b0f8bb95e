"""A LUMI-scale campaign (issue 18): N CalcJobs against a simulated cluster on 2 workers. Printed, not asserted.

The largest published AiiDA campaign ran 55,704 calculations on 1,500 LUMI nodes in ~13 h,
7,887 errors fixed by restart work chains. This replays its shape on the ``services``
profile (Neo4j, RabbitMQ, MinIO): N ``ArithmeticAddCalculation`` jobs, each in a restart work
chain (``bench/campaign_restart.py``) when this provgraph has ``BaseRestartWorkChain``, plain
CalcJobs otherwise, on 2 workers (``provgraph worker start --workers 2``) against
``core.simulated`` (jobs run a random duration, 14% fail transiently; no process per job),
or against the real SLURM over ssh with ``--scheduler core.slurm``.

    python bench/campaign.py                 # 500 jobs (default)
    python bench/campaign.py --jobs 55704    # the full campaign
    python bench/campaign.py --scheduler core.slurm --jobs 5000

Every 30 s the driver asks for the computer's poll chain (``CeleryWaker.ensure_polling``, a no-op
while a chain holds its lease): on this overloaded machine a poll round can outlast the chain's
lease, every chain then stops and, with all jobs submitted, no new CalcJob step starts one again
(seen in a 300-job run: stuck at 169 ended; reported as an engine issue).

Prints completion time, jobs/hour over time, scheduler queries/hour, peak worker RSS, the
Neo4j store size, the time of ``provgraph process list`` and of a QueryBuilder over the whole
campaign at the end, then one ``RESULT {...}`` JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from click.testing import CliRunner

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from campaign_restart import CampaignAddWorkChain  # noqa: E402

from provgraph.cli.main import cli  # noqa: E402
from provgraph.common.states import TERMINAL_STATES  # noqa: E402
from provgraph.engine import submit  # noqa: E402
from provgraph.engine.celery.app import QUEUE_ENV, current_app  # noqa: E402
from provgraph.engine.celery.calcjob_tasks import CeleryWaker  # noqa: E402
from provgraph.engine.celery.tasks import install_submitter  # noqa: E402
from provgraph.engine.examples_calcjobs import ArithmeticAddCalculation  # noqa: E402
from provgraph.engine.launch import set_submitter  # noqa: E402
from provgraph.orm import Int, ProcessNode, QueryBuilder  # noqa: E402
from provgraph.orm.computers import Computer  # noqa: E402
from provgraph.orm.nodes.data.code import InstalledCode  # noqa: E402
from provgraph.orm.nodes.node import default_user  # noqa: E402
from provgraph.orm.nodes.process.process import CalcJobNode  # noqa: E402
from provgraph.profiles import load_profile  # noqa: E402
from provgraph.schedulers.simulated import DIR_ENV, read_log, write_config  # noqa: E402
from provgraph.transports.local import LocalTransport  # noqa: E402

TERMINAL = [state.value for state in TERMINAL_STATES]
SERVICES = Path(os.environ.get("PROVGRAPH_SERVICES_DIR", HERE.parent / ".services"))


def options() -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=500, help="number of calculations (55704 for the full campaign)")
    parser.add_argument("--scheduler", choices=["core.simulated", "core.slurm"], default="core.simulated")
    parser.add_argument("--concurrency", type=int, default=4, help="pool processes per worker (2 workers)")
    parser.add_argument("--poll", type=float, default=5.0, help="the computer's minimum_job_poll_interval, s")
    parser.add_argument("--min-runtime", type=float, default=5.0, help="simulated job run time, low end, s")
    parser.add_argument("--max-runtime", type=float, default=30.0, help="simulated job run time, high end, s")
    parser.add_argument("--max-queue-time", type=float, default=5.0, help="simulated time pending, high end, s")
    parser.add_argument("--failure-fraction", type=float, default=0.14, help="simulated transient failures")
    parser.add_argument("--plain", action="store_true", help="plain CalcJobs even with BaseRestartWorkChain")
    parser.add_argument("--reconcile", action="store_true",
                        help="run the workers' reconciler (off by default: on the shared services database it "
                             "would also pick up other runs' processes)")
    parser.add_argument("--timeout", type=float, default=3 * 3600, help="give up after this many seconds")
    return parser.parse_args()


def cli_call(*args: str) -> str:
    """``provgraph -p services ARGS`` in this interpreter; raise with the output on failure."""
    result = CliRunner().invoke(cli, ["-p", "services", *args], catch_exceptions=False)
    if result.exit_code != 0:
        raise RuntimeError(f"provgraph {' '.join(args)} failed:\n{result.output}")
    return result.output


@contextmanager
def fleet(directory: Path, concurrency: int, env: dict[str, str], reconcile: bool) -> Iterator[Path]:
    """Two workers on a fresh queue with ``env``; always stopped, the queue deleted, the environment restored."""
    queue = f"provgraph-campaign-{uuid.uuid4().hex[:12]}"
    pythonpath = os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")]))
    settings = {QUEUE_ENV: queue, "PROVGRAPH_WORKERS_DIR": str(directory / "workers"), "PYTHONPATH": pythonpath,
                **env}
    saved = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)
    try:
        extra = [] if reconcile else ["--no-reconcile"]
        print(cli_call("worker", "start", "--workers", "2", "--concurrency", str(concurrency), *extra).strip())
        install_submitter()
        yield directory / "workers"
    finally:
        set_submitter(None)
        try:
            print(cli_call("worker", "stop", "--timeout", "60").strip())
        finally:
            with current_app().connection_for_write() as connection:
                connection.default_channel.queue_delete(queue)
            for name, value in saved.items():
                os.environ.pop(name, None) if value is None else os.environ.__setitem__(name, value)


def worker_rss_mib(workers_dir: Path) -> tuple[float, float]:
    """(largest single worker process, largest worker with its pool children) resident memory, MiB."""
    children: dict[int, list[int]] = {}
    rss: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            status = (entry / "status").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                rss[int(entry.name)] = int(line.split()[1]) / 1024
    single = tree = 0.0
    for pidfile in workers_dir.glob("worker-*.pid"):
        try:
            root = int(pidfile.read_text().strip())
        except (OSError, ValueError):
            continue
        stack, total = [root], 0.0
        while stack:
            pid = stack.pop()
            single = max(single, rss.get(pid, 0.0))
            total += rss.get(pid, 0.0)
            stack.extend(children.get(pid, []))
        tree = max(tree, total)
    return single, tree


def neo4j_store_bytes() -> tuple[int, int]:
    """Bytes of the Neo4j database's store files and of its transaction logs (the whole shared database)."""
    sizes = []
    for part in ("databases/neo4j", "transactions/neo4j"):
        sizes.append(sum(path.stat().st_size for path in (SERVICES / "neo4j" / "data" / part).rglob("*")
                         if path.is_file()))
    return sizes[0], sizes[1]


def make_computer(scheduler: str, workdir: Path, poll: float) -> Computer:
    """A core.local computer with core.simulated, or a core.ssh computer on the service sshd with SLURM."""
    metadata = {"minimum_job_poll_interval": poll}
    label = f"campaign-{uuid.uuid4().hex[:8]}"
    if scheduler == "core.simulated":
        return Computer(label, "localhost", "core.local", scheduler, workdir=str(workdir / "work"),
                        metadata=metadata).store()
    ssh = json.loads((SERVICES / "secrets" / "ssh.json").read_text())
    computer = Computer(label, ssh["host"], "core.ssh", scheduler, workdir="/tmp/{username}/provgraph_campaign/",
                        metadata=metadata).store()
    computer.configure(default_user(), port=int(ssh["port"]), username=ssh["username"],
                       key_filename=ssh["key_filename"], known_hosts=ssh["known_hosts"], safe_open_interval=1.0)
    return computer


def count(filters: dict, cls: type = ProcessNode) -> int:
    """One QueryBuilder count."""
    return QueryBuilder().append(cls, filters=filters).count()


def launch(code: InstalledCode, index: int, scheduler: str, wrapped: bool) -> int:
    """Submit calculation ``index`` (in its restart work chain when ``wrapped``); return the top pk."""
    options = {"resources": {"num_machines": 1, "num_mpiprocs_per_machine": 1}}
    if scheduler == "core.slurm":
        options.update(queue_name="debug", max_wallclock_seconds=600)
    inputs = {"code": code, "x": Int(index), "y": Int(1), "metadata": {"options": options}}
    if wrapped:
        return submit(CampaignAddWorkChain, add=inputs).pk
    return submit(ArithmeticAddCalculation, **inputs).pk


def timed(call) -> float:
    """Seconds ``call()`` took."""
    began = time.perf_counter()
    call()
    return time.perf_counter() - began


def main() -> None:
    """Run the campaign and print the figures."""
    args = options()
    load_profile("services")
    wrapped = CampaignAddWorkChain is not None and not args.plain
    workdir = Path(tempfile.mkdtemp(prefix="provgraph-campaign-"))
    state_dir = workdir / "cluster"
    env = {DIR_ENV: str(state_dir), "PROVGRAPH_CALCJOB_STATS": str(workdir / "stats.txt")}
    if args.scheduler == "core.simulated":
        with LocalTransport() as transport:
            write_config(transport, str(state_dir), min_runtime=args.min_runtime, max_runtime=args.max_runtime,
                         max_queue_time=args.max_queue_time, failure_fraction=args.failure_fraction)
    computer = make_computer(args.scheduler, workdir, args.poll)
    code = InstalledCode(computer=computer, filepath_executable="/bin/bash", label="bash").store()
    kind = "each in CampaignAddWorkChain (a BaseRestartWorkChain)" if wrapped else \
        "plain CalcJobs (no BaseRestartWorkChain)"
    simulated = f", run time {args.min_runtime}-{args.max_runtime} s, {args.failure_fraction:.0%} failing"
    print(f"campaign: {args.jobs} calculations on {args.scheduler}, {kind}; 2 workers x {args.concurrency}, "
          f"poll {args.poll} s" + (simulated if args.scheduler == "core.simulated" else ""))
    store_before = neo4j_store_bytes()
    peak_single = peak_tree = 0.0
    samples: list[tuple[float, int]] = []
    try:
        with fleet(workdir, args.concurrency, env, args.reconcile) as workers_dir:
            began, waker, next_nudge = time.perf_counter(), CeleryWaker(), 0.0
            pks = []
            for index in range(args.jobs):
                pks.append(launch(code, index, args.scheduler, wrapped))
                if time.monotonic() >= next_nudge:  # keep the poll chain alive (see the module docstring)
                    waker.ensure_polling(computer, default_user())
                    next_nudge = time.monotonic() + 30
            submitted = time.perf_counter() - began
            print(f"  submitted {args.jobs} in {submitted:.1f} s")
            deadline, next_print = time.monotonic() + args.timeout, 0.0
            while True:
                if time.monotonic() >= next_nudge:  # restart the computer's poll chain if it died (see docstring)
                    waker.ensure_polling(computer, default_user())
                    next_nudge = time.monotonic() + 30
                ended = count({"pk": {"in": pks}, "attributes.process_state": {"in": TERMINAL}})
                now = time.perf_counter() - began
                samples.append((now, ended))
                single, tree = worker_rss_mib(workers_dir)
                peak_single, peak_tree = max(peak_single, single), max(peak_tree, tree)
                if now >= next_print or ended == args.jobs:
                    print(f"  t={now:7.0f} s  ended {ended:6d}/{args.jobs}  worker RSS {single:.0f} MiB "
                          f"(with pool {tree:.0f} MiB)", flush=True)
                    next_print = now + 30
                if ended == args.jobs:
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"only {ended} of {args.jobs} ended after {args.timeout:.0f} s")
                time.sleep(2.0)
            elapsed = time.perf_counter() - began
            # the figures at the end, with the workers still up (process list shows the active ones)
            command = [str(Path(sys.executable).parent / "provgraph"), "-p", "services", "process", "list"]
            list_seconds = timed(lambda: subprocess.run(command, check=True, capture_output=True))
            calcjobs_filter = {"computer": computer.label}
            query = QueryBuilder().append(CalcJobNode, filters=calcjobs_filter,
                                          project=["pk", "attributes.exit_status", "attributes.job_id"])
            rows: list = []
            query_seconds = timed(lambda: rows.extend(query.all()))
        store_after = neo4j_store_bytes()
        stats_lines = (workdir / "stats.txt").read_text().splitlines() if (workdir / "stats.txt").exists() else []
        events: dict[str, int] = {}
        for line in stats_lines:
            event, _, number = line.split()[:3]
            events[event] = events.get(event, 0) + int(number)
        sim_queries = sim_submits = None
        if args.scheduler == "core.simulated":
            with LocalTransport() as transport:
                log = read_log(transport, str(state_dir))
            sim_queries = sum(event.kind == "query" for event in log)
            submitted_dirs = [event.detail.split(" ", 1)[1] for event in log if event.kind == "submit"]
            sim_submits = len(submitted_dirs)
            duplicates = len(submitted_dirs) - len(set(submitted_dirs))
        else:
            duplicates = None
        ok = count({"pk": {"in": pks}, "attributes.exit_status": 0})
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    report(args, wrapped, elapsed, samples, rows, ok, events, sim_queries, sim_submits, duplicates,
           peak_single, peak_tree, store_before, store_after, list_seconds, query_seconds)


def report(args, wrapped, elapsed, samples, rows, ok, events, sim_queries, sim_submits, duplicates,
           peak_single, peak_tree, store_before, store_after, list_seconds, query_seconds) -> None:
    """Print the figures and the RESULT line."""
    jobs = args.jobs
    failed_attempts = sum(1 for _, status, _ in rows if status not in (0, None))
    print(f"  all {jobs} ended after {elapsed:.0f} s ({elapsed / 3600:.2f} h); finished OK: {ok}")
    print(f"  CalcJob attempts: {len(rows)} ({failed_attempts} failed and "
          f"{'were restarted' if wrapped else 'stay failed: no restart work chain'})")
    per_hour = jobs / elapsed * 3600
    print(f"  calculations/hour overall: {per_hour:,.0f}  (LUMI campaign: ~4,300/h on 1,500 nodes)")
    print("  calculations/hour over time (per 60 s window):")
    window, last_t, last_n = 60.0, 0.0, 0
    for t, n in samples:
        if t - last_t >= window or n == jobs:
            print(f"    {last_t:6.0f}-{t:6.0f} s: {(n - last_n) / max(t - last_t, 1e-9) * 3600:10,.0f}/h")
            last_t, last_n = t, n
    queries = events.get("poll", 0)
    print(f"  scheduler status queries: {queries} by the workers ({queries / elapsed * 3600:,.0f}/h), "
          f"reporting {events.get('polled_jobs', 0)} job states; submissions {events.get('submit', 0)}; "
          f"transport connections opened {events.get('open', 0)}")
    if sim_queries is not None:
        print(f"  on the simulated cluster's side: {sim_queries} queries ({sim_queries / elapsed * 3600:,.0f}/h), "
              f"{sim_submits} submissions, {duplicates} working directories submitted twice")
    print(f"  peak worker RSS: {peak_single:.0f} MiB per process, {peak_tree:.0f} MiB per worker with its pool")
    grown = [after - before for after, before in zip(store_after, store_before, strict=True)]
    attempts = max(len(rows), 1)
    print(f"  Neo4j (whole shared database): store files {store_after[0] / 2**20:,.0f} MiB, grew "
          f"{grown[0] / 2**20:,.1f} MiB ({grown[0] / attempts / 1024:.1f} KiB per CalcJob attempt); transaction logs "
          f"{store_after[1] / 2**20:,.0f} MiB, grew {grown[1] / 2**20:,.1f} MiB ({grown[1] / attempts / 1024:.1f} "
          f"KiB per attempt); other helpers' writes included")
    print(f"  `provgraph process list` at the end: {list_seconds:.2f} s; QueryBuilder over the campaign's "
          f"{len(rows)} CalcJobs: {query_seconds:.2f} s")
    print("RESULT " + json.dumps({
        "bench": "campaign", "scheduler": args.scheduler, "jobs": jobs, "restart_workchains": wrapped,
        "seconds": round(elapsed, 1), "per_hour": round(per_hour), "finished_ok": ok, "attempts": len(rows),
        "failed_attempts": failed_attempts, "status_queries": queries, "submissions": events.get("submit", 0),
        "sim_queries": sim_queries, "duplicate_submissions": duplicates, "peak_rss_mib": round(peak_single),
        "peak_worker_tree_rss_mib": round(peak_tree), "store_bytes": store_after[0], "store_growth_bytes": grown[0],
        "txlog_bytes": store_after[1], "txlog_growth_bytes": grown[1],
        "process_list_s": round(list_seconds, 2), "querybuilder_s": round(query_seconds, 2)}))


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stop the workers and delete the queue on TERM too
    main()
