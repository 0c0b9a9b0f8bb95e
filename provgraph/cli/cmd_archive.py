"""``provgraph archive``: create, import and inspect portable graph archives."""

from __future__ import annotations

import json
from typing import Any

import click

from provgraph.cli.echo import console, print_table
from provgraph.cli.params import load_cli_profile, provgraph_errors

#: the switchable export rules and their help (the fixed ones always apply)
_RULE_HELP = {
    "create_backward": "bring the calculation that created exported data",
    "call_calc_backward": "bring the workflow that called an exported calculation",
    "call_work_backward": "bring the workflow that called an exported workflow",
    "input_calc_forward": "bring the calculations that used exported data as input",
    "input_work_forward": "bring the workflows that used exported data as input",
    "return_backward": "bring the workflows that returned exported data",
}


class RichProgress:
    """Archive progress shown as rich progress bars, one per stage."""

    def __init__(self) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._bars = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                              TimeElapsedColumn(), console=console, transient=False)
        self._task: Any = None

    def start(self, stage: str, total: int | None = None) -> None:
        """Open a bar for a new stage."""
        if self._task is None:
            self._bars.start()
        self._close_open_stage()
        self._task = self._bars.add_task(stage, total=total)

    def _close_open_stage(self) -> None:
        if self._task is not None and self._bars.tasks[-1].total is None:
            done = self._bars.tasks[-1].completed or 1
            self._bars.update(self._task, total=done, completed=done)

    def advance(self, count: int = 1) -> None:
        """Move the current bar."""
        if self._task is not None:
            self._bars.advance(self._task, count)

    def finish(self) -> None:
        """Close the bars."""
        self._close_open_stage()
        self._bars.stop()


def _split_pks(values: tuple[str, ...]) -> list[int]:
    pks = []
    for value in values:
        for part in value.replace(",", " ").split():
            if not part.isdigit():
                raise click.BadParameter(f"{part!r} is not a node pk", param_hint="-N/--nodes")
            pks.append(int(part))
    return pks


def _rule_options(function: Any) -> Any:
    for name, text in reversed(_RULE_HELP.items()):
        flag = name.replace("_", "-")
        function = click.option(f"--{flag}/--no-{flag}", name, default=None, help=text.capitalize() + ".")(function)
    return function


@click.group()
def archive() -> None:
    """Create, import and inspect portable graph archives (one zip file)."""


@archive.command("create")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("-a", "--all", "all_nodes", is_flag=True, help="Export every node, group, comment and log.")
@click.option("-N", "--nodes", multiple=True, help="Node pks to export (repeat, or separate with commas).")
@click.option("-G", "--groups", multiple=True, help="Group labels or pks to export, with their members.")
@click.option("-f", "--force", is_flag=True, help="Overwrite PATH if it exists.")
@_rule_options
@click.pass_context
def create(ctx: click.Context, path: str, all_nodes: bool, nodes: tuple[str, ...], groups: tuple[str, ...],
           force: bool, **rules: bool | None) -> None:
    """Export nodes and what their provenance needs into the archive PATH.

    The fixed rules always bring a calculation's inputs and outputs, a workflow's inputs,
    returns and the processes it called; the switches above add or drop the others.
    """
    load_cli_profile(ctx)
    from provgraph.archive import create_archive

    chosen = {name: value for name, value in rules.items() if value is not None}
    with provgraph_errors():
        metadata = create_archive(path, all_nodes=all_nodes, nodes=_split_pks(nodes), groups=list(groups),
                                  rules=chosen, overwrite=force, progress=RichProgress())
    counts = ", ".join(f"{count} {name}" for name, count in metadata.counts.items() if count)
    click.echo(f"wrote {path}: {counts or 'nothing'}")


@archive.command("import")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--extras-policy", type=click.Choice(["keep", "merge", "overwrite", "mirror"]), default="merge",
              show_default=True,
              help="Extras of nodes already stored: keep them, merge in new keys, overwrite clashing keys, "
                   "or mirror the archive's.")
@click.pass_context
def import_(ctx: click.Context, path: str, extras_policy: str) -> None:
    """Merge the archive PATH into the current profile (by uuid; importing twice adds nothing).

    All or nothing: a failure, SIGTERM or SIGHUP undoes what was written (exit status 128 +
    the signal's number for a signal). After a SIGKILL, import again to complete it.
    """
    load_cli_profile(ctx)
    from provgraph.archive import import_archive
    from provgraph.archive.importer import ImportInterrupted

    try:
        with provgraph_errors():
            report = import_archive(path, extras_policy=extras_policy, progress=RichProgress())
    except click.ClickException as exc:
        if isinstance(exc.__cause__, ImportInterrupted):  # exit as the signal asked, after the undo
            click.echo(f"Error: {exc.message}", err=True)
            ctx.exit(128 + exc.__cause__.signum)
        raise
    print_table(["what", "added"], [(name, value) for name, value in vars(report).items()
                                    if name != "renamed_groups"], title=f"imported {path}")
    for old, new in report.renamed_groups.items():
        click.echo(f"group {old!r} exists already with another uuid: imported as {new!r}")


@archive.command("inspect")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--check", is_flag=True, help="Also check every row and every file (as an import would).")
def inspect(path: str, as_json: bool, check: bool) -> None:
    """Show the metadata of the archive PATH and what it holds, per type."""
    from provgraph.archive import inspect_archive, validate_archive

    with provgraph_errors():
        if check:
            validate_archive(path)
        summary = inspect_archive(path)
    if as_json:
        click.echo(json.dumps(summary.as_dict(), indent=2, sort_keys=True))
        return
    meta = summary.metadata
    print_table(["field", "value"], [
        ("format version", meta.format_version), ("created", meta.created),
        ("provgraph version", meta.provgraph_version), ("size (bytes)", summary.size),
        ("export entry", json.dumps(meta.entry)),
        ("rules on", ", ".join(name for name, on in meta.rules.items() if on)),
    ], title=summary.path)
    print_table(["entities", "count"], sorted(summary.counts.items()))
    print_table(["node type", "count"], sorted(summary.nodes_by_type.items()))
    print_table(["link type", "count"], sorted(summary.links_by_type.items()))
    if check:
        click.echo("archive checked: every row and file is valid")
