"""``provgraph node``: show, draw (graph), delete nodes, and list or print their files (repo ls|cat)."""

from __future__ import annotations

import json

import click

from provgraph.cli.echo import print_table
from provgraph.cli.params import PK, load_cli_profile, provgraph_errors


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
@click.argument("pks", nargs=-1, type=PK, required=True)
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


class _GraphGroup(click.Group):
    """``node graph``: the subcommand ``generate`` (verdi's), and ``node graph PK [OPTIONS]`` (the short form)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = ["around", *args]
        return super().parse_args(ctx, args)


@node.group(cls=_GraphGroup)
def graph() -> None:
    """Draw provenance graphs: `generate ROOT_NODES...` (as verdi) or the short form `graph PK [OPTIONS]`."""


@graph.command("around", hidden=True)
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
def graph_around(ctx: click.Context, identifier: str, ancestor_depth: int | None, descendant_depth: int | None,
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


#: verdi's link-type sets of ``node graph generate -l``
LINK_SETS = {"all": None, "data": ["input_calc", "create"], "logic": ["input_work", "return"]}


@graph.command("generate")
@click.argument("root_nodes", nargs=-1, required=True)
@click.option("-l", "--link-types", "link_set", type=click.Choice(sorted(LINK_SETS)), default="all",
              show_default=True, help="data: input_calc and create links; logic: input_work and return; all: every.")
@click.option("-a", "--ancestor-depth", type=click.IntRange(min=0), help="Steps against the links [no limit].")
@click.option("-d", "--descendant-depth", type=click.IntRange(min=0), help="Steps along the links [no limit].")
@click.option("-i", "--process-in", is_flag=True, help="Also draw the direct inputs of every process drawn.")
@click.option("-o", "--process-out", is_flag=True, help="Also draw the direct outputs of every process drawn.")
@click.option("-f", "--output-format", "fmt", type=click.Choice(["svg", "png", "pdf", "dot"]), default="pdf",
              show_default=True, help="Output format (dot: the graphviz source).")
@click.option("-O", "--output-file", type=click.Path(dir_okay=False, writable=True),
              help="Output file [ROOT.dot.FORMAT].")
@click.option("--max-nodes", type=click.IntRange(min=1), default=500, show_default=True,
              help="Draw at most this many nodes.")
@click.pass_context
def generate(ctx: click.Context, root_nodes: tuple[str, ...], link_set: str, ancestor_depth: int | None,
             descendant_depth: int | None, process_in: bool, process_out: bool, fmt: str, output_file: str | None,
             max_nodes: int) -> None:
    """Draw the provenance graph around ROOT_NODES (pks or uuids) with graphviz, as verdi does."""
    load_cli_profile(ctx)
    from provgraph.cli.loaders import load_nodes
    from provgraph.tools.graph import collect, render

    roots = load_nodes(root_nodes)
    with provgraph_errors():
        drawn = collect(roots[0].pk, ancestor_depth, descendant_depth, LINK_SETS[link_set], max_nodes=max_nodes)
        for other in roots[1:]:
            more = collect(other.pk, ancestor_depth, descendant_depth, LINK_SETS[link_set], max_nodes=max_nodes)
            drawn.nodes.update(more.nodes)
            drawn.links |= more.links
            drawn.truncated |= more.truncated
        _add_process_neighbours(drawn, process_in, process_out, LINK_SETS[link_set])
        path = render(drawn, output_file or f"{drawn.root}.dot.{fmt}", fmt)
    click.echo(f"Success: Output written to `{path}` ({len(drawn.nodes)} nodes, {len(drawn.links)} links)")


def _add_process_neighbours(drawn, process_in: bool, process_out: bool, names) -> None:  # noqa: ANN001
    """Add the direct inputs (``process_in``) and outputs (``process_out``) of every process in ``drawn``."""
    from provgraph.common.links import Direction
    from provgraph.orm import ProcessNode, load_node
    from provgraph.orm.backend import get_backend
    from provgraph.tools.graph import parse_link_types

    types = parse_link_types(names)
    directions = [d for d, wanted in ((Direction.BACKWARD, process_in), (Direction.FORWARD, process_out)) if wanted]
    processes = [pk for pk, each in drawn.nodes.items() if isinstance(each, ProcessNode)]
    for pk in processes:
        for direction in directions:
            for triple in get_backend().nodes.links(pk, direction, types):
                if triple.node_pk not in drawn.nodes:
                    drawn.nodes[triple.node_pk] = load_node(triple.node_pk)
                source, target = (triple.node_pk, pk) if direction is Direction.BACKWARD else (pk, triple.node_pk)
                drawn.links.add((source, target, triple.link_type, triple.label))


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


def _dict_command(kind: str) -> None:
    """``node attributes|extras NODES``: print each node's attributes or extras (as verdi's)."""

    @node.command(kind, help=f"Show the {kind} of one or more nodes.")
    @click.argument("identifiers", nargs=-1, metavar="[NODES]...")
    @click.option("-k", "--keys", multiple=True, help=f"Only these {kind} (repeatable).")
    @click.option("-f", "--format", "fmt", type=click.Choice(["json+date", "yaml", "yaml_expanded"]),
                  default="json+date", show_default=True, help="The format of the output.")
    @click.option("-r", "--raw", is_flag=True, help="Print one mapping of pk to values for every node.")
    @click.pass_context
    def show_dict(ctx: click.Context, identifiers: tuple[str, ...], keys: tuple[str, ...], fmt: str,
                  raw: bool) -> None:
        load_cli_profile(ctx)
        from provgraph.cli.cmd_data import dump_value
        from provgraph.cli.loaders import load_nodes

        found = {}
        for each in load_nodes(identifiers):
            values = getattr(each.base, kind).all
            found[each.pk] = {k: v for k, v in values.items() if not keys or k in keys}
        if raw:
            click.echo(dump_value({str(pk): values for pk, values in found.items()}, fmt))
            return
        for pk, values in found.items():
            click.echo(f"PK: {pk}")
            click.echo(dump_value(values, fmt))


_dict_command("attributes")
_dict_command("extras")


def _field_command(field: str, short: str) -> None:
    """``node label|description NODES [-L|-D TEXT]``: view or set one free-text field (as verdi's)."""
    title = field.capitalize()

    @node.command(field, help=f"View or set the {field} of one or more nodes.")
    @click.argument("identifiers", nargs=-1, metavar="[NODES]...")
    @click.option(short, f"--{field}", "value", help=f"Set this {field} on every node given.")
    @click.option("-r", "--raw", is_flag=True, help=f"Only the {field}s, no table.")
    @click.option("-f", "--force", is_flag=True, help="Do not ask for confirmation.")
    @click.pass_context
    def field_command(ctx: click.Context, identifiers: tuple[str, ...], value: str | None, raw: bool,
                      force: bool) -> None:
        load_cli_profile(ctx)
        from provgraph.cli.loaders import load_nodes

        nodes = load_nodes(identifiers)
        if value is None:
            if raw:
                for each in nodes:
                    click.echo(getattr(each, field))
                return
            print_table(["ID", title], [(each.pk, getattr(each, field)) for each in nodes])
            return
        if not force:
            click.confirm(f"Set the {field} of {len(nodes)} node(s) to {value!r}?", abort=True)
        with provgraph_errors():
            for each in nodes:
                setattr(each, field, value)
        click.echo(f"Success: set {field} of {len(nodes)} node(s) to {value!r}")


_field_command("label", "-L")
_field_command("description", "-D")


def _register_comment() -> None:
    from provgraph.cli.cmd_comment import comment

    node.add_command(comment)


_register_comment()


def _register_rehash() -> None:
    from provgraph.cli.cmd_node_rehash import rehash

    node.add_command(rehash)


_register_rehash()
