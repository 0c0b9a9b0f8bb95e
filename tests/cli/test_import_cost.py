"""``provgraph --help`` stays fast: it must not import the heavy drivers."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("neo4j", "neomodel", "celery", "kombu", "fabric", "paramiko", "boto3", "numpy", "graphviz", "sqlalchemy")


def test_help_imports_no_heavy_module():
    code = (
        "import sys; from click.testing import CliRunner; from provgraph.cli.main import cli;"
        "r = CliRunner().invoke(cli, ['--help']); assert r.exit_code == 0, r.output;"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ""
