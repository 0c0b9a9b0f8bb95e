"""``core.torque``: Torque / OpenPBS-derived resource managers (``nodes=N:ppn=M``)."""

from __future__ import annotations

import re

from provgraph.schedulers.common import parse_int
from provgraph.schedulers.datastructures import JobResource, JobState, JobTemplate
from provgraph.schedulers.pbsbase import PbsBaseScheduler

__all__ = ["TorqueScheduler"]


class TorqueScheduler(PbsBaseScheduler):
    """Torque: ``nodes``/``ppn`` resources; completed jobs stay in ``qstat`` as ``C`` for a while."""

    qstat_flags = "-f"
    exit_status_key = "exit_status"
    #: Torque job_state letters.
    states = {
        "Q": JobState.QUEUED, "W": JobState.QUEUED, "T": JobState.QUEUED,
        "H": JobState.QUEUED_HELD,
        "R": JobState.RUNNING, "E": JobState.RUNNING,
        "S": JobState.SUSPENDED,
        "C": JobState.DONE,
    }

    def _resource_lines(self, template: JobTemplate) -> list[str]:
        """``-l nodes=<machines>:ppn=<cores per machine>``; ``-l mem`` is the job total (per machine × machines)."""
        res = template.resources
        assert isinstance(res, JobResource)
        lines = [f"-l nodes={res.num_machines}:ppn={res.num_cores_per_machine}"]
        if template.max_memory_kb:
            lines.append(f"-l mem={template.max_memory_kb * int(res.num_machines or 1)}kb")
        if template.qos:
            lines.append(f"-l qos={self.directive_value(template.qos, 'qos')}")
        return lines

    def _num_machines(self, f: dict[str, str]) -> int | None:
        """Torque says ``Resource_List.nodes = 2:ppn=4`` (or ``nodect``)."""
        nodect = parse_int(f.get("Resource_List.nodect"))
        if nodect is not None:
            return nodect
        match = re.match(r"(\d+)", f.get("Resource_List.nodes", ""))
        return int(match.group(1)) if match else None
