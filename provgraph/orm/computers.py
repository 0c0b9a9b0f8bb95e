"""Computer and User: where CalcJobs run, and who ran things."""

from __future__ import annotations

from typing import Any

from provgraph.orm.backend import get_backend
from provgraph.storage.entities import ComputerRecord, UserRecord


class User:
    """A person, identified by email."""

    def __init__(self, record: UserRecord) -> None:
        self._record = record

    @classmethod
    def get_or_create(cls, email: str, first_name: str = "", last_name: str = "", institution: str = "") -> User:
        """The user with ``email``, created if missing."""
        return cls(get_backend().users.get_or_create(email, first_name, last_name, institution))

    @classmethod
    def get_default(cls) -> User:
        """The user new nodes are recorded with."""
        from provgraph.orm.nodes.node import default_user

        return cls.get_or_create(default_user())

    @property
    def email(self) -> str:
        """The user's email."""
        return self._record.email

    @property
    def first_name(self) -> str:
        """First name."""
        return self._record.first_name

    @property
    def last_name(self) -> str:
        """Last name."""
        return self._record.last_name

    def __repr__(self) -> str:
        return f"<User: {self.email}>"


class Computer:
    """A machine CalcJobs run on: hostname, transport, scheduler, work directory, MPI settings."""

    def __init__(self, label: str, hostname: str, transport_type: str = "core.local",
                 scheduler_type: str = "core.direct", **fields: Any) -> None:
        self._record = ComputerRecord(label=label, hostname=hostname, transport_type=transport_type,
                                      scheduler_type=scheduler_type, **fields)

    @classmethod
    def _from_record(cls, record: ComputerRecord) -> Computer:
        computer = cls.__new__(cls)
        computer._record = record
        return computer

    @classmethod
    def get(cls, *, label: str | None = None, pk: int | None = None, uuid: str | None = None) -> Computer:
        """Load a stored computer.

        :raises NotExistent: when there is none
        """
        return cls._from_record(get_backend().computers.get(label=label, pk=pk, uuid=uuid))

    @classmethod
    def collection(cls) -> list[Computer]:
        """Every stored computer."""
        return [cls._from_record(r) for r in get_backend().computers.list()]

    def store(self) -> Computer:
        """Store the computer.

        :raises StoringError: when the label is taken
        """
        if self._record.pk is None:
            self._record.pk = get_backend().computers.store(self._record)
        return self

    def __getattr__(self, name: str) -> Any:
        record = self.__dict__.get("_record")
        if record is not None and name in ComputerRecord.__dataclass_fields__:
            return getattr(record, name)
        raise AttributeError(name)

    def configure(self, user: str | None = None, **params: Any) -> None:
        """Store the per-user transport settings (username, port, key file, safe interval...)."""
        from provgraph.orm.nodes.node import default_user

        get_backend().computers.set_auth(self._record.pk, user or default_user(), params)

    def get_configuration(self, user: str | None = None) -> dict[str, Any]:
        """The per-user transport settings.

        :raises NotExistent: when the computer is not configured for that user
        """
        from provgraph.orm.nodes.node import default_user

        return get_backend().computers.get_auth(self._record.pk, user or default_user())

    def __repr__(self) -> str:
        return f"<Computer: {self._record.label} ({self._record.hostname}), pk {self._record.pk}>"
