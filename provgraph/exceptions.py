"""The exception tree of provgraph.

Every error provgraph raises on purpose derives from :class:`ProvgraphError`::

    ProvgraphError
    ├── ConfigurationError
    │   └── ProfileNotFound
    ├── ValidationError (also a ValueError)
    ├── NotExistent
    ├── MultipleObjectsError
    ├── StoringError
    │   └── LinkRuleError (also a ValueError)
    ├── ModificationNotAllowed
    ├── StorageError
    │   ├── UnreachableStorage
    │   └── StorageMigrationError
    ├── RepositoryError
    ├── QueryError
    ├── ServiceUnavailable
    ├── TransportError
    │   └── TransportConnectionError (retryable)
    ├── SchedulerError
    └── ArchiveError

Third-party exceptions (neo4j driver, botocore, kombu, paramiko, sqlite3) are
translated to these where they enter provgraph, chained with ``raise ... from``.
"""

from __future__ import annotations


class ProvgraphError(Exception):
    """Root of every error provgraph raises on purpose."""


class ConfigurationError(ProvgraphError):
    """The configuration directory or a profile is missing or malformed."""


class ProfileNotFound(ConfigurationError):
    """No profile of the requested name exists."""


class ValidationError(ProvgraphError, ValueError):
    """A value is of the wrong type or shape (e.g. an attribute that is not JSON-able)."""


class NotExistent(ProvgraphError):
    """The requested entity does not exist."""


class MultipleObjectsError(ProvgraphError):
    """A lookup that must match one entity matched several."""


class StoringError(ProvgraphError):
    """An entity could not be stored; nothing was written."""


class LinkRuleError(StoringError, ValueError):
    """A link would break a provenance rule; nothing was written (also a ValueError, as in AiiDA)."""


class ModificationNotAllowed(ProvgraphError):
    """An immutable field (e.g. an attribute of a stored node) was changed."""


class StorageError(ProvgraphError):
    """The storage backend failed."""


class UnreachableStorage(StorageError):
    """The storage backend cannot be reached."""


class StorageMigrationError(StorageError):
    """The storage schema cannot be migrated, or is newer than this code."""


class RepositoryError(ProvgraphError):
    """The file repository failed."""


class QueryError(ProvgraphError):
    """A query is malformed (unknown tag, relationship, operator...)."""


class ServiceUnavailable(ProvgraphError):
    """A service a profile names (database, broker, object store) is not reachable."""


class TransportError(ProvgraphError):
    """A transport (local, ssh) operation failed."""


class TransportConnectionError(TransportError):
    """A connection could not be opened or was lost; retrying after a pause may succeed."""


class SchedulerError(ProvgraphError):
    """A scheduler command failed or its output could not be understood."""


class ArchiveError(ProvgraphError):
    """An archive is broken, unsupported or unsafe; nothing was imported."""


class NotExistentAttributeError(AttributeError, NotExistent):
    """An attribute-style lookup found nothing (e.g. ``node.outputs.missing``); also an AttributeError."""


class NotExistentKeyError(KeyError, NotExistent):
    """A key lookup found nothing (e.g. ``node.outputs['missing']``); also a KeyError."""
