"""The Celery app of the worker fleet, built from the current profile's broker section.

The broker section picks the transport (:mod:`provgraph.engine.celery.broker`): RabbitMQ, or a
sqlite queue file that needs no server (the ``presto`` profile), with the same settings below;
on a broker that does not redeliver, every step is leased (``provgraph_lease_steps``).

``celery -A provgraph.engine.celery.app worker`` finds :data:`app` here (built on first access
from ``$PROVGRAPH_PROFILE`` or the default profile). Settings (DESIGN §5):

- JSON only: ``task_serializer='json'``, ``accept_content=['json']`` (a pickled message is
  rejected by the worker and never deserialised); no result backend (``task_ignore_result``);
- ``task_acks_late`` + ``task_reject_on_worker_lost``: a message is acked only after its step
  committed, so the task of a worker that dies is redelivered; ``worker_prefetch_multiplier=1``;
- one durable queue, named by ``$PROVGRAPH_CELERY_QUEUE`` (default ``provgraph``), so a test
  session or a fleet can have a queue of its own.

**Long steps and RabbitMQ's consumer_timeout.** RabbitMQ closes the channel of a consumer that
keeps a delivery un-acked for longer than ``consumer_timeout`` (30 min by default); the per-queue
``x-consumer-timeout`` argument only exists from RabbitMQ 3.12, and the services profile runs
3.10. So a process class that sets ``long_running = True`` is sent as the task
:data:`~provgraph.engine.celery.tasks.LONG_TASK`, which is acked on receipt (``acks_late=False``).
Its worker then holds a *lease* on the process (renewed by a heartbeat thread while it steps),
and the reconciler (:mod:`provgraph.engine.celery.outbox`) re-publishes any process whose lease
expired, i.e. whose worker died. Duplicates are harmless: every commit is guarded by the
checkpoint version (:mod:`provgraph.engine.celery.committer`).
"""

from __future__ import annotations

import functools
import os
from typing import Any

from celery import Celery
from celery.signals import worker_process_init
from kombu import Queue

from provgraph.engine.celery.broker import broker_kind, connection_settings, redelivers
from provgraph.profiles import get_profile

#: environment variable naming the queue the fleet consumes and the clients publish to
QUEUE_ENV = "PROVGRAPH_CELERY_QUEUE"
DEFAULT_QUEUE = "provgraph"


def queue_name() -> str:
    """The Celery queue of this fleet (``$PROVGRAPH_CELERY_QUEUE``, default ``provgraph``)."""
    return os.environ.get(QUEUE_ENV) or DEFAULT_QUEUE


#: app setting: hold a lease on every process a task steps (brokers that do not redeliver)
LEASE_STEPS = "provgraph_lease_steps"


def celery_settings(url: str, queue: str, **extra: Any) -> dict[str, Any]:
    """The Celery configuration of the fleet (see the module docstring); ``extra`` adds or overrides settings."""
    return {
        "broker_url": url,
        "broker_connection_retry_on_startup": True,
        "task_serializer": "json",
        "result_serializer": "json",
        "event_serializer": "json",
        "accept_content": ["json"],
        "result_accept_content": ["json"],
        "result_backend": None,
        "task_ignore_result": True,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_default_queue": queue,
        "task_queues": [Queue(queue, routing_key=queue, durable=True)],
        "worker_hijack_root_logger": False,
        "worker_send_task_events": False,
        **extra,
    }


def broker_settings(broker: dict[str, Any], config: dict[str, Any], queue: str) -> dict[str, Any]:
    """The Celery configuration of the fleet for a profile's broker section and its config (secrets merged)."""
    kind = broker_kind(broker)
    connection = connection_settings(kind, config)
    url = connection.pop("broker_url")
    return celery_settings(url, queue, **connection, **{LEASE_STEPS: not redelivers(kind)})


@functools.lru_cache(maxsize=8)
def make_app(profile_name: str, queue: str) -> Celery:
    """The Celery app for a profile and queue, with the engine's tasks registered (one per pair)."""
    from provgraph.engine.celery.tasks import register_tasks
    from provgraph.profiles import Config

    profile = Config().get(profile_name)
    celery_app = Celery("provgraph")
    celery_app.conf.update(broker_settings(profile.broker, profile.section_config("broker"), queue))
    register_tasks(celery_app)
    worker_process_init.connect(_reset_storage, weak=False)
    return celery_app


def _reset_storage(**_: object) -> None:
    """In a freshly forked pool process: forget the parent's storage connection, reload the profile.

    The inherited backends are dropped, not closed: closing would talk on sockets the parent
    (its reconciler) still uses. Their lock is replaced, not taken: the parent's reconciler thread
    may have held it at the fork (billiard forks a new pool process whenever one dies), and an
    inherited held lock would block this process for ever at its first ``get_backend()``.
    """
    import threading

    from provgraph.engine.celery.tasks import install_submitter
    from provgraph.orm import backend
    from provgraph.profiles import load_profile

    backend._LOCK = threading.Lock()
    backend._OPEN.clear()
    load_profile()
    install_submitter()


def current_app() -> Celery:
    """The app of the current profile and ``$PROVGRAPH_CELERY_QUEUE``."""
    return make_app(get_profile().name, queue_name())


def __getattr__(name: str) -> Any:
    """``app`` (what ``celery -A provgraph.engine.celery.app`` looks up), built on first access."""
    if name in ("app", "celery"):
        return current_app()
    raise AttributeError(name)
