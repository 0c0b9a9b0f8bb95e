#!/usr/bin/env python3
"""Install, start, stop and report the local services provgraph runs against.

Usage: ``python3 services/manage.py install|up|down|status [service ...]``
(``install-tools`` installs the Debian tools provgraph itself calls, e.g. graphviz's ``dot``.)

``up`` installs what is missing (the slow parts in parallel: apt packages,
the Maven download of Neo4j, the ``go install`` of MinIO), then starts each
service on 127.0.0.1. Every step is idempotent: a second ``up`` only checks.
Stdlib only, so it runs before the project's virtualenv exists.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ServiceError, Status, apt_install  # noqa: E402

SERVICES = ("neo4j", "rabbitmq", "minio", "ssh", "slurm")
#: Debian packages of the programs provgraph runs itself (not services): ``dot`` for ``node graph``
TOOL_PACKAGES = ("graphviz", "chromium", "chromium-driver")


def module(name: str):
    """Return the kit module of service ``name``."""
    return importlib.import_module(f"svc_{name}")


def install(names: list[str]) -> None:
    """Install the services in parallel; report every failure, not only the first."""
    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        futures = {name: pool.submit(_timed, name, "install") for name in names}
    errors = [f"{name}: {f.exception()}" for name, f in futures.items() if f.exception()]
    if errors:
        raise ServiceError("install failed:\n" + "\n".join(errors))


def _timed(name: str, action: str) -> None:
    started = time.monotonic()
    getattr(module(name), action)()
    print(f"  {name:<9} {action:<8} ok ({time.monotonic() - started:.1f}s)", flush=True)


def up(names: list[str]) -> None:
    """Install, then start every service (in order: the broker and store first)."""
    install(names)
    errors = []
    for name in names:
        try:
            _timed(name, "start")
        except ServiceError as exc:
            errors.append(f"{name}: {exc}")
    if errors:
        raise ServiceError("start failed:\n" + "\n".join(errors))


def down(names: list[str]) -> None:
    """Stop every service."""
    for name in reversed(names):
        _timed(name, "stop")


def status(names: list[str]) -> list[Status]:
    """Print one line per service: installed / running / port / version."""
    rows = [module(name).status() for name in names]
    print(f"{'service':<10}{'installed':<11}{'running':<9}{'port':<7}version")
    for row in rows:
        print(
            f"{row.name:<10}{'yes' if row.installed else 'no':<11}"
            f"{'yes' if row.running else 'no':<9}{row.port:<7}{row.version or '-'}"
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("install", "up", "down", "status", "install-tools"))
    parser.add_argument("services", nargs="*", help=f"any of {', '.join(SERVICES)} (default: all)")
    parser.add_argument("--require-running", action="store_true", help="status: exit 1 unless all run")
    args = parser.parse_args(argv)
    names = list(args.services) or list(SERVICES)
    unknown = sorted(set(names) - set(SERVICES))
    if unknown:
        parser.error(f"unknown service(s) {', '.join(unknown)}; known: {', '.join(SERVICES)}")
    try:
        if args.action == "install-tools":
            apt_install(*TOOL_PACKAGES)
        elif args.action == "status":
            rows = status(names)
            if args.require_running and not all(row.running for row in rows):
                return 1
        else:
            {"install": install, "up": up, "down": down}[args.action](names)
    except ServiceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
