"""Plugin code written for AiiDA, imports renamed, runs: Folder, CalcInfo/CodeInfo, Parser, exceptions."""

from __future__ import annotations

import io
import os
import uuid
from pathlib import Path

import pytest
from process_support import sqlite_engine  # noqa: F401 - autouse fixture

from provgraph.common import AttributeDict, LinkType, datastructures
from provgraph.common.exceptions import AiidaException, InputValidationError, OutputParsingError
from provgraph.common.folders import Folder, SandboxFolder
from provgraph.engine import CalcJob, run_get_node
from provgraph.exceptions import ProvgraphError, ValidationError
from provgraph.orm import Str
from provgraph.orm.computers import Computer
from provgraph.orm.nodes.data.code import InstalledCode
from provgraph.parsers.parser import Parser


class GreetCalculation(CalcJob):
    """An AiiDA-style plugin: writes its input with ``folder.open`` and builds CalcInfo by attributes."""

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.input("name", valid_type=Str)
        spec.output("greeting", valid_type=Str, required=False)
        spec.exit_code(300, "ERROR_NO_OUTPUT", message="the output file is missing")

    def prepare_for_submission(self, folder):
        if not self.inputs.name.value:
            raise InputValidationError("the name is empty")
        with folder.open("aiida.in", "w") as handle:
            handle.write(f"echo hello {self.inputs.name.value}\n")
        subfolder = folder.get_subfolder("extra", create=True)
        subfolder.create_file_from_filelike(io.BytesIO(b"data"), "blob.bin")
        codeinfo = datastructures.CodeInfo()
        codeinfo.code_uuid = self.inputs.code.uuid
        codeinfo.stdin_name = "aiida.in"
        codeinfo.stdout_name = "aiida.out"
        calcinfo = datastructures.CalcInfo()
        calcinfo.codes_info = [codeinfo]
        calcinfo.local_copy_list = []
        calcinfo.retrieve_list = ["aiida.out"]
        return calcinfo


class GreetParser(Parser):
    """An AiiDA-style parser: reads the retrieved file and attaches one output."""

    def parse(self, **kwargs):
        try:
            with self.retrieved.base.repository.open("aiida.out") as handle:
                text = handle.read()
        except (OSError, ProvgraphError):
            return self.exit_codes.ERROR_NO_OUTPUT
        self.out("greeting", Str(text.strip()))
        return None


@pytest.fixture
def bash(tmp_path):
    computer = Computer(f"pg-plugin-api-{uuid.uuid4().hex[:10]}", "localhost", "core.local", "core.direct",
                        workdir=str(tmp_path / "work"), metadata={"minimum_job_poll_interval": 0.1}).store()
    return InstalledCode(computer=computer, filepath_executable="/bin/bash", label="bash").store()


def _run(bash, name):
    return run_get_node(GreetCalculation, name=Str(name), code=bash,
                        metadata={"options": {"resources": {"num_machines": 1, "num_mpiprocs_per_machine": 1}}})


def test_aiida_style_calcjob_writes_with_folder_open(bash):
    _, node = _run(bash, "world")
    assert node.is_finished_ok, node.exit_message
    assert node.base.repository.get_object_content("aiida.in") == "echo hello world\n"
    assert node.base.repository.get_object_content("extra/blob.bin", mode="rb") == b"data"

    parser = GreetParser(node, node.outputs.retrieved, GreetCalculation.exit_codes)
    assert parser.parse() is None
    assert parser.outputs["greeting"].value == "hello world"


def test_input_validation_error_is_a_clear_validation_error(bash):
    with pytest.raises(ValidationError, match="the name is empty"):
        _run(bash, "")


# -- Folder ---------------------------------------------------------------------------------------------


def test_folder_open_text_and_binary(tmp_path):
    folder = Folder(tmp_path)
    with folder.open("a.txt", "w") as handle:
        handle.write("é")
    with folder.open("a.txt") as handle:
        assert handle.read() == "é"
    with folder.open("a.txt", "rb") as handle:
        assert handle.read() == "é".encode()


def test_folder_is_also_a_path(tmp_path):
    folder = Folder(tmp_path)
    (folder / "b.txt").write_text("x")
    assert isinstance(folder / "b.txt", Path)
    assert os.fspath(folder) == str(tmp_path) and folder == tmp_path
    assert [p.name for p in folder.iterdir()] == ["b.txt"]
    assert folder.get_content_list() == ["b.txt"] and folder.isfile("b.txt") and not folder.isdir("b.txt")


@pytest.mark.parametrize("escape", ["../x", "a/../../x", "/etc/passwd"])
def test_folder_refuses_paths_leaving_it(tmp_path, escape):
    folder = Folder(tmp_path / "inside")
    folder.create()
    with pytest.raises(ValueError):
        folder.get_abs_path(escape)
    with pytest.raises(ValueError):
        folder.open(escape, "w")
    with pytest.raises(ValueError):
        _ = folder / escape
    assert not (tmp_path / "x").exists()


def test_subfolder_keeps_the_limit_unless_reset(tmp_path):
    folder = Folder(tmp_path)
    sub = folder.get_subfolder("s", create=True)
    assert sub.folder_limit == str(tmp_path) and sub.isdir(".")
    assert Path(sub.get_abs_path("../t")) == tmp_path / "t"
    reset = folder.get_subfolder("s", reset_limit=True)
    with pytest.raises(ValueError):
        reset.get_abs_path("../t")


def test_folder_needs_an_absolute_path():
    with pytest.raises(ValueError):
        Folder("relative/path")


def test_insert_and_remove_paths(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    (source / "f").write_text("1")
    folder = Folder(tmp_path / "dest")
    folder.create()
    assert Path(folder.insert_path(source / "f", "g")).read_text() == "1"
    folder.insert_path(source, "tree")
    assert folder.isfile("tree/f")
    with pytest.raises(FileExistsError):
        folder.insert_path(source / "f", "g", overwrite=False)
    folder.remove_path("tree")
    folder.remove_path("missing")
    assert folder.get_content_list() == ["g"]


def test_sandbox_folder_is_removed_after_use():
    with SandboxFolder() as sandbox:
        path = Path(sandbox.abspath)
        with sandbox.open("x", "w") as handle:
            handle.write("1")
        assert path.is_dir()
    assert not path.exists()


# -- the names AiiDA plugins import -------------------------------------------------------------------


def test_common_names():
    assert AttributeDict({"a": 1}).a == 1
    assert LinkType.CREATE
    assert datastructures.CodeRunMode and datastructures.StashMode


def test_aiida_exception_names_are_provgraph_errors():
    assert AiidaException is ProvgraphError
    assert issubclass(InputValidationError, ValidationError) and issubclass(InputValidationError, ValueError)
    assert issubclass(OutputParsingError, ProvgraphError)


def test_parser_import_paths():
    from provgraph.engine.processes.calcjobs.parser import Parser as EngineParser
    from provgraph.parsers import Parser as PackageParser

    assert Parser is PackageParser is EngineParser
