"""``--config FILE``: option values read from a YAML mapping, as verdi's ``computer setup``/``code create`` take.

Keys are the long option names with ``-`` or ``_`` (``filepath_executable``, ``computer``,
``non-interactive``...); the file gives defaults, so options on the command line win.
An unknown key or a file that is not a YAML mapping is refused before anything runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click


def _load(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is None:
        return
    import yaml

    try:
        content = yaml.safe_load(Path(value).read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise click.BadParameter(f"cannot read {value}: {exc}", ctx, param) from None
    if not isinstance(content, dict):
        raise click.BadParameter(f"{value} must hold a YAML mapping of option names to values", ctx, param)
    names: dict[str, str] = {}
    for each in ctx.command.params:
        names[each.name] = each.name
        for declared in [*each.opts, *each.secondary_opts]:
            if declared.startswith("--"):
                names[declared[2:].replace("-", "_")] = each.name
    defaults: dict[str, Any] = {}
    for key, item in content.items():
        name = names.get(str(key).replace("-", "_"))
        if name is None or name == param.name:
            raise click.BadParameter(f"{value}: {key!r} is not an option of this command", ctx, param)
        defaults[name] = item
    ctx.default_map = {**(ctx.default_map or {}), **defaults}


def config_file_option(func: Any) -> Any:
    """Add ``--config FILE`` (YAML option values) to a command."""
    return click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False), is_eager=True,
                        expose_value=False, callback=_load,
                        help="Read option values from this YAML file (options given here win).")(func)
