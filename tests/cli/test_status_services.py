"""``provgraph status`` on the services profile reaches every real service."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from provgraph.cli.main import cli

pytestmark = [pytest.mark.requires_neo4j, pytest.mark.requires_s3, pytest.mark.requires_rabbitmq]


def test_status_all_green(services_profile):
    result = CliRunner().invoke(cli, ["-p", "services", "status"])
    assert result.exit_code == 0, result.output
    assert "✔ storage     neo4j 5.26" in result.output and "(current)" in result.output
    assert "✔ repository  s3 bucket" in result.output
    assert "✔ broker      rabbitmq" in result.output
    assert "workers     " in result.output  # running or not, never a failure
