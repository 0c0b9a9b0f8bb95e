"""Errors of the process engine.

They all derive from :class:`provgraph.exceptions.ProvgraphError`::

    ProvgraphError
    └── EngineError
        ├── StaleCheckpoint        another step (or kill) moved the process on first; nothing was written
        ├── ProcessNotImportable   (also a ValidationError) the process class cannot be rebuilt by a worker
        ├── ProcessExcepted        ``run()`` of a process that excepted where its own exception is not at hand
        └── ProcessKilled          ``run()`` of a process that was killed

They live here, beside the engine, until the tree in :mod:`provgraph.exceptions` takes them in.
"""

from __future__ import annotations

from provgraph.exceptions import ProvgraphError, ValidationError


class EngineError(ProvgraphError):
    """The process engine could not do what was asked."""


class StaleCheckpoint(EngineError):
    """A step was computed from a checkpoint that is no longer current; its writes were dropped."""


class ProcessNotImportable(EngineError, ValidationError):
    """A process class that a worker could not import (defined in ``__main__`` or a local scope)."""


class ProcessExcepted(EngineError):
    """A process run with ``run()`` ended excepted and its own exception is not at hand (``run()`` raises
    the process's own exception whenever it is, as AiiDA does); the message holds its traceback."""


class ProcessKilled(EngineError):
    """A process run with ``run()`` was killed."""
