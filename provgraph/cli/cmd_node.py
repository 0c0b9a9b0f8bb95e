"""``provgraph node``: show, draw (graph), delete nodes, and list or print their files (repo ls|cat)."""

from __future__ import annotations

import json

import click

from provgraph.cli.echo import print_table
from provgraph.cli.params import load_cli_profile, provgraph_errors


@click.group()
def node() -> None:
    """Inspect, draw and delete nodes."""


#: which section of ``node show`` a link lands in: (direction, link type) -> title
_SECTIONS = {
    ("in", "INPUT_CALC"): "inputs", ("in", "INPUT_WORK"): "inputs", ("in", "CREATE"): "created by",
    ("in", "RETURN"): "returned by", ("in", "CALL_CALC"): "caller", ("in", "CALL_WORK"): "caller",
    ("out", "CREATE"): "outputs", ("out", "RETURN"): "outputs", ("out", "CALL_CALC"): "called",
    ("out", "CALL_WORK"): "called", ("out", "INPUT_CALC"): "used as input by",
    ("out", "INPUT_WORK"): "used as input by",
}


def _describe(other) -> str:  # noqa: ANN001 - any Node
    """Class name, and for processes their label and state, of a linked node."""
    from provgraph.orm import ProcessNode

    if isinstance(other, ProcessNode):
        status = "" if other.exit_status is None else f" [{other.exit_status}]"
        return f"{type(other).__name__} {other.process_label} ({other.process_state.value}{status})"
    return type(other).__name__


def _caller_chain(shown) -> list:  # noqa: ANN001 - any Node
    """The caller of ``shown``, its caller, and so on up to the top-level workflow."""
    from provgraph.orm import ProcessNode

    chain, current = [], shown
    while isinstance(current, ProcessNode) and (current := current.caller) is not None:
        chain.append(current)
    return chain


@node.command()
@click.argument("identifier")
@click.pass_context
def show(ctx: click.Context, identifier: str) -> None:
    """Show a node (by pk or uuid prefix): fields, attributes, extras, files, inputs, outputs, callers."""
    load_cli_profile(ctx)
    from provgraph.orm import ProcessNode, load_node

    with provgraph_errors():
        shown = load_node(identifier)
        links = {"in": shown.base.links.get_incoming().all(), "out": shown.base.links.get_outgoing().all()}
        callers = _caller_chain(shown)
    click.echo(f"{type(shown).__name__} pk {shown.pk} uuid {shown.uuid}")
    click.echo(f"label: {shown.label!r}  ctime: {shown.ctime.isoformat()}  user: {shown.user}")
    if shown.description:
        click.echo(f"description: {shown.description}")
    computer = getattr(shown, "computer", None)  # codes, remote folders (and CalcJobs, once they expose it)
    if computer:
        click.echo(f"computer: {getattr(computer, 'label', computer)}")
    if isinstance(shown, ProcessNode):
        click.echo(f"process: {shown.process_label}  state: {shown.process_state.value}  "
                   f"exit status: {shown.exit_status}  exit message: {shown.exit_message or ''}")
    click.echo("attributes: " + json.dumps(shown.base.attributes.all, indent=2, sort_keys=True))
    click.echo("extras: " + json.dumps(shown.base.extras.all, indent=2, sort_keys=True))
    files = shown.base.repository.walk_files()
    if files:
        click.echo("files: " + ", ".join(sorted(files)))
    sections: dict[str, list] = {}
    for side, triples in links.items():
        for triple in triples:
            sections.setdefault(_SECTIONS[(side, triple.link_type.value)], []).append(
                (triple.link_label, triple.link_type.value, triple.node.pk, _describe(triple.node)))
    for title in ("inputs", "created by", "returned by", "caller", "outputs", "called", "used as input by"):
        if title in sections:
            print_table(["label", "link type", "pk", "node"], sorted(sections[title]), title=title)
    if callers:
        print_table(["depth", "pk", "node"], [(i + 1, c.pk, _describe(c)) for i, c in enumerate(callers)],
                    title="callers (up to the top-level workflow)")


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


class _Depth(click.ParamType):
    """A traversal depth: an int >= 0, or ``all`` for no limit (None)."""

    name = "N|all"

    def convert(self, value, param, ctx):  # noqa: ANN001, ANN201 - click's signature
        if value is None or value == "all":
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, str) and value.isdigit():
            number = int(value)
        else:
            self.fail(f"{value!r} is neither an integer >= 0 nor 'all'", param, ctx)
        return number


@node.command()
@click.argument("identifier")
@click.option("-a", "--ancestor-depth", type=_Depth(), default="1", show_default=True,
              help="Steps followed against the links ('all': no limit).")
@click.option("-d", "--descendant-depth", type=_Depth(), default="1", show_default=True,
              help="Steps followed along the links ('all': no limit).")
@click.option("-l", "--link-types", multiple=True, metavar="TYPE[,TYPE...]",
              help="Link types to follow and draw: input_calc, input_work, create, return, call_calc, call_work "
                   "(repeatable or comma-separated; default all).")
@click.option("-f", "--format", "fmt", type=click.Choice(["svg", "png", "pdf", "dot"]), default="svg",
              show_default=True, help="Output format (dot: the graphviz source).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Output file [PK.FORMAT].")
@click.option("--max-nodes", type=click.IntRange(min=1), default=500, show_default=True,
              help="Draw at most this many nodes.")
@click.pass_context
def graph(ctx: click.Context, identifier: str, ancestor_depth: int | None, descendant_depth: int | None,
          link_types: tuple[str, ...], fmt: str, output: str | None, max_nodes: int) -> None:
    """Draw the provenance graph around a node with graphviz."""
    load_cli_profile(ctx)
    from provgraph.tools.graph import collect, render

    names = [name for value in link_types for name in value.split(",") if name.strip()]
    with provgraph_errors():
        neighbourhood = collect(identifier, ancestor_depth, descendant_depth, names, max_nodes=max_nodes)
        path = render(neighbourhood, output or f"{neighbourhood.root}.{fmt}", fmt)
    note = " (truncated at --max-nodes)" if neighbourhood.truncated else ""
    click.echo(f"wrote {path}: {len(neighbourhood.nodes)} nodes, {len(neighbourhood.links)} links{note}")


@node.group()
def repo() -> None:
    """List and print the files of a node."""


@repo.command("ls")
@click.argument("identifier")
@click.argument("path", required=False)
@click.pass_context
def repo_ls(ctx: click.Context, identifier: str, path: str | None) -> None:
    """List the files and folders directly under PATH (default: the top) of a node."""
    load_cli_profile(ctx)
    from provgraph.orm import load_node

    with provgraph_errors():
        names = load_node(identifier).base.repository.list_object_names(path)
    for name in names:
        click.echo(name)


@repo.command("cat")
@click.argument("identifier")
@click.argument("path")
@click.pass_context
def repo_cat(ctx: click.Context, identifier: str, path: str) -> None:
    """Print the file PATH of a node (streamed, bytes as they are)."""
    load_cli_profile(ctx)
    from provgraph.orm import load_node

    with provgraph_errors():
        repository = load_node(identifier).base.repository
        with repository.open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 16), b""):
                click.echo(chunk, nl=False)


def _register_rehash() -> None:
    from provgraph.cli.cmd_node_rehash import rehash

    node.add_command(rehash)


_register_rehash()
