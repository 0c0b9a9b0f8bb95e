"""The wheel carries the library, the CLI and the Cypher migrations, and nothing else top-level."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_wheel_contents(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path), str(REPO)],
        check=True, capture_output=True,
    )
    wheel = next(tmp_path.glob("provgraph-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/")[0] for name in names if not name.startswith("provgraph-")}
    assert top_level == {"provgraph"}
    migrations = sorted(Path(n).name for n in names if "/migrations_cypher/" in n)
    assert migrations == sorted(p.name for p in (REPO / "migrations_cypher").glob("*.cypher"))
    assert migrations, "no migrations shipped"
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "provgraph = provgraph.cli.main:cli" in zipfile.ZipFile(wheel).read(entry_points).decode()
