"""The root ``provgraph`` command; subcommand groups are imported only when used.

Keeping the imports lazy keeps ``provgraph --help`` fast: it loads no neo4j,
celery, fabric, boto3 or numpy.
"""

from __future__ import annotations

import importlib

import click

#: command name -> "module:attribute" of its click command
SUBCOMMANDS = {
    "archive": "provgraph.cli.cmd_archive:archive",
    "calcjob": "provgraph.cli.cmd_calcjob:calcjob",
    "code": "provgraph.cli.cmd_code:code",
    "computer": "provgraph.cli.cmd_computer:computer",
    "config": "provgraph.cli.cmd_config:config",
    "cypher": "provgraph.cli.cmd_query:cypher",
    "daemon": "provgraph.cli.cmd_daemon:daemon",
    "data": "provgraph.cli.cmd_data:data",
    "group": "provgraph.cli.cmd_group:group",
    "node": "provgraph.cli.cmd_node:node",
    "plugin": "provgraph.cli.cmd_plugin:plugin",
    "presto": "provgraph.cli.cmd_presto:presto",
    "process": "provgraph.cli.cmd_process:process",
    "profile": "provgraph.cli.cmd_profile:profile",
    "query": "provgraph.cli.cmd_query:query",
    "restapi": "provgraph.cli.cmd_restapi:restapi",
    "run": "provgraph.cli.cmd_run:run",
    "shell": "provgraph.cli.cmd_shell:shell",
    "status": "provgraph.cli.cmd_status:status",
    "storage": "provgraph.cli.cmd_storage:storage",
    "user": "provgraph.cli.cmd_user:user",
    "web": "provgraph.cli.cmd_restapi:web",
    "worker": "provgraph.cli.cmd_worker:worker",
}


class LazyGroup(click.Group):
    """A click group that imports a subcommand's module only when it runs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(SUBCOMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = SUBCOMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        return getattr(importlib.import_module(module_name), attribute)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Refuse arguments that are not valid UTF-8 text before any command sees them."""
        from provgraph.cli.params import check_arguments

        check_arguments(args)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> object:
        """Run the command; a provgraph error it let through still ends as a one-line message."""
        from provgraph.cli.params import clean_exits

        with clean_exits():
            return super().invoke(ctx)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="provgraph")
@click.option("-p", "--profile", "profile_name", envvar="PROVGRAPH_PROFILE", help="Profile to use.")
@click.pass_context
def cli(ctx: click.Context, profile_name: str | None) -> None:
    """provgraph: run workflows and keep their full provenance as a graph."""
    ctx.ensure_object(dict)
    ctx.obj["profile_name"] = profile_name
