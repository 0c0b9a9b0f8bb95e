"""The scheduler interface and the Bash template most plugins fill in.

:class:`Scheduler` is the narrow interface the engine uses: write a submit
script, submit it, ask for the state of many jobs at once, kill one, and read
its exit information.  :class:`BashScheduler` implements it as a template: a
plugin supplies the header directives, command strings and pure parsers
(``submit_command``/``parse_submit_output``, ``joblist_command``/
``parse_joblist_output``, ``kill_command``/``parse_kill_output``, optionally
``detailed_job_info_command``/``parse_detailed_job_info``), so it is tested on
recorded output without a cluster.

Errors: a command that fails, or output that cannot be understood, raises
:class:`~provgraph.exceptions.SchedulerError` carrying the command's stderr.
Transport failures propagate as :class:`~provgraph.exceptions.TransportError`
(retryable ones can be retried with backoff).  Bad templates raise
:class:`~provgraph.exceptions.ValidationError`.
"""

from __future__ import annotations

import shlex
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, ClassVar

from provgraph.exceptions import SchedulerError, ValidationError
from provgraph.schedulers.datastructures import (
    AnyJobResource,
    CodeRun,
    CodeRunMode,
    JobInfo,
    JobResource,
    JobTemplate,
)

if TYPE_CHECKING:
    from provgraph.transports.base import Transport

__all__ = ["BashScheduler", "Scheduler", "command_error", "double_quote", "job_id_list", "quote", "user_selector"]


def quote(*words: object) -> str:
    """Return ``words`` joined by spaces, each quoted for a POSIX shell."""
    return " ".join(shlex.quote(str(word)) for word in words)


def double_quote(word: str) -> str:
    """``word`` in double quotes for a POSIX shell: ``$VARIABLES`` expand, backslashes, quotes and backticks not."""
    escaped = word.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`")
    return f'"{escaped}"'


def command_error(what: str, retval: int, stdout: str, stderr: str) -> SchedulerError:
    """A SchedulerError saying that ``what`` failed, with the exit code and the command's stderr."""
    detail = stderr.strip() or stdout.strip() or "no output"
    return SchedulerError(f"{what} failed (exit {retval}): {detail}")


class Scheduler(ABC):
    """A batch scheduler as provgraph drives it, through a :class:`~provgraph.transports.base.Transport`."""

    #: The resource type jobs of this scheduler must use.
    resource_class: ClassVar[type[AnyJobResource]] = JobResource

    @classmethod
    def create_resource(cls, **kwargs: object) -> AnyJobResource:
        """Build this scheduler's resource type from ``kwargs``.

        :raises ValidationError: when the values are invalid for this resource type
        """
        try:
            return cls.resource_class(**kwargs)  # type: ignore[arg-type]
        except TypeError as exc:
            raise ValidationError(f"invalid resources for {cls.__name__}: {exc}") from exc

    @abstractmethod
    def get_submit_script(self, template: JobTemplate) -> str:
        """Return the text of the submit script for ``template``.

        :raises ValidationError: when the template asks for something this scheduler cannot do
        """

    @abstractmethod
    def submit(self, transport: Transport, workdir: str, script_name: str) -> str:
        """Submit ``script_name`` (in ``workdir``) and return the scheduler's job id.

        :raises SchedulerError: when the submission is refused (the message holds stderr)
        :raises TransportError: when the command cannot be run
        """

    @abstractmethod
    def get_jobs(self, transport: Transport, job_ids: Sequence[str] | None = None,
                 user: str | None = None) -> dict[str, JobInfo]:
        """Return the state of ``job_ids`` (or all jobs of ``user``) from ONE scheduler query.

        A requested job id missing from the result is no longer known to the
        scheduler: treat it as finished.

        :raises SchedulerError: when the query fails or its output cannot be parsed
        :raises TransportError: when the command cannot be run
        """

    @abstractmethod
    def kill(self, transport: Transport, job_id: str) -> bool:
        """Ask the scheduler to kill ``job_id``; return False if it had already finished.

        :raises SchedulerError: when the scheduler refuses the kill for another reason
        :raises TransportError: when the command cannot be run
        """

    @abstractmethod
    def get_detailed_job_info(self, transport: Transport, job_id: str) -> JobInfo | None:
        """Return what the scheduler knows about ``job_id`` after its end (exit status...), or None if nothing.

        :raises SchedulerError: when the query fails
        :raises TransportError: when the command cannot be run
        """


class BashScheduler(Scheduler):
    """A scheduler driven by shell commands with Bash submit scripts; plugins fill in the pieces."""

    #: Template fields this scheduler cannot honour; a template setting one is refused.
    unsupported_options: ClassVar[frozenset[str]] = frozenset()

    # -- submit script ----------------------------------------------------------------------------------

    def get_submit_script(self, template: JobTemplate) -> str:
        """Shebang, directives, custom commands, prologue, environment, prepend text, run lines, append text."""
        self.validate_template(template)
        head = [template.shebang, self._get_submit_script_header(template)]
        if template.custom_scheduler_commands.strip():
            head.append(template.custom_scheduler_commands.strip("\n"))
        sections = ["\n".join(line for line in head if line),
                    self._get_submit_script_prologue(template),
                    self._environment_lines(template),
                    template.prepend_text.strip("\n"),
                    self._run_lines(template),
                    template.append_text.strip("\n")]
        return "\n\n".join(section for section in sections if section) + "\n"

    def validate_template(self, template: JobTemplate) -> None:
        """Check the resource type and that no unsupported option is set.

        :raises ValidationError: naming the offending field
        """
        if not isinstance(template.resources, self.resource_class):
            raise ValidationError(f"{type(self).__name__} needs {self.resource_class.__name__} resources, "
                                  f"got {type(template.resources).__name__}")
        for option in sorted(self.unsupported_options):
            if getattr(template, option) not in (None, "", False):
                raise ValidationError(f"{type(self).__name__} does not support the option {option!r}")

    @abstractmethod
    def _get_submit_script_header(self, template: JobTemplate) -> str:
        """Return the scheduler directives (``#SBATCH ...`` lines) for ``template``."""

    def _get_submit_script_prologue(self, template: JobTemplate) -> str:
        """Return shell lines run first after the directives (none by default)."""
        return ""

    @staticmethod
    def _environment_lines(template: JobTemplate) -> str:
        lines = []
        for name, value in template.environment_variables.items():
            if template.environment_variables_double_quotes:
                escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`")
                lines.append(f'export {name}="{escaped}"')
            else:
                lines.append(f"export {name}={shlex.quote(value)}")
        return "\n".join(lines)

    def _run_lines(self, template: JobTemplate) -> str:
        lines = [self._run_line(code, template) for code in template.codes]
        if template.codes_run_mode is CodeRunMode.PARALLEL and lines:
            return "\n".join(f"{line} &" for line in lines) + "\n\nwait"
        return "\n\n".join(lines)

    @staticmethod
    def _mpirun_words(template: JobTemplate) -> list[str]:
        resources = template.resources
        values = {"tot_num_mpiprocs": resources.tot_num_mpiprocs,
                  "num_cores_per_mpiproc": resources.num_cores_per_mpiproc}
        if isinstance(resources, JobResource):
            values.update(num_machines=resources.num_machines,
                          num_mpiprocs_per_machine=resources.num_mpiprocs_per_machine)
        try:
            return [word.format_map(values) for word in template.mpirun_command]
        except (KeyError, ValueError, IndexError) as exc:
            raise ValidationError(f"bad placeholder in mpirun_command {template.mpirun_command!r}: {exc}") from exc

    def _run_line(self, code: CodeRun, template: JobTemplate) -> str:
        words = self._mpirun_words(template) if code.withmpi else []
        line = quote(*code.cmdline_params)
        if code.stdin_name:
            line += f" < {shlex.quote(code.stdin_name)}"
        if code.stdout_name:
            line += f" > {shlex.quote(code.stdout_name)}"
        if code.join_files:
            line += " 2>&1"
        elif code.stderr_name:
            line += f" 2> {shlex.quote(code.stderr_name)}"
        if code.wrap_cmdline_params:  # the container runs the whole command line (``sh -c "..."``)
            line = double_quote(line)
        head = [quote(*words)] if words else []
        head += [double_quote(word) for word in code.prepend_cmdline_params]
        return " ".join([*head, line])

    @staticmethod
    def directive_value(value: object, what: str) -> str:
        """``value`` as a directive argument: one line, double-quoted when it holds spaces.

        :raises ValidationError: when ``value`` holds a newline or a double quote
        """
        text = str(value)
        if any(c in text for c in '\n\r"'):
            raise ValidationError(f"{what} must not contain newlines or double quotes: {text!r}")
        return f'"{text}"' if any(c.isspace() for c in text) else text

    # -- commands and parsers (the plugin's part) --------------------------------------------------------

    @abstractmethod
    def submit_command(self, script_name: str) -> str:
        """The shell command that submits ``script_name`` from the current directory."""

    @abstractmethod
    def parse_submit_output(self, retval: int, stdout: str, stderr: str) -> str:
        """The job id in the submit command's output.

        :raises SchedulerError: when the submission failed or no job id can be found
        """

    @abstractmethod
    def joblist_command(self, job_ids: Sequence[str] | None = None, user: str | None = None) -> str:
        """ONE shell command that reports on all ``job_ids`` (or all jobs of ``user``, default the login user)."""

    @abstractmethod
    def parse_joblist_output(self, retval: int, stdout: str, stderr: str) -> dict[str, JobInfo]:
        """The jobs in the joblist command's output, keyed by job id.

        :raises SchedulerError: when the command failed or the output cannot be parsed
        """

    @abstractmethod
    def kill_command(self, job_id: str) -> str:
        """The shell command that kills ``job_id``."""

    @abstractmethod
    def parse_kill_output(self, retval: int, stdout: str, stderr: str) -> bool:
        """True when the kill was accepted, False when the job had already finished or is unknown.

        :raises SchedulerError: when the kill failed for another reason
        """

    def detailed_job_info_command(self, job_id: str) -> str | None:
        """The shell command that reports ``job_id``'s exit information, or None if the scheduler has none."""
        return None

    def parse_detailed_job_info(self, job_id: str, retval: int, stdout: str, stderr: str) -> JobInfo:
        """The exit information of ``job_id`` in the detailed-info command's output.

        :raises SchedulerError: when the command failed or does not mention the job
        """
        raise SchedulerError(f"{type(self).__name__} has no detailed job information")

    # -- the Scheduler interface, through a transport ----------------------------------------------------

    def submit(self, transport: Transport, workdir: str, script_name: str) -> str:
        """Run :meth:`submit_command` in ``workdir`` and return the parsed job id."""
        retval, stdout, stderr = transport.exec_command_wait(self.submit_command(script_name), workdir=workdir)
        return self.parse_submit_output(retval, stdout, stderr)

    def get_jobs(self, transport: Transport, job_ids: Sequence[str] | None = None,
                 user: str | None = None) -> dict[str, JobInfo]:
        """Run :meth:`joblist_command` once for all ``job_ids``; keep only the requested jobs."""
        wanted = None if job_ids is None else [str(job_id) for job_id in job_ids]
        if wanted is not None and not wanted:
            return {}
        retval, stdout, stderr = transport.exec_command_wait(self.joblist_command(wanted, user))
        jobs = self.parse_joblist_output(retval, stdout, stderr)
        return jobs if wanted is None else {job_id: jobs[job_id] for job_id in wanted if job_id in jobs}

    def kill(self, transport: Transport, job_id: str) -> bool:
        """Run :meth:`kill_command`; see :meth:`Scheduler.kill`."""
        retval, stdout, stderr = transport.exec_command_wait(self.kill_command(str(job_id)))
        return self.parse_kill_output(retval, stdout, stderr)

    def get_detailed_job_info(self, transport: Transport, job_id: str) -> JobInfo | None:
        """Run :meth:`detailed_job_info_command` (if any) and parse it."""
        command = self.detailed_job_info_command(str(job_id))
        if command is None:
            return None
        retval, stdout, stderr = transport.exec_command_wait(command)
        return self.parse_detailed_job_info(str(job_id), retval, stdout, stderr)


def user_selector(user: str | None) -> str:
    """``user`` quoted for the shell, or ``"$USER"`` (expanded remotely) when None."""
    return shlex.quote(user) if user else '"$USER"'


def job_id_list(job_ids: Iterable[str], separator: str = ",") -> str:
    """The job ids joined by ``separator``, each checked to be a plain token.

    :raises ValidationError: when a job id holds whitespace, quotes or shell metacharacters
    """
    ids = [str(job_id) for job_id in job_ids]
    for job_id in ids:
        if not job_id or any(not (c.isalnum() or c in "._-[]@") for c in job_id):
            raise ValidationError(f"not a valid job id: {job_id!r}")
    return separator.join(ids)
