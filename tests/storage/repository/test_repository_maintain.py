"""Maintenance while others store (issue 13 item 5): list first, read references after, keep young objects.

Each test here failed before the fix: maintenance read the references first, listed the objects
after, and deleted every unreferenced object whatever its age, so a file stored for a node not yet
committed (or committed between the two reads) was deleted.
"""

from __future__ import annotations

import os
import threading
import time

import pytest

from provgraph.exceptions import ValidationError
from provgraph.storage.repository import s3 as s3_module
from provgraph.storage.repository.base import maintain
from provgraph.storage.repository.local import LocalRepository


def test_an_object_not_yet_referenced_survives_maintenance(repository):
    """A writer stored the file and has not committed its node yet: the grace period keeps it."""
    orphan_old_style = repository.put_object_from_bytes(b"file of a node being stored")
    report = maintain(repository, set(), dry_run=False, grace_period=3600)
    assert report.unreferenced == [] and report.young == [orphan_old_style]
    assert repository.has_object(orphan_old_style)


def test_references_are_read_after_the_listing(repository):
    """A node committed while maintenance runs (between listing and reading references) keeps its file."""
    key = repository.put_object_from_bytes(b"committed meanwhile")
    committed: set[str] = set()

    def references() -> set[str]:
        committed.add(key)  # the node referencing ``key`` commits just before the references are read
        return set(committed)

    report = maintain(repository, references, dry_run=False, grace_period=0)
    assert report.unreferenced == [] and repository.has_object(key)


def test_grace_period_must_not_be_negative(repository):
    with pytest.raises(ValidationError, match="grace period"):
        maintain(repository, set(), grace_period=-1)


def _backdate(repo: LocalRepository, key: str, seconds: float) -> None:
    path = repo.objects / key[:2] / key[2:]
    old = time.time() - seconds
    os.utime(path, (old, old))


def test_storing_present_bytes_refreshes_the_object(tmp_path):
    """An old unreferenced object stored again (dedup) by a node being stored is not removed."""
    repo = LocalRepository(tmp_path / "repo")
    key = repo.put_object_from_bytes(b"old bytes, stored again")
    _backdate(repo, key, 7200)
    assert maintain(repo, set(), grace_period=3600).unreferenced == [key]  # old: a candidate
    assert repo.put_object_from_bytes(b"old bytes, stored again") == key  # a new node stores it again
    report = maintain(repo, set(), dry_run=False, grace_period=3600)
    assert report.unreferenced == [] and repo.has_object(key)


def test_a_refresh_after_the_listing_keeps_the_object(tmp_path):
    """Listed as old, refreshed by a writer before deletion: delete_if_older keeps it."""
    repo = LocalRepository(tmp_path / "repo")
    key = repo.put_object_from_bytes(b"refreshed in between")
    _backdate(repo, key, 7200)

    def references() -> set[str]:
        repo.put_object_from_bytes(b"refreshed in between")  # dedup refresh after the listing
        return set()

    report = maintain(repo, references, dry_run=False, grace_period=3600)
    assert report.unreferenced == [] and report.young == [key] and repo.has_object(key)
    assert list((repo.root / "trash").iterdir()) == []


def test_refresh_objects_reports_presence(repository):
    key = repository.put_object_from_bytes(b"present")
    assert repository.refresh_objects([key, "0" * 64]) == [True, False]


def test_refreshed_objects_are_kept_by_maintenance(tmp_path):
    """Archive import refreshes objects it finds present instead of storing them again."""
    repo = LocalRepository(tmp_path / "repo")
    key = repo.put_object_from_bytes(b"present already, about to be referenced")
    _backdate(repo, key, 7200)
    assert repo.refresh_objects([key]) == [True]
    assert maintain(repo, set(), dry_run=False, grace_period=3600).young == [key] and repo.has_object(key)


def test_old_unreferenced_objects_are_still_removed(tmp_path):
    repo = LocalRepository(tmp_path / "repo")
    kept = repo.put_object_from_bytes(b"referenced")
    orphan = repo.put_object_from_bytes(b"orphan")
    for key in (kept, orphan):
        _backdate(repo, key, 7200)
    report = maintain(repo, lambda: {kept}, dry_run=False, grace_period=3600)
    assert report.unreferenced == [orphan] and report.bytes_freed == 6
    assert repo.has_objects([kept, orphan]) == [True, False]


def test_concurrent_stores_of_the_same_bytes_never_lose_the_object(tmp_path):
    """A writer storing (deduplicating) an old object while maintenance tries to delete it in a loop.

    Every store after the cutoff refreshes the object, so once the writer's first store returned
    the object must never go missing (a removal racing a refresh puts it back at once).
    """
    repo = LocalRepository(tmp_path / "repo")
    data = b"hot object"
    key = repo.put_object_from_bytes(data)
    _backdate(repo, key, 7200)
    cutoff = time.time()
    time.sleep(0.05)  # file times come from a coarse clock: stay clear of the cutoff
    stop, missing, deleted = threading.Event(), [], []

    def writer() -> None:
        while not stop.is_set():
            repo.put_object_from_bytes(data)
            if not repo.has_object(key):
                time.sleep(0.05)  # allow the trash round trip of a racing removal
                if not repo.has_object(key):
                    missing.append(key)

    def sweeper() -> None:
        while not stop.is_set():
            deleted.extend(repo.delete_if_older([key], cutoff))

    repo.put_object_from_bytes(data)  # the first store after the cutoff
    threads = [threading.Thread(target=writer), threading.Thread(target=sweeper)]
    for thread in threads:
        thread.start()
    time.sleep(1.5)
    stop.set()
    for thread in threads:
        thread.join(10)
    assert missing == [] and deleted == [] and repo.has_object(key)


@pytest.mark.requires_s3
def test_s3_storing_present_bytes_refreshes_last_modified(make_s3_repository, monkeypatch):
    repo = make_s3_repository()
    key = repo.put_object_from_bytes(b"s3 bytes stored twice")
    first = dict(repo.iter_object_times())[key]
    time.sleep(1.1)  # LastModified has a one-second resolution
    monkeypatch.setattr(s3_module, "TOUCH_AGE", 0.0)
    assert repo.put_object_from_bytes(b"s3 bytes stored twice") == key
    second = dict(repo.iter_object_times())[key]
    assert second > first
    assert repo.delete_if_older([key], cutoff=second - 0.5) == [] and repo.has_object(key)
    assert repo.delete_if_older([key], cutoff=second + 5) == [key] and not repo.has_object(key)


def test_a_cleaner_racing_a_commit_neither_fails_nor_removes_anything(tmp_path, monkeypatch):
    """The cleaner opened a temporary file just before its writer renamed it into objects/ and let go.

    Before the fix it then took the lock and failed unlinking the vanished name (maintain crashed
    with ``No such file or directory``); now it leaves it alone.
    """
    import fcntl
    import hashlib

    from provgraph.storage.repository import local as local_module

    repo = LocalRepository(tmp_path / "repo")
    writing = repo._temporary_file()
    fd, path = writing.__enter__()
    os.write(fd, b"data")
    key = hashlib.sha256(b"data").hexdigest()
    real_flock, raced = fcntl.flock, []

    def racing_flock(descriptor: int, operation: int) -> None:
        if operation & fcntl.LOCK_NB and not raced:
            raced.append(True)
            repo._commit(path, key)  # the writer renames its file into objects/ ...
            writing.__exit__(None, None, None)  # ... and lets go of the lock
        real_flock(descriptor, operation)

    monkeypatch.setattr(local_module.fcntl, "flock", racing_flock)
    assert repo.clean_temporary(dry_run=False) == {} and raced
    monkeypatch.undo()
    assert repo.get_object_content(key) == b"data"
