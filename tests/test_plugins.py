"""Plugins load through entry points, built-ins included; ``provgraph plugin list`` shows them."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from provgraph.cli.main import cli
from provgraph.exceptions import NotExistent
from provgraph.plugins import (
    CalculationFactory,
    DataFactory,
    SchedulerFactory,
    TransportFactory,
    WorkflowFactory,
    entry_point_name,
    plugin_names,
)


def test_factories_load_builtins():
    from provgraph.orm import Int
    from provgraph.schedulers.slurm import SlurmScheduler

    assert DataFactory("core.int") is Int
    assert SchedulerFactory("core.slurm") is SlurmScheduler
    assert TransportFactory("core.ssh").__name__.lower().startswith("ssh")
    assert callable(CalculationFactory(plugin_names("calculations")[0]))
    assert WorkflowFactory(plugin_names("workflows")[0]) is not None
    assert entry_point_name("data", Int) == "core.int"


def test_every_builtin_kind_is_registered():
    for kind, expected in {"schedulers": {"core.direct", "core.slurm", "core.pbspro", "core.torque", "core.sge",
                                          "core.lsf"},
                           "transports": {"core.local", "core.ssh"},
                           "storage": {"core.neo4j"}, "repository": {"core.local", "core.s3"}}.items():
        assert expected <= set(plugin_names(kind)), kind


def test_unknown_plugin_is_a_clear_error():
    with pytest.raises(NotExistent, match="no schedulers plugin named 'core.nope'"):
        SchedulerFactory("core.nope")


def test_cli_plugin_list():
    result = CliRunner().invoke(cli, ["plugin", "list", "schedulers"])
    assert result.exit_code == 0, result.output
    assert "core.slurm" in result.output and "provgraph.schedulers" in result.output
    result = CliRunner().invoke(cli, ["plugin", "list"])
    assert result.exit_code == 0 and "core.int" in result.output and "core.ssh" in result.output
