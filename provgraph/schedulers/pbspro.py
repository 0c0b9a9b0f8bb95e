"""``core.pbspro``: PBS Professional / OpenPBS (``select`` chunks, ``qstat -f -x`` with history)."""

from __future__ import annotations

from provgraph.schedulers.datastructures import JobResource, JobState, JobTemplate
from provgraph.schedulers.pbsbase import PbsBaseScheduler

__all__ = ["PbsProScheduler"]


class PbsProScheduler(PbsBaseScheduler):
    """PBS Pro: one ``select`` chunk per machine; ``-x`` keeps finished jobs visible to ``qstat``."""

    unsupported_options = frozenset({"qos"})
    qstat_flags = "-f -x"
    exit_status_key = "Exit_status"
    #: PBS Pro job_state letters (``qstat -f``'s ``job_state``).
    states = {
        "Q": JobState.QUEUED, "W": JobState.QUEUED, "T": JobState.QUEUED,
        "H": JobState.QUEUED_HELD,
        "R": JobState.RUNNING, "B": JobState.RUNNING, "E": JobState.RUNNING,
        "S": JobState.SUSPENDED, "U": JobState.SUSPENDED,
        "F": JobState.DONE, "X": JobState.DONE,
        "M": JobState.UNDETERMINED,
    }

    def _resource_lines(self, template: JobTemplate) -> list[str]:
        """``-l select=<machines>:mpiprocs=<n>:ncpus=<n×cores>[:mem=<kb>kb]`` (memory per machine)."""
        res = template.resources
        assert isinstance(res, JobResource)
        select = (f"select={res.num_machines}:mpiprocs={res.num_mpiprocs_per_machine}"
                  f":ncpus={res.num_cores_per_machine}")
        if res.num_cores_per_mpiproc > 1:
            select += f":ompthreads={res.num_cores_per_mpiproc}"
        if template.max_memory_kb:
            select += f":mem={template.max_memory_kb}kb"
        return [f"-l {select}"]
