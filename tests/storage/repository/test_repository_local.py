"""The local repository: layout, atomic and crash-safe writes, concurrent writers, temp-file cleanup."""

from __future__ import annotations

import fcntl
import hashlib
import io
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from provgraph.exceptions import RepositoryError
from provgraph.storage.repository import local as local_module
from provgraph.storage.repository.base import maintain
from provgraph.storage.repository.local import LocalRepository

HERE = Path(__file__).resolve().parent


@pytest.fixture
def repo(tmp_path) -> LocalRepository:
    return LocalRepository(tmp_path / "repo")


def object_files(repo: LocalRepository) -> list[str]:
    return sorted(str(path.relative_to(repo.objects)) for path in repo.objects.rglob("*") if path.is_file())


def test_objects_are_sharded(repo):
    key = repo.put_object_from_bytes(b"sharded")
    assert object_files(repo) == [f"{key[:2]}/{key[2:]}"]
    assert (repo.objects / key[:2] / key[2:]).read_bytes() == b"sharded"
    assert os.listdir(repo.tmp) == []


def test_open_is_seekable(repo):
    key = repo.put_object_from_bytes(b"0123456789")
    with repo.open(key) as handle:
        handle.seek(4)
        assert handle.read(3) == b"456"
        assert handle.tell() == 7


def test_failing_input_leaves_nothing(repo):
    class Broken(io.RawIOBase):
        sent = 0

        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:
            if self.sent > 3 * 1024 * 1024:
                raise ValueError("input broke")
            buffer[:] = b"x" * len(buffer)
            self.sent += len(buffer)
            return len(buffer)

    with pytest.raises(ValueError, match="input broke"):
        repo.put_object_from_filelike(Broken())
    assert object_files(repo) == []
    assert os.listdir(repo.tmp) == []


def test_os_errors_become_repository_errors(repo):
    repo.tmp.rmdir()
    repo.tmp.write_text("not a directory")
    with pytest.raises(RepositoryError) as info:
        repo.put_object_from_bytes(b"data")
    assert isinstance(info.value.__cause__, OSError)


def test_concurrent_writers_of_the_same_content(repo):
    data = os.urandom(3 * 1024 * 1024)
    other = os.urandom(1024)
    barrier = threading.Barrier(8)

    def write(index: int) -> str:
        barrier.wait()
        return repo.put_object_from_bytes(data if index % 4 else other)

    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(write, range(8)))
    assert keys == {hashlib.sha256(data).hexdigest(), hashlib.sha256(other).hexdigest()}
    assert sorted(repo.list_objects()) == sorted(keys)
    assert repo.get_object_content(hashlib.sha256(data).hexdigest()) == data
    assert os.listdir(repo.tmp) == []


def test_live_writer_is_not_cleaned(repo):
    started, release = threading.Event(), threading.Event()

    class Slow(io.RawIOBase):
        chunks = 0

        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:
            if self.chunks == 1:
                started.set()
                release.wait(10)
            if self.chunks == 3:
                return 0
            self.chunks += 1
            buffer[:4] = b"data"
            return 4

    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(repo.put_object_from_filelike, Slow())
        assert started.wait(10)
        assert len(os.listdir(repo.tmp)) == 1
        assert maintain(repo, set(), dry_run=False, grace_period=0).temporary == {}
        assert len(os.listdir(repo.tmp)) == 1
        release.set()
        key = future.result(10)
    assert repo.get_object_content(key) == b"data" * 3
    assert os.listdir(repo.tmp) == []


def test_cleaner_between_create_and_lock(repo, monkeypatch):
    """A cleaner removing a fresh temp file before the writer locks it makes the writer start afresh."""
    real_flock = fcntl.flock
    raced: list[dict] = []

    def racing_flock(fd: int, operation: int) -> None:
        if not raced:
            raced.append({})
            raced[0] = repo.clean_temporary(dry_run=False)
        real_flock(fd, operation)

    monkeypatch.setattr(local_module.fcntl, "flock", racing_flock)
    key = repo.put_object_from_bytes(b"survives the race")
    assert len(raced[0]) == 1  # the cleaner did remove the writer's first temp file
    assert repo.get_object_content(key) == b"survives the race"
    assert os.listdir(repo.tmp) == []


def test_kill_mid_write_leaves_no_partial_object(repo):
    """SIGKILL a writer of a huge object: objects/ holds only whole objects; maintain removes the rest."""
    kept = repo.put_object_from_bytes(b"stored before the crash")
    child = subprocess.Popen(
        [sys.executable, str(HERE / "_crash_writer.py"), str(repo.root)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout.readline().strip() == "writing"
        _wait_for_temporary_bytes(repo, 32 * 1024 * 1024)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    assert child.returncode == -signal.SIGKILL
    assert object_files(repo) == [f"{kept[:2]}/{kept[2:]}"]
    for key in repo.list_objects():
        assert repo.key_of(repo.objects.joinpath(key[:2], key[2:]).open("rb")) == key

    leftovers = os.listdir(repo.tmp)
    assert len(leftovers) == 1
    dry = maintain(repo, {kept}, grace_period=0)
    assert set(dry.temporary) == set(leftovers) and dry.bytes_freed >= 32 * 1024 * 1024
    assert os.listdir(repo.tmp) == leftovers
    assert maintain(repo, {kept}, dry_run=False, grace_period=0).temporary == dry.temporary
    assert os.listdir(repo.tmp) == []
    assert repo.get_object_content(kept) == b"stored before the crash"


def _wait_for_temporary_bytes(repo: LocalRepository, size: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sizes = [entry.stat().st_size for entry in os.scandir(repo.tmp)]
        if sizes and max(sizes) >= size:
            return
        time.sleep(0.01)
    raise AssertionError(f"the writer did not write {size} bytes within {timeout}s")
