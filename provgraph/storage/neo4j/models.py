"""The neomodel fence: the only module of provgraph that imports neomodel.

neomodel declares the schema of the entities that are not nodes and does their
simple CRUD (create one, get by key, list, update, delete one). Six fixed model
classes, never one per plugin type (DESIGN §3, STYLE §1.3): neomodel keeps a
process-wide class registry keyed by label sets, so the set must stay small and
defined once. Graph shape::

    (:User {email})-[:AUTHINFO {params}]->(:Computer {pk, uuid, label, ...})
    (:Group {pk, uuid, label, type_string, ...})-[:MEMBER]->(:Node)
    (:Comment {pk, uuid, node_pk, ...})-[:ON]->(:Node)
    (:Log {pk, uuid, node_pk, time, ...})-[:OF]->(:Node)

``:Node`` has no neomodel class on purpose (its labels are the open-ended class
tree), so everything that touches a ``:Node`` runs as driver Cypher in
:mod:`provgraph.storage.neo4j.entities`; the node pk is also kept on Comment and
Log (``node_pk``, written once with the relationship, never changed: comments
and logs never move and pks are never reused) so that reading them needs no join.

neomodel's ``db`` is a process-wide singleton holding *one* driver. Consequence:
in one process, entity CRUD through neomodel talks to one Neo4j driver and
database at a time. :func:`bound` is the guard: every neomodel call runs inside
it; it takes a process-wide lock, points ``db`` at the calling backend's driver
(re-pointing it when another backend was used last) and sets the target database
for the current context. Two backends in one process therefore never mix, at
the price that their neomodel calls are serialised (bulk paths use the driver
directly and are not affected). Schema is owned by ``migrations_cypher/`` and
never installed by neomodel (no ``install_labels``): ``unique_index``/``index``
below document it, and a test checks the migrations create each of them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, fields
from typing import Any

import neo4j
import neo4j.exceptions
from neomodel import (
    ArrayProperty,
    DateTimeNeo4jFormatProperty,
    IntegerProperty,
    JSONProperty,
    RelationshipTo,
    StringProperty,
    StructuredNode,
    StructuredRel,
    db,
)
from neomodel import exceptions as neomodel_errors

from provgraph.exceptions import MultipleObjectsError, NotExistent, StoringError, ValidationError
from provgraph.storage.entities import CommentRecord, ComputerRecord, GroupRecord, LogRecord, UserRecord
from provgraph.storage.neo4j.driver import translate_errors

_BIND_LOCK = threading.RLock()


class AuthInfoRel(StructuredRel):
    """A user's transport settings on a computer (the relationship ``AUTHINFO``)."""

    params = JSONProperty(default=dict, ensure_ascii=False)


class ComputerNode(StructuredNode):
    """A computer (label ``Computer``)."""

    __label__ = "Computer"
    pk = IntegerProperty(unique_index=True)
    uuid = StringProperty(unique_index=True)
    label = StringProperty(unique_index=True)
    hostname = StringProperty(required=True)
    transport_type = StringProperty(required=True)
    scheduler_type = StringProperty(required=True)
    description = StringProperty(default="")
    workdir = StringProperty(required=True)
    mpirun_command = ArrayProperty(StringProperty(), default=list)
    default_mpiprocs_per_machine = IntegerProperty()
    prepend_text = StringProperty(default="")
    append_text = StringProperty(default="")
    metadata = JSONProperty(default=dict, ensure_ascii=False)


class UserNode(StructuredNode):
    """A user (label ``User``), identified by email."""

    __label__ = "User"
    email = StringProperty(unique_index=True)
    first_name = StringProperty(default="")
    last_name = StringProperty(default="")
    institution = StringProperty(default="")
    authinfos = RelationshipTo(ComputerNode, "AUTHINFO", model=AuthInfoRel)


class GroupNode(StructuredNode):
    """A group (label ``Group``); (label, type_string) is unique, by a composite constraint
    that neomodel cannot declare (see ``migrations_cypher/0002_entities.cypher``)."""

    __label__ = "Group"
    pk = IntegerProperty(unique_index=True)
    uuid = StringProperty(unique_index=True)
    label = StringProperty(index=True)
    type_string = StringProperty(default="core")
    description = StringProperty(default="")
    user = StringProperty(default="")
    time = DateTimeNeo4jFormatProperty(required=True)
    extras = JSONProperty(default=dict, ensure_ascii=False)


class CommentNode(StructuredNode):
    """A comment on a node (label ``Comment``)."""

    __label__ = "Comment"
    pk = IntegerProperty(unique_index=True)
    uuid = StringProperty(unique_index=True)
    node_pk = IntegerProperty(index=True)
    content = StringProperty(default="")
    user = StringProperty(required=True)
    ctime = DateTimeNeo4jFormatProperty(required=True)
    mtime = DateTimeNeo4jFormatProperty(required=True)


class LogNode(StructuredNode):
    """A log record of a process node (label ``Log``)."""

    __label__ = "Log"
    pk = IntegerProperty(unique_index=True)
    uuid = StringProperty(unique_index=True)
    node_pk = IntegerProperty(index=True)
    message = StringProperty(default="")
    levelname = StringProperty(required=True)
    loggername = StringProperty(default="")
    time = DateTimeNeo4jFormatProperty(index=True)
    metadata = JSONProperty(default=dict, ensure_ascii=False)


#: model class of each record class, and back
MODEL_OF: dict[type, type[StructuredNode]] = {
    UserRecord: UserNode, ComputerRecord: ComputerNode, GroupRecord: GroupNode,
    CommentRecord: CommentNode, LogRecord: LogNode,
}
RECORD_OF: dict[type, type] = {model: record for record, model in MODEL_OF.items()}


def to_model(record: Any) -> StructuredNode:
    """Return an unsaved model instance holding the fields of ``record``."""
    return MODEL_OF[type(record)](**asdict(record))


def to_record(instance: StructuredNode) -> Any:
    """Return the record of a model instance."""
    record_class = RECORD_OF[type(instance)]
    return record_class(**{f.name: getattr(instance, f.name) for f in fields(record_class)})


def properties_of(record: Any) -> dict[str, Any]:
    """Return the Neo4j property map of ``record``, deflated exactly as neomodel stores it
    (so entities written by driver Cypher read back through neomodel unchanged).

    :raises ValidationError: when a field cannot be deflated
    """
    model = MODEL_OF[type(record)]
    with neomodel_translated():
        return model.deflate(asdict(record), skip_empty=True)


def record_from_node(record_class: type, node: neo4j.graph.Node) -> Any:
    """Return the record of a Neo4j node returned by driver Cypher."""
    return to_record(MODEL_OF[record_class].inflate(node))


def auth_params_property(params: dict[str, Any]) -> str:
    """Return ``params`` deflated as the ``AUTHINFO`` relationship stores them."""
    return AuthInfoRel.deflate({"params": params})["params"]


@contextmanager
def neomodel_translated(duplicate: str = "") -> Iterator[None]:
    """Turn neomodel's and the driver's exceptions into provgraph's.

    :param duplicate: the message of the StoringError raised on a uniqueness violation
    """
    try:
        yield
    except (neomodel_errors.UniqueProperty, neo4j.exceptions.ConstraintError) as exc:
        detail = getattr(exc, "message", str(exc))
        raise StoringError(duplicate or f"a uniqueness constraint refused the write: {detail}") from exc
    except neomodel_errors.ConstraintValidationFailed as exc:
        raise StoringError(f"a constraint refused the write: {exc.message}") from exc
    except neomodel_errors.DoesNotExist as exc:
        raise NotExistent(str(exc)) from exc
    except neomodel_errors.MultipleNodesReturned as exc:
        raise MultipleObjectsError(str(exc.message)) from exc
    except (neomodel_errors.DeflateError, neomodel_errors.InflateError,
            neomodel_errors.RequiredProperty) as exc:
        raise ValidationError(str(exc)) from exc


@contextmanager
def bound(driver: neo4j.Driver, database: str, uri: str, duplicate: str = "") -> Iterator[None]:
    """Run the block's neomodel calls against ``driver`` and ``database``, errors translated.

    Holds the process-wide lock for the block (see the module docstring), so keep
    blocks short and never nest a block for another driver inside one.

    :param duplicate: the message of the StoringError raised on a uniqueness violation
    """
    with _BIND_LOCK, translate_errors(uri), neomodel_translated(duplicate):
        if db.driver is not driver:
            db.set_connection(driver=driver)
        db._database_name = database  # context-local in neomodel 7; no public setter exists
        yield


def get_one(model: type[StructuredNode], what: str, **filters: Any) -> StructuredNode:
    """Return the one instance of ``model`` matching ``filters`` (neomodel filter syntax).

    Must run inside :func:`bound`.

    :param what: how the entity is named in error messages, e.g. ``"group with pk 3"``
    :raises NotExistent: when none matches
    :raises MultipleObjectsError: when several match
    """
    found = model.nodes.filter(**filters).all() if filters else []
    if not found:
        raise NotExistent(f"no {what}")
    if len(found) > 1:
        raise MultipleObjectsError(f"more than one {what}; be more specific")
    return found[0]


def get_many(model: type[StructuredNode], order_by: tuple[str, ...], **filters: Any) -> list[StructuredNode]:
    """Return the instances of ``model`` matching ``filters``, sorted. Must run inside :func:`bound`."""
    nodes = model.nodes.filter(**filters) if filters else model.nodes
    return nodes.order_by(*order_by).all()


def get_or_create_user(record: UserRecord) -> UserNode:
    """Return the user with ``record.email``, atomically creating it from ``record`` if absent.

    Must run inside :func:`bound`. neomodel MERGEs on the unique ``email``.
    """
    return UserNode.nodes.bulk_get_or_create(asdict(record))[0]


def auth_relationship(user: UserNode, computer: ComputerNode) -> AuthInfoRel | None:
    """Return the ``AUTHINFO`` relationship of ``user`` to ``computer``, if any.

    Must run inside :func:`bound`.
    """
    return user.authinfos.relationship(computer)


def declared_schema() -> list[tuple[str, str, str]]:
    """Return ``(label, property, "unique" | "index")`` for each index the models declare."""
    declared = []
    for model in MODEL_OF.values():
        for name, prop in model.defined_properties(aliases=False, rels=False).items():
            if prop.unique_index or prop.index:
                declared.append((model.__label__, name, "unique" if prop.unique_index else "index"))
    return declared
