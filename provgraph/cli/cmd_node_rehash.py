"""``provgraph node rehash``: recompute and store the caching hash of nodes (AiiDA's ``verdi node rehash``)."""

from __future__ import annotations

import sys

import click

from provgraph.cli.params import PK, load_cli_profile, provgraph_errors


@click.command("rehash")
@click.argument("pks", nargs=-1, type=PK)
@click.option("-e", "--entry-point", default=None,
              help="Only nodes of this data entry point (e.g. core.int) or node class name (e.g. CalcJobNode); "
                   "default: every node when no pk is given.")
@click.option("-f", "--force", is_flag=True, help="Do not ask for confirmation when rehashing every node.")
@click.pass_context
def rehash(ctx: click.Context, pks: tuple[int, ...], entry_point: str | None, force: bool) -> None:
    """Recompute the hash of the nodes PKS (or of every node of a class) and store it."""
    load_cli_profile(ctx)
    from provgraph.orm import QueryBuilder, load_node

    with provgraph_errors():
        if pks:
            nodes = [load_node(pk) for pk in pks]
        else:
            node_class = _node_class(entry_point)
            if not force and entry_point is None:
                click.confirm("Rehash every node?", abort=True)
            nodes = QueryBuilder().append(node_class).all(flat=True)
        with click.progressbar(nodes, label="rehashing", show_pos=True, file=sys.stderr) as bar:
            for node in bar:
                node.base.caching.rehash()
    click.echo(f"rehashed {len(nodes)} node(s)")


def _node_class(name: str | None) -> type:
    """The node class of a data entry point or of a class name of :mod:`provgraph.orm` (Node when None)."""
    import provgraph.orm as orm
    from provgraph.exceptions import NotExistent
    from provgraph.plugins import DataFactory

    if name is None:
        return orm.Node
    candidate = getattr(orm, name, None)
    if isinstance(candidate, type) and issubclass(candidate, orm.Node):
        return candidate
    try:
        return DataFactory(name)
    except NotExistent as exc:
        raise click.BadParameter(f"{name!r} is neither a data entry point nor a node class: {exc}") from exc
