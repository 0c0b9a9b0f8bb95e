"""``provgraph data``: look at data nodes by type, as ``verdi data core.<type> ...``.

``core.dict show``, ``core.array show``, ``core.singlefile content``, ``core.structure show|list``,
``core.remote ls|cat|show`` are verdi's; ``core.int|float|str|bool|list show`` and ``data list``
(every data node, filterable) are provgraph's extras beside them.
"""

from __future__ import annotations

import json
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import click

from provgraph.cli.echo import BadInput, print_table
from provgraph.cli.loaders import load_group_of, load_node_of, load_nodes
from provgraph.cli.params import load_cli_profile, provgraph_errors

FORMATS = ("json+date", "yaml", "yaml_expanded")


@click.group()
def data() -> None:
    """Inspect data nodes, by type (core.dict, core.array, core.singlefile, core.structure, core.remote...)."""


def _orm(name: str) -> Any:
    import provgraph.orm

    return getattr(provgraph.orm, name)


def dump_value(value: Any, fmt: str) -> str:
    """``value`` as indented JSON (datetimes as ISO text) or YAML."""
    if fmt == "json+date":
        return json.dumps(value, indent=4, default=lambda v: v.isoformat() if isinstance(v, datetime) else str(v))
    import yaml

    return yaml.safe_dump(value, default_flow_style=False if fmt == "yaml_expanded" else None, sort_keys=False)


def _format_option(func: Any) -> Any:
    return click.option("-f", "--format", "fmt", type=click.Choice(FORMATS), default="json+date", show_default=True,
                        help="The format of the output.")(func)


@data.group("core.dict")
def core_dict() -> None:
    """Dict nodes (python dictionaries)."""


@core_dict.command("show")
@click.argument("identifiers", nargs=-1, metavar="[DATA]...")
@_format_option
@click.pass_context
def dict_show(ctx: click.Context, identifiers: tuple[str, ...], fmt: str) -> None:
    """Print the content of Dict nodes."""
    load_cli_profile(ctx)
    for node in load_nodes(identifiers, _orm("Dict")):
        click.echo(dump_value(dict(node.items()), fmt))


@data.group("core.array")
def core_array() -> None:
    """ArrayData nodes (numpy arrays)."""


@core_array.command("show")
@click.argument("identifiers", nargs=-1, metavar="[DATA]...")
@_format_option
@click.pass_context
def array_show(ctx: click.Context, identifiers: tuple[str, ...], fmt: str) -> None:
    """Print the arrays of ArrayData nodes as name -> nested lists."""
    load_cli_profile(ctx)
    for node in load_nodes(identifiers, _orm("ArrayData")):
        with provgraph_errors():
            arrays = {name: node.get_array(name).tolist() for name in node.get_arraynames()}
        click.echo(dump_value(arrays, fmt))


@data.group("core.singlefile")
def core_singlefile() -> None:
    """SinglefileData nodes (one file each)."""


@core_singlefile.command("content")
@click.argument("identifier", metavar="DATUM")
@click.pass_context
def singlefile_content(ctx: click.Context, identifier: str) -> None:
    """Print the content of the file (bytes as they are)."""
    load_cli_profile(ctx)
    node = load_node_of(identifier, _orm("SinglefileData"))
    with provgraph_errors(), node.base.repository.open(node.filename, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 16), b""):
            click.echo(chunk, nl=False)


@data.group("core.structure")
def core_structure() -> None:
    """StructureData nodes (crystal structures)."""


def _xyz(node: Any) -> str:
    lines = [str(len(node.sites)), f'Lattice="{" ".join(str(x) for row in node.cell for x in row)}" '
             f'pbc="{" ".join("T" if p else "F" for p in node.pbc)}"']
    lines += [f"{s['symbol']} {' '.join(f'{x:.8f}' for x in s['position'])}" for s in node.sites]
    return "\n".join(lines)


@core_structure.command("show")
@click.argument("identifiers", nargs=-1, metavar="[DATA]...")
@click.option("-F", "--format", "fmt", type=click.Choice(["table", "xyz"]), default="table", show_default=True,
              help="Text form of the structure (provgraph opens no external viewer).")
@click.pass_context
def structure_show(ctx: click.Context, identifiers: tuple[str, ...], fmt: str) -> None:
    """Print structures: cell, periodicity and sites."""
    load_cli_profile(ctx)
    for node in load_nodes(identifiers, _orm("StructureData")):
        if fmt == "xyz":
            click.echo(_xyz(node))
            continue
        click.echo(f"StructureData<{node.pk}> {node.get_formula()}  volume {node.get_volume():.4f} A^3  pbc {node.pbc}")
        print_table(["", "x", "y", "z"], [(f"a{i + 1}", *row) for i, row in enumerate(node.cell)], title="cell")
        print_table(["#", "symbol", "x", "y", "z"],
                    [(i, s["symbol"], *s["position"]) for i, s in enumerate(node.sites)], title="sites")


@core_structure.command("list")
@click.option("-e", "--with-elements", multiple=True, help="Only structures holding these elements (repeatable).")
@click.option("-G", "--groups", "group_identifiers", multiple=True, help="Only structures in these groups.")
@click.option("-p", "--past-days", type=click.IntRange(min=0), help="Only structures made in the last N days.")
@click.option("-r", "--raw", is_flag=True, help="Rows only, no headers or footer.")
@click.pass_context
def structure_list(ctx: click.Context, with_elements: tuple[str, ...], group_identifiers: tuple[str, ...],
                   past_days: int | None, raw: bool) -> None:
    """List StructureData nodes: pk, label, formula."""
    load_cli_profile(ctx)
    with provgraph_errors():
        nodes = _select_nodes(_orm("StructureData"), group_identifiers, past_days)
    nodes = [n for n in nodes if set(with_elements) <= {s["symbol"] for s in n.sites}]
    rows = [(n.pk, n.label, n.get_formula()) for n in nodes]
    if raw:
        for row in rows:
            click.echo("\t".join(map(str, row)))
        return
    print_table(["Id", "Label", "Formula"], rows)
    click.echo(f"Total results: {len(rows)}")


def _select_nodes(cls: Any, group_identifiers: tuple[str, ...], past_days: int | None,
                  limit: int | None = None) -> list[Any]:
    """Stored nodes of ``cls`` (and subclasses), in the groups if given, made in the last days; by pk."""
    from provgraph.orm import QueryBuilder

    filters: dict[str, Any] = {}
    if past_days is not None:
        filters["ctime"] = {">": datetime.now(timezone.utc) - timedelta(days=past_days)}
    if group_identifiers:
        members = {node.pk for identifier in group_identifiers for node in load_group_of(identifier).nodes}
        filters["pk"] = {"in": sorted(members)}
    query = QueryBuilder().append(cls, tag="n", filters=filters, project="*").order_by({"n": {"pk": "asc"}})
    nodes = query.all(flat=True)
    return nodes if limit is None else nodes[-limit:]


@data.group("core.remote")
def core_remote() -> None:
    """RemoteData nodes (folders on a computer)."""


def _remote(identifier: str) -> tuple[Any, Any]:
    """The RemoteData and a (closed) transport to its computer."""
    from provgraph.cli.cmd_computer import load_computer
    from provgraph.tools.computers import transport_for

    node = load_node_of(identifier, _orm("RemoteData"))
    with provgraph_errors():
        return node, transport_for(load_computer(node.computer))


def _remote_path(node: Any, path: str | None) -> str:
    base = node.get_remote_path()
    if not path:
        return base
    joined = Path(base, path)
    if ".." in Path(path).parts or path.startswith("/"):
        raise BadInput(f"{path!r} must be a relative path inside the remote folder")
    return str(joined)


@core_remote.command("ls")
@click.argument("identifier", metavar="DATUM")
@click.option("-p", "--path", help="The sub-folder to list.")
@click.option("-l", "--long", "long_format", is_flag=True, help="Mark folders and files.")
@click.pass_context
def remote_ls(ctx: click.Context, identifier: str, path: str | None, long_format: bool) -> None:
    """List the remote folder (or a sub-folder) of a RemoteData."""
    load_cli_profile(ctx)
    node, transport = _remote(identifier)
    target = _remote_path(node, path)
    with provgraph_errors(), transport:
        if not transport.isdir(target):
            raise click.ClickException(f"{target} is not a folder on {node.computer}")
        for name in sorted(transport.listdir(target)):
            kind = ("d " if transport.isdir(f"{target}/{name}") else "- ") if long_format else ""
            click.echo(f"{kind}{name}")


@core_remote.command("cat")
@click.argument("identifier", metavar="DATUM")
@click.argument("path")
@click.pass_context
def remote_cat(ctx: click.Context, identifier: str, path: str) -> None:
    """Print the file PATH of the remote folder of a RemoteData."""
    load_cli_profile(ctx)
    node, transport = _remote(identifier)
    target = _remote_path(node, path)
    with provgraph_errors(), transport, tempfile.TemporaryDirectory() as scratch:
        if not transport.isfile(target):
            raise click.ClickException(f"no file {path!r} in {node.get_remote_path()} on {node.computer}")
        local = Path(scratch) / "content"
        transport.get(target, str(local))
        click.echo(local.read_bytes(), nl=False)


@core_remote.command("show")
@click.argument("identifier", metavar="DATUM")
@click.pass_context
def remote_show(ctx: click.Context, identifier: str) -> None:
    """Show the computer and the path of a RemoteData."""
    load_cli_profile(ctx)
    node = load_node_of(identifier, _orm("RemoteData"))
    click.echo(f"- Remote computer name:\n  {node.computer}\n- Remote folder full path:\n  {node.get_remote_path()}")


def _value_group(type_name: str, class_name: str) -> None:
    """``data core.<type_name> show``: print the value of base-type nodes (provgraph's extra)."""

    @data.group(f"core.{type_name}", help=f"{class_name} nodes.")
    def value_group() -> None:
        pass

    @value_group.command("show", help=f"Print the value of {class_name} nodes, one per line.")
    @click.argument("identifiers", nargs=-1, metavar="[DATA]...")
    @click.pass_context
    def value_show(ctx: click.Context, identifiers: tuple[str, ...]) -> None:
        load_cli_profile(ctx)
        for node in load_nodes(identifiers, _orm(class_name)):
            value = node.value
            click.echo(json.dumps(value) if isinstance(value, (list, bool)) else value)


for _type, _class in (("int", "Int"), ("float", "Float"), ("str", "Str"), ("bool", "Bool"), ("list", "List")):
    _value_group(_type, _class)


def _summary(node: Any) -> str:
    from provgraph.tools.graph import shorten

    value = getattr(node, "value", None)
    if value is not None and not callable(value):
        return shorten(value)
    filename = node.base.attributes.get("filename", None)
    return filename or ""


@data.command("list")
@click.option("-T", "--type", "type_name", default="Data", show_default=True,
              help="Only nodes of this ORM class (e.g. Int, Dict, StructureData), subclasses included.")
@click.option("-G", "--groups", "group_identifiers", multiple=True, help="Only nodes in these groups.")
@click.option("-p", "--past-days", type=click.IntRange(min=0), help="Only nodes made in the last N days.")
@click.option("-l", "--limit", type=click.IntRange(min=1), default=100, show_default=True,
              help="Show at most the newest N.")
@click.pass_context
def list_data(ctx: click.Context, type_name: str, group_identifiers: tuple[str, ...], past_days: int | None,
              limit: int) -> None:
    """List data nodes: pk, type, label, when made, a short value."""
    load_cli_profile(ctx)
    import provgraph.orm

    cls = getattr(provgraph.orm, type_name, None)
    if not isinstance(cls, type) or not issubclass(cls, provgraph.orm.Data):
        raise BadInput(f"{type_name!r} is not a data class of provgraph.orm (e.g. Int, Dict, StructureData)")
    with provgraph_errors():
        nodes = _select_nodes(cls, group_identifiers, past_days, limit)
    print_table(["PK", "Type", "Label", "Created", "Value"],
                [(n.pk, type(n).__name__, n.label, n.ctime.strftime("%Y-%m-%d %H:%M:%S"), _summary(n))
                 for n in nodes])
    click.echo(f"Total results: {len(nodes)}")
