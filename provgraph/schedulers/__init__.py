"""Schedulers: submit-script generation, submission, batched status, kill and exit info (DESIGN §5).

:mod:`provgraph.schedulers.base` holds the :class:`~provgraph.schedulers.base.Scheduler`
interface and the :class:`~provgraph.schedulers.base.BashScheduler` template;
:mod:`provgraph.schedulers.datastructures` the frozen value types.  The plugins
(``core.direct``, ``core.slurm``, ``core.pbspro``, ``core.torque``, ``core.sge``,
``core.lsf``) register through the ``provgraph.schedulers`` entry-point group.
"""
