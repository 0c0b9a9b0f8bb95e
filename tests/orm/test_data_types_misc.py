"""EnumData, JsonableData, CifData, UpfData and the RemoteStash types store and load back on both backends."""

from __future__ import annotations

import enum
import io
import math
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provgraph.exceptions import NotExistent, ValidationError
from provgraph.orm import (
    CifData,
    EnumData,
    JsonableData,
    RemoteStashData,
    RemoteStashFolderData,
    UpfData,
    load_node,
)
from provgraph.orm.nodes.data.cif import parse_cif
from provgraph.orm.nodes.data.remote_stash import StashMode
from provgraph.plugins import DataFactory

pytestmark = [pytest.mark.requires_neo4j, pytest.mark.requires_s3]


@pytest.fixture(autouse=True)
def _orm_profile(backend_profile):
    """Run every test of this module on each storage backend."""
    return backend_profile


class Colour(enum.Enum):
    """An enum importable from this module."""

    RED = "red"
    GREEN = 2


class Point:
    """A JSON-serialisable object with as_dict/from_dict."""

    def __init__(self, x: float, y: float, tags: list | None = None) -> None:
        self.x, self.y, self.tags = x, y, tags or []

    def as_dict(self) -> dict:
        return {"x": self.x, "y": self.y, "tags": self.tags}

    @classmethod
    def from_dict(cls, data: dict) -> Point:
        return cls(data["x"], data["y"], data["tags"])


class Plain:
    """JSON-serialisable without from_dict: rebuilt by calling the class with the keys."""

    def __init__(self, a: int, b: str) -> None:
        self.a, self.b = a, b

    def as_dict(self) -> dict:
        return {"a": self.a, "b": self.b}


@pytest.mark.parametrize(("name", "cls"), [
    ("core.enum", EnumData), ("core.jsonable", JsonableData), ("core.cif", CifData), ("core.upf", UpfData),
    ("core.remote.stash", RemoteStashData), ("core.remote.stash.folder", RemoteStashFolderData),
])
def test_entry_points_give_the_classes(name, cls):
    assert DataFactory(name) is cls


@pytest.mark.parametrize("member", list(Colour))
def test_enum_round_trip(member):
    loaded = load_node(EnumData(member).store().pk)
    assert loaded.name == member.name and loaded.value == member.value
    assert loaded.identifier == f"{__name__}:Colour"
    assert loaded.get_member() is member and loaded.get_enum() is Colour
    assert loaded == member
    assert all(loaded != other for other in Colour if other is not member)


def test_enum_refuses_non_members_and_reports_missing_classes():
    with pytest.raises(ValidationError, match="Enum member"):
        EnumData("RED")
    node = EnumData(Colour.RED)
    node.base.attributes.set("identifier", "no_such_module_xyz:Colour")
    with pytest.raises(ImportError):
        node.get_member()
    assert node.value == "red"


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(x=st.floats(allow_nan=True, allow_infinity=True, width=64), y=st.floats(-1e9, 1e9),
       # the strings "NaN", "Infinity", "-Infinity" stand for the float constants (as in AiiDA): not plain text here
       tags=st.lists(st.text(max_size=5).filter(lambda t: t not in ("NaN", "Infinity", "-Infinity")), max_size=3))
def test_jsonable_round_trip_including_nan_and_infinity(x, y, tags):
    loaded = load_node(JsonableData(Point(x, y, tags)).store().pk)
    obj = loaded.obj
    assert isinstance(obj, Point) and obj.y == y and obj.tags == tags
    assert (math.isnan(obj.x) and math.isnan(x)) or obj.x == x
    assert loaded.base.attributes.get("@class") == "Point"


def test_jsonable_without_from_dict_and_bad_objects():
    loaded = load_node(JsonableData(Plain(3, "z")).store().pk)
    assert isinstance(loaded.obj, Plain) and (loaded.obj.a, loaded.obj.b) == (3, "z")
    with pytest.raises(ValidationError, match="as_dict"):
        JsonableData(object())

    class Bad:
        def as_dict(self):
            return {"when": object()}

    with pytest.raises(ValidationError, match="not JSON-able"):
        JsonableData(Bad())


CIF = """# a comment
data_NaCl
_chemical_formula_sum 'Cl Na'
_space_group_IT_number 225
_cell_length_a 5.64
loop_
_atom_site_label
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
_atom_site_occupancy
Na1 0.0 0.0 0.0 1.0
Cl1 0.5 0.5 0.5 0.5(1)
_publ_section_title
;
 A salt
;
"""


def test_cif_attributes_and_parsing():
    node = CifData(io.BytesIO(CIF.encode()), filename="nacl.cif")
    loaded = load_node(node.store().pk)
    assert loaded.get_formulae() == ["Cl Na"] and loaded.get_spacegroup_numbers() == [225]
    assert loaded.has_partial_occupancies() and loaded.has_atomic_sites()
    block = loaded.values["NaCl"]
    assert block["_atom_site_label"] == ["Na1", "Cl1"] and block["_publ_section_title"] == "A salt"
    assert len(loaded.md5) == 32 and loaded.uuid in {found.uuid for found in CifData.from_md5(loaded.md5)}
    with pytest.raises(ValidationError, match="loop"):
        parse_cif("data_x\nloop_\n_a\n_b\n1 2 3\n")
    with pytest.raises(ValidationError, match="before any data_"):
        CifData(io.BytesIO(b"_cell_length_a 3\n"))


def test_cif_get_or_create_reuses_the_stored_node(tmp_path):
    path = tmp_path / "unique.cif"
    path.write_text(CIF + f"_journal_coden_ASTM {uuid.uuid4().hex}\n")  # content no earlier run stored
    first, created = CifData.get_or_create(path)
    again, created_again = CifData.get_or_create(path)
    assert created and not created_again and again.uuid == first.uuid


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(formula=st.lists(st.sampled_from(["H", "O", "Fe", "Na", "Cl"]), min_size=1, max_size=3, unique=True),
       spacegroup=st.integers(1, 230), labels=st.lists(st.from_regex(r"[A-Z][a-z]?[0-9]{1,2}", fullmatch=True),
                                                      min_size=1, max_size=4))
def test_cif_parser_reads_what_was_written(formula, spacegroup, labels):
    text = (f"data_gen\n_chemical_formula_sum '{' '.join(formula)}'\n_space_group_IT_number {spacegroup}\n"
            "loop_\n_atom_site_label\n_atom_site_fract_x\n" + "".join(f"{label} 0.{i}\n" for i, label in
                                                                       enumerate(labels)))
    block = parse_cif(text)["gen"]
    assert block["_chemical_formula_sum"] == " ".join(formula)
    assert block["_space_group_it_number"] == str(spacegroup)
    assert block["_atom_site_label"] == labels


UPF_V2 = """<UPF version="2.0.1">
  <PP_INFO>generated</PP_INFO>
  <PP_HEADER
     generated="test"
     element="Fe"
     z_valence="16"/>
</UPF>
"""
UPF_V1 = """<PP_INFO>
</PP_INFO>
<PP_HEADER>
   0                   Version Number
  Si                   Element
   US                  Ultrasoft pseudopotential
</PP_HEADER>
"""


@pytest.mark.parametrize(("text", "element"), [(UPF_V2, "Fe"), (UPF_V1, "Si")])
def test_upf_element_and_md5(text, element):
    loaded = load_node(UpfData(io.BytesIO(text.encode()), filename=f"{element}.upf").store().pk)
    assert loaded.element == element and len(loaded.md5sum) == 32
    assert loaded.get_content() == text
    assert any(node.uuid == loaded.uuid for node in UpfData.from_md5(loaded.md5sum))


def test_upf_without_element_is_refused():
    with pytest.raises(ValidationError, match="no element"):
        UpfData(io.BytesIO(b"<PP_HEADER>\n</PP_HEADER>\n"), filename="x.upf")


def test_remote_stash_round_trip():
    node = RemoteStashFolderData(StashMode.COPY, "/scratch/stash/abc", ["aiida.out", "out/"], computer="pg-any")
    loaded = load_node(node.store().pk)
    assert isinstance(loaded, RemoteStashFolderData) and isinstance(loaded, RemoteStashData)
    assert loaded.stash_mode is StashMode.COPY and loaded.target_basepath == "/scratch/stash/abc"
    assert loaded.source_list == ["aiida.out", "out/"] and loaded.computer == "pg-any"
    with pytest.raises(ValidationError, match="absolute"):
        RemoteStashFolderData(StashMode.COPY, "relative/path", [])
    with pytest.raises(ValidationError, match="StashMode"):
        RemoteStashData("copy")
    with pytest.raises(ValidationError, match="list of strings"):
        RemoteStashFolderData(StashMode.COPY, "/x", "aiida.out")
    with pytest.raises(NotExistent):
        load_node(uuid="00000000-0000-4000-8000-000000000000")
