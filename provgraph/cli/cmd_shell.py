"""``provgraph shell``: an interactive Python shell with the profile loaded and the ORM imported (as ``verdi shell``).

IPython is used when it is installed (``pip install 'provgraph[shell]'``); without it the command says so
and stops, unless ``--plain`` asks for the standard Python shell.
"""

from __future__ import annotations

import click

from provgraph.cli.params import load_cli_profile


@click.command()
@click.option("--plain", is_flag=True, help="Use the plain Python shell, not IPython.")
@click.option("--no-startup", is_flag=True, help="With --plain, ignore $PYTHONSTARTUP.")
@click.pass_context
def shell(ctx: click.Context, plain: bool, no_startup: bool) -> None:
    """Start a Python shell with the profile loaded and the names of provgraph.orm defined."""
    profile = load_cli_profile(ctx)
    from provgraph.cli.cmd_run import orm_namespace

    namespace = orm_namespace(profile.name)
    if plain:
        _plain(namespace, no_startup)
        return
    try:
        import IPython
    except ImportError:
        raise click.ClickException("IPython is not installed: `pip install 'provgraph[shell]'` (or ipython), "
                                   "or use `provgraph shell --plain` for the standard Python shell") from None
    IPython.start_ipython(argv=["--no-banner"], user_ns=namespace)


def _plain(namespace: dict, no_startup: bool) -> None:
    import code
    import os

    startup = os.environ.get("PYTHONSTARTUP")
    if startup and not no_startup and os.path.isfile(startup):
        with open(startup) as handle:
            exec(compile(handle.read(), startup, "exec"), namespace)  # noqa: S102 - the user's own startup file
    code.interact(banner=f"provgraph shell (profile loaded); names: {', '.join(sorted(namespace))}",
                  local=namespace, exitmsg="")
