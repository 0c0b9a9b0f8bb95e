"""Shared by the benchmarks: the ``--backend neo4j|sqlite`` option and the profile it selects.

neo4j runs on the ``services`` profile (``make services-up``). sqlite runs on a throw-away
profile kept under ``.services/bench/<name>`` (so a large graph built once is reused by later
runs) or in a temporary folder: the user's configuration is never touched.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from pathlib import Path

_SERVICES = Path(__file__).resolve().parent.parent / ".services"
BENCH_DIR = Path(os.environ.get("PROVGRAPH_SERVICES_DIR", _SERVICES)) / "bench"
SQLITE_PROFILE = "bench-sqlite"


def parse_backend(description: str) -> str:
    """Read ``--backend`` from the command line (default neo4j)."""
    parser = argparse.ArgumentParser(description=description.splitlines()[0])
    parser.add_argument("--backend", choices=("neo4j", "sqlite"), default="neo4j",
                        help="storage backend to measure (neo4j: the services profile; sqlite: a throw-away profile)")
    return parser.parse_args().backend


def use_backend(backend: str, keep: str | None = None) -> str:
    """Make the benchmark profile of ``backend`` current; return its name.

    :param keep: for sqlite, a folder name under ``.services/bench`` holding the database between runs;
        None: a fresh temporary folder, removed at exit
    """
    from provgraph.profiles import Config, Profile, load_profile

    if backend == "neo4j":
        name = os.environ.get("PROVGRAPH_PROFILE", "services")
        load_profile(name)
        return name
    if keep is None:
        root = Path(tempfile.mkdtemp(prefix="provgraph-bench-"))
        import atexit

        atexit.register(shutil.rmtree, root, True)
    else:
        root = BENCH_DIR / keep
    home = root / "home"
    os.environ["PROVGRAPH_HOME"] = str(home)  # child processes (e.g. the RSS probe) see the same profile
    os.environ["PROVGRAPH_PROFILE"] = SQLITE_PROFILE
    profile = Profile(name=SQLITE_PROFILE,
                      storage={"backend": "sqlite", "config": {"path": str(root / "storage.sqlite")}},
                      repository={"backend": "local", "config": {"path": str(root / "repository")}}, broker={})
    Config(home).store(profile, make_default=True)
    load_profile(SQLITE_PROFILE)
    return SQLITE_PROFILE
