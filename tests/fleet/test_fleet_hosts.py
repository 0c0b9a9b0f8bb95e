"""A worker fleet across hosts (issue 18 §1): five network namespaces, faults, and exactly-once provenance.

The test builds its own world and removes it even when it fails (``fleet_hosts.Link.destroy`` in a
``finally``): a bridge with a private /24 (``10.213.<n>.0/24``) and five hosts, each a network
namespace plus a UTS namespace with its own hostname:

- ``srv``, the server host: its own Neo4j, RabbitMQ and sshd started by the service kit
  (``services/manage.py up``) in a temporary ``PROVGRAPH_SERVICES_DIR``, listening on loopback and,
  through the opt-in ``PROVGRAPH_SERVICES_EXTRA_BIND``, on the host's link address. The shared
  services of the other tests are not touched: restarting these ones breaks nobody;
- ``w1``, ``w2``, ``w3``: 2 workers each, started with ``workers/worker.py`` and a fleet.toml;
- ``sub``: submits the workload to the fleet.

CalcJobs go over ``core.ssh`` to the server host's sshd and its ``core.simulated`` cluster (whose
log is the scheduler-side record of every submission and status query). The repository is a
folder every host sees (hosts share this machine's file system, as hosts share NFS).

With the workload in flight: every process of ``w1`` is SIGKILLed at once and its workers are
brought back later; ``w2``'s cable is pulled for a while; RabbitMQ, then Neo4j, are restarted on
the server host. Then every workflow must have finished exactly once with the provenance of an
undisturbed run (node and link counts of each call tree equal those of reference runs made before
the faults), no scheduler job may have been submitted twice, and the fleet-wide limits must hold
on the server's side (status queries no more often than the poll interval allows).

Size: scaled down for a loaded 2-core machine (default 60 ``NestedAddMultiplyWorkChain`` + 20
CalcJobs, cable out for 20 s). ``PROVGRAPH_FLEET_FULL=1`` runs the issue's size: 300 nested
WorkChains + 100 CalcJobs, cable out for 90 s; ``PROVGRAPH_FLEET_WORKLOAD=8,4`` any other size.

Needs root (``ip netns``, veth, bridge); marked ``fleet`` and left out of the default run (see
``conftest.py``): on a quiet 2-core machine it takes a few minutes, on the shared, overloaded
development machine a single step took 30 s and the run far longer. ``PROVGRAPH_FLEET_DEADLINE``
(seconds, default 1500) bounds the wait for the workload.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from fleet_hosts import Link

pytestmark = [pytest.mark.fleet]

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DRIVER = HERE / "fleet_driver.py"
FULL = os.environ.get("PROVGRAPH_FLEET_FULL") == "1"
WORKCHAINS, CALCJOBS, CUT_SECONDS = (300, 100, 90) if FULL else (60, 20, 20)
if os.environ.get("PROVGRAPH_FLEET_WORKLOAD"):  # "WORKCHAINS,CALCJOBS", e.g. "8,4" for a smoke run
    WORKCHAINS, CALCJOBS = (int(part) for part in os.environ["PROVGRAPH_FLEET_WORKLOAD"].split(","))
POLL, SAFE_INTERVAL = 2.0, 1.0
WORKER_HOSTS = ("w1", "w2", "w3")
DEADLINE = float(os.environ.get("PROVGRAPH_FLEET_DEADLINE", 3600 if FULL else 1500))


class World:
    """The hosts, the server's services and the fleet of one test run."""

    def __init__(self, link: Link, root: Path) -> None:
        self.link, self.root = link, root
        self.tag = link.tag
        self.server = link.hosts["srv"].address
        self.queue = f"pgf-{self.tag}-{uuid.uuid4().hex[:6]}"
        self.cluster = f"/tmp/pgf-{self.tag}-cluster"
        self.workers: dict[str, list[subprocess.Popen]] = {}
        self.kit_env = dict(os.environ, PROVGRAPH_SERVICES_DIR=str(root / "services"),
                            PROVGRAPH_SERVICES_EXTRA_BIND=self.server, PROVGRAPH_HOME=str(root / "kit-home"))
        self.env = dict(os.environ, PROVGRAPH_HOME=str(root / "home"), PROVGRAPH_PROFILE="fleet",
                        PROVGRAPH_CELERY_QUEUE=self.queue, PROVGRAPH_SIMULATED_DIR=self.cluster,
                        PROVGRAPH_LEASE_SECONDS="45", PYTHONUNBUFFERED="1")
        for name in ("PROVGRAPH_SERVICES_DIR", "PROVGRAPH_SERVICES_EXTRA_BIND"):
            self.env.pop(name, None)
        (root / "logs").mkdir()

    # -- the server host ------------------------------------------------------------------------

    def make_cluster(self, username: str) -> None:
        """The simulated cluster's state folder, owned by the login account: short jobs, no failures."""
        import pwd

        from provgraph.schedulers.simulated import check_config

        settings = check_config({"min_runtime": 1, "max_runtime": 4, "max_queue_time": 1, "failure_fraction": 0})
        Path(self.cluster).mkdir()
        Path(self.cluster, "config").write_text("".join(f"{key}={value}\n" for key, value in settings.items()))
        account = pwd.getpwnam(username)
        for path in (self.cluster, f"{self.cluster}/config"):
            os.chown(path, account.pw_uid, account.pw_gid)

    def kit(self, action: str, *services: str) -> None:
        """``services/manage.py ACTION SERVICES`` on the server host."""
        result = self.link.run("srv", [sys.executable, str(REPO / "services" / "manage.py"), action, *services],
                               self.kit_env, timeout=600)
        assert result.returncode == 0, f"kit {action} {services} failed:\n{result.stdout}\n{result.stderr}"

    def write_profile(self) -> None:
        """The ``fleet`` profile: the server host's Neo4j and RabbitMQ by link address, a shared folder."""
        from provgraph.profiles.config import Config, Profile

        secrets = self.root / "services" / "secrets"
        neo4j = json.loads((secrets / "neo4j.json").read_text())
        rabbit = json.loads((secrets / "rabbitmq.json").read_text())
        profile = Profile(
            name="fleet",
            storage={"backend": "neo4j", "config": {"uri": f"bolt://{self.server}:{neo4j['uri'].rsplit(':', 1)[1]}",
                                                    "user": neo4j["user"], "database": "neo4j"}},
            repository={"backend": "local", "config": {"path": str(self.root / "repository")}},
            broker={"backend": "rabbitmq", "config": {"host": self.server, "port": rabbit["port"],
                                                      "vhost": rabbit["vhost"], "user": rabbit["user"]}},
            secrets={"storage": {"password": neo4j["password"]}, "broker": {"password": rabbit["password"]}})
        Config(self.root / "home").store(profile, make_default=True)

    def computer_spec(self) -> dict:
        """The core.ssh computer on the server host's sshd, its host key pinned for the link address."""
        ssh = json.loads((self.root / "services" / "secrets" / "ssh.json").read_text())
        host_key = Path(ssh["known_hosts"]).read_text().split(None, 1)[1]
        known_hosts = self.root / "known_hosts"
        known_hosts.write_text(f"[{self.server}]:{ssh['port']} {host_key}")
        return {"label": f"pgf-{self.tag}", "host": self.server, "port": int(ssh["port"]),
                "username": ssh["username"], "key_filename": ssh["key_filename"], "known_hosts": str(known_hosts),
                "workdir": f"/tmp/pgf-{self.tag}-work/{{username}}", "poll": POLL, "safe_interval": SAFE_INTERVAL}

    def sshd_log(self) -> str:
        """What the server host's sshd logged."""
        path = self.root / "services" / "ssh" / "sshd.log"
        return path.read_text(errors="replace") if path.exists() else ""

    # -- hosts ----------------------------------------------------------------------------------

    def driver(self, host: str, *args: str, timeout: float = 300) -> dict:
        """Run ``fleet_driver.py ARGS`` on ``host``; its JSON answer."""
        result = self.link.run(host, [sys.executable, str(DRIVER), *args], self.env, timeout=timeout)
        assert result.returncode == 0, f"driver {args[0]} on {host} failed:\n{result.stdout}\n{result.stderr[-3000:]}"
        return json.loads(result.stdout.strip().splitlines()[-1])

    def start_workers(self, host: str) -> None:
        """Two workers on ``host`` through ``workers/worker.py`` and a fleet.toml of this run."""
        fleet = self.root / "fleet.toml"
        if not fleet.exists():
            fleet.write_text('[defaults]\nprofile = "fleet"\nloglevel = "info"\nreconcile = true\n'
                             'reconcile_interval = 15\nreconcile_after = 60\n\n'
                             f'[queues."{self.queue}"]\nconcurrency = 2\n')
        self.workers[host] = [
            self.link.popen(host, [sys.executable, str(REPO / "workers" / "worker.py"), "--fleet", str(fleet),
                                   "--queue", self.queue, "--hostname", f"worker{index}@{host}"],
                            self.env, str(self.root / "logs" / f"{host}-{index}.log"))
            for index in range(2)]

    def kill_host(self, host: str) -> int:
        """SIGKILL every process of ``host``; reap the workers."""
        killed = self.link.kill_host(host)
        for process in self.workers.pop(host, []):
            process.wait(timeout=30)
        return killed

    def wait_ended(self, pks: list[int], deadline: float) -> None:
        """Until every pk is in a terminal state (asked from the submitting host)."""
        while True:
            ended = self.driver("sub", "ended", json.dumps(pks))["ended"]
            if ended == len(pks):
                return
            if time.monotonic() > deadline:
                pytest.fail(f"only {ended} of {len(pks)} processes ended in time; logs:\n{self.log_tails()}")
            time.sleep(5)

    def log_tails(self) -> str:
        """The last lines of every worker log."""
        parts = []
        for path in sorted((self.root / "logs").glob("*.log")):
            lines = path.read_text(errors="replace").splitlines()[-15:]
            parts.append(f"--- {path.name}\n" + "\n".join(lines))
        return "\n".join(parts)

    def stop(self) -> None:
        """Kill the fleet and the services (their hosts' processes); never raises."""
        for host in list(self.workers):
            self.kill_host(host)
        for path in (self.cluster, f"/tmp/pgf-{self.tag}-work"):
            shutil.rmtree(path, ignore_errors=True)


def cluster_log(path: str) -> list[tuple[int, str, str]]:
    """The simulated cluster's log lines: (epoch ms, kind, detail)."""
    rows = []
    log = Path(path, "log")
    for line in log.read_text().splitlines() if log.exists() else []:
        stamp, kind, detail = line.split(" ", 2)
        rows.append((int(stamp), kind, detail))
    return rows


def test_fleet_across_hosts_finishes_everything_exactly_once(tmp_path):
    link = Link(subnet=100 + os.getpid() % 150)
    world = None
    try:
        link.create(["srv", "w1", "w2", "w3", "sub"])
        world = World(link, tmp_path)
        world.kit("up", "rabbitmq", "neo4j", "ssh")
        world.write_profile()
        spec = world.computer_spec()
        world.make_cluster(spec["username"])
        setup = world.driver("sub", "setup", json.dumps(spec))
        for host in WORKER_HOSTS:
            world.start_workers(host)
        deadline = time.monotonic() + DEADLINE

        # reference: one of each, undisturbed
        reference_pks = world.driver("sub", "submit", str(setup["code"]), "1", "1")
        reference_all = reference_pks["workchains"] + reference_pks["calcjobs"]
        world.wait_ended(reference_all, deadline)
        reference = {s["class"]: s for s in world.driver("sub", "shape", json.dumps(reference_all))["shapes"]}
        assert all(s["state"] == "finished" and s["exit_status"] == 0 for s in reference.values()), reference

        # the workload, submitted from the fifth host while the first worker host dies
        submitter = link.popen("sub", [sys.executable, str(DRIVER), "submit", str(setup["code"]), str(WORKCHAINS),
                                       str(CALCJOBS)], world.env, str(tmp_path / "logs" / "submit.log"))
        time.sleep(10)
        assert world.kill_host("w1") > 0
        submitted = submitter.wait(timeout=max(deadline - time.monotonic(), 60))
        assert submitted == 0, (tmp_path / "logs" / "submit.log").read_text()[-3000:]
        pks = json.loads((tmp_path / "logs" / "submit.log").read_text().strip().splitlines()[-1])
        workload = pks["workchains"] + pks["calcjobs"]
        assert len(workload) == WORKCHAINS + CALCJOBS
        world.start_workers("w1")

        link.cut("w2", down=True)
        time.sleep(CUT_SECONDS)
        link.cut("w2", down=False)
        world.kit("down", "rabbitmq")
        world.kit("up", "rabbitmq")
        world.kit("down", "neo4j")
        world.kit("up", "neo4j")

        world.wait_ended(workload, deadline)
        result = world.driver("sub", "shape", json.dumps(workload), timeout=600)
        log = cluster_log(world.cluster)
    finally:
        if world is not None:
            world.stop()
        link.destroy()

    shapes = result["shapes"]
    wrong = [s for s in shapes if s["state"] != "finished" or s["exit_status"] != 0]
    assert not wrong, wrong[:5]
    for shape in shapes:  # the provenance of an undisturbed run: nothing missing, nothing twice
        expected = reference[shape["class"]]
        assert (shape["processes"], shape["nodes"], shape["links"]) == \
            (expected["processes"], expected["nodes"], expected["links"]), (shape, expected)
    per_tree = {s["class"]: s["processes"] for s in reference.values()}
    expected_processes = sum(per_tree[s["class"]] for s in shapes) + sum(per_tree.values())
    assert result["all_processes"] == expected_processes  # no stray process anywhere in the database

    submitted = [detail.split(" ", 1)[1] for _, kind, detail in log if kind == "submit"]
    jobs = result["jobs"]
    assert len(submitted) == len(set(submitted)) == len(jobs) + 1  # + the reference CalcJob: none twice
    assert {job["workdir"] for job in jobs} <= set(submitted)
    queries = [stamp for stamp, kind, _ in log if kind == "query"]
    span = (queries[-1] - queries[0]) / 1000 if len(queries) > 1 else 0.0
    assert len(queries) <= span / POLL + 5, (len(queries), span)  # one status query per poll interval, fleet-wide
