"""Caching by hash: switches, node hashes, and CalcJobs served from the cache without touching the computer."""

from __future__ import annotations

import io
import uuid

import pytest
from click.testing import CliRunner

from provgraph.engine import run
from provgraph.engine.examples_calcjobs import ArithmeticAddCalculation
from provgraph.engine.launch import create_stored
from provgraph.engine.processes.calcjobs import connections
from provgraph.exceptions import TransportError, ValidationError
from provgraph.manage.caching import configure, disable_caching, enable_caching, get_use_cache, reset_configuration
from provgraph.orm import Int, SinglefileData, load_node
from provgraph.orm.computers import Computer, User
from provgraph.orm.nodes.data.code import InstalledCode
from provgraph.orm.nodes.node import default_user

ADD = ArithmeticAddCalculation.process_type()
OPTIONS = {"resources": {"num_machines": 1, "num_mpiprocs_per_machine": 1}}


@pytest.fixture(autouse=True)
def _clean_switches(monkeypatch):
    for name in ("PROVGRAPH_CACHING_DEFAULT_ENABLED", "PROVGRAPH_CACHING_ENABLED_FOR",
                 "PROVGRAPH_CACHING_DISABLED_FOR"):
        monkeypatch.delenv(name, raising=False)
    reset_configuration()
    yield
    reset_configuration()


def test_switches_blocks_identifiers_and_precedence(monkeypatch):
    assert not get_use_cache() and not get_use_cache(identifier=ADD)
    with enable_caching():
        assert get_use_cache(identifier=ADD)
        with disable_caching(identifier="provgraph.calculations:core.arithmetic.*"):
            assert not get_use_cache(identifier=ADD) and get_use_cache(identifier="x.y:Other")
    with enable_caching(identifier="provgraph.engine.examples_calcjobs.ArithmeticAddCalculation"):
        assert get_use_cache(identifier=ADD) and not get_use_cache(identifier="x.y:Other")
    monkeypatch.setenv("PROVGRAPH_CACHING_DEFAULT_ENABLED", "1")
    monkeypatch.setenv("PROVGRAPH_CACHING_DISABLED_FOR", "provgraph.calculations:core.arithmetic.add_job")
    assert get_use_cache(identifier="x.y:Other") and not get_use_cache(identifier=ADD)
    configure(enabled_for=["*ArithmeticAdd*"], disabled_for=[])
    assert get_use_cache(identifier=ADD) and not get_use_cache(identifier="x.y:Other")
    with pytest.raises(ValidationError, match="identifier"):
        with enable_caching(identifier="two words"):
            pass


def test_data_hashes_follow_content_and_are_stored_on_rehash(backend_profile):
    first, same, other = Int(5).store(), Int(5).store(), Int(6).store()
    assert first.base.caching.compute_hash() == same.base.caching.compute_hash()
    assert first.base.caching.compute_hash() != other.base.caching.compute_hash()
    assert first.base.caching.get_hash() is None
    value = first.base.caching.rehash()
    assert load_node(first.pk).base.caching.get_hash() == value
    files = [SinglefileData(io.BytesIO(content), filename="f.txt").store() for content in (b"a", b"b")]
    assert files[0].base.caching.compute_hash() != files[1].base.caching.compute_hash()
    assert same.base.caching.rehash() == value
    assert {node.pk for node in first.base.caching.get_all_same_nodes()} >= {same.pk}
    first.base.caching.clear_hash()
    assert load_node(first.pk).base.caching.get_hash() is None


def test_node_rehash_command(backend_profile):
    from provgraph.cli.main import cli

    nodes = [Int(41).store(), Int(42).store()]
    result = CliRunner().invoke(cli, ["-p", backend_profile.name, "node", "rehash", *[str(n.pk) for n in nodes]])
    assert result.exit_code == 0, result.output
    assert "rehashed 2 node(s)" in result.output
    assert [load_node(n.pk).base.caching.get_hash() for n in nodes] == [n.base.caching.compute_hash() for n in nodes]
    bad = CliRunner().invoke(cli, ["-p", backend_profile.name, "node", "rehash", "-e", "core.nope"])
    assert bad.exit_code != 0 and "core.nope" in bad.output


class InvalidatingAdd(ArithmeticAddCalculation):
    """A negative sum is not worth caching."""

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.exit_code(410, "ERROR_NEGATIVE_NUMBER", "the sum is negative", invalidates_cache=True)


class VersionedAdd(ArithmeticAddCalculation):
    """Declares a cache version."""

    CACHE_VERSION = 1


def _bash_code(tmp_path):
    computer = Computer(f"pg-cache-{uuid.uuid4().hex[:10]}", "localhost", "core.local", "core.direct",
                        workdir=str(tmp_path / "work"), metadata={"minimum_job_poll_interval": 0.2}).store()
    return InstalledCode(computer=computer, filepath_executable="/bin/bash", label="bash").store()


@pytest.fixture
def code(backend_profile, tmp_path):
    """A bash code on a core.local computer, on each backend."""
    return _bash_code(tmp_path)


@pytest.fixture
def embedded_code(embedded_profile, tmp_path):
    """A bash code on a core.local computer on the embedded backend (the rest of the matrix runs there only)."""
    return _bash_code(tmp_path)


def _add(code, process=ArithmeticAddCalculation, x=2, y=3, **metadata):
    return run.get_node(process, code=code, x=Int(x), y=Int(y), metadata={"options": OPTIONS, **metadata})


def _break_transport(code) -> None:
    """Make the computer unreachable for real: its shell does not exist, and the pooled connection is dropped."""
    computer = Computer.get(label=code.computer)
    User.get_or_create(default_user())
    computer.configure(default_user(), shell="/nonexistent/shell")
    connections.discard_transport(computer, default_user())
    from provgraph.tools.computers import transport_for

    probe = transport_for(computer, default_user())
    probe.open()
    with pytest.raises(TransportError):
        probe.whoami()


def test_a_cached_calcjob_clones_the_outputs_and_never_touches_the_computer(code):
    _, source = _add(code)
    assert source.is_finished_ok and source.base.caching.get_hash() == source.base.caching.compute_hash()
    source.base.caching.is_valid_cache = False
    with enable_caching():
        _, uncached = _add(code)  # the only match is invalid: it runs for real
    assert uncached.base.caching.get_cache_source() is None and uncached.is_finished_ok
    source.base.caching.is_valid_cache = True
    _break_transport(code)
    opened = connections.pool_opened()
    with enable_caching(identifier="provgraph.calculations:core.arithmetic.add_job"):
        outputs, cached = _add(code)
    assert connections.pool_opened() == opened
    assert cached.is_finished_ok and cached.base.caching.get_cache_source() == source.uuid
    assert cached.base.caching.is_created_from_cache
    assert cached.base.caching.get_hash() == source.base.caching.get_hash()
    assert outputs["sum"].value == 5 and outputs["sum"].uuid != source.outputs["sum"].uuid
    assert outputs["sum"].creator.uuid == cached.uuid
    assert set(cached.outputs) == set(source.outputs)
    assert outputs["retrieved"].get_object_content("aiida.out") == source.outputs["retrieved"].get_object_content(
        "aiida.out")
    assert cached.base.attributes.get("job_id", None) is None  # nothing was submitted


def test_disable_cache_and_caching_off_run_for_real(embedded_code):
    _add(embedded_code)
    with enable_caching():
        _, forced = _add(embedded_code, disable_cache=True)
    _, plain = _add(embedded_code)
    assert forced.base.caching.get_cache_source() is None and plain.base.caching.get_cache_source() is None
    assert forced.base.attributes.get("job_id") and plain.base.attributes.get("job_id")


def test_an_exit_code_that_invalidates_the_cache_is_not_reused(embedded_code):
    _, first = _add(embedded_code, InvalidatingAdd, y=-5)
    assert first.exit_status == 410 and not first.base.caching.is_valid_cache
    with enable_caching():
        _, second = _add(embedded_code, InvalidatingAdd, y=-5)
        _, plain_first = _add(embedded_code, y=-5)
        _, plain_second = _add(embedded_code, y=-5)
    assert second.base.caching.get_cache_source() is None
    assert plain_second.base.caching.get_cache_source() == plain_first.uuid  # 410 does not invalidate here
    assert plain_second.exit_status == 410 and plain_second.outputs["sum"].value == -3


def test_the_cache_version_is_part_of_the_hash(embedded_code):
    inputs = {"code": embedded_code, "x": Int(1), "y": Int(1), "metadata": {"options": OPTIONS}}
    versioned = create_stored(VersionedAdd, inputs)
    assert versioned.base.attributes.get("cache_version") == {"calc_job": 1}
    before = versioned.base.caching.compute_hash()
    VersionedAdd.CACHE_VERSION = 2
    try:
        bumped = create_stored(VersionedAdd, {**inputs, "x": Int(1), "y": Int(1)})
    finally:
        VersionedAdd.CACHE_VERSION = 1
    assert bumped.base.attributes.get("cache_version") == {"calc_job": 2}
    assert bumped.base.caching.compute_hash() != before
    again = create_stored(VersionedAdd, {**inputs, "x": Int(1), "y": Int(1)})
    assert again.base.caching.compute_hash() == before
