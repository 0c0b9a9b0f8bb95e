"""Large objects stream: storing and reading back 2 GiB keeps a process under 200 MiB of RSS.

Each measurement runs in a fresh subprocess, started through a small launcher
(see ``_memory_probe``), so ``ru_maxrss`` is that of the repository work alone.
``PROVGRAPH_REPOSITORY_MEMORY_BYTES`` overrides the size.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
SIZE = int(os.environ.get("PROVGRAPH_REPOSITORY_MEMORY_BYTES", 2 * 1024**3))
RSS_LIMIT_MIB = 200
BLOCK = 1024 * 1024


@pytest.fixture(scope="module")
def big_file(tmp_path_factory) -> tuple[Path, str]:
    """A generated file of SIZE bytes and its sha256, written block by block (never whole in memory).

    Each 1 MiB block is one pseudo-random block with its index stamped in front,
    so no two blocks are equal and the content differs from run to run.
    """
    path = tmp_path_factory.mktemp("memory") / "big.bin"
    seed, digest = os.urandom(BLOCK), hashlib.sha256()
    with path.open("wb") as handle:
        for index in range(-(-SIZE // BLOCK)):
            block = (index.to_bytes(8, "little") + seed[8:])[: min(BLOCK, SIZE - index * BLOCK)]
            digest.update(block)
            handle.write(block)
    yield path, digest.hexdigest()
    path.unlink()


def run_probe(big_file: tuple[Path, str], args: list[str], stdin: str = "") -> dict:
    """Run the probe subprocess, check what it read back, and return its report."""
    path, expected = big_file
    completed = subprocess.run(
        [sys.executable, str(HERE / "_memory_probe.py"), str(path), *args],
        input=stdin, capture_output=True, text=True, timeout=600,
    )
    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout)
    print(f"\n{args[0]}: {SIZE / 1024**3:.2f} GiB {report}")
    assert report["key"] == expected
    assert report["read_sha256"] == expected and report["read_bytes"] == SIZE
    return report


def test_local_large_object_stays_small(big_file, tmp_path):
    report = run_probe(big_file, ["local", str(tmp_path / "repo")])
    assert report["peak_rss_mib"] < RSS_LIMIT_MIB


@pytest.mark.requires_s3
def test_s3_large_object_stays_small(big_file, make_s3_repository, tmp_path):
    config = make_s3_repository().config  # the private test prefix; purged afterwards
    report = run_probe(big_file, ["s3"], stdin=json.dumps(config))
    assert report["peak_rss_mib"] < RSS_LIMIT_MIB
