"""The ``metadata.options`` of a CalcJob: scheduler resources and limits, files, parser.

:func:`define_options` declares them on a spec. Each option is stored on the CalcJobNode as
a top-level attribute of the same name (``resources``, ``input_filename``, ...), as AiiDA
does, so a worker rebuilds them from the node (``metadata`` itself is not stored).
:func:`job_template` turns them, with the computer, the code and the CalcInfo, into the
:class:`~provgraph.schedulers.datastructures.JobTemplate` the scheduler writes a script from.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from provgraph.exceptions import ValidationError
from provgraph.schedulers.datastructures import CodeRun, CodeRunMode, JobTemplate

if TYPE_CHECKING:
    from provgraph.engine.processes.calcjobs.calcinfo import CalcInfo
    from provgraph.engine.processes.spec import ProcessSpec
    from provgraph.orm.computers import Computer
    from provgraph.schedulers.base import Scheduler

#: name of the submit script in the working directory and in the CalcJobNode's repository
SUBMIT_SCRIPT = "_provgraph_submit.sh"
DEFAULT_RESOURCES = {"num_machines": 1, "num_mpiprocs_per_machine": 1}


def _resources_validator(value: Any, _: Any = None) -> str | None:
    if not isinstance(value, Mapping) or not value:
        return "resources must be a non-empty dict (e.g. {'num_machines': 1, 'num_mpiprocs_per_machine': 1})"
    return None


def _environment_validator(value: Any, _: Any = None) -> str | None:
    if not isinstance(value, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        return "environment_variables must map names to string values"
    return None


#: name -> (valid type, default or None when optional without default, help)
OPTIONS: dict[str, tuple[Any, Any, str]] = {
    "resources": (dict, dict(DEFAULT_RESOURCES), "what the job asks of the scheduler (machines, MPI processes...)"),
    "max_wallclock_seconds": (int, None, "wall-clock limit of the job"),
    "queue_name": (str, None, "scheduler queue (partition)"),
    "account": (str, None, "account charged for the job"),
    "qos": (str, None, "quality of service"),
    "max_memory_kb": (int, None, "memory limit of the job, in kB"),
    "withmpi": (bool, False, "run the code under the computer's mpirun command"),
    "custom_scheduler_commands": (str, "", "raw scheduler directives put in the submit script header"),
    "environment_variables": (dict, {}, "variables exported in the submit script"),
    "environment_variables_double_quotes": (bool, False, "double-quote the values (so $VAR expands)"),
    "import_sys_environment": (bool, True, "let the job inherit the submitting shell's environment"),
    "prepend_text": (str, "", "shell text run before the code (after the computer's and the code's)"),
    "append_text": (str, "", "shell text run after the code"),
    "parser_name": (str, None, "entry point of the parser (group provgraph.parsers)"),
    "input_filename": (str, None, "name of the main input file"),
    "output_filename": (str, None, "name of the main output file"),
    "scheduler_stdout": (str, "_scheduler-stdout.txt", "file the job's own standard output goes to"),
    "scheduler_stderr": (str, "_scheduler-stderr.txt", "file the job's own standard error goes to"),
    "submit_script_filename": (str, SUBMIT_SCRIPT, "name of the submit script"),
    "additional_retrieve_list": (list, [], "more files or patterns to retrieve"),
    "max_transport_attempts": (int, 5, "failed attempts of a transport step before the process pauses"),
    "stash": (dict, None, "files to stash on the computer after the job (see calcjobs/stash.py)"),
}
def _stash_validator(value: Any, _: Any = None) -> str | None:
    from provgraph.engine.processes.calcjobs.stash import validate_stash_options

    return validate_stash_options(value)


_VALIDATORS = {"resources": _resources_validator, "environment_variables": _environment_validator,
               "stash": _stash_validator}


def define_options(spec: ProcessSpec) -> None:
    """Declare ``metadata.options.*`` (see :data:`OPTIONS`) and ``metadata.computer``."""
    spec.input_namespace("metadata.options", non_db=True, help="scheduler, file and parser options of the job")
    for name, (valid_type, default, text) in OPTIONS.items():
        kwargs: dict[str, Any] = {"valid_type": valid_type, "required": False, "non_db": True, "help": text,
                                  "validator": _VALIDATORS.get(name)}
        if default is not None:
            kwargs["default"] = default
        spec.input(f"metadata.options.{name}", **kwargs)
    spec.input("metadata.computer", valid_type=str, required=False, non_db=True,
               help="label of the computer to run on (default: the code's computer)")


def option_attributes(options: Mapping[str, Any]) -> dict[str, Any]:
    """The options to store as node attributes (unset optional ones left out)."""
    return {name: options[name] for name in OPTIONS if options.get(name) is not None}


def stored_options(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """The options back from a CalcJobNode's attributes, defaults filled in."""
    options = {name: default for name, (_, default, _) in OPTIONS.items() if default is not None}
    options.update({name: attributes[name] for name in OPTIONS if name in attributes})
    return options


def job_template(options: Mapping[str, Any], computer: Computer, scheduler: Scheduler, calc_info: CalcInfo,
                 executables: Mapping[str, list[str]], code_texts: tuple[str, str], job_name: str,
                 workdir: str, containers: Mapping[str, tuple[list[str], bool]] | None = None) -> JobTemplate:
    """The scheduler's job template for a prepared CalcJob.

    :param executables: code uuid -> the words that start its command line (the executable)
    :param containers: code uuid -> (container engine words, wrap the command line) of containerized codes
    :param code_texts: the codes' (prepend_text, append_text)
    :raises ValidationError: when the options do not fit the scheduler
    """
    runs = []
    for info in calc_info.codes_info:
        withmpi = options.get("withmpi", False) if info.withmpi is None else info.withmpi
        engine, wrap = (containers or {}).get(info.code_uuid, ([], False))
        runs.append(CodeRun(tuple(executables[info.code_uuid] + [str(p) for p in info.cmdline_params]),
                            withmpi=bool(withmpi), stdin_name=info.stdin_name, stdout_name=info.stdout_name,
                            stderr_name=info.stderr_name, join_files=info.join_files,
                            prepend_cmdline_params=tuple(engine), wrap_cmdline_params=wrap))
    prepend = [computer.prepend_text, code_texts[0], options.get("prepend_text", ""), calc_info.prepend_text]
    append = [calc_info.append_text, options.get("append_text", ""), code_texts[1], computer.append_text]
    try:
        resources = scheduler.create_resource(**dict(options.get("resources") or DEFAULT_RESOURCES))
    except ValidationError as exc:
        raise ValidationError(f"option resources: {exc}") from exc
    try:
        return JobTemplate(
            resources=resources,
            job_name=job_name, working_directory=workdir, codes=tuple(runs),
            codes_run_mode=CodeRunMode(calc_info.codes_run_mode),
            mpirun_command=tuple(computer.mpirun_command or ()),
            max_wallclock_seconds=options.get("max_wallclock_seconds"), queue_name=options.get("queue_name"),
            account=options.get("account"), qos=options.get("qos"), max_memory_kb=options.get("max_memory_kb"),
            custom_scheduler_commands=options.get("custom_scheduler_commands", ""),
            prepend_text="\n".join(text for text in prepend if text),
            append_text="\n".join(text for text in append if text),
            environment_variables=dict(options.get("environment_variables") or {}),
            environment_variables_double_quotes=bool(options.get("environment_variables_double_quotes", False)),
            import_sys_environment=bool(options.get("import_sys_environment", True)),
            scheduler_stdout=options.get("scheduler_stdout", "_scheduler-stdout.txt"),
            scheduler_stderr=options.get("scheduler_stderr", "_scheduler-stderr.txt"),
        )
    except (TypeError, ValueError) as exc:
        if isinstance(exc, ValidationError):
            raise
        raise ValidationError(f"the CalcJob's options do not make a job: {exc}") from exc
