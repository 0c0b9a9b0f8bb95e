"""``provgraph group``: create, list, show, fill, empty, relabel, describe and delete groups (as ``verdi group``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import click

from provgraph.cli.echo import BadInput, print_table, report, success
from provgraph.cli.loaders import load_group_of, load_node_of, load_nodes
from provgraph.cli.params import load_cli_profile, provgraph_errors


@click.group()
def group() -> None:
    """Create, inspect and manage groups of nodes."""


@group.command()
@click.argument("group_label")
@click.pass_context
def create(ctx: click.Context, group_label: str) -> None:
    """Create an empty group GROUP_LABEL (an existing one is left as it is)."""
    load_cli_profile(ctx)
    from provgraph.orm import Group

    if not group_label.strip():
        raise BadInput("a group label cannot be empty")
    with provgraph_errors():
        found, created = Group.collection.get_or_create(label=group_label)
    if created:
        success(f"Group created with PK = {found.pk} and label {found.label!r}.")
    else:
        report(f"Group with label {found.label!r} already exists: {found}.")


def _filter_options(verb: str) -> Callable[[Any], Any]:
    """The selection options ``group list`` and ``group delete`` share."""
    options = [
        click.option("-A", "--all-users", is_flag=True, help=f"{verb} groups of every user, not only yours."),
        click.option("-u", "--user", "user_email", help=f"{verb} only groups of this user (email)."),
        click.option("-T", "--type-string", help=f"{verb} only groups of this type string."),
        click.option("-p", "--past-days", type=click.IntRange(min=0), help=f"{verb} only groups made in N days."),
        click.option("-s", "--startswith", help=f"{verb} only groups whose label starts with this."),
        click.option("-e", "--endswith", help=f"{verb} only groups whose label ends with this."),
        click.option("-c", "--contains", help=f"{verb} only groups whose label contains this."),
        click.option("-N", "--node", "node_identifier", help=f"{verb} only groups holding this node."),
    ]

    def decorate(func: Any) -> Any:
        for option in reversed(options):
            func = option(func)
        return func

    return decorate


def _select(all_users: bool, user_email: str | None, type_string: str | None, past_days: int | None,
            startswith: str | None, endswith: str | None, contains: str | None,
            node_identifier: str | None, all_types: bool = False) -> list[Any]:
    """The groups passing the filter options (records of the storage)."""
    from provgraph.orm.backend import get_backend
    from provgraph.orm.nodes.node import default_user

    backend = get_backend().groups
    if node_identifier is not None:
        records = backend.groups_of(load_node_of(node_identifier).pk)
    else:
        records = backend.list()
    if type_string is not None:
        records = [r for r in records if r.type_string == type_string]
    elif not all_types:
        records = [r for r in records if r.type_string == "core"]
    if user_email is not None or not all_users:
        owner = user_email or default_user()
        records = [r for r in records if r.user == owner]
    if past_days is not None:
        since = datetime.now(timezone.utc) - timedelta(days=past_days)
        records = [r for r in records if r.time >= since]
    for wanted, test in ((startswith, str.startswith), (endswith, str.endswith), (contains, str.__contains__)):
        if wanted is not None:
            records = [r for r in records if test(r.label, wanted)]
    return records


@group.command("list")
@_filter_options("Show")
@click.option("-a", "--all", "all_types", is_flag=True, help="Show groups of every type, not only core.")
@click.option("-d", "--with-description", is_flag=True, help="Show the descriptions too.")
@click.option("-C", "--count", "with_count", is_flag=True, help="Show the number of nodes of each group.")
@click.option("-O", "--order-by", type=click.Choice(["id", "label", "ctime"]), default="label", show_default=True)
@click.option("-D", "--order-direction", type=click.Choice(["asc", "desc"]), default="asc", show_default=True)
@click.pass_context
def list_groups(ctx: click.Context, all_types: bool, with_description: bool, with_count: bool, order_by: str,
                order_direction: str, **filters: Any) -> None:
    """Show the groups as a table (yours, of type core, unless options say otherwise)."""
    load_cli_profile(ctx)
    from provgraph.orm.backend import get_backend

    with provgraph_errors():
        records = _select(all_types=all_types, **filters)
        key = {"id": lambda r: r.pk, "label": lambda r: r.label, "ctime": lambda r: r.time}[order_by]
        records.sort(key=key, reverse=order_direction == "desc")
        counts = {r.pk: len(get_backend().groups.node_pks(r.pk)) for r in records} if with_count else {}
    if not records:
        report("No groups found matching the specified criteria.")
        return
    headers = ["PK", "Label", "Type string", "User"] + (["Description"] if with_description else []) + \
        (["Node count"] if with_count else [])
    rows = [[r.pk, r.label, r.type_string, r.user] + ([r.description] if with_description else []) +
            ([counts[r.pk]] if with_count else []) for r in records]
    print_table(headers, rows)


@group.command()
@click.argument("group_identifier", metavar="GROUP")
@click.option("-r", "--raw", is_flag=True, help="Only the pks of the members, space-separated.")
@click.option("-l", "--limit", type=click.IntRange(min=0), help="Show at most this many members.")
@click.option("-u", "--uuid", "with_uuid", is_flag=True, help="Show uuids too (with --raw: uuids only).")
@click.pass_context
def show(ctx: click.Context, group_identifier: str, raw: bool, limit: int | None, with_uuid: bool) -> None:
    """Show a group (by pk, label or uuid) and its members."""
    load_cli_profile(ctx)
    with provgraph_errors():
        found = load_group_of(group_identifier)
        members = found.nodes[:limit]
    if raw:
        click.echo(" ".join(str(node.uuid if with_uuid else node.pk) for node in members))
        return
    print_table(["field", "value"], [("Group label", found.label), ("Group type_string", found.type_string),
                                     ("Group description", found.description or "<no description>")])
    click.echo("# Nodes:")
    headers = ["PK"] + (["UUID"] if with_uuid else []) + ["Type", "Created"]
    print_table(headers, [[node.pk] + ([node.uuid] if with_uuid else []) +
                          [type(node).__name__, node.ctime.strftime("%Y-%m-%d %H:%M:%S")] for node in members])


@group.command("add-nodes")
@click.option("-G", "--group", "group_identifier", required=True, metavar="GROUP",
              help="The group, by pk, uuid or label.")
@click.option("-f", "--force", is_flag=True, help="Do not ask for confirmation.")
@click.argument("nodes", nargs=-1)
@click.pass_context
def add_nodes(ctx: click.Context, group_identifier: str, force: bool, nodes: tuple[str, ...]) -> None:
    """Add NODES (pks or uuids) to a group."""
    load_cli_profile(ctx)
    found = load_group_of(group_identifier)
    members = load_nodes(nodes)
    if not members:
        report("no nodes given: nothing to add")
        return
    if not force:
        click.confirm(f"Add {len(members)} node(s) to {found}?", abort=True)
    with provgraph_errors():
        found.add_nodes(members)
    success(f"added {len(members)} node(s) to {found}; it has {found.count()} member(s)")


@group.command("remove-nodes")
@click.option("-G", "--group", "group_identifier", required=True, metavar="GROUP",
              help="The group, by pk, uuid or label.")
@click.option("-c", "--clear", is_flag=True, help="Remove every node from the group.")
@click.option("-f", "--force", is_flag=True, help="Do not ask for confirmation.")
@click.argument("nodes", nargs=-1)
@click.pass_context
def remove_nodes(ctx: click.Context, group_identifier: str, clear: bool, force: bool, nodes: tuple[str, ...]) -> None:
    """Remove NODES (pks or uuids) from a group; the nodes themselves stay."""
    load_cli_profile(ctx)
    found = load_group_of(group_identifier)
    if clear and nodes:
        raise click.UsageError("give either --clear or NODES, not both")
    members = load_nodes(nodes)
    if not clear and not members:
        report("no nodes given (and no --clear): nothing to remove")
        return
    if not force:
        what = "every node" if clear else f"{len(members)} node(s)"
        click.confirm(f"Remove {what} from {found}?", abort=True)
    with provgraph_errors():
        if clear:
            found.clear()
        else:
            found.remove_nodes(members)
    success(f"{found} has {found.count()} member(s) left")


@group.command()
@click.argument("group_identifier", metavar="GROUP")
@click.argument("label")
@click.pass_context
def relabel(ctx: click.Context, group_identifier: str, label: str) -> None:
    """Change the label of GROUP to LABEL."""
    load_cli_profile(ctx)
    from provgraph.exceptions import StoringError

    found = load_group_of(group_identifier)
    try:
        found.label = label
    except (StoringError, ValueError) as exc:
        raise click.ClickException(f"cannot relabel {found} to {label!r}: {exc}") from None
    success(f"Label changed to {label!r}")


@group.command()
@click.argument("group_identifier", metavar="GROUP")
@click.argument("description", required=False)
@click.pass_context
def description(ctx: click.Context, group_identifier: str, description: str | None) -> None:
    """Set the description of GROUP, or print it when DESCRIPTION is left out."""
    load_cli_profile(ctx)
    found = load_group_of(group_identifier)
    if description is None:
        click.echo(found.description)
        return
    with provgraph_errors():
        found.description = description
    success(f"Changed the description of {found}.")


@group.command()
@click.argument("groups", nargs=-1)
@_filter_options("Delete")
@click.option("-f", "--force", is_flag=True, help="Do not ask for confirmation.")
@click.option("--delete-nodes", is_flag=True, help="Delete the member nodes too (with what depends on them).")
@click.option("-n", "--dry-run", is_flag=True, help="Only say what would be deleted.")
@click.pass_context
def delete(ctx: click.Context, groups: tuple[str, ...], force: bool, delete_nodes: bool, dry_run: bool,
           **filters: Any) -> None:
    """Delete GROUPS (by pk, label or uuid), or those the filters select; their nodes stay unless --delete-nodes."""
    load_cli_profile(ctx)
    from provgraph.orm import Group

    chosen = [load_group_of(identifier) for identifier in groups]
    if any(value not in (None, False) for key, value in filters.items() if key != "all_users"):
        with provgraph_errors():
            chosen += [Group._from_record(r) for r in _select(all_types=bool(filters["type_string"]), **filters)]
    chosen = list({g.pk: g for g in chosen}.values())
    if not chosen:
        report("Nothing happened: give at least one group, or filters that select some.")
        return
    node_pks = sorted({node.pk for g in chosen for node in g.nodes}) if delete_nodes else []
    _delete_groups(chosen, node_pks, force, dry_run)


def _delete_groups(chosen: list[Any], node_pks: list[int], force: bool, dry_run: bool) -> None:
    from provgraph.orm import Group
    from provgraph.orm.delete import delete_closure, delete_nodes

    with provgraph_errors():
        closure = sorted(delete_closure(node_pks)) if node_pks else []
    names = ", ".join(str(g) for g in chosen)
    if node_pks:
        click.echo(f"{len(closure)} node(s) to delete with the groups: {' '.join(map(str, closure))}")
    if dry_run:
        report(f"dry run: would delete {names}; nothing was deleted")
        return
    if not force:
        click.confirm(f"Delete {names}" + (f" and {len(closure)} node(s)" if node_pks else "") + "?", abort=True)
    with provgraph_errors():
        for each in chosen:
            Group.collection.delete(each.pk)
            success(f"{each} deleted.")
        if node_pks:
            delete_nodes(node_pks, dry_run=False)
            success(f"deleted {len(closure)} node(s)")


@group.command()
@click.argument("source_identifier", metavar="SOURCE_GROUP")
@click.argument("destination_label", metavar="DESTINATION_GROUP")
@click.pass_context
def copy(ctx: click.Context, source_identifier: str, destination_label: str) -> None:
    """Add every node of SOURCE_GROUP to DESTINATION_GROUP (made when missing; asks when it holds nodes)."""
    load_cli_profile(ctx)
    from provgraph.orm import Group

    source = load_group_of(source_identifier)
    with provgraph_errors():
        destination, created = Group.collection.get_or_create(label=destination_label)
    if not created and not destination.is_empty:
        click.echo(f"Warning: destination {destination} exists already and is not empty.")
        click.confirm("Continue anyway?", abort=True)
    with provgraph_errors():
        destination.add_nodes(source.nodes)
    success(f"Nodes copied from {source} to {destination}.")


@group.command("move-nodes")
@click.argument("nodes", nargs=-1)
@click.option("-s", "--source-group", "source_identifier", required=True, metavar="GROUP",
              help="The group whose nodes to move.")
@click.option("-t", "--target-group", "target_identifier", required=True, metavar="GROUP",
              help="The group the nodes are moved to.")
@click.option("-a", "--all", "move_all", is_flag=True, help="Move every node of the source group.")
@click.option("-f", "--force", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def move_nodes(ctx: click.Context, nodes: tuple[str, ...], source_identifier: str, target_identifier: str,
               move_all: bool, force: bool) -> None:
    """Move NODES (or --all) from the source group to the target group."""
    load_cli_profile(ctx)
    source, target = load_group_of(source_identifier), load_group_of(target_identifier)
    if source.pk == target.pk:
        raise BadInput("the source and target groups are the same group")
    members = {node.pk: node for node in source.nodes}
    chosen = list(members.values()) if move_all else load_nodes(nodes)
    if not move_all and not chosen:
        raise click.UsageError("give NODES to move, or --all")
    outside = [node.pk for node in chosen if node.pk not in members]
    if outside:
        raise click.ClickException(f"node(s) {', '.join(map(str, outside))} are not in {source}: nothing moved")
    if not force:
        click.confirm(f"Move {len(chosen)} node(s) from {source} to {target}?", abort=True)
    with provgraph_errors():
        target.add_nodes(chosen)
        source.remove_nodes(chosen)
    success(f"moved {len(chosen)} node(s) from {source} to {target}")
