"""Probe (issue 13, "a probe suite that stays"): faults of the services stack and of a full disk.

- Neo4j restarted while workflows run on two real workers: every process finishes, none twice.
- MinIO restarted while nodes with files are being stored: no stored node refers to a missing object,
  and a store that failed says so with a RepositoryError.
- A repository on a nearly full disk (a small tmpfs): a clear error, nothing half-stored, no node
  stored, and ``archive import`` into it is refused and undone.

The servers are shared with other sessions: the restarts use the service kit (``services/svc_*.py
stop|start`` with ``$PROVGRAPH_SERVICES_DIR``), and teardown starts a service again whatever
happened. Run these rarely.
"""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from provgraph.exceptions import ProvgraphError, RepositoryError
from provgraph.orm import Int, QueryBuilder, SinglefileData, load_node

REPO = Path(__file__).resolve().parents[2]
#: seconds the service kit may take to stop or start a server
KIT_TIMEOUT = 240.0


def kit(service: str, action: str) -> None:
    """``python3 services/svc_<service>.py <action>`` on the shared services folder; fail on an error."""
    try:
        done = subprocess.run([sys.executable, str(REPO / "services" / f"svc_{service}.py"), action], cwd=REPO,
                              capture_output=True, text=True, timeout=KIT_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        pytest.fail(f"`svc_{service}.py {action}` did not return within {KIT_TIMEOUT:.0f} s", pytrace=False)
    if done.returncode != 0:
        pytest.fail(f"`svc_{service}.py {action}` exited {done.returncode}:\n{done.stdout}\n{done.stderr}",
                    pytrace=False)


def _neo4j_up() -> bool:
    from provgraph.profiles import Config
    from provgraph.storage.neo4j.driver import open_driver

    try:
        driver = open_driver(Config().get("services").section_config("storage"))
        driver.verify_connectivity()
        driver.close()
    except Exception:  # any failure means: not serving
        return False
    return True


def _minio_up() -> bool:
    from provgraph.profiles import Config
    from provgraph.storage.repository.s3client import check_bucket

    try:
        check_bucket(Config().get("services").section_config("repository"))
    except ProvgraphError:
        return False
    return True


def ensure_up(service: str) -> None:
    """Start ``service`` with the kit unless it already serves (teardown: never leave it down)."""
    if not {"neo4j": _neo4j_up, "minio": _minio_up}[service]():
        kit(service, "start")


# -- Neo4j restarted mid-run ---------------------------------------------------------------------

@pytest.fixture
def fleet(neo4j_profile, amqp_url, s3_config, tmp_path, monkeypatch) -> Iterator[Path]:
    """Two workers (concurrency 2, no reconciler) on a queue of their own; stopped, Neo4j up, queue gone after."""
    from loss_support import invoke, ok

    from provgraph.engine.celery.app import QUEUE_ENV, current_app
    from provgraph.engine.celery.tasks import install_submitter
    from provgraph.engine.launch import set_submitter

    queue = f"provgraph-loss-{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv(QUEUE_ENV, queue)
    monkeypatch.setenv("PROVGRAPH_WORKERS_DIR", str(tmp_path / "workers"))
    ok("-p", "services", "worker", "start", "--workers", "2", "--concurrency", "2", "--no-reconcile")
    install_submitter()
    try:
        yield tmp_path / "workers"
    finally:
        set_submitter(None)
        try:
            invoke("-p", "services", "worker", "stop", "--timeout", "20")
        finally:
            ensure_up("neo4j")
            with current_app().connection_for_write() as connection:
                connection.default_channel.queue_delete(queue)


def _wait_with_reconcile(pks: list[int], timeout: float) -> list[int]:
    """Wait until ``pks`` and their children ended, running a reconcile pass on them every few seconds."""
    from provgraph.engine.celery.outbox import reconcile

    deadline, republished, pending = time.monotonic() + timeout, [], {}
    while True:
        if time.monotonic() > deadline:
            pytest.fail(f"not ended {timeout:.0f} s after the restart (re-published {republished}): {pending}",
                        pytrace=False)
        try:  # this interpreter's pooled connections died with the server: the first reads may fail
            everyone = sorted({*pks, *(child.pk for pk in pks for child in load_node(pk).called)})
            pending = {pk: load_node(pk).process_state.value for pk in everyone
                       if not load_node(pk).process_state.is_terminal}
            if not pending:
                return republished
            republished += reconcile(older_than=5, only=everyone)
        except ProvgraphError:
            pass
        time.sleep(3)


@pytest.mark.requires_neo4j
@pytest.mark.requires_rabbitmq
@pytest.mark.requires_s3
def test_neo4j_restart_mid_run(fleet):
    from provgraph.common.links import Direction, LinkType
    from provgraph.engine import submit
    from provgraph.engine.examples import AddMultiplyWorkChain
    from provgraph.orm.backend import get_backend

    pks = [submit(AddMultiplyWorkChain, x=Int(i), y=Int(1), z=Int(2)).pk for i in range(8)]
    deadline = time.monotonic() + 60
    while sum(load_node(pk).process_state.value != "created" for pk in pks) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    try:
        kit("neo4j", "stop")
        time.sleep(3)
    finally:
        kit("neo4j", "start")
    _wait_with_reconcile(pks, timeout=300)
    for index, pk in enumerate(pks):
        node = load_node(pk)
        assert node.process_state.value == "finished" and node.exit_status == 0, (pk, node.process_state)
        assert node.outputs["result"].value == (index + 1) * 2
        returns = [t.label for t in get_backend().nodes.links(pk, Direction.FORWARD, [LinkType.RETURN])]
        assert returns == ["result"], (pk, returns)  # returned once
        assert sorted(calc.process_label for calc in node.called) == ["add", "multiply"], pk  # none twice


# -- MinIO restarted mid-upload -----------------------------------------------------------------

@pytest.mark.requires_neo4j
@pytest.mark.requires_s3
def test_minio_restart_mid_upload_leaves_no_node_without_its_object(neo4j_profile, s3_config):
    from provgraph.orm.backend import get_repository

    label = f"loss-minio-{uuid.uuid4().hex[:8]}"
    stop, stored, errors, unexpected = threading.Event(), [], [], []

    def writer() -> None:
        number = 0
        while not stop.is_set():
            number += 1
            content = hashlib.sha256(f"{label}-{number}".encode()).digest() * (256 * 1024)  # 8 MiB, unique
            try:
                node = SinglefileData(io.BytesIO(content), filename="big.bin")
                node.label = label
                node.store()
                stored.append(node.pk)
            except RepositoryError as exc:
                errors.append(str(exc))
                time.sleep(0.2)
            except Exception as exc:  # anything else is a finding
                unexpected.append(repr(exc))

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while not stored and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # likely mid-upload now
        try:
            kit("minio", "stop")
            time.sleep(2)
        finally:
            kit("minio", "start")
        after = len(stored)
        deadline = time.monotonic() + 120
        while len(stored) < after + 2 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop.set()
        thread.join(120)
        ensure_up("minio")
    assert unexpected == []
    assert errors, "no upload failed while MinIO was down: the test did not test anything"
    assert len(stored) >= 3
    nodes = QueryBuilder().append(SinglefileData, filters={"label": label}, project="*").all(flat=True)
    keys = [key for node in nodes for key in node.base.repository._tree.values()]
    assert len(nodes) == len(stored) and keys
    assert get_repository().has_objects(keys) == [True] * len(keys)
    for node in nodes[-2:]:
        assert len(node.base.repository.get_object_content("big.bin", "rb")) == 8 * 1024 * 1024


# -- a nearly full disk for the repository ------------------------------------------------------

@pytest.fixture
def small_disk(tmp_path) -> Iterator[Path]:
    """A 3 MiB tmpfs folder (unmounted after)."""
    folder = tmp_path / "small"
    folder.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(folder)], check=True)
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


@pytest.fixture
def full_disk_profile(small_disk, tmp_path, monkeypatch):
    """A sqlite profile (database on the normal disk) whose local repository lives on the small disk."""
    from provgraph import profiles
    from provgraph.orm import backend as orm_backend
    from provgraph.profiles import Config, Profile

    profile = Profile(name="full-disk", broker={},
                      storage={"backend": "sqlite", "config": {"path": str(tmp_path / "storage.sqlite")}},
                      repository={"backend": "local", "config": {"path": str(small_disk / "repository")}})
    Config(tmp_path / "home").store(profile, make_default=True)
    monkeypatch.setenv("PROVGRAPH_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("PROVGRAPH_PROFILE", raising=False)
    previous = profiles._CURRENT.get()
    orm_backend.get_backend(profile).migrate()
    profiles.load_profile("full-disk")
    try:
        yield small_disk / "repository"
    finally:
        orm_backend.get_backend(profile).close()
        orm_backend._OPEN.pop(profile.name, None)
        profiles._CURRENT.set(previous)


def _objects_whole(root: Path) -> list[str]:
    """Every object file's name, each checked to hold the bytes of its key."""
    names = []
    for path in sorted((root / "objects").glob("*/*")):
        assert hashlib.sha256(path.read_bytes()).hexdigest() == path.parent.name + path.name
        names.append(path.name)
    return names


def test_a_full_repository_disk_is_a_clear_error_and_nothing_is_half_stored(full_disk_profile):
    from provgraph.orm import Node

    root = full_disk_profile
    first = SinglefileData(io.BytesIO(os.urandom(2 * 1024 * 1024)), filename="fits.bin").store()
    count = QueryBuilder().append(Node).count()
    with pytest.raises(RepositoryError, match="No space left on device"):
        SinglefileData(io.BytesIO(os.urandom(2 * 1024 * 1024)), filename="too-big.bin")
    assert QueryBuilder().append(Node).count() == count
    assert os.listdir(root / "tmp") == []  # the partial write is gone
    assert len(_objects_whole(root)) == 1
    assert len(load_node(first.pk).base.repository.get_object_content("fits.bin", "rb")) == 2 * 1024 * 1024
    Int(1).store()  # storing without files still works


def test_archive_import_into_a_full_repository_is_refused_and_undone(full_disk_profile, tmp_path):
    from loss_support import invoke

    from provgraph.orm import Node

    SinglefileData(io.BytesIO(os.urandom(2 * 1024 * 1024)), filename="fits.bin").store()
    count = QueryBuilder().append(Node).count()
    # an archive made elsewhere: small nodes first, then a file that does not fit
    source = tmp_path / "source.zip"
    _make_source_archive(source, tmp_path / "source")
    result = invoke("archive", "import", str(source))
    assert result.exit_code == 1 and "No space left on device" in result.output, result.output
    assert "Traceback" not in result.output
    assert QueryBuilder().append(Node).count() == count
    assert os.listdir(full_disk_profile / "tmp") == []
    assert len(_objects_whole(full_disk_profile)) == 1


def _make_source_archive(path: Path, root: Path) -> None:
    """Export, from a throw-away sqlite profile, 50 Ints and then one 2 MiB file."""
    from provgraph import profiles
    from provgraph.archive import create_archive
    from provgraph.orm import backend as orm_backend
    from provgraph.profiles import Profile

    profile = Profile(name="full-disk-source", broker={},
                      storage={"backend": "sqlite", "config": {"path": str(root / "storage.sqlite")}},
                      repository={"backend": "local", "config": {"path": str(root / "repository")}})
    previous = profiles._CURRENT.get()
    orm_backend.get_backend(profile).migrate()
    profiles._CURRENT.set(profile)
    try:
        for value in range(50):
            Int(value).store()
        SinglefileData(io.BytesIO(os.urandom(2 * 1024 * 1024)), filename="big.bin").store()
        create_archive(path, all_nodes=True)
    finally:
        orm_backend.get_backend(profile).close()
        orm_backend._OPEN.pop(profile.name, None)
        profiles._CURRENT.set(previous)
