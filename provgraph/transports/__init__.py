"""Transports: how provgraph reaches a computer's files and shell (DESIGN §5).

:mod:`provgraph.transports.base` holds the :class:`~provgraph.transports.base.Transport`
interface; ``core.local`` and ``core.ssh`` implement it and register through the
``provgraph.transports`` entry-point group.  :mod:`provgraph.transports.pool` reuses
one open transport per (computer, user) within a process.
"""
