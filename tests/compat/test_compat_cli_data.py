"""``provgraph data core.<type> ...`` behaves as ``verdi data``: dict/array show, singlefile content,
structure show/list, remote ls/cat/show; plus provgraph's value ``show`` and ``data list``."""

from __future__ import annotations

import io
import json

import numpy
import pytest
import yaml
from compat_cli_support import error_line, invoke, sqlite_cli, unique  # noqa: F401 - sqlite_cli is a fixture

from provgraph.orm import (
    ArrayData,
    Bool,
    Computer,
    Dict,
    Float,
    Group,
    Int,
    List,
    RemoteData,
    SinglefileData,
    Str,
    StructureData,
)

pytestmark = pytest.mark.usefixtures("sqlite_cli")


def test_dict_show_prints_json():
    node = Dict({"a": 1, "b": {"c": [1, 2]}}).store()
    result = invoke("data", "core.dict", "show", str(node.pk))
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"a": 1, "b": {"c": [1, 2]}} and '    "a": 1' in result.output


def test_dict_show_yaml():
    node = Dict({"k": [1, 2]}).store()
    result = invoke("data", "core.dict", "show", node.uuid, "-f", "yaml")
    assert result.exit_code == 0 and yaml.safe_load(result.output) == {"k": [1, 2]}


def test_dict_show_wrong_type_is_an_error():
    node = Int(3).store()
    result = invoke("data", "core.dict", "show", str(node.pk))
    assert result.exit_code == 2 and error_line(result) == f"Error: node {node.pk} is a Int, not a Dict"


def test_dict_show_unknown_pk():
    result = invoke("data", "core.dict", "show", "987654321")
    assert result.exit_code == 2 and "no Dict found with pk or uuid '987654321'" in error_line(result)


def test_dict_show_bad_format():
    node = Dict({"a": 1}).store()
    result = invoke("data", "core.dict", "show", str(node.pk), "-f", "xml")
    assert result.exit_code == 2 and "Invalid value for '-f'" in result.output


def test_array_show():
    node = ArrayData({"m": numpy.arange(6).reshape(2, 3), "v": numpy.array([1.5, 2.5])}).store()
    result = invoke("data", "core.array", "show", str(node.pk))
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"m": [[0, 1, 2], [3, 4, 5]], "v": [1.5, 2.5]}


def test_singlefile_content():
    node = SinglefileData(io.BytesIO(b"hello\nworld\n"), filename="f.txt").store()
    result = invoke("data", "core.singlefile", "content", str(node.pk))
    assert result.exit_code == 0 and result.output == "hello\nworld\n"


def test_singlefile_content_of_a_dict_is_refused():
    node = Dict({}).store()
    result = invoke("data", "core.singlefile", "content", str(node.pk))
    assert result.exit_code == 2 and "not a SinglefileData" in error_line(result)


def water() -> StructureData:
    structure = StructureData(cell=[[2, 0, 0], [0, 2, 0], [0, 0, 2]])
    for symbol, position in (("H", (0, 0, 0)), ("O", (1, 1, 1)), ("H", (0.5, 0, 0))):
        structure.append_atom(symbol, position)
    return structure


def test_structure_show_table_and_xyz():
    node = water().store()
    table = invoke("data", "core.structure", "show", str(node.pk))
    assert table.exit_code == 0 and "H2O" in table.output and "volume 8.0000" in table.output
    xyz = invoke("data", "core.structure", "show", str(node.pk), "-F", "xyz")
    lines = xyz.output.splitlines()
    assert lines[0] == "3" and lines[2].startswith("H 0.00000000") and lines[3].startswith("O 1.00000000")


def test_structure_list_by_group_and_elements():
    node = water()
    node.label = unique("water")
    node.store()
    group = Group(label=unique("structures")).store()
    group.add_nodes(node)
    result = invoke("data", "core.structure", "list", "-G", group.label)
    assert result.exit_code == 0 and node.label in result.output and "Total results: 1" in result.output
    none = invoke("data", "core.structure", "list", "-G", group.label, "-e", "Fe")
    assert "Total results: 0" in none.output
    raw = invoke("data", "core.structure", "list", "-G", group.label, "-r", "-e", "O")
    assert raw.output.split("\t")[0] == str(node.pk) and "Total" not in raw.output


@pytest.fixture
def remote(tmp_path):
    """A RemoteData on a core.local computer, its folder holding a file and a sub-folder."""
    (tmp_path / "out.txt").write_text("result 42\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "inner.dat").write_text("x")
    computer = Computer(unique("localhost"), "localhost", "core.local", "core.direct").store()
    return RemoteData(remote_path=str(tmp_path), computer=computer).store()


def test_remote_ls_and_long(remote):
    result = invoke("data", "core.remote", "ls", str(remote.pk))
    assert result.exit_code == 0, result.output
    assert result.output.split() == ["out.txt", "sub"]
    assert invoke("data", "core.remote", "ls", str(remote.pk), "-l").output.splitlines() == ["- out.txt", "d sub"]
    assert invoke("data", "core.remote", "ls", str(remote.pk), "-p", "sub").output.split() == ["inner.dat"]


def test_remote_cat(remote):
    result = invoke("data", "core.remote", "cat", str(remote.pk), "out.txt")
    assert result.exit_code == 0 and result.output == "result 42\n"


def test_remote_cat_missing_file_and_escape(remote):
    missing = invoke("data", "core.remote", "cat", str(remote.pk), "nope.txt")
    assert missing.exit_code == 1 and "no file 'nope.txt'" in error_line(missing)
    escape = invoke("data", "core.remote", "cat", str(remote.pk), "../etc/passwd")
    assert escape.exit_code == 2 and "relative path inside" in error_line(escape)


def test_remote_show(remote):
    result = invoke("data", "core.remote", "show", str(remote.pk))
    assert result.exit_code == 0 and remote.get_remote_path() in result.output and remote.computer in result.output


@pytest.mark.parametrize(("kind", "node", "expected"), [
    ("core.int", lambda: Int(42), "42"), ("core.float", lambda: Float(2.5), "2.5"),
    ("core.str", lambda: Str("hi there"), "hi there"), ("core.bool", lambda: Bool(True), "true"),
    ("core.list", lambda: List([1, "a"]), '[1, "a"]'),
])
def test_value_show(kind, node, expected):
    stored = node().store()
    result = invoke("data", kind, "show", str(stored.pk))
    assert result.exit_code == 0 and result.output.strip() == expected


def test_value_show_of_the_wrong_type():
    node = Str("x").store()
    result = invoke("data", "core.int", "show", str(node.pk))
    assert result.exit_code == 2 and "is a Str, not a Int" in error_line(result)


def test_data_list_by_type_and_group():
    group = Group(label=unique("datalist")).store()
    one, text = Int(11).store(), Str("words").store()
    group.add_nodes([one, text])
    result = invoke("data", "list", "-G", group.label)
    assert result.exit_code == 0 and "Total results: 2" in result.output and "words" in result.output
    ints = invoke("data", "list", "-G", group.label, "-T", "Int")
    assert "Total results: 1" in ints.output and str(one.pk) in ints.output


def test_data_list_unknown_type():
    result = invoke("data", "list", "-T", "NoSuchThing")
    assert result.exit_code == 2 and "not a data class" in error_line(result)
