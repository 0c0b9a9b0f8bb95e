"""Output helpers shared by the commands: tables and error exits."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import click
from rich.console import Console
from rich.table import Table

console = Console()


def print_table(headers: Sequence[str], rows: Iterable[Sequence[object]], title: str | None = None) -> None:
    """Print ``rows`` as a table with ``headers``."""
    table = Table(title=title)
    for header in headers:
        table.add_column(header)
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    console.print(table)


def fail(message: str) -> None:
    """Print ``message`` as an error and exit with status 1."""
    raise click.ClickException(message)


class BadInput(click.ClickException):
    """A one-line ``Error: ...`` for an argument that names nothing usable (exit status 2, as verdi's)."""

    exit_code = 2


def success(message: str) -> None:
    """Print ``Success: message`` (verdi's wording for a change that was made)."""
    click.echo(f"Success: {message}")


def report(message: str) -> None:
    """Print ``Report: message`` (a note that changes nothing)."""
    click.echo(f"Report: {message}")
