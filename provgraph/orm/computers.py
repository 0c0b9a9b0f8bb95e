"""Computer and User: where CalcJobs run, and who ran things."""

from __future__ import annotations

from typing import Any

from provgraph.orm.backend import get_backend
from provgraph.storage.entities import ComputerRecord, UserRecord


class User(str):
    """A person, identified by email.

    As in AiiDA, ``node.user`` is a User (``node.user.email``, ``.first_name``...). A User is
    also the string of its email, so code that treats it as the email keeps working.

    :param record: the user's record, or just the email (names are then read on first use)
    """

    def __new__(cls, record: UserRecord | str) -> User:
        email = record.email if isinstance(record, UserRecord) else record
        if not isinstance(email, str):
            raise TypeError(f"a User is made from a UserRecord or an email, not {type(record).__name__}")
        user = super().__new__(cls, email)
        user._record = record if isinstance(record, UserRecord) else None
        return user

    @classmethod
    def get_or_create(cls, email: str, first_name: str = "", last_name: str = "", institution: str = "") -> User:
        """The user with ``email``, created if missing."""
        return cls(get_backend().users.get_or_create(email, first_name, last_name, institution))

    @classmethod
    def get_default(cls) -> User:
        """The user new nodes are recorded with."""
        from provgraph.orm.nodes.node import default_user

        return cls.get_or_create(default_user())

    def _full(self) -> UserRecord:
        if self._record is None:
            from provgraph.exceptions import NotExistent

            try:
                self._record = get_backend().users.get(self.email)
            except NotExistent:  # a node's user not (yet) registered: no names known
                return UserRecord(self.email)
        return self._record

    @property
    def email(self) -> str:
        """The user's email."""
        return str.__str__(self)

    @property
    def first_name(self) -> str:
        """First name."""
        return self._full().first_name

    @property
    def last_name(self) -> str:
        """Last name."""
        return self._full().last_name

    @property
    def institution(self) -> str:
        """Institution."""
        return self._full().institution

    def get_full_name(self) -> str:
        """``First Last (email)``, or the email alone when no name is known."""
        name = f"{self.first_name} {self.last_name}".strip()
        return f"{name} ({self.email})" if name else self.email

    def __repr__(self) -> str:
        return f"<User: {self.email}>"


class _UserCollection:
    """``User.collection``: AiiDA's collection methods for users."""

    def get_default(self) -> User:
        """The user new nodes are recorded with."""
        return User.get_default()

    def get(self, email: str) -> User:
        """The user with ``email``.

        :raises NotExistent: when there is none
        """
        return User(get_backend().users.get(email))

    def get_or_create(self, email: str, **names: str) -> tuple[bool, User]:
        """``(created, user)`` for ``email``, as AiiDA returns it."""
        from provgraph.exceptions import NotExistent

        try:
            return False, self.get(email)
        except NotExistent:
            return True, User.get_or_create(email, **names)

    def all(self) -> list[User]:
        """Every user, sorted by email."""
        return [User(record) for record in get_backend().users.list()]


User.collection = _UserCollection()  # type: ignore[attr-defined]


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


class _ComputerCollection:
    """``Computer.collection``: ``get(label=...)``, ``all()``; calling it lists every computer."""

    def get(self, *, label: str | None = None, pk: int | None = None, id: int | None = None,  # noqa: A002
            uuid: str | None = None) -> Computer:
        """Load a stored computer by label, pk (``id``) or uuid.

        :raises NotExistent: when there is none
        """
        return Computer.get(label=label, pk=pk if pk is not None else id, uuid=uuid)

    def all(self) -> list[Computer]:
        """Every stored computer, sorted by label."""
        return [Computer._from_record(r) for r in get_backend().computers.list()]

    def __call__(self) -> list[Computer]:
        return self.all()


Computer.collection = _ComputerCollection()  # type: ignore[attr-defined]


def load_computer(identifier: int | str | None = None, *, pk: int | None = None, uuid: str | None = None,
                  label: str | None = None) -> Computer:
    """Load a computer by pk, uuid or label (AiiDA's ``load_computer``).

    An int ``identifier`` is a pk; a string is tried as a label, then as a uuid (prefix).

    :raises NotExistent: when no computer matches
    """
    from provgraph.exceptions import NotExistent, ValidationError

    if identifier is None:
        if sum(x is not None for x in (pk, uuid, label)) != 1:
            raise ValidationError("give one of a pk, a uuid or a label to load a computer")
        return Computer.get(label=label, pk=pk, uuid=uuid)
    if isinstance(identifier, bool) or not isinstance(identifier, (int, str)):
        raise ValidationError(f"a computer identifier is a pk, uuid or label, not {identifier!r}")
    if isinstance(identifier, int):
        return Computer.get(pk=identifier)
    try:
        return Computer.get(label=identifier)
    except NotExistent:
        if identifier.isdigit():
            return Computer.get(pk=int(identifier))
        try:
            return Computer.get(uuid=identifier)
        except NotExistent:
            raise NotExistent(f"no computer with label, pk or uuid {identifier!r}") from None
