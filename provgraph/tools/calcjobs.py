"""Looking into a CalcJob after (or while) it ran: its files, its remote work directory, cleaning it.

Conventions of a stored :class:`~provgraph.orm.CalcJobNode` (the CalcJob engine writes them):

- every ``metadata.options`` value is a top-level attribute (``input_filename``,
  ``output_filename``, ``scheduler_stdout``...), and so are ``remote_workdir``,
  ``job_id`` and ``scheduler_state``;
- the submitted input folder (with the submit script) is the node's own repository;
- outputs linked CREATE: ``remote_folder`` (a RemoteData on the computer) and
  ``retrieved`` (a FolderData with the retrieved files).
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from provgraph.common.links import LinkType
from provgraph.exceptions import NotExistent, ProvgraphError, TransportError, ValidationError

if TYPE_CHECKING:
    from provgraph.orm import CalcJobNode, Computer, FolderData, RemoteData

__all__ = ["CleanResult", "calcjob_computer", "clean_workdirs", "output_node", "remote_workdir", "retrieved",
           "shell_command", "workdir_is_safe"]

#: Name of the submit script in a CalcJob's input folder.
SUBMIT_SCRIPT = "_provgraph_submit.sh"


def output_node(calcjob: CalcJobNode, label: str) -> Any | None:
    """The node ``calcjob`` created with link label ``label``, or None."""
    found = calcjob.base.links.get_outgoing(link_type=LinkType.CREATE, link_label_filter=label).first()
    return found.node if found else None


def retrieved(calcjob: CalcJobNode) -> FolderData:
    """The ``retrieved`` FolderData of ``calcjob``.

    :raises NotExistent: when the job has no retrieved files (yet)
    """
    node = output_node(calcjob, "retrieved")
    if node is None:
        raise NotExistent(f"CalcJob {calcjob.pk} has no 'retrieved' output (yet)")
    return node


def calcjob_computer(calcjob: CalcJobNode) -> Computer:
    """The computer ``calcjob`` ran on: the node's own computer, else that of its ``remote_folder``.

    :raises NotExistent: when neither names a computer, or the computer is not stored
    """
    from provgraph.orm import Computer

    value = getattr(calcjob, "computer", None) or calcjob._record.computer
    label = getattr(value, "label", value)
    if not label:
        remote: RemoteData | None = output_node(calcjob, "remote_folder")
        label = remote.computer if remote is not None else None
    if not label:
        raise NotExistent(f"CalcJob {calcjob.pk} names no computer")
    return Computer.get(label=label)


def remote_workdir(calcjob: CalcJobNode) -> str:
    """The job's work directory on its computer (attribute ``remote_workdir``, else the remote folder's path).

    :raises NotExistent: when the job never got a work directory
    """
    path = calcjob.base.attributes.get("remote_workdir", None)
    if not path:
        remote = output_node(calcjob, "remote_folder")
        path = remote.get_remote_path() if remote is not None else None
    if not path:
        raise NotExistent(f"CalcJob {calcjob.pk} has no remote work directory (it was not uploaded)")
    return path


def _ssh_command(computer: Computer, settings: dict[str, Any], remote: str) -> list[str]:
    words = ["ssh", "-t"]
    if settings.get("port") not in (None, 22):
        words += ["-p", str(settings["port"])]
    if settings.get("key_filename"):
        words += ["-i", settings["key_filename"], "-o", "IdentitiesOnly=yes"]
    if settings.get("known_hosts"):
        words += ["-o", f"UserKnownHostsFile={settings['known_hosts']}"]
    if settings.get("proxy_jump"):
        words += ["-J", settings["proxy_jump"]]
    if settings.get("connect_timeout"):
        words += ["-o", f"ConnectTimeout={int(settings['connect_timeout'])}"]
    user = settings.get("username")
    words += [f"{user}@{computer.hostname}" if user else computer.hostname, remote]
    return words


def shell_command(calcjob: CalcJobNode, user: str | None = None) -> list[str]:
    """The command (a word list) that opens an interactive shell in the job's work directory.

    ``core.ssh`` gives an ``ssh`` command built from the user's settings for the
    computer; ``core.local`` a local shell.

    :raises NotExistent: when the job has no computer or work directory
    :raises ValidationError: for a transport this does not know how to open a shell over
    """
    from provgraph.exceptions import ConfigurationError

    computer = calcjob_computer(calcjob)
    workdir = remote_workdir(calcjob)
    inner = f"cd {shlex.quote(workdir)} && exec \"${{SHELL:-/bin/sh}}\" -l"
    if computer.transport_type == "core.local":
        return ["/bin/sh", "-c", inner]
    if computer.transport_type == "core.ssh":
        try:
            settings = computer.get_configuration(user)
        except NotExistent:
            raise ConfigurationError(f"computer {computer.label!r} is not configured for the current user: "
                                     f"run `provgraph computer configure ssh {computer.label}`") from None
        return _ssh_command(computer, settings, inner)
    raise ValidationError(f"gotocomputer cannot open a shell over transport {computer.transport_type!r}")


def workdir_is_safe(path: str) -> bool:
    """Whether ``path`` may be removed as a job's work directory: absolute, normalised, at least two levels deep."""
    parts = [p for p in path.split("/") if p]
    return path.startswith("/") and len(parts) >= 2 and os.path.normpath(path) == path.rstrip("/") \
        and ".." not in parts


@dataclass(frozen=True)
class CleanResult:
    """What happened to one CalcJob's work directory: ``status`` is cleaned, missing, skipped or failed."""

    pk: int
    path: str | None
    status: str
    detail: str = ""


def _clean_one(calcjob: CalcJobNode, transport: Any) -> CleanResult:
    try:
        path = remote_workdir(calcjob)
    except NotExistent:
        return CleanResult(calcjob.pk, None, "skipped", "it never had a remote work directory")
    if not workdir_is_safe(path):
        return CleanResult(calcjob.pk, path, "skipped", "refusing to remove a path this shallow or odd")
    if not transport.path_exists(path):
        status = CleanResult(calcjob.pk, path, "missing", "already gone")
    else:
        transport.rmtree(path)
        status = CleanResult(calcjob.pk, path, "cleaned")
    remote = output_node(calcjob, "remote_folder")
    if remote is not None:
        remote.base.extras.set("cleaned", True)
    return status


def clean_workdirs(calcjobs: list[CalcJobNode], user: str | None = None) -> list[CleanResult]:
    """Remove the remote work directories of ``calcjobs`` (ended ones only), one transport per computer.

    A job that has not ended is skipped (its files are still in use); the
    ``remote_folder`` of a cleaned job gets the extra ``cleaned = True``.
    Errors are reported per job, never raised.
    """
    results: list[CleanResult] = []
    by_computer: dict[str, list[CalcJobNode]] = {}
    for calcjob in calcjobs:
        if not calcjob.is_terminated:
            results.append(CleanResult(calcjob.pk, None, "skipped", f"still {calcjob.process_state.value}"))
            continue
        try:
            by_computer.setdefault(calcjob_computer(calcjob).label, []).append(calcjob)
        except NotExistent as exc:
            results.append(CleanResult(calcjob.pk, None, "failed", str(exc)))
    for jobs in by_computer.values():
        results += _clean_on_computer(jobs, user)
    return sorted(results, key=lambda r: r.pk)


def _clean_on_computer(jobs: list[CalcJobNode], user: str | None) -> list[CleanResult]:
    from provgraph.tools.computers import transport_for

    try:
        transport = transport_for(calcjob_computer(jobs[0]), user)
        transport.open()
    except ProvgraphError as exc:
        return [CleanResult(job.pk, None, "failed", f"{type(exc).__name__}: {exc}") for job in jobs]
    results = []
    try:
        for job in jobs:
            try:
                results.append(_clean_one(job, transport))
            except (TransportError, NotExistent) as exc:
                results.append(CleanResult(job.pk, None, "failed", f"{type(exc).__name__}: {exc}"))
    finally:
        transport.close()
    return results
