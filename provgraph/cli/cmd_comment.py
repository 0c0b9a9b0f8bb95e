"""``provgraph node comment add|show|update|remove``: the comments on nodes (as ``verdi node comment``)."""

from __future__ import annotations

import click

from provgraph.cli.echo import BadInput, success
from provgraph.cli.loaders import load_node_of, load_nodes
from provgraph.cli.params import PK, load_cli_profile, provgraph_errors


@click.group()
def comment() -> None:
    """Add, show, update and remove comments on nodes."""


def _comment_record(pk: int):  # noqa: ANN202 - a CommentRecord
    from provgraph.exceptions import NotExistent
    from provgraph.orm.backend import get_backend

    try:
        return get_backend().comments.get(pk)
    except NotExistent:
        raise BadInput(f"no comment with id {pk}") from None


@comment.command()
@click.argument("content", required=False)
@click.option("-N", "--nodes", "identifiers", multiple=True, required=True, metavar="NODE",
              help="A node (pk or uuid) to comment on (repeatable).")
@click.pass_context
def add(ctx: click.Context, content: str | None, identifiers: tuple[str, ...]) -> None:
    """Add the comment CONTENT (asked for when left out) to the nodes given with -N."""
    load_cli_profile(ctx)
    nodes = load_nodes(identifiers)
    if content is None:
        content = click.prompt("Comment")
    if not content.strip():
        raise BadInput("a comment needs non-empty text")
    with provgraph_errors():
        ids = [each.base.comments.add(content).pk for each in nodes]
    success(f"Comment added to node(s) {', '.join(str(each.pk) for each in nodes)} (id {', '.join(map(str, ids))})")


@comment.command()
@click.argument("identifiers", nargs=-1, metavar="[NODES]...")
@click.option("-u", "--user", "email", help="Only the comments of this user (email).")
@click.pass_context
def show(ctx: click.Context, identifiers: tuple[str, ...], email: str | None) -> None:
    """Show the comments of NODES, oldest first."""
    load_cli_profile(ctx)
    for each in load_nodes(identifiers):
        records = [r for r in each.base.comments.all() if email is None or r.user == email]
        click.echo(f"***** {len(records)} comment(s) for node {each.pk}")
        for record in records:
            click.echo(f"##### {record.pk} by {record.user} on {record.ctime.strftime('%Y-%m-%d %H:%M:%S')}")
            click.echo(record.content)


@comment.command()
@click.argument("comment_id", type=PK)
@click.argument("content", required=False)
@click.pass_context
def update(ctx: click.Context, comment_id: int, content: str | None) -> None:
    """Replace the text of comment COMMENT_ID (asked for when left out)."""
    load_cli_profile(ctx)
    record = _comment_record(comment_id)
    if content is None:
        content = click.prompt("Comment", default=record.content)
    if not content.strip():
        raise BadInput("a comment needs non-empty text")
    with provgraph_errors():
        load_node_of(str(record.node_pk)).base.comments.update(comment_id, content)
    success(f"Comment {comment_id} updated")


@comment.command()
@click.argument("comment_id", type=PK)
@click.option("-f", "--force", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def remove(ctx: click.Context, comment_id: int, force: bool) -> None:
    """Delete comment COMMENT_ID."""
    load_cli_profile(ctx)
    record = _comment_record(comment_id)
    if not force:
        click.confirm(f"Delete comment {comment_id} of node {record.node_pk}?", abort=True)
    with provgraph_errors():
        load_node_of(str(record.node_pk)).base.comments.remove(comment_id)
    success(f"Comment {comment_id} removed")
