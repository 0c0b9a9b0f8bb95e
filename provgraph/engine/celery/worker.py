"""The worker process: ``python -m provgraph.engine.celery.worker [celery worker options]``.

Loads the profile (``$PROVGRAPH_PROFILE`` or the default), installs the publishing submitter,
reopens the storage connection in every forked pool process (a Neo4j driver must not be shared
across a fork), starts the periodic reconciler in a process of its own (unless
``$PROVGRAPH_RECONCILE`` is ``0``; interval ``$PROVGRAPH_RECONCILE_INTERVAL`` seconds, idle time before a
process counts as lost ``$PROVGRAPH_RECONCILE_AFTER`` seconds) and then
runs ``celery worker`` on the fleet's queue with the remaining arguments.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from provgraph.engine.celery.app import current_app, queue_name
from provgraph.engine.celery.outbox import Reconciler, reconcile_after
from provgraph.engine.celery.tasks import install_submitter
from provgraph.profiles import load_profile


def main(argv: Sequence[str] | None = None) -> None:
    """Run one Celery worker (blocking) with the provgraph settings; extra arguments go to ``celery worker``."""
    load_profile()
    install_submitter()
    reconciler = None
    if os.environ.get("PROVGRAPH_RECONCILE", "1") != "0":
        reconciler = Reconciler(interval=float(os.environ.get("PROVGRAPH_RECONCILE_INTERVAL", "30")),
                                older_than=reconcile_after()).start()
    args = ["worker", "-Q", queue_name(), "--without-gossip", "--without-mingle", "--without-heartbeat",
            *(sys.argv[1:] if argv is None else argv)]
    try:
        current_app().worker_main(args)
    finally:
        if reconciler is not None:
            reconciler.stop()


if __name__ == "__main__":
    main()
