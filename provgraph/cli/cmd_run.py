"""``provgraph run SCRIPT [ARGS]...``: run a Python script with the profile loaded (as ``verdi run``).

The script runs as ``__main__`` with ``sys.argv = [SCRIPT, ARGS...]`` and finds the ORM names
already defined, as in ``verdi run``: every name of :mod:`provgraph.orm` (``load_node``,
``load_group``, ``QueryBuilder``, ``Int``, ``Dict``...), the plugin factories
(``CalculationFactory``, ``DataFactory``, ``WorkflowFactory``) and the modules named by the
``verdi.shell.auto_import`` option.
"""

from __future__ import annotations

import importlib
import runpy
import sys
from pathlib import Path
from typing import Any

import click

from provgraph.cli.params import load_cli_profile


def orm_namespace(profile_name: str | None = None) -> dict[str, Any]:
    """The names ``provgraph run`` and ``provgraph shell`` predefine."""
    import provgraph.orm
    from provgraph import plugins
    from provgraph.cli.config_options import option_value

    names = {name: getattr(provgraph.orm, name) for name in provgraph.orm.__all__}
    for factory in ("CalculationFactory", "DataFactory", "WorkflowFactory", "ParserFactory"):
        names[factory] = getattr(plugins, factory)
    for module in filter(None, str(option_value("verdi.shell.auto_import", profile_name)).split(":")):
        try:
            names[module.rsplit(".", 1)[-1]] = importlib.import_module(module.strip())
        except ImportError as exc:
            click.echo(f"Warning: verdi.shell.auto_import: cannot import {module!r}: {exc}", err=True)
    return names


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("script", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("script_args", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def run(ctx: click.Context, script: Path, script_args: tuple[str, ...]) -> None:
    """Run SCRIPT with the profile loaded and the ORM names defined; ARGS become its sys.argv."""
    profile = load_cli_profile(ctx)
    namespace = orm_namespace(profile.name)
    saved_argv, saved_path = sys.argv, list(sys.path)
    sys.argv = [str(script), *script_args]
    sys.path.insert(0, str(script.resolve().parent))
    try:
        runpy.run_path(str(script), init_globals=namespace, run_name="__main__")
    except SystemExit as exc:
        if exc.code not in (None, 0):
            raise
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path
