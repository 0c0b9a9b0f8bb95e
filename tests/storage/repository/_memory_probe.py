"""Child process of the memory test: store a file, stream it back, report the peak RSS.

Usage: ``python _memory_probe.py FILE local ROOT`` or ``python _memory_probe.py FILE s3``
with the S3 repository config as JSON on stdin.  Prints one JSON line: the key,
the sha256 of what was read back, the byte count, timings and ``peak_rss_mib``
(``ru_maxrss`` of the measuring process).

Linux carries ``ru_maxrss`` across ``execve``: a process spawned straight from
pytest would report at least pytest's own RSS.  So this script first runs as a
tiny launcher (no heavy imports) that re-runs itself with ``--measure``; the
measuring process then starts from the launcher's ~10 MiB.
"""

from __future__ import annotations

import hashlib
import json
import resource
import subprocess
import sys
import time
from pathlib import Path


def make_repository(argv: list[str]):
    """Build the repository the arguments name."""
    if argv[2] == "local":
        from provgraph.storage.repository.local import LocalRepository

        return LocalRepository(Path(argv[3]))
    from provgraph.storage.repository.s3 import S3Repository

    return S3Repository(json.loads(sys.stdin.read()))


def main(argv: list[str]) -> dict:
    """Store ``argv[1]``, read it back in 1 MiB chunks, and measure."""
    repository = make_repository(argv)
    started = time.monotonic()
    with open(argv[1], "rb") as handle:
        key = repository.put_object_from_filelike(handle)
    stored = time.monotonic()
    digest, size = hashlib.sha256(), 0
    with repository.open(key) as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
            size += len(chunk)
    return {
        "key": key,
        "read_sha256": digest.hexdigest(),
        "read_bytes": size,
        "put_seconds": round(stored - started, 2),
        "get_seconds": round(time.monotonic() - stored, 2),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


if __name__ == "__main__":
    if sys.argv[1] == "--measure":
        print(json.dumps(main(sys.argv[1:])), flush=True)
    else:  # the launcher: stdin and stdout pass through to the measuring process
        sys.exit(subprocess.run([sys.executable, __file__, "--measure", *sys.argv[1:]]).returncode)
