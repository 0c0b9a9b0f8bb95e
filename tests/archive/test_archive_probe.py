"""Probe, issue 13 items 8 and 9 (and issue 12's text-mode ``repository.open``).

Before the fixes: ``archive create`` replaced a device node or FIFO given as its target, created
missing parent folders and let OS errors out as tracebacks; ``archive import`` killed by SIGTERM
left a partial import; archives whose file trees held ``../x`` or ``/abs/x`` were imported, and
``copy_tree`` created folders outside its target before failing; ``repository.open(path)`` gave bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from archive_support import node_count, small_database, zip_archive

from provgraph.archive import create_archive, import_archive
from provgraph.exceptions import ArchiveError, ValidationError
from provgraph.orm import Int, SinglefileData, load_node


def _one_node() -> int:
    return Int(5).store().pk


@pytest.mark.parametrize("kind", ["fifo", "char-device", "folder"])
def test_create_refuses_a_target_that_is_not_a_regular_file(sqlite_target, tmp_path, kind):
    _one_node()
    target = tmp_path / f"target-{kind}"
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "char-device":
        os.mknod(target, stat.S_IFCHR | 0o600, os.makedev(1, 3))  # what /dev/null is
    else:
        target.mkdir()
    before = target.lstat()
    with pytest.raises(ArchiveError, match="not a regular file"):
        create_archive(target, all_nodes=True, overwrite=True)
    after = target.lstat()
    assert (after.st_mode, after.st_ino, getattr(after, "st_rdev", 0)) == (before.st_mode, before.st_ino,
                                                                            getattr(before, "st_rdev", 0))
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".provgraph-export-")] == []


def test_create_refuses_a_symlink_to_a_device(sqlite_target, tmp_path):
    _one_node()
    device = tmp_path / "device"
    os.mknod(device, stat.S_IFCHR | 0o600, os.makedev(1, 3))
    link = tmp_path / "link.zip"
    link.symlink_to(device)
    with pytest.raises(ArchiveError, match="not a regular file"):
        create_archive(link, all_nodes=True, overwrite=True)
    assert link.is_symlink() and stat.S_ISCHR(device.lstat().st_mode)


def test_create_does_not_create_missing_parent_folders(sqlite_target, tmp_path):
    _one_node()
    with pytest.raises(ArchiveError, match="does not exist"):
        create_archive(tmp_path / "missing" / "sub" / "a.zip", all_nodes=True)
    assert not (tmp_path / "missing").exists()


def test_create_turns_os_errors_into_archive_errors(sqlite_target):
    _one_node()
    with pytest.raises(ArchiveError, match="cannot write the archive"):
        create_archive("/proc/provgraph-probe.zip", all_nodes=True)


def test_create_cli_on_a_fifo_is_a_one_line_error(sqlite_target, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from provgraph.cli.main import cli
    from provgraph.profiles import Config

    _one_node()
    Config(tmp_path / "home").store(sqlite_target, make_default=True)
    monkeypatch.setenv("PROVGRAPH_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("PROVGRAPH_PROFILE", raising=False)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    result = CliRunner().invoke(cli, ["archive", "create", str(fifo), "--all", "--force"])
    assert result.exit_code == 1 and "not a regular file" in result.output and "Traceback" not in result.output
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


# -- item 9: unsafe paths in file trees ---------------------------------------------------------

CONTENT = b"file content of the probe archive\n"
KEY = hashlib.sha256(CONTENT).hexdigest()


def _archive_with_tree(tmp_path: Path, tree: dict[str, str], name: str) -> Path:
    db = tmp_path / f"{name}.db"
    small_database(db, {KEY: CONTENT})
    with sqlite3.connect(db) as connection:
        connection.execute("UPDATE nodes SET repository = ? WHERE pk = 4", (json.dumps(tree),))
    return zip_archive(tmp_path / f"{name}.zip", db, {KEY: CONTENT})


@pytest.mark.parametrize("tree", [
    {"../x": KEY}, {"/abs/x": KEY}, {"a/../../x": KEY}, {"a//b": KEY}, {"./a": KEY}, {"a/./b": KEY},
    {"": KEY}, {"a": KEY, "a/b": KEY}, {"nul\x00x": KEY},
], ids=["dotdot", "absolute", "inner-dotdot", "empty-part", "dot-first", "dot-inner", "empty", "file-and-folder",
        "nul"])
def test_import_refuses_unsafe_repository_paths(sqlite_target, tmp_path, tree):
    archive = _archive_with_tree(tmp_path, tree, "unsafe")
    before = node_count()
    with pytest.raises(ArchiveError, match="unsafe file tree"):
        import_archive(archive)
    assert node_count() == before


def test_copy_tree_checks_every_path_before_writing(sqlite_target, tmp_path):
    node = SinglefileData.from_string("hello", filename="f.txt")
    node.base.repository._tree["../escape/f.txt"] = node.base.repository.object_key("f.txt")  # as a bad import did
    node.store()
    target = tmp_path / "target"
    with pytest.raises(ValidationError, match="escape"):
        load_node(node.pk).base.repository.copy_tree(target)
    assert not (tmp_path / "escape").exists() and not target.exists()


def test_copy_tree_refuses_a_symlink_leading_out_of_the_target(sqlite_target, tmp_path):
    node = SinglefileData.from_string("hello", filename="f.txt")
    node.base.repository.put_object_from_bytes(b"deep", "sub/deep.txt")
    node.store()
    target, outside = tmp_path / "target", tmp_path / "outside"
    target.mkdir()
    outside.mkdir()
    (target / "sub").symlink_to(outside)
    with pytest.raises(ValidationError, match="outside"):
        load_node(node.pk).base.repository.copy_tree(target)
    assert list(outside.iterdir()) == []


def test_copy_tree_writes_the_files(sqlite_target, tmp_path):
    node = SinglefileData.from_string("hello", filename="f.txt")
    node.base.repository.put_object_from_bytes(b"\x00\xff", "sub/bin.dat")
    node.store()
    load_node(node.pk).base.repository.copy_tree(tmp_path / "t")
    assert (tmp_path / "t" / "f.txt").read_text() == "hello"
    assert (tmp_path / "t" / "sub" / "bin.dat").read_bytes() == b"\x00\xff"


def test_repository_open_is_text_by_default_as_in_aiida(sqlite_target):
    node = SinglefileData.from_string("héllo\nworld\n", filename="f.txt")
    node.store()
    repository = load_node(node.pk).base.repository
    with repository.open("f.txt") as handle:
        assert handle.read() == "héllo\nworld\n"
    with repository.open("f.txt", "rb") as handle:
        assert handle.read() == "héllo\nworld\n".encode()
    with pytest.raises(ValidationError):
        with repository.open("f.txt", "w"):
            pass


# -- item 8: an import interrupted by a signal ---------------------------------------------------

NODES = 24_000
#: the console script of this environment
PROVGRAPH = str(Path(sys.executable).parent / "provgraph")


@pytest.fixture(scope="module")
def big_archive(tmp_path_factory) -> Path:
    """An archive of many small nodes (no files): its import takes several batches."""
    from provgraph import profiles
    from provgraph.orm import backend as orm_backend
    from provgraph.orm.bulk import store_graph
    from provgraph.profiles import Profile

    root = tmp_path_factory.mktemp("big-archive")
    profile = Profile(name="big-archive-source", broker={},
                      storage={"backend": "sqlite", "config": {"path": str(root / "storage.sqlite")}},
                      repository={"backend": "local", "config": {"path": str(root / "repository")}})
    previous = profiles._CURRENT.get()
    orm_backend.get_backend(profile).migrate()
    profiles._CURRENT.set(profile)
    try:
        for start in range(0, NODES, 4000):
            store_graph([Int(value) for value in range(start, start + 4000)])
        path = root / "big.zip"
        create_archive(path, all_nodes=True)
    finally:
        orm_backend.get_backend(profile).close()
        orm_backend._OPEN.pop(profile.name, None)
        profiles._CURRENT.set(previous)
    return path


def _target_home(tmp_path: Path) -> tuple[dict[str, str], Path]:
    env = dict(os.environ, PROVGRAPH_HOME=str(tmp_path / "home"))
    env.pop("PROVGRAPH_PROFILE", None)
    subprocess.run([PROVGRAPH, "presto"], env=env, check=True,
                   capture_output=True, timeout=120)
    return env, tmp_path / "home" / "presto" / "storage.sqlite"


def _count(database: Path) -> int:
    with sqlite3.connect(database, timeout=30) as connection:
        return connection.execute("SELECT count(*) FROM nodes").fetchone()[0]


def _import_until_nodes_appear(env: dict[str, str], archive: Path, database: Path) -> subprocess.Popen:
    process = subprocess.Popen([PROVGRAPH, "archive", "import", str(archive)],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 120
    while _count(database) == 0 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert process.poll() is None, f"the import ended before it could be interrupted:\n{process.stdout.read()}"
    assert 0 < _count(database) < NODES
    return process


def test_sigterm_during_import_undoes_it(big_archive, tmp_path):
    env, database = _target_home(tmp_path)
    process = _import_until_nodes_appear(env, big_archive, database)
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=180)
    assert process.returncode == 128 + signal.SIGTERM, output
    assert "interrupted by SIGTERM" in output and "Traceback" not in output
    assert _count(database) == 0
    done = subprocess.run([PROVGRAPH, "archive", "import", str(big_archive)],
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _count(database) == NODES


def test_sigkill_during_import_leaves_batches_that_a_second_import_completes(big_archive, tmp_path):
    """What the README says a SIGKILL leaves: committed batches; importing again completes the import."""
    env, database = _target_home(tmp_path)
    process = _import_until_nodes_appear(env, big_archive, database)
    process.kill()
    process.communicate(timeout=60)
    partial = _count(database)
    assert 0 < partial < NODES
    done = subprocess.run([PROVGRAPH, "archive", "import", str(big_archive)],
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _count(database) == NODES
