#!/usr/bin/env python3
"""Production entry point of a provgraph worker: ``workers/worker.py [--fleet fleet.toml] [--queue NAME]``.

Reads the fleet configuration (queue, concurrency, log level, reconciler), sets the
``PROVGRAPH_*`` environment accordingly and replaces itself by
``python -m provgraph.engine.celery.worker`` (the library's worker). No library code here.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import tomllib

HERE = Path(__file__).resolve().parent


def main() -> None:
    """Parse the options, apply the fleet configuration, exec the worker."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fleet", default=os.environ.get("PROVGRAPH_FLEET", HERE / "fleet.toml"), type=Path)
    parser.add_argument("--queue", default=os.environ.get("PROVGRAPH_CELERY_QUEUE", "provgraph"))
    options, extra = parser.parse_known_args()
    fleet = tomllib.loads(options.fleet.read_text())
    defaults, queue = fleet.get("defaults", {}), fleet.get("queues", {}).get(options.queue, {})
    settings = {**defaults, **queue}
    env = {"PROVGRAPH_CELERY_QUEUE": options.queue,
           "PROVGRAPH_RECONCILE": "1" if settings.get("reconcile", True) else "0",
           "PROVGRAPH_RECONCILE_INTERVAL": str(settings.get("reconcile_interval", 30)),
           "PROVGRAPH_RECONCILE_AFTER": str(settings.get("reconcile_after", 60))}
    if settings.get("profile"):
        env["PROVGRAPH_PROFILE"] = settings["profile"]
    os.environ.update(env)
    command = [sys.executable, "-m", "provgraph.engine.celery.worker",
               "--concurrency", str(settings.get("concurrency", 1)), "--loglevel", settings.get("loglevel", "info"),
               *extra]
    os.execv(command[0], command)


if __name__ == "__main__":
    main()
