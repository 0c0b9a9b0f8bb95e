"""The service kit's opt-in extra listen address (``PROVGRAPH_SERVICES_EXTRA_BIND``): off by default."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

KIT = Path(__file__).resolve().parents[2] / "services"

RENDER = """
import sys
sys.path.insert(0, sys.argv[1])
import svc_rabbitmq
svc_rabbitmq.install()
print(svc_rabbitmq._paths()["config"].read_text())
"""


def _kit(code: str, tmp_path: Path, extra: str | None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PROVGRAPH_SERVICES_DIR=str(tmp_path / "services"))
    env.pop("PROVGRAPH_SERVICES_EXTRA_BIND", None)
    if extra is not None:
        env["PROVGRAPH_SERVICES_EXTRA_BIND"] = extra
    return subprocess.run([sys.executable, "-c", code, str(KIT)], env=env, capture_output=True, text=True,
                          timeout=120)


def test_rabbitmq_listens_on_loopback_only_unless_asked(tmp_path):
    plain = _kit(RENDER, tmp_path / "plain", None)
    assert plain.returncode == 0, plain.stderr
    listeners = [line for line in plain.stdout.splitlines() if line.startswith("listeners.tcp")]
    assert listeners == ["listeners.tcp.1 = 127.0.0.1:45672"]
    extra = _kit(RENDER, tmp_path / "extra", "10.213.250.1")
    assert extra.returncode == 0, extra.stderr
    listeners = [line for line in extra.stdout.splitlines() if line.startswith("listeners.tcp")]
    assert listeners == ["listeners.tcp.1 = 127.0.0.1:45672", "listeners.tcp.2 = 10.213.250.1:45672"]


def test_a_bad_extra_address_is_refused(tmp_path):
    code = "import sys; sys.path.insert(0, sys.argv[1]); import _common; print(_common.extra_bind())"
    assert _kit(code, tmp_path, None).stdout.strip() == "None"
    assert _kit(code, tmp_path, " 10.213.1.1 ").stdout.strip() == "10.213.1.1"
    refused = _kit(code, tmp_path, "10.213.1.1; rm -rf /")
    assert refused.returncode != 0 and "is not one IPv4 address" in refused.stderr
