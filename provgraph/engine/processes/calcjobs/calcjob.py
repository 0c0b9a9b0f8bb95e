"""CalcJob: a calculation run by a code on a computer, through its transport and scheduler.

A subclass declares its inputs and outputs in ``define`` (``super().define(spec)`` adds the
``code`` input, ``metadata.options`` and the ``remote_folder``/``retrieved`` outputs) and writes
its input files in ``prepare_for_submission(folder)``, returning a
:class:`~provgraph.engine.processes.calcjobs.calcinfo.CalcInfo`. The engine then runs the
lifecycle as committed steps, each checkpointed in the node (stage, attempts, CalcInfo, job id):

``upload`` (sandbox → working directory; the input files and the submit script
``_provgraph_submit.sh`` also go into the node's repository; output ``remote_folder``) →
``submit`` (at most once, see :mod:`~provgraph.engine.processes.calcjobs.lifecycle`) →
``update`` (waiting: the state of the job comes from the batched per-computer poll of
:mod:`~provgraph.engine.processes.calcjobs.poller`) → ``retrieve`` (output ``retrieved``) and
``parse`` (the parser's outputs and exit code). Upload and submit run in one step, as do
retrieve and parse (the temporary retrieved files live only as long as the step); when the
submission fails after the upload, its retries start from ``submit``.

Transport and scheduler failures are retried with exponential backoff: ``base × 2^(n-1)`` seconds
(base ``$PROVGRAPH_CALCJOB_BACKOFF``, default 5 s). On a worker the process waits without a worker
slot and is woken by a delayed message; in ``run()`` the next step sleeps. After
``max_transport_attempts`` (5) failures in a row the process pauses with a report saying why;
``play`` resumes it with a fresh series of attempts.

Every option is stored on the node as a top-level attribute (``resources``, ``input_filename``...),
with ``remote_workdir``, ``job_id``, ``scheduler_state`` and ``retrieve_list`` set as the job goes.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Protocol

from provgraph.common.folders import Folder
from provgraph.common.links import LinkType
from provgraph.engine.exceptions import EngineError
from provgraph.engine.processes.calcjobs import connections, dry_run, lifecycle, monitors
from provgraph.engine.processes.calcjobs.calcinfo import CalcInfo
from provgraph.engine.processes.calcjobs.options import define_options, job_template, option_attributes
from provgraph.engine.processes.exit_code import ExitCode
from provgraph.engine.processes.process import Process
from provgraph.engine.processes.spec import ProcessSpec
from provgraph.engine.processes.utils import flatten
from provgraph.engine.state import Outcome, ProcessState
from provgraph.engine.unit import UnitOfWork
from provgraph.exceptions import NotExistent, SchedulerError, TransportError, ValidationError
from provgraph.orm.computers import Computer
from provgraph.orm.nodes.data.code import AbstractCode, InstalledCode
from provgraph.orm.nodes.data.containers import Dict
from provgraph.orm.nodes.data.files import FolderData
from provgraph.orm.nodes.data.remote import RemoteData
from provgraph.orm.nodes.data.remote_stash import RemoteStashData
from provgraph.orm.nodes.process.process import CalcJobNode

__all__ = ["CalcJob", "Waker", "backoff_delay", "get_waker", "set_waker"]

BACKOFF_ENV = "PROVGRAPH_CALCJOB_BACKOFF"
DEFAULT_BACKOFF = 5.0
MAX_BACKOFF = 600.0
#: the errors after which a lifecycle step is retried with backoff
RETRYABLE = (TransportError, SchedulerError)


def backoff_delay(failures: int) -> float:
    """Seconds to wait after the ``failures``-th failure in a row (``base × 2^(failures-1)``, capped)."""
    import os

    base = float(os.environ.get(BACKOFF_ENV, DEFAULT_BACKOFF))
    return min(base * 2 ** max(failures - 1, 0), MAX_BACKOFF)


class Waker(Protocol):
    """How a CalcJob on a worker gets advanced again (the Celery adapter installs one)."""

    def wake_later(self, pk: int, delay: float) -> None:
        """Advance process ``pk`` again in ``delay`` seconds."""

    def ensure_polling(self, computer: Computer, user: str) -> None:
        """Make sure the scheduler of ``computer`` is polled for ``user``'s jobs until none is active."""


class _WakerSlot:
    """Holds the installed waker (process-wide, like the submitter: all threads of a worker share it)."""

    waker: Waker | None = None


def set_waker(waker: Waker | None) -> Waker | None:
    """Install the waker used by CalcJobs stepped outside an in-process runner; return the previous one."""
    previous, _WakerSlot.waker = _WakerSlot.waker, waker
    return previous


def get_waker() -> Waker | None:
    """The installed waker, or None."""
    return _WakerSlot.waker


class CalcJob(Process):
    """The base of CalcJob plugins (see the module docstring)."""

    _node_class = CalcJobNode
    _input_link = LinkType.INPUT_CALC
    _output_link = LinkType.CREATE
    _call_link = LinkType.CALL_CALC
    #: the parser used when the ``parser_name`` option is not given (an entry point name), or None
    default_parser: ClassVar[str | None] = None
    #: raise it when a change of the plugin makes old results invalid caches (recorded as ``cache_version``)
    CACHE_VERSION: ClassVar[int | None] = None
    #: ``metadata.store_provenance=False`` is allowed only inside a dry run (see calcjobs/dry_run.py)
    _unstored_allowed = dry_run.DryRunAllowance()  # type: ignore[assignment]

    @classmethod
    def define(cls, spec: ProcessSpec) -> None:
        """The ``code`` input, ``metadata.options``, the ``remote_folder``/``retrieved`` outputs, exit codes."""
        super().define(spec)
        spec.input("code", valid_type=AbstractCode, help="the code (executable) the job runs")
        define_options(spec)
        spec.input("metadata.dry_run", valid_type=bool, default=False, non_db=True,
                   help="prepare the input folder in ./submit_test without storing or submitting anything")
        spec.input("metadata.disable_cache", valid_type=bool, default=False, non_db=True,
                   help="run the job even when caching is on and a cached result exists")
        spec.input("remote_folder", valid_type=RemoteData, required=False,
                   help="the folder of a job that already ran outside provgraph: it is imported (retrieved "
                        "and parsed) instead of run (see calcjobs/importer.py)")
        spec.output("remote_folder", valid_type=RemoteData, help="the working directory on the computer")
        spec.output("retrieved", valid_type=FolderData, help="the files retrieved after the job ended")
        spec.output("remote_stash", valid_type=RemoteStashData, required=False,
                    help="the files stashed on the computer (option stash)")
        spec.input_namespace("monitors", dynamic=True, valid_type=Dict, required=False,
                             validator=monitors.validate_monitors,
                             help="monitors called on the running job (see calcjobs/monitors.py)")
        spec.exit_code(150, "STOPPED_BY_MONITOR", "the job was stopped by a monitor: {message}",
                       invalidates_cache=True)
        spec.exit_code(110, "ERROR_SCHEDULER_JOB_FAILED",
                       "the job ended with exit status {status} and no parser judged its outputs")

    @classmethod
    def get_importer(cls, entry_point_name: str | None = None) -> Any:
        """The CalcJobImporter registered for this CalcJob (see calcjobs/importer.py).

        :raises NotExistent: when none is registered
        """
        from provgraph.engine.processes.calcjobs.importer import get_importer

        return get_importer(cls, entry_point_name)

    def prepare_for_submission(self, folder: Folder) -> CalcInfo:
        """Write the input files into the local ``folder`` and say how to run the job.

        ``folder`` is a :class:`~provgraph.common.folders.Folder`: AiiDA's Folder API and a Path's.

        :raises ValidationError: when the inputs cannot make a job
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement prepare_for_submission()")

    # -- creation -----------------------------------------------------------------------------------

    @classmethod
    def create(cls, inputs: Mapping[str, Any] | None, work: UnitOfWork, caller: Process | None = None) -> Process:
        """Validate the inputs and options (against the computer's scheduler) and make the node.

        :raises ValidationError: when the inputs, the computer or the options do not fit (nothing stored)
        """
        process = super().create(inputs, work, caller)
        metadata = process.inputs.get("metadata", {})
        dry_run.check_metadata(metadata, cls.__name__)
        options = dict(metadata.get("options", {}))
        code = process.inputs.code
        label = metadata.get("computer") or getattr(code, "computer", None)
        if not label:
            raise ValidationError(f"{cls.__name__} needs a computer: the code has none, give metadata.computer")
        try:
            computer = connections.computer(label)
        except NotExistent as exc:
            raise ValidationError(f"{cls.__name__}: no computer labelled {label!r}") from exc
        if isinstance(code, InstalledCode) and code.computer != label:
            raise ValidationError(f"code {code.full_label} is installed on {code.computer!r}, not on {label!r}")
        options.setdefault("parser_name", cls.default_parser)
        _check_options(options, computer)
        process.node._record.computer = label
        process.node.base.attributes.set_many(option_attributes(options))
        versions = _cache_versions(cls, options.get("parser_name"))
        if versions:
            process.node.base.attributes.set("cache_version", versions)
        if metadata.get("disable_cache"):  # kept on the node: metadata is not part of a rebuilt process
            process.node.base.attributes.set("disable_cache", True)
        if "remote_folder" in process.inputs:  # imported, not run (AiiDA's CalcJobNode.IMMIGRATED_KEY)
            process.node.base.attributes.set("imported", True)
        return process

    # -- state --------------------------------------------------------------------------------------

    def __init__(self, node: CalcJobNode, inputs: Mapping[str, Any]) -> None:
        super().__init__(node, inputs)
        self._cp: dict[str, Any] = {"stage": "upload", "failures": 0, "retry_at": None, "paused_on_failure": False}
        self._updates: dict[str, Any] = {}
        self._pause_now = False
        self._computer: Computer | None = None

    def load_checkpoint(self, data: Mapping[str, Any] | None) -> None:
        """Restore stage, attempts, CalcInfo, job id and attached outputs."""
        if data:
            self._cp = dict(data)
            self._outputs = dict(data.get("outputs", {}))

    def checkpoint(self, work: UnitOfWork) -> dict[str, Any]:
        """The lifecycle state (JSON): stage, failures, retry time, CalcInfo, working directory, job id, outputs."""
        return {**self._cp, "outputs": {label: getattr(value, "uuid", value) for label, value in self._outputs.items()}}

    def bookkeeping(self, version: int, work: UnitOfWork) -> dict[str, Any]:
        """The process attributes plus the job's (``job_id``, ``remote_workdir``...) and ``paused`` on failure."""
        values = super().bookkeeping(version, work)
        values.update(self._updates)
        if self._pause_now:
            values["paused"] = True
        return values

    def option(self, name: str, default: Any = None) -> Any:
        """The value of option ``name`` (from the node's attributes)."""
        return self.node.base.attributes.get(name, default)

    @property
    def computer(self) -> Computer:
        """The computer the job runs on."""
        if self._computer is None:
            self._computer = connections.computer(self.node._record.computer)
        return self._computer

    @property
    def in_process(self) -> bool:
        """Whether an in-process runner drives this process (it may sleep in its steps), not a worker."""
        return self.runner_classes is not None or get_waker() is None

    def status_text(self) -> str | None:
        """What the lifecycle is doing, e.g. ``Waiting for scheduler update (job 123)``."""
        if self.is_terminated:
            return None
        stage = self._cp.get("stage")
        if self._cp.get("paused_on_failure"):
            return f"Paused: {stage} failed {self._cp.get('failures')} times"
        if self._cp.get("retry_at"):
            return f"Waiting to retry {stage} (attempt {self._cp.get('failures', 0) + 1})"
        if stage == "update":
            return f"Waiting for scheduler update (job {self._cp.get('job_id')})"
        return f"Waiting for transport task: {stage}"

    # -- stepping -----------------------------------------------------------------------------------

    def _run_step(self) -> Outcome:
        if not self.node.is_stored:
            raise EngineError(f"{self.label()} runs as a stored process: run() it at the top level or submit() it")
        if self._cp.get("paused_on_failure"):  # played after a pause: a fresh series of attempts
            self._cp.update(paused_on_failure=False, failures=0, retry_at=None)
        retry_at = self._cp.get("retry_at")
        if retry_at and retry_at > time.time():
            if not self.in_process:
                self._waker().wake_later(self.node.pk, retry_at - time.time())
                return Outcome.BLOCKED
            time.sleep(retry_at - time.time())
        stage = self._cp["stage"]
        if stage == "update" and not self.in_process and not self._job_done():
            delay = monitors.wake_delay(self) if self.inputs.get("monitors") else None
            if delay is None or not self._monitors_stopped():
                self._waker().ensure_polling(self.computer, self.node.user)
                if delay is not None:
                    self._waker().wake_later(self.node.pk, delay)
                return Outcome.BLOCKED
            stage = self._cp["stage"]
        self._set_state(ProcessState.RUNNING)
        if stage == "upload" and not self._cp.get("cache_checked"):
            from provgraph.engine.processes.calcjobs.caching import finish_from_cache

            self._cp["cache_checked"] = True
            cached = finish_from_cache(self)  # before any transport: a cached job never touches the computer
            if cached is not None:
                return cached
        try:
            outcome = getattr(self, f"_do_{stage}")()
        except RETRYABLE as exc:
            return self._failed(self._cp["stage"], exc)
        self._cp.update(failures=0, retry_at=None)
        return outcome

    def _waker(self) -> Waker:
        waker = get_waker()
        if waker is None:
            raise EngineError("no CalcJob waker is installed on this worker")
        return waker

    def _failed(self, stage: str, exc: Exception) -> Outcome:
        """Count a failed attempt: retry later with backoff, or pause after the last allowed attempt."""
        failures = int(self._cp.get("failures", 0)) + 1
        limit = int(self.option("max_transport_attempts", 5))
        connections.discard_transport(self.computer, self.node.user)
        self._set_state(ProcessState.WAITING)
        if failures >= limit:
            self._cp.update(failures=failures, retry_at=None, paused_on_failure=True)
            self._pause_now = True
            self.report(f"{stage} failed {failures} times in a row, last with {type(exc).__name__}: {exc}; the "
                        f"process is paused: fix the cause, then `provgraph process play {self.node.pk}`")
            return Outcome.WAITING
        delay = backoff_delay(failures)
        self._cp.update(failures=failures, retry_at=time.time() + delay)
        self.report(f"{stage} failed (attempt {failures} of {limit}) with {type(exc).__name__}: {exc}; "
                    f"retrying in {delay:.1f} s")
        if not self.in_process:
            self._waker().wake_later(self.node.pk, delay)
        return Outcome.WAITING

    def _transport(self) -> Any:
        return connections.open_transport(self.computer, self.node.user)

    def _job_done(self, fresh: bool = False) -> bool:
        """Whether the poller saw the job done (``fresh``: read the node again from the storage)."""
        from provgraph.orm.utils import load_node

        node = load_node(self.node.pk) if fresh else self.node
        return node.base.attributes.get("scheduler_state", None) == "done"

    # -- the stages ---------------------------------------------------------------------------------

    def _do_upload(self) -> Outcome:
        from provgraph.engine.processes.calcjobs.staging import stage_inputs

        if "remote_folder" in self.inputs:  # a job that ran outside provgraph: retrieve and parse only
            from provgraph.engine.processes.calcjobs.importer import perform_import

            return perform_import(self)
        transport = self._transport()
        workdir = self._workdir(transport)
        with tempfile.TemporaryDirectory(prefix="provgraph-calcjob-") as sandbox:
            calc_info = self.prepare_for_submission(Folder(sandbox))
            if not isinstance(calc_info, CalcInfo):
                raise ValidationError(f"{self.label()}.prepare_for_submission returned {calc_info!r}, not a CalcInfo")
            calc_info.validate()
            script, executables = stage_inputs(self, calc_info, Path(sandbox), workdir)
            lifecycle.upload(transport, Path(sandbox), workdir, calc_info, self.computer.label)
            for executable in executables:
                transport.chmod(f"{workdir}/{executable}", 0o755)
        retrieve = calc_info.retrieve_list + [str(p) for p in self.option("additional_retrieve_list", [])]
        retrieve += [self.option(name) for name in ("scheduler_stdout", "scheduler_stderr")]
        retrieve = list(dict.fromkeys(item for item in retrieve if item))
        self._cp.update(stage="submit", workdir=workdir, script=script, retrieve_list=retrieve,
                        retrieve_temporary_list=calc_info.retrieve_temporary_list)
        self._updates.update(remote_workdir=workdir, retrieve_list=retrieve,
                             retrieve_temporary_list=calc_info.retrieve_temporary_list)
        if "remote_folder" not in self._outputs:
            self.out("remote_folder", RemoteData(remote_path=workdir, computer=self.computer.label))
        # submit in the same step (one commit less); a failed submission is retried from stage "submit"
        return self._do_submit()

    def _workdir(self, transport: Any) -> str:
        from provgraph.tools.computers import resolve_workdir

        username = _username(self.computer, self.node.user, transport)
        uuid = self.node.uuid
        return f"{resolve_workdir(self.computer, username).rstrip('/')}/{uuid[:2]}/{uuid[2:4]}/{uuid[4:]}"

    def _do_submit(self) -> Outcome:
        from provgraph.tools.computers import scheduler_for

        transport = self._transport()
        job_id = lifecycle.submit(transport, scheduler_for(self.computer), self._cp["workdir"], self._cp["script"])
        connections.record("submit", self.computer.label)
        self._cp.update(stage="update", job_id=job_id)
        self._updates.update(job_id=job_id, scheduler_state="queued")
        self._set_state(ProcessState.WAITING)
        if not self.in_process:
            self._waker().ensure_polling(self.computer, self.node.user)
            delay = monitors.wake_delay(self) if self.inputs.get("monitors") else None
            if delay is not None:  # the monitors run when the process is woken while its job runs
                self._waker().wake_later(self.node.pk, delay)
        return Outcome.WAITING

    def _do_update(self) -> Outcome:
        """In ``run()``: poll (batched, leased) until the job is done. Workers get here only once it is."""
        from provgraph.engine.processes.calcjobs.poller import poll_computer, poll_interval

        interval = poll_interval(self.computer)
        while not self._job_done():
            if monitors.check(self, self._transport()):
                return Outcome.CONTINUE
            states = poll_computer(self.computer, self.node.user, interval)
            if states is not None and states.get(self.node.pk) == "done":
                break
            if not self._job_done(fresh=True):
                time.sleep(min(interval, 1.0))
        self._cp.update(stage="retrieve")
        self._updates.update(scheduler_state="done")
        return Outcome.CONTINUE

    def _do_retrieve(self) -> Outcome:
        from provgraph.engine.processes.calcjobs.staging import retrieve_and_parse
        from provgraph.engine.processes.calcjobs.stash import stash_job

        transport = self._transport()
        stash_job(self, transport)  # after the job, before retrieving (a repeated step finds it done)
        if "monitor_result" in self._cp:
            return self._finish(monitors.finish_stopped(self, transport))
        return self._finish(retrieve_and_parse(self, transport))

    def _monitors_stopped(self) -> bool:
        """On a worker: run the due monitors; True when one stopped the job (transport errors: False, retried)."""
        try:
            return monitors.check(self, self._transport())
        except RETRYABLE as exc:
            self.report(f"monitors not run: {type(exc).__name__}: {exc}")
            return False

    # -- helpers for staging ------------------------------------------------------------------------

    def codes(self) -> dict[str, AbstractCode]:
        """Every code among the inputs, by uuid."""
        return {node.uuid: node for node in flatten(self.inputs).values() if isinstance(node, AbstractCode)}

    def finish_with(self, exit_code: ExitCode | None) -> Outcome:
        """End the process with ``exit_code`` (used by the parse stage)."""
        return self._finish(exit_code)


_USERNAMES: dict[tuple[str, str], str] = {}


def _username(computer: Computer, user: str, transport: Any) -> str:
    """The login name on ``computer`` (cached per process: one ``whoami`` per computer and user)."""
    key = (computer.label, user)
    if key not in _USERNAMES:
        _USERNAMES[key] = transport.whoami()
    return _USERNAMES[key]


def _cache_versions(cls: type[CalcJob], parser_name: str | None) -> dict[str, int]:
    """``{"calc_job": N, "parser": M}`` for the versions declared (empty when none is)."""
    versions = {"calc_job": cls.CACHE_VERSION} if cls.CACHE_VERSION is not None else {}
    if parser_name:
        from provgraph.plugins import ParserFactory

        parser_version = getattr(ParserFactory(parser_name), "CACHE_VERSION", None)
        if parser_version is not None:
            versions["parser"] = parser_version
    return versions


def _check_options(options: Mapping[str, Any], computer: Computer) -> None:
    """Refuse options the computer's scheduler cannot honour, before anything is stored.

    :raises ValidationError: naming the problem
    """
    from provgraph.engine.processes.calcjobs.calcinfo import CodeInfo
    from provgraph.tools.computers import scheduler_for

    scheduler = scheduler_for(computer)
    probe = CalcInfo(codes_info=[CodeInfo(code_uuid="probe")])
    template = job_template(options, computer, scheduler, probe, {"probe": ["true"]}, ("", ""), "probe", "/tmp")
    scheduler.get_submit_script(template)
    parser = options.get("parser_name")
    if parser:
        from provgraph.plugins import ParserFactory

        try:
            ParserFactory(parser)
        except NotExistent as exc:
            raise ValidationError(f"option parser_name: {exc}") from exc

