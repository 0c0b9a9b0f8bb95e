"""How many bytes one calculation costs in a Neo4j store of its own (the basis of docs/scaling.md).

The shared ``services`` database is written by every test at once, so its growth during
``bench/campaign.py`` says little about the campaign. This script measures on a Neo4j of its
own, started with the service kit in a temporary ``PROVGRAPH_SERVICES_DIR`` (port
``$BENCH_STORE_PORT``, default 57687, loopback): it exports the CalcJobs of the latest campaign
computer (``campaign-*``, or the label given as argument) from the ``services`` profile into an
archive (``$BENCH_STORE_ARCHIVE`` keeps it for the next run), imports it into the empty database
and prints the growth of the store files and of the transaction logs per calculation and per
10,000 calculations. Neo4j Community has no ``db.checkpoint``, so the sizes are taken with the
server stopped, after its shutdown checkpoint. It also prints the engine's commits per CalcJob
(their final ``checkpoint_version``) in the campaign itself.

    PROVGRAPH_SERVICES_DIR=.services python bench/store_per_calc.py [campaign-LABEL]
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from click.testing import CliRunner

from provgraph.cli.main import cli
from provgraph.orm import QueryBuilder
from provgraph.orm.nodes.process.process import CalcJobNode
from provgraph.profiles import load_profile
from provgraph.profiles.config import Config, Profile

REPO = Path(__file__).resolve().parent.parent
PORT = int(os.environ.get("BENCH_STORE_PORT", 57687))


def invoke(*args: str) -> str:
    """``provgraph ARGS`` in this interpreter; raise with the output on failure."""
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    if result.exit_code != 0:
        raise RuntimeError(f"provgraph {' '.join(args)} failed:\n{result.output}")
    return result.output


def sizes(services: Path) -> tuple[int, int]:
    """Bytes of the store files and of the transaction logs of database ``neo4j``."""
    return tuple(sum(p.stat().st_size for p in (services / "neo4j" / "data" / part).rglob("*") if p.is_file())
                 for part in ("databases/neo4j", "transactions/neo4j"))  # type: ignore[return-value]


def main() -> None:
    """Measure and print."""
    load_profile("services")
    rows = QueryBuilder().append(CalcJobNode, filters={"computer": {"like": "campaign-%"}},
                                 project=["pk", "computer", "attributes.checkpoint_version", "ctime"]).all()
    latest = sys.argv[1] if len(sys.argv) > 1 else max(rows, key=lambda row: row[3])[1]
    campaign = [row for row in rows if row[1] == latest]
    commits = sum(int(row[2] or 0) for row in campaign) / len(campaign)
    print(f"campaign computer {latest}: {len(campaign)} CalcJobs, {commits:.1f} checkpointed commits per CalcJob")
    work = Path(tempfile.mkdtemp(prefix="provgraph-store-"))
    services = work / "services"
    kit_env = dict(os.environ, PROVGRAPH_SERVICES_DIR=str(services), PROVGRAPH_NEO4J_PORT=str(PORT),
                   PROVGRAPH_HOME=str(work / "kit-home"))
    kit = [sys.executable, str(REPO / "services" / "manage.py")]
    def server(action: str) -> None:
        subprocess.run([*kit, action, "neo4j"], env=kit_env, check=True, capture_output=True, text=True)

    try:
        archive = Path(os.environ.get("BENCH_STORE_ARCHIVE", work / "campaign.zip"))
        if not archive.exists():
            invoke("-p", "services", "archive", "create", str(archive), "-N",
                   ",".join(str(row[0]) for row in campaign))
        server("up")
        secret = json.loads((services / "secrets" / "neo4j.json").read_text())
        os.environ["PROVGRAPH_HOME"] = str(work / "home")
        Config(work / "home").store(Profile(
            name="store", storage={"backend": "neo4j", "config": {"uri": secret["uri"], "user": secret["user"],
                                                                  "database": "neo4j"}},
            repository={"backend": "local", "config": {"path": str(work / "repository")}},
            broker={"backend": "sqlite", "config": {"path": str(work / "broker.sqlite")}},
            secrets={"storage": {"password": secret["password"]}}))
        invoke("-p", "store", "storage", "migrate")
        server("down")
        before = sizes(services)
        server("up")
        invoke("-p", "store", "archive", "import", str(archive))
        server("down")
        after = sizes(services)
    finally:
        subprocess.run([*kit, "down", "neo4j"], env=kit_env, capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    store, log = after[0] - before[0], after[1] - before[1]
    count = len(campaign)
    print(f"imported {count} CalcJobs with their inputs and outputs into an empty Neo4j:")
    print(f"  store files +{store / 2**20:.2f} MiB = {store / count / 1024:.2f} KiB per calculation, "
          f"{store / count * 1e4 / 2**20:,.0f} MiB per 10,000")
    print(f"  transaction logs +{log / 2**20:.2f} MiB = {log / count / 1024:.2f} KiB per calculation "
          f"(bulk import; the engine's {commits:.1f} commits per CalcJob write more)")
    print("RESULT " + json.dumps({"bench": "store_per_calc", "calculations": count, "store_bytes": store,
                                  "txlog_bytes": log, "commits_per_calcjob": round(commits, 2)}))


if __name__ == "__main__":
    main()
