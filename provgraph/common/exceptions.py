"""The exceptions AiiDA plugins import from ``aiida.common.exceptions``, under provgraph's names.

Every class is (or derives from) one of :mod:`provgraph.exceptions`, so ``except ProvgraphError``
catches them all; the AiiDA names exist so plugin code ports by renaming its imports.
"""

from __future__ import annotations

from provgraph.exceptions import (
    ArchiveError,
    ConfigurationError,
    LinkRuleError,
    ModificationNotAllowed,
    MultipleObjectsError,
    NotExistent,
    NotExistentAttributeError,
    NotExistentKeyError,
    ProfileNotFound,
    ProvgraphError,
    QueryError,
    RepositoryError,
    SchedulerError,
    ServiceUnavailable,
    StorageError,
    StorageMigrationError,
    StoringError,
    TransportError,
    ValidationError,
)

#: AiiDA's root exception is provgraph's
AiidaException = ProvgraphError


class InputValidationError(ValidationError):
    """The inputs of a calculation are not valid (raised in ``prepare_for_submission``)."""


class ParsingError(ProvgraphError):
    """Output files could not be parsed."""


class OutputParsingError(ParsingError):
    """A parser could not read the outputs of its calculation."""


class InvalidOperation(ProvgraphError):
    """The operation is not allowed in the current state."""


class IntegrityError(StoringError):
    """Storing would break an integrity rule of the database."""


class UniquenessError(IntegrityError):
    """Storing would duplicate a value that must be unique."""


class StoringNotAllowed(StoringError):
    """This entity may not be stored."""


class EntryPointError(NotExistent):
    """An entry point could not be loaded."""


class MissingEntryPointError(EntryPointError):
    """No plugin is registered under that entry point name."""


class MultipleEntryPointError(EntryPointError):
    """Several plugins are registered under that entry point name."""


class LoadingEntryPointError(EntryPointError):
    """The plugin of that entry point failed to import."""


class FeatureNotAvailable(ProvgraphError):
    """The feature is not available (in this backend, transport or scheduler)."""


class InternalError(ProvgraphError):
    """Something went wrong inside provgraph itself."""


class PluginInternalError(InternalError):
    """Something went wrong inside a plugin."""


class RemoteOperationError(TransportError):
    """An operation on a remote computer failed."""


class TransportTaskException(TransportError):
    """A transport task (upload, submit, update, retrieve) failed past its retries."""


class ContentNotExistent(NotExistent):
    """A file or folder asked for is not there."""


class HashingError(ProvgraphError):
    """A node's hash could not be computed."""


__all__ = [
    "AiidaException", "ArchiveError", "ConfigurationError", "ContentNotExistent", "EntryPointError",
    "FeatureNotAvailable", "HashingError", "InputValidationError", "IntegrityError", "InternalError",
    "InvalidOperation", "LinkRuleError", "LoadingEntryPointError", "MissingEntryPointError",
    "ModificationNotAllowed", "MultipleEntryPointError", "MultipleObjectsError", "NotExistent",
    "NotExistentAttributeError", "NotExistentKeyError", "OutputParsingError", "ParsingError",
    "PluginInternalError", "ProfileNotFound", "ProvgraphError", "QueryError", "RemoteOperationError",
    "RepositoryError", "SchedulerError", "ServiceUnavailable", "StorageError", "StorageMigrationError",
    "StoringError", "StoringNotAllowed", "TransportError", "TransportTaskException", "UniquenessError",
    "ValidationError",
]
