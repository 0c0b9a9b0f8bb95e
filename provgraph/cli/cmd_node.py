"""``provgraph node``: show and delete nodes."""

from __future__ import annotations

import json

import click

from provgraph.cli.echo import print_table
from provgraph.cli.params import load_cli_profile, provgraph_errors


@click.group()
def node() -> None:
    """Inspect and delete nodes."""


@node.command()
@click.argument("identifier")
@click.pass_context
def show(ctx: click.Context, identifier: str) -> None:
    """Show a node (by pk or uuid prefix): fields, attributes, extras, links."""
    load_cli_profile(ctx)
    from provgraph.common.links import Direction
    from provgraph.orm import load_node
    from provgraph.orm.backend import get_backend

    with provgraph_errors():
        shown = load_node(identifier)
        incoming = get_backend().nodes.links(shown.pk, Direction.BACKWARD)
        outgoing = get_backend().nodes.links(shown.pk, Direction.FORWARD)
    click.echo(f"{type(shown).__name__} pk {shown.pk} uuid {shown.uuid}")
    click.echo(f"label: {shown.label!r}  ctime: {shown.ctime.isoformat()}  user: {shown.user}")
    click.echo("attributes: " + json.dumps(shown.base.attributes.all, indent=2, sort_keys=True))
    click.echo("extras: " + json.dumps(shown.base.extras.all, indent=2, sort_keys=True))
    for title, links in (("inputs", incoming), ("outputs", outgoing)):
        if links:
            print_table(["pk", "link type", "label"], [(t.node_pk, t.link_type.value, t.label) for t in links],
                        title=title)


@node.command()
@click.argument("pks", nargs=-1, type=int, required=True)
@click.option("--dry-run", is_flag=True, help="Only list what would be deleted.")
@click.option("--force", is_flag=True, help="Do not ask for confirmation.")
@click.option("--create-backward/--no-create-backward", default=True, show_default=True,
              help="Also delete the calculation that created a deleted data node.")
@click.option("--return-backward/--no-return-backward", default=False, show_default=True,
              help="Also delete workflows that returned a deleted data node.")
@click.pass_context
def delete(ctx: click.Context, pks: tuple[int, ...], dry_run: bool, force: bool, create_backward: bool,
           return_backward: bool) -> None:
    """Delete nodes PKS and everything the provenance rules make depend on them."""
    load_cli_profile(ctx)
    from provgraph.orm.delete import delete_closure, delete_nodes

    rules = {"create_backward": create_backward, "return_backward": return_backward}
    with provgraph_errors():
        closure = delete_closure(list(pks), **rules)
    click.echo(f"{len(closure)} node(s) to delete: {' '.join(str(pk) for pk in sorted(closure))}")
    if dry_run:
        click.echo("dry run: nothing was deleted")
        return
    if not force:
        click.confirm("delete them?", abort=True)
    with provgraph_errors():
        delete_nodes(list(pks), dry_run=False, **rules)
    click.echo(f"deleted {len(closure)} node(s)")
