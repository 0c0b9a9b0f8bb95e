"""``core.templatereplacer``: a CalcJob that fills a text template with parameters and runs a code on it.

As AiiDA's ``TemplatereplacerCalculation`` and its parser. The ``template`` Dict may hold:
``input_file_template`` (``str.format`` placeholders filled from ``parameters``),
``input_file_name``, ``output_file_name`` (the code's standard output, retrieved and parsed),
``cmdline_params`` (each one formatted too), ``input_through_stdin``, ``files_to_copy``
(``[link label in files, relative target]`` pairs: a SinglefileData is copied from the
repository, a RemoteData on the computer) and ``retrieve_temporary_files``. The parser
returns ``output_parameters``: ``{"value": <output file>, "retrieved_temporary_files":
[[name, content], ...]}``. Unknown template keys are refused before anything runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from provgraph.engine.processes.calcjobs import CalcInfo, CalcJob, CodeInfo, Parser
from provgraph.engine.processes.exit_code import ExitCode
from provgraph.engine.processes.spec import ProcessSpec
from provgraph.exceptions import NotExistent, ValidationError
from provgraph.orm.nodes.data.containers import Dict
from provgraph.orm.nodes.data.files import SinglefileData
from provgraph.orm.nodes.data.remote import RemoteData

__all__ = ["TemplatereplacerCalculation", "TemplatereplacerParser"]

_KEYS = ("input_file_template", "input_file_name", "output_file_name", "cmdline_params", "input_through_stdin",
         "files_to_copy", "retrieve_temporary_files")


class TemplatereplacerCalculation(CalcJob):
    """Fill ``template`` with ``parameters`` and run the code on it (see the module docstring)."""

    default_parser = "core.templatereplacer"

    @classmethod
    def define(cls, spec: ProcessSpec) -> None:
        """Inputs template, parameters and the files namespace; output output_parameters; AiiDA's exit codes."""
        super().define(spec)
        spec.input("template", valid_type=Dict, help="a template for the input file")
        spec.input("parameters", valid_type=Dict, required=False, help="values for the template's placeholders")
        spec.input_namespace("files", valid_type=(RemoteData, SinglefileData), dynamic=True,
                             help="files to copy, named in template['files_to_copy']")
        spec.output("output_parameters", valid_type=Dict, help="the output file's content")
        spec.exit_code(301, "ERROR_NO_TEMPORARY_RETRIEVED_FOLDER",
                       "The temporary retrieved folder data node could not be accessed.", invalidates_cache=True)
        spec.exit_code(305, "ERROR_NO_OUTPUT_FILE_NAME_DEFINED",
                       "The `template` input node did not specify the key `output_file_name`.",
                       invalidates_cache=True)
        spec.exit_code(310, "ERROR_READING_OUTPUT_FILE", "The output file could not be read from the retrieved folder.",
                       invalidates_cache=True)
        spec.exit_code(311, "ERROR_READING_TEMPORARY_RETRIEVED_FILE",
                       "A temporary retrieved file could not be read from the temporary retrieved folder.",
                       invalidates_cache=True)
        spec.exit_code(320, "ERROR_INVALID_OUTPUT", "The output file contains invalid output.", invalidates_cache=True)

    def prepare_for_submission(self, folder: Path) -> CalcInfo:
        """Write the filled template and say how to run the code.

        :raises ValidationError: on unknown template keys or inconsistent settings
        """
        template = dict(self.inputs.template.get_dict())
        unknown = sorted(set(template) - set(_KEYS))
        if unknown:
            raise ValidationError(f"the template holds keys that cannot be used: {', '.join(unknown)}")
        parameters = self.inputs.parameters.get_dict() if "parameters" in self.inputs else {}
        text = template.get("input_file_template", "")
        input_name = template.get("input_file_name")
        if input_name and not text:
            raise ValidationError("an input_file_name needs an input_file_template")
        if template.get("input_through_stdin") and not input_name:
            raise ValidationError("input_through_stdin needs an input_file_name")
        try:
            content = text.format(**parameters)
            arguments = [str(item).format(**parameters) for item in template.get("cmdline_params", [])]
        except (KeyError, IndexError, ValueError) as exc:
            raise ValidationError(f"the template has a placeholder the parameters do not fill: {exc}") from exc
        if input_name:
            (folder / input_name).write_text(content, encoding="utf-8")
        local, remote = self._copies(template.get("files_to_copy", []))
        output_name = template.get("output_file_name")
        code = CodeInfo(code_uuid=self.inputs.code.uuid, cmdline_params=arguments, stdout_name=output_name,
                        stdin_name=input_name if template.get("input_through_stdin") else None)
        return CalcInfo(codes_info=[code], local_copy_list=local, remote_copy_list=remote,
                        retrieve_list=[output_name] if output_name else [],
                        retrieve_temporary_list=list(template.get("retrieve_temporary_files", [])))

    def _copies(self, pairs: Any) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
        files = self.inputs.get("files", {})
        local, remote = [], []
        for pair in pairs:
            if not (isinstance(pair, (list, tuple)) and len(pair) == 2 and all(isinstance(p, str) for p in pair)):
                raise ValidationError(f"files_to_copy takes [link label, target] pairs of strings, not {pair!r}")
            label, target = pair
            if label not in files:
                raise ValidationError(f"files_to_copy names {label!r}, which is not in the files input namespace")
            node = files[label]
            if isinstance(node, SinglefileData):
                local.append((node.uuid, node.filename, target))
            else:
                remote.append((node.computer, node.get_remote_path(), target))
        return local, remote


class TemplatereplacerParser(Parser):
    """``output_parameters`` from the output file and the temporary retrieved files."""

    def parse(self, **kwargs: Any) -> ExitCode | None:
        """Read the output file (and the temporary files) into ``output_parameters``."""
        template = self.node.inputs["template"].get_dict()
        name = template.get("output_file_name")
        if not name:
            return self.exit_codes.ERROR_NO_OUTPUT_FILE_NAME_DEFINED
        try:
            value = self.retrieved.get_object_content(name)
        except (NotExistent, OSError):
            return self.exit_codes.ERROR_READING_OUTPUT_FILE
        result: dict[str, Any] = {"value": value, "retrieved_temporary_files": []}
        temporary = template.get("retrieve_temporary_files")
        if temporary:
            folder = kwargs.get("retrieved_temporary_folder")
            if folder is None:
                return self.exit_codes.ERROR_NO_TEMPORARY_RETRIEVED_FOLDER
            for relative in temporary:
                path = Path(folder) / relative
                if not path.is_file():
                    return self.exit_codes.ERROR_READING_TEMPORARY_RETRIEVED_FILE
                result["retrieved_temporary_files"].append([relative, path.read_text(encoding="utf-8").strip()])
        self.out("output_parameters", Dict(result))
        return None
