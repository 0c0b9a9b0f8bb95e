"""ContainerizedCode: an executable inside a container image, run through a container engine.

As AiiDA's ``core.code.containerized``: an :class:`InstalledCode` on a computer whose
``engine_command`` (it must hold ``{image_name}``) is put before the executable in the submit
script, after ``mpirun`` when the job runs with MPI::

    mpirun -np 4 "apptainer" "exec" "--bind" "$PWD:$PWD" "ubuntu.sif" '/usr/bin/pw.x' < 'aiida.in'

With ``wrap_cmdline_params`` the executable, its arguments and redirections become one argument
(for engines such as ``docker run ... {image_name} sh -c``). The engine words are written in
double quotes, so variables such as ``$PWD`` expand when the job runs; AiiDA single-quotes them.
``filepath_executable`` is the path *inside* the container and may be a bare command name.
"""

from __future__ import annotations

from typing import Any

from provgraph.exceptions import ValidationError
from provgraph.orm.nodes.data.code import InstalledCode

__all__ = ["ContainerizedCode"]


class ContainerizedCode(InstalledCode):
    """An executable in a container image (see the module docstring).

    :param engine_command: the engine's command line, holding the field ``{image_name}``
    :param image_name: the image (name, tag, path of a ``.sif``...)
    :param filepath_executable: the executable inside the container
    :param wrap_cmdline_params: pass the command line to the engine as one argument
    """

    _node_type = "data.core.code.containerized"

    def __init__(self, engine_command: str, image_name: str, filepath_executable: str | None = None,
                 wrap_cmdline_params: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(image_name, str) or not image_name.strip():
            raise ValidationError(f"image_name must be a non-empty string, not {image_name!r}")
        if not isinstance(engine_command, str) or "{image_name}" not in engine_command:
            raise ValidationError(f"engine_command must hold the field {{image_name}}, not {engine_command!r}")
        try:
            engine_command.format(image_name=image_name)
        except (KeyError, IndexError, ValueError) as exc:
            raise ValidationError(f"engine_command has a field other than {{image_name}}: {exc}") from exc
        if not isinstance(wrap_cmdline_params, bool):
            raise ValidationError(f"wrap_cmdline_params must be a bool, not {wrap_cmdline_params!r}")
        self.base.attributes.set_many({"engine_command": engine_command, "image_name": image_name,
                                       "wrap_cmdline_params": wrap_cmdline_params})
        if filepath_executable is not None:
            if not isinstance(filepath_executable, str) or not filepath_executable.strip():
                raise ValidationError(f"filepath_executable must be a non-empty string, not {filepath_executable!r}")
            self.base.attributes.set("filepath_executable", filepath_executable)

    @property
    def engine_command(self) -> str:
        """The engine's command template."""
        return self.base.attributes.get("engine_command")

    @property
    def image_name(self) -> str:
        """The container image."""
        return self.base.attributes.get("image_name")

    @property
    def wrap_cmdline_params(self) -> bool:
        """Whether the command line goes to the engine as one argument."""
        return self.base.attributes.get("wrap_cmdline_params", False)

    def get_engine_command_words(self) -> list[str]:
        """The engine command with the image filled in, split into words."""
        return self.engine_command.format(image_name=self.image_name).split()

    def get_prepend_cmdline_params(self, mpi_args: list[str] | None = None,
                                   extra_mpirun_params: list[str] | None = None) -> list[str]:
        """``mpi_args + extra_mpirun_params + engine words``: what comes before the executable."""
        return list(mpi_args or []) + list(extra_mpirun_params or []) + self.get_engine_command_words()

    def get_executable_cmdline_params(self, cmdline_params: list[str] | None = None) -> list[str]:
        """``[filepath_executable, *cmdline_params]``."""
        return [self.filepath_executable, *(cmdline_params or [])]
