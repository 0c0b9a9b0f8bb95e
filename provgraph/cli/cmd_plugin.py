"""``provgraph plugin``: the plugins registered through entry points."""

from __future__ import annotations

import click

from provgraph.cli.echo import print_table
from provgraph.plugins import GROUPS, plugin_names


@click.group()
def plugin() -> None:
    """Inspect the registered plugins (built-ins included)."""


@plugin.command("list")
@click.argument("kind", required=False, type=click.Choice(sorted(GROUPS)))
def plugin_list(kind: str | None) -> None:
    """List the plugins of KIND (all kinds if omitted)."""
    kinds = [kind] if kind else sorted(GROUPS)
    rows = [(name_kind, GROUPS[name_kind], name) for name_kind in kinds for name in plugin_names(name_kind)]
    print_table(["kind", "entry-point group", "name"], rows)
