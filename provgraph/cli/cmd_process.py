"""``provgraph process``: list, show, report, watch and control (kill, pause, play) processes."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import click

from provgraph.cli.echo import print_table
from provgraph.cli.params import PK, load_cli_profile, provgraph_errors

STATES = ("created", "running", "waiting", "finished", "excepted", "killed")
ACTIVE = ("created", "running", "waiting")


@click.group()
def process() -> None:
    """Inspect and control processes."""


def list_rows(states: tuple[str, ...], past_days: int | None, types: tuple[str, ...], limit: int,
              extra_filters: dict[str, Any] | None = None,
              order: tuple[str, str] = ("ctime", "desc")) -> list[list[Any]]:
    """The rows of ``process list``: pk, ctime, label, state, exit status, paused, status; newest first by default.

    :param extra_filters: more QueryBuilder filters on the process node (exit status, pks of a group...)
    :param order: (``ctime`` or ``pk``, ``asc`` or ``desc``)
    """
    from provgraph.orm import ProcessNode, QueryBuilder

    filters: dict[str, Any] = {"attributes.process_state": {"in": list(states)}, **(extra_filters or {})}
    if past_days is not None:
        filters["ctime"] = {">": datetime.now(timezone.utc) - timedelta(days=past_days)}
    if types:
        filters["attributes.process_label"] = {"in": list(types)}
    projections = ["pk", "ctime", "attributes.process_label", "attributes.process_state",
                   "attributes.exit_status", "attributes.paused", "attributes.process_status"]
    qb = QueryBuilder(limit=limit).append(ProcessNode, tag="p", filters=filters, project=projections)
    qb.order_by({"p": {order[0]: order[1]}})
    return qb.all()


def _extra_filters(exit_status: int | None, failed: bool, paused: bool, group_identifier: str | None) -> dict[str, Any]:
    """verdi's ``-E``, ``-X``, ``--paused`` and ``-G`` as QueryBuilder filters."""
    extra: dict[str, Any] = {"attributes.paused": True} if paused else {}
    if exit_status is not None:
        extra["attributes.exit_status"] = exit_status
    if failed:
        extra["attributes.exit_status"] = {">": 0}
    if group_identifier is not None:
        from provgraph.cli.loaders import load_group_of

        extra["pk"] = {"in": [node.pk for node in load_group_of(group_identifier).nodes]}
    return extra


@process.command("list")
@click.option("--state", "--process-state", "-S", "states", multiple=True, type=click.Choice(STATES),
              help="Only processes in these states (default: created, running, waiting).")
@click.option("--all", "-a", "show_all", is_flag=True, help="Processes in every state.")
@click.option("--past-days", "-p", type=click.IntRange(min=0), help="Only processes created in the last N days.")
@click.option("--type", "--process-label", "-T", "-L", "types", multiple=True,
              help="Only processes with this label (class or function name).")
@click.option("--exit-status", "-E", type=int, help="Only processes that ended with this exit status.")
@click.option("--failed", "-X", is_flag=True, help="Only finished processes with a non-zero exit status.")
@click.option("--paused", is_flag=True, help="Only paused processes.")
@click.option("--group", "-G", "group_identifier", help="Only processes in this group (pk, label or uuid).")
@click.option("--order-by", "-O", type=click.Choice(["id", "ctime"]), default="ctime", show_default=True)
@click.option("--order-direction", "-D", type=click.Choice(["asc", "desc"]), default="desc", show_default=True)
@click.option("--raw", "-r", is_flag=True, help="Rows only, tab-separated, no table or total.")
@click.option("--limit", "-l", default=100, show_default=True, type=click.IntRange(min=1),
              help="At most this many rows.")
@click.pass_context
def list_(ctx: click.Context, states: tuple[str, ...], show_all: bool, past_days: int | None, types: tuple[str, ...],
          exit_status: int | None, failed: bool, paused: bool, group_identifier: str | None, order_by: str,
          order_direction: str, raw: bool, limit: int) -> None:
    """List processes, newest first (verdi's filters: -S, -a, -p, -L, -E, -X, --paused, -G)."""
    load_cli_profile(ctx)
    chosen = STATES if show_all or exit_status is not None or failed else (states or ACTIVE)
    if failed:
        chosen = ("finished",)
    with provgraph_errors():
        extra = _extra_filters(exit_status, failed, paused, group_identifier)
        rows = list_rows(chosen, past_days, types, limit, extra, ("pk" if order_by == "id" else "ctime",
                                                                  order_direction))
    shown = [(pk, ctime.strftime("%Y-%m-%d %H:%M:%S"), label, state + (" (paused)" if is_paused else ""), exit_code,
              status) for pk, ctime, label, state, exit_code, is_paused, status in rows]
    if raw:
        for row in shown:
            click.echo("\t".join("" if cell is None else str(cell) for cell in row))
        return
    print_table(["pk", "created", "process", "state", "exit", "status"], shown)
    click.echo(f"{len(rows)} process(es)")


def _load_process(identifier: str) -> Any:
    from provgraph.orm import ProcessNode, load_node

    node = load_node(identifier)
    if not isinstance(node, ProcessNode):
        raise click.ClickException(f"node {identifier} is a {type(node).__name__}, not a process")
    return node


@process.command()
@click.argument("identifier")
@click.pass_context
def show(ctx: click.Context, identifier: str) -> None:
    """Show a process: state, exit status, inputs, outputs, called processes."""
    load_cli_profile(ctx)
    with provgraph_errors():
        node = _load_process(identifier)
        attributes = node.base.attributes
        click.echo(f"{node.process_label} <{node.pk}> {node.uuid}")
        click.echo(f"type: {attributes.get('process_type', '')}  created: {node.ctime.isoformat()}")
        click.echo(f"state: {attributes.get('process_state')}  exit status: {attributes.get('exit_status', None)}"
                   f"  paused: {attributes.get('paused', False)}  sealed: {attributes.get('sealed', False)}")
        if attributes.get("exit_message", None):
            click.echo(f"exit message: {attributes.get('exit_message')}")
        for title, links in (("inputs", node.base.links.get_incoming().all()),
                             ("outputs", node.base.links.get_outgoing().all())):
            if links:
                print_table(["label", "link", "pk", "type"],
                            [(t.link_label, t.link_type.value, t.node.pk, type(t.node).__name__) for t in links],
                            title=title)
        if attributes.get("exception", None):
            click.echo("exception:\n" + str(attributes.get("exception")))


def _state_text(node: Any) -> str:
    """``Finished [0]``, ``Waiting``, ``Excepted``... with ``(paused)`` and the process status when set."""
    attributes = node.base.attributes
    state = str(attributes.get("process_state", None) or "created").capitalize()
    if attributes.get("exit_status", None) is not None and state in ("Finished", "Killed", "Excepted"):
        state += f" [{attributes.get('exit_status')}]"
    if attributes.get("paused", False):
        state += " (paused)"
    status = attributes.get("process_status", None)
    return f"{state}: {status}" if status and state.split()[0] in ("Waiting", "Running", "Created") else state


def _called_with_labels(node: Any) -> list[tuple[str, Any]]:
    """The processes ``node`` called, with their call link labels, oldest first."""
    from provgraph.common.links import LinkType

    calls = [(t.link_label, t.node) for t in node.base.links.get_outgoing().all()
             if t.link_type in (LinkType.CALL_CALC, LinkType.CALL_WORK)]
    return sorted(calls, key=lambda pair: (pair[1].ctime, pair[1].pk))


def call_tree_lines(node: Any, with_labels: bool = False, max_depth: int | None = None) -> list[str]:
    """The call tree of ``node`` as text lines: ``label<pk> State``, children drawn with box characters."""
    lines = [f"{node.process_label}<{node.pk}> {_state_text(node)}"]

    def walk(parent: Any, prefix: str, depth: int) -> None:
        if max_depth is not None and depth >= max_depth:
            return
        children = _called_with_labels(parent)
        for index, (link_label, child) in enumerate(children):
            last = index == len(children) - 1
            name = f"{child.process_label}<{child.pk}>"
            if with_labels and link_label and link_label != "CALL":
                name = f"{link_label} {name}"
            lines.append(f"{prefix}{'└── ' if last else '├── '}{name} {_state_text(child)}")
            walk(child, prefix + ("    " if last else "│   "), depth + 1)

    walk(node, "    ", 0)
    return lines


@process.command()
@click.argument("identifiers", nargs=-1, metavar="[PROCESSES]...")
@click.option("-M", "--most-recent-node", is_flag=True, help="Show the most recently created process.")
@click.option("-c", "--call-link-label", is_flag=True, help="Show the call link label of each called process.")
@click.option("-m", "--max-depth", type=click.IntRange(min=0), help="Show at most this many levels of calls.")
@click.pass_context
def status(ctx: click.Context, identifiers: tuple[str, ...], most_recent_node: bool, call_link_label: bool,
           max_depth: int | None) -> None:
    """Show the call tree of processes: each called process with its state and exit status."""
    load_cli_profile(ctx)
    from provgraph.cli.loaders import load_nodes
    from provgraph.orm import ProcessNode

    nodes = load_nodes(identifiers, ProcessNode, "process")
    if most_recent_node:
        with provgraph_errors():
            newest = list_rows(STATES, None, (), 1)
        if not newest:
            raise click.ClickException("there is no process yet")
        nodes = load_nodes((str(newest[0][0]),), ProcessNode, "process")
    if not nodes:
        raise click.UsageError("give at least one process (pk or uuid), or -M for the most recent one")
    with provgraph_errors():
        for node in nodes:
            click.echo("\n".join(call_tree_lines(node, call_link_label, max_depth)))


@process.command("call-root")
@click.argument("identifiers", nargs=-1, metavar="[PROCESSES]...")
@click.pass_context
def call_root(ctx: click.Context, identifiers: tuple[str, ...]) -> None:
    """Print the top-level process (the root of the call stack) of each process."""
    load_cli_profile(ctx)
    from provgraph.cli.loaders import load_nodes
    from provgraph.orm import ProcessNode

    with provgraph_errors():
        for node in load_nodes(identifiers, ProcessNode, "process"):
            root = node
            while (caller := root.caller) is not None:
                root = caller
            click.echo(root.pk if root.pk != node.pk else f"No callers found for {node.process_label}<{node.pk}>")


@process.command()
@click.argument("identifier")
@click.pass_context
def report(ctx: click.Context, identifier: str) -> None:
    """Print the log records (``self.report``) of a process and of the processes it called."""
    load_cli_profile(ctx)
    from provgraph.orm.backend import get_backend

    with provgraph_errors():
        node = _load_process(identifier)
        records = []
        for each in [node, *node.called]:
            records += [(log.time, each.pk, log.levelname, log.message) for log in get_backend().logs.for_node(each.pk)]
    if not records:
        click.echo(f"no log messages for process {node.pk}")
    for moment, pk, level, message in sorted(records, key=lambda row: (row[0], row[1])):
        click.echo(f"{moment.strftime('%Y-%m-%d %H:%M:%S')} [{pk} | {level}]: {message}")


@process.command()
@click.argument("identifier")
@click.option("--interval", default=1.0, show_default=True, help="Seconds between looks.")
@click.option("--timeout", default=0.0, help="Give up after this many seconds (0: never).")
@click.pass_context
def watch(ctx: click.Context, identifier: str, interval: float, timeout: float) -> None:
    """Print the state of a process whenever it changes, until it ends."""
    load_cli_profile(ctx)
    from provgraph.orm import load_node

    with provgraph_errors():
        pk, last, start = _load_process(identifier).pk, None, time.monotonic()
        while not timeout or time.monotonic() - start < timeout:
            attributes = load_node(pk).base.attributes
            seen = (attributes.get("process_state"), attributes.get("checkpoint_version", 0))
            if seen != last:
                click.echo(json.dumps({"pk": pk, "state": seen[0], "checkpoint_version": seen[1]}))
                last = seen
            if seen[0] in ("finished", "excepted", "killed"):
                return
            time.sleep(interval)


def _control(ctx: click.Context, action: str, pks: tuple[int, ...]) -> None:
    load_cli_profile(ctx)
    from provgraph.engine import control
    from provgraph.engine.celery.committer import AtomicCommitter, set_paused
    from provgraph.engine.celery.tasks import publish

    with provgraph_errors():
        for pk in pks:
            if action == "kill":
                killed = control.kill(pk, "Killed through `provgraph process kill`", committer=AtomicCommitter())
                click.echo(f"killed {', '.join(map(str, killed))}" if killed else f"process {pk} had already ended")
                continue
            done = set_paused(pk, action == "pause")
            if done and action == "play":
                publish(pk)  # hand it back to the workers
            past = {"pause": "paused", "play": "played"}[action]
            click.echo(f"{past} {pk}" if done else f"process {pk}: nothing to {action}")


@process.command()
@click.argument("pks", nargs=-1, type=PK, required=True)
@click.pass_context
def kill(ctx: click.Context, pks: tuple[int, ...]) -> None:
    """Kill processes (and the children they called that have not ended)."""
    _control(ctx, "kill", pks)


@process.command()
@click.argument("pks", nargs=-1, type=PK, required=True)
@click.pass_context
def pause(ctx: click.Context, pks: tuple[int, ...]) -> None:
    """Pause processes: the workers stop stepping them until they are played."""
    _control(ctx, "pause", pks)


@process.command()
@click.argument("pks", nargs=-1, type=PK, required=True)
@click.pass_context
def play(ctx: click.Context, pks: tuple[int, ...]) -> None:
    """Play paused processes: they go back to the workers."""
    _control(ctx, "play", pks)
