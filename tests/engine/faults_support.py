"""Helpers of the worker fault tests: the RabbitMQ service kit, the fleet CLI, waiting with reconcile passes.

Not a test module: ``test_worker_faults.py`` imports it. Everything here works on the real
services (``make services-up``) and on the queue named by ``$PROVGRAPH_CELERY_QUEUE``.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner

from provgraph.cli.main import cli
from provgraph.orm import load_node

REPO = Path(__file__).resolve().parents[2]
MANAGE = REPO / "services" / "manage.py"
#: seconds the service kit may take to stop or start RabbitMQ
KIT_TIMEOUT = 120.0


def run_cli(*args: str) -> str:
    """Run ``provgraph -p services ARGS`` in this interpreter; fail with its output on a non-zero exit."""
    result = CliRunner().invoke(cli, ["-p", "services", *args], catch_exceptions=False)
    assert result.exit_code == 0, f"provgraph {' '.join(args)} failed:\n{result.output}"
    return result.output


def rabbitmq(action: str) -> float:
    """``python3 services/manage.py ACTION rabbitmq`` (``down`` or ``up``); return the seconds it took."""
    began = time.monotonic()
    try:
        done = subprocess.run(["python3", str(MANAGE), action, "rabbitmq"], cwd=REPO, capture_output=True,
                              text=True, timeout=KIT_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        pytest.fail(f"`manage.py {action} rabbitmq` did not return within {KIT_TIMEOUT:.0f} s", pytrace=False)
    if done.returncode != 0:
        pytest.fail(f"`manage.py {action} rabbitmq` exited {done.returncode}:\n{done.stdout}\n{done.stderr}",
                    pytrace=False)
    return time.monotonic() - began


def broker_up() -> bool:
    """Whether the services profile's RabbitMQ accepts an AMQP login now."""
    from provgraph.engine.celery.broker import check_broker
    from provgraph.exceptions import ProvgraphError
    from provgraph.profiles import Config

    try:
        check_broker(Config().get("services").section_config("broker"))
    except ProvgraphError:
        return False
    return True


def ensure_rabbitmq_up() -> None:
    """Start RabbitMQ with the service kit unless it already answers (teardown: never leave it down)."""
    if not broker_up():
        rabbitmq("up")


def delete_queue(name: str, attempts: int = 5) -> None:
    """Delete the test queue (retried: right after a broker restart the first connection may fail)."""
    from provgraph.engine.celery.app import current_app

    for attempt in range(attempts):
        try:
            with current_app().connection_for_write() as connection:
                connection.default_channel.queue_delete(name)
            return
        except Exception:  # a connection refused or reset while the broker settles
            if attempt == attempts - 1:
                raise
            time.sleep(1.0)


def family(pks: Iterable[int]) -> list[int]:
    """``pks`` and every process they called, recursively (children a lost publish may have stranded)."""
    found: list[int] = []
    todo = list(pks)
    while todo:
        pk = todo.pop()
        if pk in found:
            continue
        found.append(pk)
        todo += [child.pk for child in load_node(pk).called]
    return sorted(found)


def _unfinished(pks: Sequence[int]) -> dict[int, str]:
    states = {pk: load_node(pk).process_state for pk in pks}
    return {pk: state.value for pk, state in states.items() if not state.is_terminal}


def wait_with_reconcile(pks: Sequence[int], timeout: float, older_than: float = 3.0,
                        every: float = 3.0) -> list[int]:
    """Wait until ``pks`` and their descendants ended, running a reconcile pass on them every ``every`` s.

    Returns the pks the passes re-published (to report). Fails with the unfinished states on timeout.
    """
    from provgraph.engine.celery.outbox import reconcile

    deadline, next_pass, republished = time.monotonic() + timeout, time.monotonic() + every, []
    while True:
        everyone = family(pks)
        pending = _unfinished(everyone)
        if not pending:
            return republished
        if time.monotonic() > deadline:
            pytest.fail(f"{len(pending)} of {len(everyone)} processes not ended {timeout:.0f} s after the broker "
                        f"restart (re-published so far: {republished}): {pending}", pytrace=False)
        if time.monotonic() >= next_pass:
            republished += reconcile(older_than=older_than, only=everyone)
            next_pass = time.monotonic() + every
        time.sleep(0.3)


def wait_started(pks: Sequence[int], count: int, timeout: float = 20.0) -> None:
    """Wait until at least ``count`` of ``pks`` left the created state (the workers took them)."""
    from provgraph.common.states import ProcessState

    deadline = time.monotonic() + timeout
    while sum(load_node(pk).process_state is not ProcessState.CREATED for pk in pks) < count:
        if time.monotonic() > deadline:
            pytest.fail(f"the workers did not start {count} of {len(pks)} processes within {timeout:.0f} s",
                        pytrace=False)
        time.sleep(0.1)


def worker_logs(directory: Path) -> str:
    """The concatenated worker logs (for failure messages)."""
    return "".join(path.read_text(errors="replace") for path in sorted(directory.glob("worker-*.log")))


def restore_env(saved: dict[str, str | None]) -> None:
    """Put back the environment variables saved before a fixture changed them."""
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def wait_ended(pks: list[int], timeout: float = 60.0) -> list:
    """Wait until all processes ``pks`` ended; return their nodes (fails with the states on timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        nodes = [load_node(pk) for pk in pks]
        if all(node.process_state.is_terminal for node in nodes):
            return nodes
        if time.monotonic() > deadline:
            states = {node.pk: (node.process_state.value, node.base.attributes.get("process_status", None))
                      for node in nodes if not node.process_state.is_terminal}
            pytest.fail(f"processes not ended after {timeout} s: {states}")
        time.sleep(0.3)
