"""core.templatereplacer: a template filled with parameters, run by bash through core.local."""

from __future__ import annotations

import io
import uuid

import pytest

from provgraph.calculations.templatereplacer import TemplatereplacerCalculation
from provgraph.engine import run
from provgraph.orm import Dict, InstalledCode, SinglefileData
from provgraph.orm.computers import Computer
from provgraph.plugins import CalculationFactory, ParserFactory

OPTIONS = {"resources": {"num_machines": 1, "num_mpiprocs_per_machine": 1}}


@pytest.fixture
def bash(embedded_profile, tmp_path):
    computer = Computer(f"pg-tr-{uuid.uuid4().hex[:10]}", "localhost", "core.local", "core.direct",
                        workdir=str(tmp_path / "work"), metadata={"minimum_job_poll_interval": 0.2}).store()
    return InstalledCode(computer=computer, filepath_executable="/bin/bash", label="bash").store()


def test_entry_points():
    assert CalculationFactory("core.templatereplacer") is TemplatereplacerCalculation
    assert ParserFactory("core.templatereplacer").__name__ == "TemplatereplacerParser"


def test_the_template_is_filled_run_and_parsed(bash):
    template = {
        "input_file_template": "echo {greeting} $(cat data.txt)\necho {greeting} > temp.txt\n",
        "input_file_name": "aiida.in", "output_file_name": "aiida.out", "input_through_stdin": True,
        "cmdline_params": ["-s", "{flag}"], "files_to_copy": [["data", "data.txt"]],
        "retrieve_temporary_files": ["temp.txt"],
    }
    outputs, node = run.get_node(
        TemplatereplacerCalculation, code=bash, template=Dict(template),
        parameters=Dict({"greeting": "hello", "flag": "--"}),
        files={"data": SinglefileData(io.BytesIO(b"world\n"), filename="d.txt")}, metadata={"options": OPTIONS})
    assert node.is_finished_ok, node.exit_message
    result = outputs["output_parameters"].get_dict()
    assert result == {"value": "hello world\n", "retrieved_temporary_files": [["temp.txt", "hello"]]}
    assert node.base.repository.get_object_content("aiida.in").startswith("echo hello $(cat data.txt)")
    assert "/bin/bash -s -- < aiida.in > aiida.out" in node.base.repository.get_object_content("_provgraph_submit.sh")


@pytest.mark.parametrize(("template", "status"), [({"input_file_template": "true\n", "input_file_name": "a.in"}, 305)])
def test_without_an_output_file_the_parser_says_so(bash, template, status):
    _, node = run.get_node(TemplatereplacerCalculation, code=bash, template=Dict(template),
                           metadata={"options": OPTIONS})
    assert node.exit_status == status


@pytest.mark.parametrize(("template", "message"), [
    ({"colour": "red"}, "cannot be used"),
    ({"input_file_name": "a.in"}, "needs an input_file_template"),
    ({"input_file_template": "{missing}", "input_file_name": "a.in"}, "placeholder"),
    ({"files_to_copy": [["nope", "x"]]}, "not in the files"),
])
def test_bad_templates_end_the_job_before_it_runs(bash, template, message):
    from provgraph.exceptions import ValidationError

    with pytest.raises(ValidationError, match=message):  # the job excepted with it, before any upload
        run(TemplatereplacerCalculation, code=bash, template=Dict(template), metadata={"options": OPTIONS})
