"""``provgraph cypher`` (raw Cypher) and ``provgraph query`` (common queries without Python)."""

from __future__ import annotations

import json
from typing import Any

import click

from provgraph.cli.echo import print_table
from provgraph.cli.params import INT64_MAX, WholeNumber, load_cli_profile, provgraph_errors


def _value(text: str) -> Any:
    """A CLI value: JSON if it parses (numbers, true, lists...), else the text itself."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _cell(value: Any) -> str:
    if hasattr(value, "pk") and hasattr(value, "uuid"):
        return f"{type(value).__name__}<{value.pk}>"
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=str, sort_keys=True)
    return "" if value is None else str(value)


@click.command()
@click.argument("statement")
@click.option("-P", "--param", "params", multiple=True, metavar="NAME=VALUE",
              help="A query parameter ($NAME in the statement); VALUE is parsed as JSON when it can be.")
@click.option("--write", is_flag=True, help="Run in a write transaction (default: read-only).")
@click.pass_context
def cypher(ctx: click.Context, statement: str, params: tuple[str, ...], write: bool) -> None:
    """Run a raw Cypher STATEMENT on the current neo4j profile and print the rows as a table."""
    load_cli_profile(ctx)
    from provgraph.orm.cypher import cypher as run

    values = {}
    for item in params:
        name, sep, text = item.partition("=")
        if not sep or not name.isidentifier():
            raise click.BadParameter(f"{item!r} is not NAME=VALUE", param_hint="--param")
        values[name] = _value(text)
    with provgraph_errors():
        result = run(statement, write=write, **values)
    print_table(result.keys, [[_cell(v) for v in row] for row in result])
    click.echo(f"{len(result)} row(s)")


@click.group()
def query() -> None:
    """Common queries without writing Python."""


@query.command("nodes")
@click.option("-t", "--type", "types", multiple=True, help="Node class name (e.g. Int, CalcJobNode); repeatable.")
@click.option("-f", "--filter", "filters", multiple=True, nargs=3, metavar="FIELD OP VALUE",
              help="e.g. -f attributes.value '>' 5 ; repeatable (all must hold).")
@click.option("-p", "--project", default="pk,node_type,label,ctime", show_default=True,
              help="Comma-separated fields to show.")
@click.option("-o", "--order-by", default="pk", show_default=True, help="Field to sort by; prefix '-' for descending.")
@click.option("-l", "--limit", type=WholeNumber(0, INT64_MAX, "a row count"), default=50, show_default=True)
@click.pass_context
def query_nodes(ctx: click.Context, types: tuple[str, ...], filters: tuple[tuple[str, str, str], ...],
                project: str, order_by: str, limit: int) -> None:
    """List nodes by type and filters."""
    load_cli_profile(ctx)
    import provgraph.orm as orm
    from provgraph.exceptions import QueryError
    from provgraph.orm import Node, QueryBuilder

    with provgraph_errors():
        classes = []
        for name in types:
            cls = getattr(orm, name, None)
            if not (isinstance(cls, type) and issubclass(cls, Node)):
                raise QueryError(f"unknown node class {name!r}")
            classes.append(cls)
        conditions: dict[str, Any] = {"and": [{f: {op: _value(v)}} for f, op, v in filters]}
        fields = [item.strip() for item in project.split(",") if item.strip()]
        qb = QueryBuilder().append(tuple(classes) or Node, tag="n", filters=conditions, project=fields)
        direction = "desc" if order_by.startswith("-") else "asc"
        qb.order_by({"n": {order_by.lstrip("-"): direction}}).limit(limit)
        rows = qb.all()
        total = qb.count()
    print_table(fields, [[_cell(v) for v in row] for row in rows])
    click.echo(f"{len(rows)} of {total} node(s)")
