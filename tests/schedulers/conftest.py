"""Fixtures of the scheduler tests (helpers live in ``scheduler_testing.py``)."""

from __future__ import annotations

import pytest
from scheduler_testing import RecordingTransport

from provgraph.schedulers.datastructures import JobResource


@pytest.fixture
def node_resources() -> JobResource:
    """2 machines × 4 MPI processes, 2 cores each."""
    return JobResource(num_machines=2, num_mpiprocs_per_machine=4, num_cores_per_mpiproc=2)


@pytest.fixture
def recording_transport() -> RecordingTransport:
    """A fresh :class:`RecordingTransport`."""
    return RecordingTransport()
