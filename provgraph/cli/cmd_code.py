"""``provgraph code``: create, list and show the codes (executables) CalcJobs run.

An *installed* code is an absolute path on one computer; a *portable* code is
a folder of files stored in the repository with an executable inside it,
copied to whatever computer a job runs on.  Labels are unique: an installed
code's ``label@computer``, a portable code's ``label``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from provgraph.cli.config_file import config_file_option
from provgraph.cli.echo import print_table
from provgraph.cli.params import load_cli_profile, provgraph_errors


@click.group()
def code() -> None:
    """Create, list and show codes."""


def _common_options(func: Any) -> Any:
    """The options every ``code create`` subcommand shares."""
    options = [
        click.option("-L", "--label", help="Label of the code."),
        click.option("-D", "--description", default="", help="Free text."),
        click.option("-P", "--default-calc-job-plugin", help="CalcJob plugin this code runs by default."),
        click.option("--prepend-text", default="", help="Shell text run before the executable."),
        click.option("--append-text", default="", help="Shell text run after the executable."),
        click.option("--with-mpi/--no-with-mpi", default=None, help="Whether the code must (not) run with MPI."),
        click.option("--use-double-quotes/--no-use-double-quotes", default=False,
                     help="Quote the command line with double quotes."),
        click.option("-n/-I", "--non-interactive/--interactive", default=False,
                     help="Never prompt (-n), or prompt for what is not given (-I, the default)."),
    ]
    for option in reversed(options):
        func = option(func)
    return config_file_option(func)


def _required(value: Any, name: str, non_interactive: bool, **prompt_kwargs: Any) -> Any:
    if value is not None:
        return value
    if non_interactive:
        raise click.UsageError(f"--{name} is required with --non-interactive")
    return click.prompt(name.replace("-", " ").capitalize(), **prompt_kwargs)


def _check_calc_plugin(name: str | None) -> None:
    if name is None:
        return
    from provgraph.plugins import plugin_names

    known = plugin_names("calculations")
    if name not in known:
        raise click.BadParameter(f"no calculations plugin named {name!r}; registered: {', '.join(known) or 'none'}",
                                 param_hint="--default-calc-job-plugin")


def all_codes(**filters: Any) -> list[Any]:
    """The stored codes (installed and portable) matching node-field ``filters``, oldest first."""
    from provgraph.orm import AbstractCode, QueryBuilder

    query = QueryBuilder().append(AbstractCode, tag="code", filters=filters, project="*")
    return query.order_by({"code": {"pk": "asc"}}).all(flat=True)


def _refuse_taken(label: str, full_label: str) -> None:
    if any(other.full_label == full_label for other in all_codes(label=label)):
        raise click.UsageError(f"a code labelled {full_label!r} exists already")


def _common_fields(description: str, default_calc_job_plugin: str | None, prepend_text: str, append_text: str,
                   with_mpi: bool | None, use_double_quotes: bool) -> dict[str, Any]:
    _check_calc_plugin(default_calc_job_plugin)
    return {"description": description, "default_calc_job_plugin": default_calc_job_plugin,
            "prepend_text": prepend_text, "append_text": append_text, "with_mpi": with_mpi,
            "use_double_quotes": use_double_quotes}


@code.group()
def create() -> None:
    """Create a code."""


@create.command("installed")
@click.option("-Y", "--computer", "computer_label", help="Label of the computer the code is installed on.")
@click.option("-X", "--filepath-executable", help="Absolute path of the executable on that computer.")
@_common_options
@click.pass_context
def create_installed(ctx: click.Context, computer_label: str | None, filepath_executable: str | None,
                     label: str | None, non_interactive: bool, **fields: Any) -> None:
    """Create a code installed on a computer."""
    load_cli_profile(ctx)
    from provgraph.cli.cmd_computer import load_computer
    from provgraph.orm import InstalledCode

    label = _required(label, "label", non_interactive)
    computer_label = _required(computer_label, "computer", non_interactive)
    target = load_computer(computer_label)
    filepath_executable = _required(filepath_executable, "filepath-executable", non_interactive)
    if not filepath_executable.startswith("/"):
        raise click.BadParameter(f"must be an absolute path, not {filepath_executable!r}",
                                 param_hint="--filepath-executable")
    common = _common_fields(**fields)
    _refuse_taken(label, f"{label}@{target.label}")
    with provgraph_errors():
        stored = InstalledCode(computer=target, filepath_executable=filepath_executable, label=label,
                               **common).store()
    click.echo(f"Code {stored.full_label!r} stored (pk {stored.pk})")


@create.command("portable")
@click.option("-F", "--filepath-files", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Local folder holding the code's files.")
@click.option("-X", "--filepath-executable", help="Path of the executable inside that folder.")
@_common_options
@click.pass_context
def create_portable(ctx: click.Context, filepath_files: Path | None, filepath_executable: str | None,
                    label: str | None, non_interactive: bool, **fields: Any) -> None:
    """Create a code whose files are stored in the repository and copied to each job."""
    load_cli_profile(ctx)
    from provgraph.orm import PortableCode

    label = _required(label, "label", non_interactive)
    filepath_files = _required(filepath_files, "filepath-files", non_interactive,
                               type=click.Path(exists=True, file_okay=False, path_type=Path))
    filepath_executable = _required(filepath_executable, "filepath-executable", non_interactive)
    if not (filepath_files / filepath_executable).is_file():
        raise click.BadParameter(f"{filepath_executable!r} is not a file inside {str(filepath_files)!r}",
                                 param_hint="--filepath-executable")
    common = _common_fields(**fields)
    _refuse_taken(label, label)
    with provgraph_errors():
        stored = PortableCode(filepath_executable=filepath_executable, filepath_files=filepath_files,
                              label=label, **common).store()
    click.echo(f"Code {stored.full_label!r} stored (pk {stored.pk}) with "
               f"{len(stored.base.repository.walk_files())} file(s)")


def _kind(found: Any) -> str:
    return "installed" if hasattr(found, "computer") else "portable"


@code.command("list")
@click.option("-Y", "--computer", "computer_label", help="Only codes installed on this computer.")
@click.option("-P", "--plugin", help="Only codes with this default CalcJob plugin.")
@click.pass_context
def list_codes(ctx: click.Context, computer_label: str | None, plugin: str | None) -> None:
    """List the codes as a table."""
    load_cli_profile(ctx)
    with provgraph_errors():
        codes = all_codes() if computer_label is None else all_codes(computer=computer_label)
    if plugin is not None:
        codes = [c for c in codes if c.default_calc_job_plugin == plugin]
    if not codes:
        click.echo("no codes; add one with `provgraph code create installed|portable`")
        return
    rows = [(c.pk, c.full_label, _kind(c), getattr(c, "computer", ""), c.default_calc_job_plugin or "",
             c.filepath_executable) for c in codes]
    print_table(["pk", "full label", "type", "computer", "default plugin", "executable"], rows, title="Codes")


def load_code(identifier: str) -> Any:
    """The code with pk, uuid (prefix), full label (``label@computer``) or unique label ``identifier``.

    :raises click.UsageError: when nothing, or more than one code, matches
    """
    from provgraph.exceptions import NotExistent
    from provgraph.orm import AbstractCode, load_node

    if identifier.isdigit() or len(identifier) >= 8 and all(ch in "0123456789abcdef-" for ch in identifier):
        try:
            found = load_node(identifier)
        except NotExistent:
            found = None
        if isinstance(found, AbstractCode):
            return found
    label = identifier.rsplit("@", 1)[0]
    matches = [c for c in all_codes(label=label) if c.full_label == identifier] or all_codes(label=identifier)
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise click.UsageError(f"{len(matches)} codes are labelled {identifier!r}: use label@computer or the pk")
    raise click.UsageError(f"no code {identifier!r} (give a pk, a uuid, label@computer or a label)")


@code.command()
@click.argument("identifier")
@click.pass_context
def show(ctx: click.Context, identifier: str) -> None:
    """Show a code (by pk, uuid, label@computer or label)."""
    load_cli_profile(ctx)
    with provgraph_errors():
        found = load_code(identifier)
    rows = [("pk", found.pk), ("uuid", found.uuid), ("type", _kind(found)), ("full label", found.full_label),
            ("description", found.description), ("default plugin", found.default_calc_job_plugin or ""),
            ("executable", found.filepath_executable)]
    if _kind(found) == "installed":
        rows.insert(4, ("computer", found.computer))
    else:
        rows.append(("files", ", ".join(found.base.repository.walk_files())))
    rows += [("with mpi", found.base.attributes.get("with_mpi", None)),
             ("prepend text", found.prepend_text), ("append text", found.append_text)]
    print_table(["field", "value"], rows, title=f"Code {found.full_label}")


create.add_command(create_installed, "core.code.installed")  # verdi's names: the code's entry point
create.add_command(create_portable, "core.code.portable")
