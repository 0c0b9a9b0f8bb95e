"""CalcJob: calculations run by a code on a computer through a transport and a scheduler.

- :mod:`.calcjob`: the :class:`CalcJob` process and its lifecycle steps;
- :mod:`.calcinfo`: :class:`CalcInfo`/:class:`CodeInfo`, returned by ``prepare_for_submission``;
- :mod:`.options`: ``metadata.options`` and the scheduler's job template;
- :mod:`.lifecycle` / :mod:`.staging`: the remote and local work of upload, submit, retrieve;
- :mod:`.poller`: one batched status query per computer, leased fleet-wide;
- :mod:`.connections`: pooled transports opened no more often than the safe interval, fleet-wide;
- :mod:`.parser`: the :class:`Parser` base class of parser plugins;
- :mod:`.kill`: cancel the scheduler job of a killed CalcJob.
"""

from __future__ import annotations

from provgraph.engine.processes.calcjobs.calcinfo import CalcInfo, CodeInfo
from provgraph.engine.processes.calcjobs.calcjob import CalcJob
from provgraph.engine.processes.calcjobs.parser import Parser

__all__ = ["CalcInfo", "CalcJob", "CodeInfo", "Parser"]
