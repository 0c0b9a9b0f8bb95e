"""Shared CLI helpers: loading the profile chosen with ``-p`` and turning errors into clean exits."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click

from provgraph.exceptions import ProvgraphError


def load_cli_profile(ctx: click.Context):  # noqa: ANN201
    """Load the profile chosen with ``provgraph -p NAME`` (or the default one)."""
    from provgraph.profiles import load_profile

    root = ctx.find_root()
    with provgraph_errors():
        return load_profile((root.obj or {}).get("profile_name"))


@contextmanager
def provgraph_errors() -> Iterator[None]:
    """Show a provgraph error as a one-line message with exit status 1, not a traceback."""
    try:
        yield
    except ProvgraphError as exc:
        raise click.ClickException(f"{type(exc).__name__}: {exc}") from exc
