"""XyData, KpointsData, BandsData and TrajectoryData store and load back on both backends."""

from __future__ import annotations

import numpy
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from provgraph.exceptions import ModificationNotAllowed, NotExistent, ValidationError
from provgraph.orm import BandsData, KpointsData, QueryBuilder, StructureData, TrajectoryData, XyData, load_node
from provgraph.plugins import DataFactory

pytestmark = [pytest.mark.requires_neo4j, pytest.mark.requires_s3]

FLOATS = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, width=64)


@pytest.fixture(autouse=True)
def _orm_profile(backend_profile):
    """Run every test of this module on each storage backend."""
    return backend_profile


def test_entry_points_give_the_classes():
    assert DataFactory("core.array.xy") is XyData
    assert DataFactory("core.array.kpoints") is KpointsData
    assert DataFactory("core.array.bands") is BandsData
    assert DataFactory("core.array.trajectory") is TrajectoryData


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), count=st.integers(1, 20), ys=st.integers(1, 3))
def test_xy_round_trip(data, count, ys):
    x = data.draw(hnp.arrays(numpy.float64, count, elements=FLOATS))
    y = [data.draw(hnp.arrays(numpy.float64, count, elements=FLOATS)) for _ in range(ys)]
    node = XyData()
    node.set_x(x, "time", "s")
    node.set_y(y, [f"y{index}" for index in range(ys)], ["m"] * ys)
    loaded = load_node(node.store().pk)
    assert isinstance(loaded, XyData)
    name, array, units = loaded.get_x()
    assert (name, units) == ("time", "s") and numpy.array_equal(array, x)
    for index, (y_name, y_array, y_units) in enumerate(loaded.get_y()):
        assert (y_name, y_units) == (f"y{index}", "m") and numpy.array_equal(y_array, y[index])
    assert sorted(loaded.base.repository.list_object_names()) == sorted(
        ["x_array.npy"] + [f"y_array_{index}.npy" for index in range(ys)])


def test_xy_refuses_bad_input():
    node = XyData()
    with pytest.raises(NotExistent, match="set_x"):
        node.set_y([numpy.ones(3)], ["y"], ["m"])
    node.set_x(numpy.arange(3.0), "x", "s")
    with pytest.raises(ValidationError, match="has 2 values"):
        node.set_y(numpy.ones(2), "y", "m")
    with pytest.raises(ValidationError, match="as many"):
        node.set_y([numpy.ones(3), numpy.ones(3)], ["a"], ["m"])
    with pytest.raises(ValidationError, match="one-dimensional"):
        node.set_x(numpy.ones((2, 2)), "x", "s")
    with pytest.raises(NotExistent):
        XyData().get_y()


CELL = [[4.0, 0.0, 0.0], [0.0, 5.0, 0.0], [0.0, 0.0, 8.0]]


def test_kpoints_mesh_and_density():
    node = KpointsData()
    node.set_cell(CELL, pbc=[True, True, False])
    node.set_kpoints_mesh_from_density(0.2, force_parity=True)
    loaded = load_node(node.store().pk)
    mesh, offset = loaded.get_kpoints_mesh()
    # |b_i| = 2π/a_i: 1.571/0.2 → 8, 1.257/0.2 → 7 → 8 (parity), non-periodic → 1
    assert mesh == [8, 8, 1] and offset == [0.0, 0.0, 0.0]
    assert loaded.pbc == (True, True, False)
    points = loaded.get_kpoints_mesh(print_list=True)
    assert points.shape == (64, 3) and numpy.allclose(points.max(axis=0), [7 / 8, 7 / 8, 0])
    with pytest.raises(NotExistent, match="explicit"):
        loaded.get_kpoints()
    with pytest.raises(ModificationNotAllowed):
        loaded.set_kpoints_mesh([1, 1, 1])
    with pytest.raises(ValidationError, match="positive"):
        KpointsData().set_kpoints_mesh([0, 1, 1])
    with pytest.raises(ValidationError, match=r"\[0, 1\)"):
        KpointsData().set_kpoints_mesh([1, 1, 1], offset=[0.5, 1.0, 0])


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(points=hnp.arrays(numpy.float64, st.tuples(st.integers(1, 12), st.just(3)),
                         elements=st.floats(-1, 1, allow_nan=False, width=64)))
def test_kpoints_list_round_trip_in_crystal_and_cartesian(points):
    node = KpointsData()
    node.set_cell(CELL)
    node.set_kpoints(points, weights=numpy.full(len(points), 1 / len(points)), labels=[(0, "G")])
    loaded = load_node(node.store().pk)
    got, weights = loaded.get_kpoints(also_weights=True)
    assert numpy.array_equal(got, points) and numpy.allclose(weights.sum(), 1.0)
    assert loaded.labels == [(0, "G")]
    cartesian = loaded.get_kpoints(cartesian=True)
    again = KpointsData()
    again.set_cell(CELL)
    again.set_kpoints(cartesian, cartesian=True)
    assert numpy.allclose(again.get_kpoints(), points)


def test_kpoints_from_structure_and_bad_labels():
    structure = StructureData(cell=CELL, pbc=(True, False, True))
    node = KpointsData()
    node.set_cell_from_structure(structure)
    assert node.cell == CELL and node.pbc == (True, False, True)
    assert numpy.allclose(node.reciprocal_cell @ numpy.array(CELL).T, 2 * numpy.pi * numpy.eye(3))
    node.set_kpoints([[0, 0, 0], [0.5, 0, 0]])
    with pytest.raises(ValidationError, match="outside"):
        node.labels = [(2, "X")]
    with pytest.raises(ValidationError, match="linearly dependent"):
        KpointsData().set_cell([[1, 0, 0], [2, 0, 0], [0, 0, 1]])
    with pytest.raises(NotExistent, match="no cell"):
        KpointsData().set_kpoints_mesh_from_density(0.1)


def test_bands_round_trip_with_spins_occupations_and_labels():
    node = BandsData()
    node.set_kpoints([[0, 0, 0], [0.25, 0, 0], [0.5, 0, 0]], labels=[(0, "G"), (2, "X")])
    energies = numpy.arange(2 * 3 * 4, dtype=float).reshape(2, 3, 4)
    node.set_bands(energies, units="eV", occupations=numpy.ones((2, 3, 4)), labels=["up", "down"])
    loaded = load_node(node.store().pk)
    bands, occupations, labels = loaded.get_bands(also_occupations=True, also_labels=True)
    assert numpy.array_equal(bands, energies) and occupations.shape == (2, 3, 4)
    assert labels == ["up", "down"] and loaded.units == "eV" and loaded.labels == [(0, "G"), (2, "X")]
    assert QueryBuilder().append(KpointsData, filters={"uuid": loaded.uuid}).count() == 1  # a KpointsData too
    with pytest.raises(ValidationError, match="for 2 k-points, but there are 3"):
        BandsData.set_bands(node_with_three_points(), numpy.ones((2, 4)))
    with pytest.raises(NotExistent, match="k-points"):
        BandsData().set_bands(numpy.ones((2, 4)))


def node_with_three_points() -> BandsData:
    node = BandsData()
    node.set_kpoints([[0, 0, 0], [0.1, 0, 0], [0.2, 0, 0]])
    return node


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.integers(1, 5), sites=st.integers(1, 4), data=st.data())
def test_trajectory_round_trip(steps, sites, data):
    positions = data.draw(hnp.arrays(numpy.float64, (steps, sites, 3), elements=FLOATS))
    cells = numpy.tile(numpy.eye(3) * 10, (steps, 1, 1))
    symbols = data.draw(st.lists(st.sampled_from(["H", "O", "Fe"]), min_size=sites, max_size=sites))
    node = TrajectoryData()
    node.set_trajectory(symbols, positions, stepids=numpy.arange(steps) * 10, cells=cells,
                        times=numpy.arange(steps) * 0.5)
    loaded = load_node(node.store().pk)
    assert loaded.symbols == symbols and (loaded.numsteps, loaded.numsites) == (steps, sites)
    assert numpy.array_equal(loaded.get_positions(), positions)
    assert loaded.get_velocities() is None
    stepid, time, cell, _, step_positions, velocities = loaded.get_step_data(steps - 1)
    assert stepid == (steps - 1) * 10 and time == (steps - 1) * 0.5 and velocities is None
    assert numpy.array_equal(step_positions, positions[-1]) and numpy.array_equal(cell, cells[-1])
    assert loaded.get_index_from_stepid((steps - 1) * 10) == steps - 1
    structure = loaded.get_step_structure(0)
    assert [site["symbol"] for site in structure.sites] == symbols


def test_trajectory_from_structures_and_bad_shapes():
    first = StructureData(cell=CELL)
    first.append_atom("H", [0, 0, 0])
    second = StructureData(cell=CELL)
    second.append_atom("H", [0.5, 0, 0])
    node = TrajectoryData([first, second])
    assert node.numsteps == 2 and numpy.allclose(node.get_positions()[1, 0], [0.5, 0, 0])
    assert list(node.get_stepids()) == [0, 1]
    with pytest.raises(ValidationError, match="positions must have shape"):
        TrajectoryData().set_trajectory(["H"], numpy.ones((2, 2, 3)))
    with pytest.raises(ValidationError, match="cells must have shape"):
        TrajectoryData().set_trajectory(["H"], numpy.ones((2, 1, 3)), cells=numpy.ones((3, 3, 3)))
    other = StructureData(cell=CELL)
    other.append_atom("O", [0, 0, 0])
    with pytest.raises(ValidationError, match="same atoms"):
        TrajectoryData([first, other])
    with pytest.raises(NotExistent):
        node.get_index_from_stepid(7)
