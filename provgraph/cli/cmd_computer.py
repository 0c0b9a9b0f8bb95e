"""``provgraph computer``: set up, configure, test, list, show and delete computers.

``setup`` stores the computer itself (shared by every user of the profile);
``configure ssh|local`` stores how the *current* user reaches it (username,
port, key file...), under the keyword names of the transport class, so the
engine builds the transport from them unchanged
(:func:`provgraph.tools.computers.transport_for`).
"""

from __future__ import annotations

import json
import shlex
from typing import Any

import click

from provgraph.cli.config_file import config_file_option
from provgraph.cli.echo import print_table
from provgraph.cli.params import load_cli_profile, provgraph_errors

#: placeholders the scheduler fills in an mpirun command
MPIRUN_PLACEHOLDERS = {"tot_num_mpiprocs", "num_machines", "num_mpiprocs_per_machine", "num_cores_per_mpiproc"}
DEFAULT_WORKDIR = "/tmp/{username}/provgraph_run/"
DEFAULT_MPIRUN = "mpirun -np {tot_num_mpiprocs}"


@click.group()
def computer() -> None:
    """Set up, configure and test the computers CalcJobs run on."""


def load_computer(label: str) -> Any:
    """The stored computer ``label``; a usage error naming the known ones when there is none."""
    from provgraph.exceptions import NotExistent
    from provgraph.orm import Computer

    try:
        return Computer.get(label=label)
    except NotExistent:
        raise click.UsageError(f"no computer labelled {label!r} (see `provgraph computer list`)") from None


def _ask(value: Any, name: str, non_interactive: bool, default: Any = None, **prompt_kwargs: Any) -> Any:
    """``value`` if given; else ``default`` (non-interactive) or the user's answer to a prompt."""
    if value is not None:
        return value
    if non_interactive:
        if default is None:
            raise click.UsageError(f"--{name} is required with --non-interactive")
        return default
    return click.prompt(name.replace("-", " ").capitalize(), default=default, **prompt_kwargs)


def _check_plugin(kind: str, name: str, option: str) -> None:
    from provgraph.plugins import plugin_names

    known = plugin_names(kind)
    if name not in known:
        raise click.BadParameter(f"no {kind} plugin named {name!r}; registered: {', '.join(known) or 'none'}",
                                 param_hint=option)


def _mpirun_words(command: str) -> list[str]:
    from provgraph.exceptions import ValidationError
    from provgraph.tools.computers import validate_template

    try:
        words = shlex.split(command)
        for word in words:
            validate_template(word, MPIRUN_PLACEHOLDERS, "mpirun command word")
    except (ValueError, ValidationError) as exc:
        raise click.BadParameter(str(exc), param_hint="--mpirun-command") from exc
    return words


def _check_workdir(workdir: str) -> None:
    from provgraph.exceptions import ValidationError
    from provgraph.tools.computers import validate_template

    try:
        validate_template(workdir, {"username"}, "work directory")
    except ValidationError as exc:
        raise click.BadParameter(str(exc), param_hint="--work-dir") from exc
    if not workdir.startswith("/"):
        raise click.BadParameter(f"the work directory must be an absolute path, not {workdir!r}",
                                 param_hint="--work-dir")


@computer.command()
@click.option("-L", "--label", help="Unique name of the computer.")
@click.option("-H", "--hostname", help="Host name or address (for core.ssh: where to connect).")
@click.option("-D", "--description", default="", help="Free text.")
@click.option("-T", "--transport", help="Transport plugin, e.g. core.local or core.ssh.")
@click.option("-S", "--scheduler", help="Scheduler plugin, e.g. core.direct or core.slurm.")
@click.option("-w", "--work-dir", help=f"Work directory template ({{username}} is filled in) [{DEFAULT_WORKDIR}].")
@click.option("--mpirun-command", help=f"MPI launcher with placeholders [{DEFAULT_MPIRUN}].")
@click.option("--mpiprocs-per-machine", type=click.IntRange(min=1), help="Default MPI processes per machine.")
@click.option("--prepend-text", default="", help="Shell text put before every job's commands.")
@click.option("--append-text", default="", help="Shell text put after every job's commands.")
@click.option("-n", "--non-interactive", is_flag=True, help="Never prompt; use defaults for optional values.")
@config_file_option
@click.pass_context
def setup(ctx: click.Context, label: str | None, hostname: str | None, description: str, transport: str | None,
          scheduler: str | None, work_dir: str | None, mpirun_command: str | None,
          mpiprocs_per_machine: int | None, prepend_text: str, append_text: str, non_interactive: bool) -> None:
    """Store a new computer (prompting for what the options do not give)."""
    load_cli_profile(ctx)
    from provgraph.orm import Computer

    label = _ask(label, "label", non_interactive)
    hostname = _ask(hostname, "hostname", non_interactive)
    transport = _ask(transport, "transport", non_interactive, "core.local")
    _check_plugin("transports", transport, "--transport")
    scheduler = _ask(scheduler, "scheduler", non_interactive, "core.direct")
    _check_plugin("schedulers", scheduler, "--scheduler")
    work_dir = _ask(work_dir, "work-dir", non_interactive, DEFAULT_WORKDIR)
    _check_workdir(work_dir)
    words = _mpirun_words(_ask(mpirun_command, "mpirun-command", non_interactive, DEFAULT_MPIRUN))
    with provgraph_errors():
        stored = Computer(label, hostname, transport, scheduler, description=description, workdir=work_dir,
                          mpirun_command=words, default_mpiprocs_per_machine=mpiprocs_per_machine,
                          prepend_text=prepend_text, append_text=append_text).store()
    click.echo(f"Computer {stored.label!r} stored (pk {stored.pk}); "
               f"next: provgraph computer configure {transport.removeprefix('core.')} {stored.label}")


@computer.group()
def configure() -> None:
    """Store how the current user reaches a computer (per-user transport settings)."""


def _store_configuration(label: str, transport_type: str, settings: dict[str, Any], email: str | None = None) -> None:
    from provgraph.orm import User

    target = load_computer(label)
    if target.transport_type != transport_type:
        raise click.UsageError(f"computer {label!r} uses transport {target.transport_type}, not {transport_type}")
    if email is not None and ("@" not in email or email.startswith("@") or email.endswith("@")):
        raise click.BadParameter(f"{email!r} is not an email address", param_hint="--user")
    with provgraph_errors():
        user = User.get_or_create(email) if email else User.get_default()
        target.configure(user=user.email, **settings)
    click.echo(f"Computer {label!r} configured for {user.email}: {json.dumps(settings, sort_keys=True)}")


def _user_option(func: Any) -> Any:
    return click.option("-u", "--user", "email", help="Email of the user to configure for [the default user].")(func)


def _interactive_option(func: Any) -> Any:
    return click.option("-n/-I", "--non-interactive/--interactive", default=False,
                        help="Never prompt (-n), or prompt for what is not given (-I, the default).")(func)


@configure.command("ssh")
@click.argument("label", metavar="COMPUTER")
@_user_option
@click.option("--username", help="Remote account [the local user name].")
@click.option("-P", "--port", type=click.IntRange(1, 65535), help="SSH port [22].")
@click.option("--key-filename", type=click.Path(exists=True, dir_okay=False, resolve_path=True),
              help="Private key file (default: the usual keys and the agent).")
@click.option("--known-hosts", type=click.Path(exists=True, dir_okay=False, resolve_path=True),
              help="File of accepted host keys [~/.ssh/known_hosts].")
@click.option("--proxy-jump", help="Hops to go through, [user@]host[:port], comma-separated.")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), help="Connect timeout in seconds [10].")
@click.option("--safe-interval", type=click.FloatRange(min=0),
              help="Minimum seconds between two connections opened [5].")
@_interactive_option
@config_file_option
@click.pass_context
def configure_ssh(ctx: click.Context, label: str, email: str | None, username: str | None, port: int | None,
                  key_filename: str | None, known_hosts: str | None, proxy_jump: str | None, timeout: float | None,
                  safe_interval: float | None, non_interactive: bool) -> None:
    """Configure the core.ssh transport of COMPUTER for the current user (or --user)."""
    import getpass

    load_cli_profile(ctx)
    if not non_interactive:
        username = _ask(username, "username", False, getpass.getuser())
        port = _ask(port, "port", False, 22, type=click.IntRange(1, 65535))
    if proxy_jump is not None:
        _check_proxy_jump(proxy_jump)
    settings = {"username": username, "port": port, "key_filename": key_filename, "known_hosts": known_hosts,
                "proxy_jump": proxy_jump, "connect_timeout": timeout, "safe_open_interval": safe_interval}
    _store_configuration(label, "core.ssh", {k: v for k, v in settings.items() if v is not None}, email)


def _check_proxy_jump(spec: str) -> None:
    for hop in spec.split(","):
        _, _, hostport = hop.strip().rpartition("@")
        host, _, port = hostport.partition(":")
        if not host or (port and not port.isdigit()):
            raise click.BadParameter(f"hop {hop!r} is not [user@]host[:port]", param_hint="--proxy-jump")


@configure.command("local")
@click.argument("label", metavar="COMPUTER")
@_user_option
@click.option("--safe-interval", type=click.FloatRange(min=0), help="Minimum seconds between two opens [0].")
@click.option("--shell", help="Shell that runs the commands [/bin/bash].")
@click.option("--env", "environment", multiple=True, metavar="NAME=VALUE",
              help="Environment variable for every command (repeatable).")
@_interactive_option
@config_file_option
@click.pass_context
def configure_local(ctx: click.Context, label: str, email: str | None, safe_interval: float | None,
                    shell: str | None, environment: tuple[str, ...], non_interactive: bool) -> None:
    """Configure the core.local transport of COMPUTER for the current user (or --user); nothing is prompted."""
    load_cli_profile(ctx)
    variables = {}
    for item in environment:
        name, sep, value = item.partition("=")
        if not sep or not name.isidentifier():
            raise click.BadParameter(f"{item!r} is not NAME=VALUE", param_hint="--env")
        variables[name] = value
    settings = {"safe_open_interval": safe_interval, "shell": shell, "environment": variables or None}
    _store_configuration(label, "core.local", {k: v for k, v in settings.items() if v is not None}, email)


configure.add_command(configure_ssh, "core.ssh")  # verdi's names: the transport's entry point
configure.add_command(configure_local, "core.local")


@configure.command("show")
@click.argument("label")
@click.pass_context
def configure_show(ctx: click.Context, label: str) -> None:
    """Print the current user's transport settings of computer LABEL."""
    load_cli_profile(ctx)
    with provgraph_errors():
        settings = load_computer(label).get_configuration()
    click.echo(json.dumps(settings, indent=2, sort_keys=True))


@computer.command("test")
@click.argument("label")
@click.pass_context
def test_computer(ctx: click.Context, label: str) -> None:
    """Check that computer LABEL works: connect, work directory, files, scheduler."""
    load_cli_profile(ctx)
    from provgraph.tools.computers import check_computer

    target = load_computer(label)
    click.echo(f"Testing computer {label!r} ({target.transport_type}, {target.scheduler_type})")
    results = check_computer(target)
    for result in results:
        colour = {"ok": "green", "failed": "red"}.get(result.status, "yellow")
        click.echo(f"  {click.style(f'{result.status:>7}', fg=colour)}  {result.name}: {result.detail}")
    failed = sum(r.status == "failed" for r in results)
    skipped = sum(r.status == "skipped" for r in results)
    if failed or skipped:
        raise click.ClickException(f"{failed} check(s) failed, {skipped} skipped")
    click.echo(f"all {len(results)} checks passed")


@computer.command("list")
@click.pass_context
def list_computers(ctx: click.Context) -> None:
    """List the computers as a table (``computer show LABEL`` gives your settings for one)."""
    load_cli_profile(ctx)
    from provgraph.orm import Computer

    with provgraph_errors():
        rows = [(c.pk, c.label, c.hostname, c.transport_type, c.scheduler_type, c.workdir)
                for c in Computer.collection()]
    if not rows:
        click.echo("no computers; add one with `provgraph computer setup`")
        return
    print_table(["pk", "label", "hostname", "transport", "scheduler", "work directory"], rows, title="Computers")


@computer.command()
@click.argument("label")
@click.pass_context
def show(ctx: click.Context, label: str) -> None:
    """Show computer LABEL and the current user's settings for it."""
    load_cli_profile(ctx)
    from provgraph.exceptions import NotExistent

    target = load_computer(label)
    rows = [("pk", target.pk), ("uuid", target.uuid), ("label", target.label), ("hostname", target.hostname),
            ("description", target.description), ("transport", target.transport_type),
            ("scheduler", target.scheduler_type), ("work directory", target.workdir),
            ("mpirun command", shlex.join(target.mpirun_command)),
            ("default mpiprocs per machine", target.default_mpiprocs_per_machine),
            ("prepend text", target.prepend_text), ("append text", target.append_text)]
    try:
        settings = json.dumps(target.get_configuration(), sort_keys=True)
    except NotExistent:
        settings = "not configured for the current user"
    rows.append(("user settings", settings))
    print_table(["field", "value"], rows, title=f"Computer {target.label}")


@computer.command()
@click.argument("label")
@click.option("-f", "--force", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def delete(ctx: click.Context, label: str, force: bool) -> None:
    """Delete computer LABEL (refused while codes or remote folders refer to it)."""
    load_cli_profile(ctx)
    from provgraph.orm.backend import get_backend

    target = load_computer(label)
    if not force:
        click.confirm(f"delete computer {label!r} and every user's settings for it?", abort=True)
    with provgraph_errors():
        get_backend().computers.delete(target.pk)
    click.echo(f"Computer {label!r} deleted")
