"""Records and collection interfaces of the entities that are not nodes.

Users, computers (with their per-user transport settings, the "authinfo"),
groups, comments and logs. Every backend implements the five collection ABCs
below; the front-end ORM sees only these records and collections.

Conventions shared by every implementation:

- users are identified by email; the other entities by an integer ``pk``
  allocated by the backend when stored (unique, never reused, not gap-free)
  and by a ``uuid``;
- a record passed to ``store``/``add`` must not have a pk yet; the backend sets
  it on the record once written, and leaves it ``None`` when nothing was written;
- times must be timezone-aware ``datetime`` objects;
- dict fields (``metadata``, ``extras``, transport ``params``) must be JSON-able
  (see :func:`provgraph.common.json.clean_value`);
- reads keyed by a node (``for_node``, ``groups_of``) return an empty list for a
  node that does not exist, while writes that attach to a node (``add``,
  ``add_many``, ``add_nodes``) refuse it with :class:`~provgraph.exceptions.NotExistent`.
"""

from __future__ import annotations

import uuid as uuid_module
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from provgraph.common.json import clean_value
from provgraph.exceptions import ValidationError

__all__ = (
    "CommentCollection",
    "CommentRecord",
    "ComputerCollection",
    "ComputerRecord",
    "GroupCollection",
    "GroupRecord",
    "LogCollection",
    "LogRecord",
    "UserCollection",
    "UserRecord",
)


def _new_uuid() -> str:
    return str(uuid_module.uuid4())


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _default_mpirun() -> list[str]:
    return ["mpirun", "-np", "{tot_num_mpiprocs}"]


def require_text(value: Any, what: str, *, empty: bool = False) -> str:
    """Return ``value`` if it is a string (non-empty unless ``empty``), else refuse it.

    :raises ValidationError: when ``value`` is not a string, or is empty and must not be
    """
    if not isinstance(value, str) or (not empty and not value.strip()):
        raise ValidationError(f"{what} must be a {'' if empty else 'non-empty '}string, not {value!r}")
    return value


def require_aware(value: Any, what: str) -> datetime:
    """Return ``value`` if it is a timezone-aware datetime, else refuse it.

    :raises ValidationError: when ``value`` is not a datetime or has no timezone
    """
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError(f"{what} must be a timezone-aware datetime, not {value!r}")
    return value


def require_json_dict(value: Any, what: str) -> dict[str, Any]:
    """Return a normalised copy of ``value`` if it is a JSON-able dict, else refuse it.

    :raises ValidationError: when ``value`` is not a dict or holds values that are not JSON-able
    """
    if not isinstance(value, dict):
        raise ValidationError(f"{what} must be a dict, not {type(value).__name__}")
    return clean_value(value, kind=what)


@dataclass
class UserRecord:
    """A user, identified by email."""

    email: str
    first_name: str = ""
    last_name: str = ""
    institution: str = ""

    def validate(self) -> None:
        """Check the fields.

        :raises ValidationError: when the email is not ``local@domain`` or a name is not a string
        """
        email = require_text(self.email, "a user's email")
        if email != email.strip() or "@" not in email.strip("@"):
            raise ValidationError(f"{email!r} is not an email address")
        for name in ("first_name", "last_name", "institution"):
            require_text(getattr(self, name), f"a user's {name}", empty=True)


@dataclass
class ComputerRecord:
    """A computer that runs jobs: where it is, how to reach it, how it schedules.

    ``workdir`` and ``mpirun_command`` are templates: ``{username}`` and
    ``{tot_num_mpiprocs}`` are filled in when a job is prepared.
    """

    label: str
    hostname: str
    transport_type: str
    scheduler_type: str
    uuid: str = field(default_factory=_new_uuid)
    pk: int | None = None
    description: str = ""
    workdir: str = "/tmp/{username}/provgraph_run/"
    mpirun_command: list[str] = field(default_factory=_default_mpirun)
    default_mpiprocs_per_machine: int | None = None
    prepend_text: str = ""
    append_text: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)

    def validate(self) -> None:
        """Check the fields and normalise ``metadata``.

        :raises ValidationError: when a field has the wrong type or an empty required value
        """
        for name in ("label", "hostname", "transport_type", "scheduler_type", "uuid", "workdir"):
            require_text(getattr(self, name), f"a computer's {name}")
        for name in ("description", "prepend_text", "append_text"):
            require_text(getattr(self, name), f"a computer's {name}", empty=True)
        command = self.mpirun_command
        if not isinstance(command, (list, tuple)) or not all(isinstance(part, str) for part in command):
            raise ValidationError(f"a computer's mpirun_command must be a list of strings, not {command!r}")
        self.mpirun_command = list(command)
        procs = self.default_mpiprocs_per_machine
        if procs is not None and (isinstance(procs, bool) or not isinstance(procs, int) or procs < 1):
            raise ValidationError(f"default_mpiprocs_per_machine must be an int >= 1 or None, not {procs!r}")
        self.metadata = require_json_dict(self.metadata, "computer metadata")


@dataclass
class GroupRecord:
    """A labelled set of nodes; labels are unique per ``type_string``."""

    label: str
    type_string: str = "core"
    uuid: str = field(default_factory=_new_uuid)
    pk: int | None = None
    description: str = ""
    user: str = ""
    time: datetime = field(default_factory=_now)
    extras: dict[str, Any] = field(default_factory=dict)

    def validate(self) -> None:
        """Check the fields and normalise ``extras``.

        :raises ValidationError: when a field has the wrong type or an empty required value
        """
        for name in ("label", "type_string", "uuid"):
            require_text(getattr(self, name), f"a group's {name}")
        require_text(self.description, "a group's description", empty=True)
        require_text(self.user, "a group's user", empty=True)
        require_aware(self.time, "a group's time")
        self.extras = require_json_dict(self.extras, "group extras")


@dataclass
class CommentRecord:
    """A comment a user wrote on a node."""

    node_pk: int
    content: str
    user: str
    uuid: str = field(default_factory=_new_uuid)
    ctime: datetime = field(default_factory=_now)
    mtime: datetime = field(default_factory=_now)
    pk: int | None = None

    def validate(self) -> None:
        """Check the fields.

        :raises ValidationError: when a field has the wrong type
        """
        require_node_pk(self.node_pk)
        require_text(self.content, "a comment's content", empty=True)
        require_text(self.user, "a comment's user")
        require_text(self.uuid, "a comment's uuid")
        require_aware(self.ctime, "a comment's ctime")
        require_aware(self.mtime, "a comment's mtime")


@dataclass
class LogRecord:
    """One log message of a process node."""

    node_pk: int
    message: str
    levelname: str
    loggername: str
    time: datetime = field(default_factory=_now)
    uuid: str = field(default_factory=_new_uuid)
    metadata: dict[str, Any] = field(default_factory=dict)
    pk: int | None = None

    def validate(self) -> None:
        """Check the fields and normalise ``metadata``.

        :raises ValidationError: when a field has the wrong type
        """
        require_node_pk(self.node_pk)
        require_text(self.message, "a log's message", empty=True)
        require_text(self.levelname, "a log's levelname")
        require_text(self.loggername, "a log's loggername", empty=True)
        require_text(self.uuid, "a log's uuid")
        require_aware(self.time, "a log's time")
        self.metadata = require_json_dict(self.metadata, "log metadata")


def require_node_pk(value: Any) -> int:
    """Return ``value`` if it is an int pk, else refuse it.

    :raises ValidationError: when ``value`` is not an int (bools are refused)
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"a node pk must be an int, not {value!r}")
    return value


class UserCollection(ABC):
    """The users of a storage."""

    @abstractmethod
    def get_or_create(self, email: str, first_name: str = "", last_name: str = "",
                      institution: str = "") -> UserRecord:
        """Return the user with ``email``, creating it with the given names if it does not exist.

        An existing user is returned unchanged (use :meth:`update` to change names).

        :raises ValidationError: when ``email`` is not an email address
        """

    @abstractmethod
    def get(self, email: str) -> UserRecord:
        """Return the user with ``email``.

        :raises NotExistent: when there is no such user
        """

    @abstractmethod
    def list(self) -> list[UserRecord]:
        """Return every user, sorted by email."""

    @abstractmethod
    def update(self, email: str, /, **fields: str) -> UserRecord:
        """Change ``first_name``, ``last_name`` or ``institution`` of a user; return the new record.

        :raises NotExistent: when there is no such user
        :raises ValidationError: when a field is unknown or not a string
        """


class ComputerCollection(ABC):
    """The computers of a storage and their per-user transport settings."""

    @abstractmethod
    def store(self, record: ComputerRecord) -> int:
        """Store a new computer; set and return its pk.

        :raises StoringError: when the label or uuid is taken, or the record has a pk already
        :raises ValidationError: when a field is invalid
        """

    @abstractmethod
    def get(self, *, label: str | None = None, pk: int | None = None,
            uuid: str | None = None) -> ComputerRecord:
        """Return one computer by label, pk, or uuid (a unique prefix is enough); give exactly one.

        :raises NotExistent: when no computer matches
        :raises MultipleObjectsError: when a uuid prefix matches several computers
        :raises ValidationError: when not exactly one of the keys is given
        """

    @abstractmethod
    def list(self) -> list[ComputerRecord]:
        """Return every computer, sorted by label."""

    @abstractmethod
    def delete(self, pk: int) -> None:
        """Delete a computer and its transport settings.

        :raises NotExistent: when there is no such computer
        :raises ModificationNotAllowed: when nodes (e.g. RemoteData, codes) refer to the computer
        """

    @abstractmethod
    def set_auth(self, computer_pk: int, user_email: str, params: dict[str, Any]) -> None:
        """Set (replace) the transport settings of ``user_email`` on a computer.

        :raises NotExistent: when the computer or the user does not exist
        :raises ValidationError: when ``params`` is not a JSON-able dict
        """

    @abstractmethod
    def get_auth(self, computer_pk: int, user_email: str) -> dict[str, Any]:
        """Return the transport settings of ``user_email`` on a computer.

        :raises NotExistent: when the computer or user does not exist, or the
            computer is not configured for that user
        """


class GroupCollection(ABC):
    """The groups of a storage and their membership."""

    @abstractmethod
    def store(self, record: GroupRecord) -> int:
        """Store a new, empty group; set and return its pk.

        :raises StoringError: when a group of the same type_string has the label, the uuid is
            taken, or the record has a pk already
        :raises ValidationError: when a field is invalid
        """

    @abstractmethod
    def get(self, *, label: str | None = None, pk: int | None = None, uuid: str | None = None,
            type_string: str = "core") -> GroupRecord:
        """Return one group by pk, uuid (a unique prefix is enough) or label within ``type_string``.

        :raises NotExistent: when no group matches
        :raises MultipleObjectsError: when a uuid prefix matches several groups
        :raises ValidationError: when not exactly one of label, pk, uuid is given
        """

    @abstractmethod
    def delete(self, pk: int) -> None:
        """Delete a group; its member nodes are kept.

        :raises NotExistent: when there is no such group
        """

    @abstractmethod
    def update(self, pk: int, *, label: str | None = None, description: str | None = None,
               extras: dict[str, Any] | None = None) -> GroupRecord:
        """Change the label, description or extras (replaced whole) of a group; return the new record.

        :raises NotExistent: when there is no such group
        :raises StoringError: when the new label is taken within the group's type_string
        :raises ValidationError: when a value is invalid
        """

    @abstractmethod
    def add_nodes(self, group_pk: int, node_pks: Sequence[int]) -> None:
        """Make nodes members of a group; nodes already members are left alone (idempotent).

        :raises NotExistent: when the group or any of the nodes does not exist (nothing is written)
        """

    @abstractmethod
    def remove_nodes(self, group_pk: int, node_pks: Sequence[int]) -> None:
        """Remove nodes from a group (never deleting them); non-members are ignored.

        :raises NotExistent: when the group does not exist
        """

    @abstractmethod
    def node_pks(self, group_pk: int) -> list[int]:
        """Return the pks of the members of a group, sorted.

        :raises NotExistent: when the group does not exist
        """

    @abstractmethod
    def groups_of(self, node_pk: int) -> list[GroupRecord]:
        """Return the groups a node belongs to, sorted by pk (none for an unknown node)."""

    @abstractmethod
    def list(self, type_string: str | None = None) -> list[GroupRecord]:
        """Return the groups (of one type_string, or all), sorted by pk."""


class CommentCollection(ABC):
    """The comments on nodes."""

    @abstractmethod
    def add(self, record: CommentRecord) -> int:
        """Store a new comment on its node; set and return its pk.

        :raises NotExistent: when the node does not exist
        :raises StoringError: when the uuid is taken or the record has a pk already
        :raises ValidationError: when a field is invalid
        """

    @abstractmethod
    def get(self, pk: int) -> CommentRecord:
        """Return a comment.

        :raises NotExistent: when there is no such comment
        """

    @abstractmethod
    def for_node(self, node_pk: int) -> list[CommentRecord]:
        """Return the comments on a node, oldest first."""

    @abstractmethod
    def update(self, pk: int, content: str) -> CommentRecord:
        """Replace the content of a comment (and bump its mtime); return the new record.

        :raises NotExistent: when there is no such comment
        :raises ValidationError: when ``content`` is not a string
        """

    @abstractmethod
    def delete(self, pk: int) -> None:
        """Delete a comment.

        :raises NotExistent: when there is no such comment
        """


class LogCollection(ABC):
    """The log records of process nodes."""

    @abstractmethod
    def add_many(self, records: Sequence[LogRecord]) -> list[int]:
        """Store log records in one transaction; set and return their pks, in order.

        :raises NotExistent: when a record's node does not exist (nothing is written)
        :raises StoringError: when a uuid is taken or a record has a pk already
        :raises ValidationError: when a field is invalid
        """

    @abstractmethod
    def get(self, pk: int) -> LogRecord:
        """Return one log record.

        :raises NotExistent: when there is no such record
        """

    @abstractmethod
    def for_node(self, node_pk: int) -> list[LogRecord]:
        """Return the log records of a node, in ascending time (ties in pk order)."""

    @abstractmethod
    def delete_for_nodes(self, node_pks: Sequence[int]) -> int:
        """Delete every log record of the given nodes; return how many were deleted."""
