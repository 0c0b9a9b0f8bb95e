"""Probe, issue 13 item 5: ``storage maintain --no-dry-run`` never deletes files of nodes being stored.

Before the fix it read the references, then listed the objects, and deleted every unreferenced
one: a node's file stored before the node was committed was gone (8 of 1,500 with writers active).
"""

from __future__ import annotations

import io
import os
import threading
import time

from loss_support import invoke, ok, presto_profile

from provgraph.orm import SinglefileData, load_node


def test_a_file_of_a_node_not_yet_stored_survives_maintain(tmp_path, monkeypatch):
    with presto_profile(tmp_path / "home", monkeypatch):
        node = SinglefileData(io.BytesIO(b"stored before its node"), filename="a.txt")  # object stored, node not
        output = ok("storage", "maintain", "--no-dry-run")
        assert "removed 0 unreferenced objects" in output and "kept 1 unreferenced" in output
        node.store()
        assert load_node(node.pk).get_content() == "stored before its node"


def test_maintain_removes_old_orphans_and_keeps_referenced_files(tmp_path, monkeypatch):
    from provgraph.orm.backend import get_repository

    with presto_profile(tmp_path / "home", monkeypatch) as folder:
        kept = SinglefileData(io.BytesIO(b"referenced"), filename="kept.txt").store()
        orphan = get_repository().put_object_from_bytes(b"orphan")
        old = time.time() - 7200
        for key in (orphan, kept.base.repository.object_key("kept.txt")):
            os.utime(folder / "repository" / "objects" / key[:2] / key[2:], (old, old))
        assert "would remove 1 unreferenced objects" in ok("storage", "maintain")
        assert "removed 1 unreferenced objects" in ok("storage", "maintain", "--no-dry-run")
        assert not get_repository().has_object(orphan)
        assert load_node(kept.pk).get_content() == "referenced"


def test_maintain_in_a_loop_beside_writers_loses_nothing(tmp_path, monkeypatch):
    """Writers store nodes with files while maintain --no-dry-run runs again and again."""
    with presto_profile(tmp_path / "home", monkeypatch):
        stop, pks, errors = threading.Event(), [], []

        def writer(index: int) -> None:
            try:
                for number in range(60):
                    node = SinglefileData(io.BytesIO(f"{index}-{number}".encode()), filename="f.txt")
                    node.store()
                    pks.append(node.pk)
            except Exception as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=writer, args=(index,)) for index in range(2)]
        for thread in threads:
            thread.start()
        passes = 0
        while any(thread.is_alive() for thread in threads):
            ok("storage", "maintain", "--no-dry-run")
            passes += 1
        stop.set()
        assert errors == [] and passes >= 1
        lost = []
        for pk in pks:
            try:
                load_node(pk).get_content()
            except Exception as exc:  # a missing object
                lost.append((pk, exc))
        assert lost == [], f"{len(lost)} of {len(pks)} nodes lost their file"


def test_maintain_refuses_while_workers_of_the_profile_run(tmp_path, monkeypatch):
    with presto_profile(tmp_path / "home", monkeypatch):
        ok("worker", "start")
        refused = invoke("storage", "maintain", "--no-dry-run")
        assert refused.exit_code != 0 and "worker(s) of profile 'presto' are running" in refused.output
        assert "--force" in refused.output
        assert "would remove" in ok("storage", "maintain")  # a dry run is always allowed
        assert "removed" in ok("storage", "maintain", "--no-dry-run", "--force")
        ok("worker", "stop", "--timeout", "20")
        assert "removed" in ok("storage", "maintain", "--no-dry-run")


def test_a_negative_grace_period_is_refused(tmp_path, monkeypatch):
    with presto_profile(tmp_path / "home", monkeypatch):
        result = invoke("storage", "maintain", "--grace-period", "-5")
        assert result.exit_code == 2 and "-5" in result.output and "Traceback" not in result.output
