"""``provgraph calcjob``: look at a CalcJob's input and output files, go to its work directory, clean it.

The file conventions are those of :mod:`provgraph.tools.calcjobs`: the input
folder is the CalcJobNode's repository, the retrieved files are its
``retrieved`` output, and its options are top-level attributes.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from typing import Any

import click

from provgraph.cli.echo import print_table
from provgraph.cli.params import load_cli_profile, provgraph_errors


@click.group()
def calcjob() -> None:
    """Inspect CalcJobs: their files and remote work directories."""


def load_calcjob(identifier: str) -> Any:
    """The CalcJobNode with pk or uuid ``identifier``; a usage error for any other node."""
    from provgraph.orm import CalcJobNode, load_node

    with provgraph_errors():
        found = load_node(identifier)
    if not isinstance(found, CalcJobNode):
        raise click.UsageError(f"node {found.pk} is a {type(found).__name__}, not a CalcJobNode")
    return found


def _cat(holder: Any, path: str | None, default_attribute: str, calcjob: Any, where: str) -> None:
    """Write the file ``path`` (default: the calcjob's attribute ``default_attribute``) of ``holder``."""
    if path is None:
        path = calcjob.base.attributes.get(default_attribute, None)
        if not path:
            raise click.UsageError(f"CalcJob {calcjob.pk} has no {default_attribute!r} option: give a PATH")
    files = holder.base.repository.walk_files()
    if path not in files:
        listing = ", ".join(sorted(files)) or "none"
        raise click.UsageError(f"no file {path!r} in {where} of CalcJob {calcjob.pk} (files: {listing})")
    with provgraph_errors(), holder.base.repository.open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 16), b""):
            click.echo(chunk, nl=False)


@calcjob.command()
@click.argument("identifier")
@click.argument("path", required=False)
@click.pass_context
def inputcat(ctx: click.Context, identifier: str, path: str | None) -> None:
    """Print a file of the submitted input folder (default: the job's input file)."""
    load_cli_profile(ctx)
    node = load_calcjob(identifier)
    _cat(node, path, "input_filename", node, "the input folder")


@calcjob.command()
@click.argument("identifier")
@click.argument("path", required=False)
@click.pass_context
def outputcat(ctx: click.Context, identifier: str, path: str | None) -> None:
    """Print a retrieved file (default: the job's output file)."""
    load_cli_profile(ctx)
    from provgraph.tools.calcjobs import retrieved

    node = load_calcjob(identifier)
    with provgraph_errors():
        folder = retrieved(node)
    _cat(folder, path, "output_filename", node, "the retrieved files")


@calcjob.command("inputls")
@click.argument("identifier")
@click.pass_context
def inputls(ctx: click.Context, identifier: str) -> None:
    """List the files of the submitted input folder."""
    load_cli_profile(ctx)
    for name in sorted(load_calcjob(identifier).base.repository.walk_files()):
        click.echo(name)


@calcjob.command("outputls")
@click.argument("identifier")
@click.pass_context
def outputls(ctx: click.Context, identifier: str) -> None:
    """List the retrieved files."""
    load_cli_profile(ctx)
    from provgraph.tools.calcjobs import retrieved

    with provgraph_errors():
        files = retrieved(load_calcjob(identifier)).base.repository.walk_files()
    for name in sorted(files):
        click.echo(name)


@calcjob.command()
@click.argument("identifier")
@click.option("--print-command", is_flag=True, help="Only print the command that opens the shell.")
@click.pass_context
def gotocomputer(ctx: click.Context, identifier: str, print_command: bool) -> None:
    """Open a shell in the job's remote work directory (ssh for core.ssh, a local shell for core.local)."""
    load_cli_profile(ctx)
    from provgraph.tools.calcjobs import shell_command

    node = load_calcjob(identifier)
    with provgraph_errors():
        words = shell_command(node)
    if print_command:
        click.echo(shlex.join(words))
        return
    click.echo(f"going to the work directory of CalcJob {node.pk} ...", err=True)
    ctx.exit(subprocess.call(words, stdin=sys.stdin, stdout=sys.stdout, stderr=sys.stderr))


def _select_calcjobs(computer_label: str | None, past_days: int | None) -> list[Any]:
    """The ended CalcJobs (of the current user) on ``computer_label`` last changed more than ``past_days`` ago."""
    from datetime import datetime, timedelta, timezone

    from provgraph.common.states import TERMINAL_STATES
    from provgraph.orm import CalcJobNode, QueryBuilder
    from provgraph.orm.nodes.node import default_user

    filters: dict[str, Any] = {"user": default_user(),
                               "attributes.process_state": {"in": sorted(s.value for s in TERMINAL_STATES)}}
    if computer_label is not None:
        filters["computer"] = computer_label
    if past_days is not None:
        filters["mtime"] = {"<": datetime.now(timezone.utc) - timedelta(days=past_days)}
    return QueryBuilder().append(CalcJobNode, filters=filters, project="*").all(flat=True)


@calcjob.command()
@click.argument("identifiers", nargs=-1)
@click.option("-c", "--computer", "computer_label", help="Clean every ended CalcJob of yours on this computer.")
@click.option("-p", "--past-days", type=click.IntRange(min=0),
              help="With --computer: only CalcJobs last changed more than this many days ago.")
@click.option("-f", "--force", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def cleanworkdir(ctx: click.Context, identifiers: tuple[str, ...], computer_label: str | None,
                 past_days: int | None, force: bool) -> None:
    """Remove the remote work directories of ended CalcJobs IDENTIFIERS (or those selected by --computer)."""
    load_cli_profile(ctx)
    from provgraph.tools.calcjobs import clean_workdirs

    if bool(identifiers) == bool(computer_label):
        raise click.UsageError("give either CalcJob IDENTIFIERS or --computer")
    if past_days is not None and not computer_label:
        raise click.UsageError("--past-days needs --computer")
    if computer_label:
        from provgraph.cli.cmd_computer import load_computer

        load_computer(computer_label)
        with provgraph_errors():
            nodes = _select_calcjobs(computer_label, past_days)
    else:
        nodes = [load_calcjob(identifier) for identifier in identifiers]
    if not nodes:
        click.echo("no CalcJobs to clean")
        return
    if not force:
        click.confirm(f"remove the remote work directories of {len(nodes)} CalcJob(s)?", abort=True)
    results = clean_workdirs(nodes)
    print_table(["pk", "work directory", "status", "detail"],
                [(r.pk, r.path or "", r.status, r.detail) for r in results], title="Work directories")
    failed = [r for r in results if r.status == "failed"]
    if failed:
        raise click.ClickException(f"{len(failed)} work directory(ies) could not be cleaned")


@calcjob.command()
@click.argument("identifier", metavar="CALCJOB")
@click.option("-k", "--keys", multiple=True, help="Only these keys (repeatable).")
@click.option("-f", "--format", "fmt", type=click.Choice(["json+date", "yaml", "yaml_expanded"]), default="json+date",
              show_default=True, help="The format of the output.")
@click.pass_context
def res(ctx: click.Context, identifier: str, keys: tuple[str, ...], fmt: str) -> None:
    """Print the ``output_parameters`` Dict of a CalcJob (the parsed results)."""
    load_cli_profile(ctx)
    from provgraph.cli.cmd_data import dump_value
    from provgraph.common.links import LinkType

    node = load_calcjob(identifier)
    with provgraph_errors():
        found = [t.node for t in node.base.links.get_outgoing().all()
                 if t.link_type is LinkType.CREATE and t.link_label == "output_parameters"]
    if not found:
        raise click.ClickException(f"CalcJob {node.pk} has no output_parameters output")
    values = dict(found[0].items())
    missing = [key for key in keys if key not in values]
    if missing:
        raise click.ClickException(f"no key(s) {', '.join(map(repr, missing))} in the output_parameters of {node.pk}")
    click.echo(dump_value({k: v for k, v in values.items() if not keys or k in keys}, fmt))
