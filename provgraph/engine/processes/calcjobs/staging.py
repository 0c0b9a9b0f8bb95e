"""The local side of a CalcJob's upload and retrieve: sandbox, submit script, repository, parser.

:func:`stage_inputs` completes the sandbox that ``prepare_for_submission`` filled: it writes the
submit script, records the sandbox in the CalcJobNode's repository (the files the job was
given, minus the ``provenance_exclude_list``; files copied from other nodes are not duplicated
there), then adds the files of ``local_copy_list`` and of portable codes.
:func:`retrieve_and_parse` fetches the retrieve lists and runs the parser.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from provgraph.engine.processes.calcjobs import lifecycle
from provgraph.engine.processes.calcjobs.options import SUBMIT_SCRIPT, job_template, stored_options
from provgraph.exceptions import SchedulerError, ValidationError
from provgraph.orm.backend import get_backend, get_repository
from provgraph.orm.nodes.data.code import AbstractCode, InstalledCode, PortableCode
from provgraph.orm.nodes.data.files import FolderData

if TYPE_CHECKING:
    from provgraph.engine.processes.calcjobs.calcinfo import CalcInfo
    from provgraph.engine.processes.calcjobs.calcjob import CalcJob
    from provgraph.engine.processes.exit_code import ExitCode
    from provgraph.schedulers.datastructures import JobInfo
    from provgraph.transports.base import Transport

__all__ = ["retrieve_and_parse", "stage_inputs"]


def _executables(process: CalcJob, calc_info: CalcInfo, sandbox: Path) -> tuple[dict[str, list[str]], list[str]]:
    """Command-line start of each code (by uuid), and the portable executables to make executable."""
    codes = process.codes()
    main: AbstractCode = process.inputs.code
    words: dict[str, list[str]] = {}
    portable: list[str] = []
    for info in calc_info.codes_info:
        info.code_uuid = info.code_uuid or main.uuid
        code = codes.get(info.code_uuid)
        if code is None:
            raise ValidationError(f"CodeInfo names code {info.code_uuid}, which is not an input of {process.label()}")
        if isinstance(code, InstalledCode):
            words[code.uuid] = [code.filepath_executable]
        elif isinstance(code, PortableCode):
            code.base.repository.copy_tree(sandbox)
            words[code.uuid] = [f"./{code.filepath_executable}"]
            portable.append(code.filepath_executable)
        else:
            raise ValidationError(f"{type(code).__name__} cannot run: use an InstalledCode or a PortableCode")
    return words, portable


def _containers(process: CalcJob) -> dict[str, tuple[list[str], bool]]:
    """Container engine words and wrap flag of each containerized code among the inputs, by uuid."""
    from provgraph.orm.nodes.data.code_containerized import ContainerizedCode

    return {uuid: (code.get_engine_command_words(), code.wrap_cmdline_params)
            for uuid, code in process.codes().items() if isinstance(code, ContainerizedCode)}


def stage_inputs(process: CalcJob, calc_info: CalcInfo, sandbox: Path, workdir: str,
                 record: bool = True) -> tuple[str, list[str]]:
    """Complete the sandbox (see the module docstring); return the submit script's name and portable executables.

    :param record: put the sandbox into the node's repository (False for a dry run: nothing is stored)

    :raises ValidationError: when the options, codes or copy lists cannot make a job
    """
    from provgraph.tools.computers import scheduler_for

    options = stored_options(process.node.base.attributes.all)
    computer = process.computer
    main: AbstractCode = process.inputs.code
    portable_dir = Path(tempfile.mkdtemp(dir=sandbox.parent, prefix="provgraph-codes-"))
    try:
        executables, portable = _executables(process, calc_info, portable_dir)
        scheduler = scheduler_for(computer)
        template = job_template(options, computer, scheduler, calc_info, executables,
                                (main.prepend_text, main.append_text), f"provgraph-{process.node.pk}", workdir,
                                containers=_containers(process))
        script = options.get("submit_script_filename") or SUBMIT_SCRIPT
        (sandbox / script).write_text(scheduler.get_submit_script(template))
        if record:
            _record_inputs(process, sandbox, calc_info.provenance_exclude_list)
        _copy_local(calc_info, sandbox, process.codes() | _input_nodes(process))
        if portable:
            _merge(portable_dir, sandbox)
    finally:
        _remove(portable_dir)
    return script, portable


def _record_inputs(process: CalcJob, sandbox: Path, excluded: list[str]) -> None:
    """Put the sandbox's files into the CalcJobNode's repository (content-addressed, so a retry stores nothing new)."""
    repository = get_repository()
    tree: dict[str, str] = {}
    for path in sorted(sandbox.rglob("*")):
        relative = path.relative_to(sandbox).as_posix()
        if path.is_file() and not any(relative == item or relative.startswith(item.rstrip("/") + "/")
                                      for item in excluded):
            with path.open("rb") as handle:
                tree[relative] = repository.put_object_from_filelike(handle)
    get_backend().nodes.update(process.node.pk, repository=tree)
    process.node._record.repository = tree


def _input_nodes(process: CalcJob) -> dict[str, Any]:
    from provgraph.engine.processes.utils import flatten
    from provgraph.orm.nodes.node import Node

    return {node.uuid: node for node in flatten(process.inputs).values() if isinstance(node, Node)}


def _copy_local(calc_info: CalcInfo, sandbox: Path, inputs: dict[str, Any] | None = None) -> None:
    """Write the files of ``local_copy_list`` (from the repositories of the inputs or stored nodes) into the sandbox."""
    from provgraph.orm.utils import load_node

    for uuid, source, target in calc_info.local_copy_list:
        node = (inputs or {}).get(uuid) or load_node(uuid=uuid)
        files = node.base.repository.walk_files()
        if source in ("", "."):
            node.base.repository.copy_tree(sandbox / target if target not in ("", ".") else sandbox)
            continue
        if source in files:
            destination = sandbox / (target if target not in ("", ".") else Path(source).name)
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(node.base.repository.get_object_content(source, "rb"))
            continue
        inside = [name for name in files if name.startswith(source.rstrip("/") + "/")]
        if not inside:
            raise ValidationError(f"local_copy_list: node {uuid} has no file or folder {source!r}")
        for name in inside:
            destination = sandbox / target / name[len(source.rstrip("/")) + 1:]
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(node.base.repository.get_object_content(name, "rb"))


def _merge(source: Path, target: Path) -> None:
    for path in source.rglob("*"):
        destination = target / path.relative_to(source)
        if path.is_dir():
            destination.mkdir(parents=True, exist_ok=True)
        else:
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(path.read_bytes())


def _remove(folder: Path) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)


def _job_info_dict(info: JobInfo) -> dict[str, Any]:
    return {"job_id": info.job_id, "job_state": info.job_state.value, "raw_state": info.raw_state,
            "exit_status": info.exit_status, "wallclock_time_seconds": info.wallclock_time_seconds,
            "raw": dict(info.raw)}


def retrieve_and_parse(process: CalcJob, transport: Transport) -> ExitCode | None:
    """Fetch the retrieve lists, attach ``retrieved``, run the parser and attach its outputs; return its exit code.

    :raises TransportError: when fetching fails (the step is retried)
    """
    from provgraph.plugins import ParserFactory
    from provgraph.tools.computers import scheduler_for

    checkpoint = process._cp
    workdir = checkpoint["workdir"]
    with tempfile.TemporaryDirectory(prefix="provgraph-retrieve-") as folder:
        retrieved_dir, temporary_dir = Path(folder, "retrieved"), Path(folder, "temporary")
        retrieved_dir.mkdir()
        lifecycle.retrieve(transport, workdir, list(checkpoint.get("retrieve_list", [])), retrieved_dir)
        temporary = list(checkpoint.get("retrieve_temporary_list", []))
        if temporary:
            temporary_dir.mkdir()
            lifecycle.retrieve(transport, workdir, temporary, temporary_dir)
        try:
            info = scheduler_for(process.computer).get_detailed_job_info(transport, checkpoint["job_id"])
        except SchedulerError as exc:  # not fatal: the parser judges the outputs
            process.report(f"no detailed job information: {exc}")
            info = None
        if info is not None:
            process._updates["detailed_job_info"] = _job_info_dict(info)
        retrieved = FolderData(tree=retrieved_dir)
        process.out("retrieved", retrieved)
        parser_name = process.option("parser_name")
        if not parser_name:  # without a parser, the scheduler's word on the job decides
            status = info.exit_status if info is not None else None
            return process.exit_codes.ERROR_SCHEDULER_JOB_FAILED.format(status=status) if status else None
        parser = ParserFactory(parser_name)(process.node, retrieved, process.exit_codes)
        exit_code = parser.run(temporary_dir if temporary else None)
        for label, node in parser.outputs.items():
            process.out(label, node)
        return exit_code
