"""provgraph: graph-native provenance for computational-science workflows.

The public API is small; each name lives in the subpackage its name says.
"""

from __future__ import annotations

from typing import Any

from provgraph.profiles import Profile, get_profile, load_profile

__version__ = "0.1.0"

__all__ = ["Profile", "__version__", "cypher", "get_profile", "load_node", "load_profile", "transaction"]


def cypher(query: str, write: bool = False, **params: Any) -> Any:
    """Run raw Cypher on the current (neo4j) profile; see :func:`provgraph.orm.cypher.cypher`."""
    from provgraph.orm.cypher import cypher as run

    return run(query, write=write, **params)


def load_node(identifier: int | str | None = None, **kwargs: Any) -> Any:
    """Load a stored node; see :func:`provgraph.orm.utils.load_node`."""
    from provgraph.orm.utils import load_node as load

    return load(identifier, **kwargs)


def transaction() -> Any:
    """A context manager running its block in one storage transaction of the current profile.

    AiiDA's ``storage.transaction()``: every ``store()`` inside shares one commit at the end of
    the block; if the block raises, nothing of it is written and the nodes stored inside are
    unstored again. See :class:`provgraph.storage.base.TransactionScope` for nesting.
    """
    from provgraph.orm.backend import get_backend

    return get_backend().transaction()
