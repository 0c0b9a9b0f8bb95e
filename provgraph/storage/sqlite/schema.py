"""The sqlite backend's tables (SQLAlchemy Core): the embedded default and the archive format.

One schema serves both uses, so an archive's database is opened by the same backend code.
Conventions every module of the backend (and the archive code) relies on:

- times are stored as ISO-8601 text in UTC with microseconds and ``+00:00``
  (``datetime.astimezone(timezone.utc).isoformat(timespec="microseconds")``), so text order
  is time order and SQL comparisons need no conversion;
- ``attributes``, ``extras``, ``repository``, ``metadata``, ``params`` and ``mpirun_command``
  are JSON text (``provgraph.common.json`` rules; the round trip is lossless, big ints included);
- ``nodes.labels`` is the class tree wrapped in bars, ``"|Node|Data|Int|"``, so a subclass
  filter is ``labels LIKE '%|Data|%'``;
- integer primary keys use AUTOINCREMENT: a deleted pk is never handed out again;
- ``leases`` holds the engine's coordination leases (see ``ProcessCoordination`` in
  :mod:`provgraph.storage.base`): ``expires`` is a Unix time in seconds;
- ``settings`` holds ``schema_version`` (an integer as text) and other backend facts.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

#: the schema version this code writes; bump it with a migration in ``migrations.py``
SCHEMA_VERSION = 2

metadata = MetaData()
_AUTOINCREMENT = {"sqlite_autoincrement": True}

nodes = Table(
    "nodes", metadata,
    Column("pk", Integer, primary_key=True),
    Column("uuid", String(36), nullable=False, unique=True),
    Column("node_type", Text, nullable=False),
    Column("labels", Text, nullable=False),
    Column("ctime", Text, nullable=False),
    Column("mtime", Text, nullable=False),
    Column("user", Text, nullable=False),
    Column("label", Text, nullable=False, default=""),
    Column("description", Text, nullable=False, default=""),
    Column("attributes", Text, nullable=False, default="{}"),
    Column("extras", Text, nullable=False, default="{}"),
    Column("repository", Text, nullable=False, default="{}"),
    Column("hash", Text),
    Column("computer", Text),
    Index("ix_nodes_node_type", "node_type"),
    Index("ix_nodes_ctime", "ctime"),
    Index("ix_nodes_label", "label"),
    Index("ix_nodes_process_state", text("json_extract(attributes, '$.process_state')")),
    **_AUTOINCREMENT,
)

links = Table(
    "links", metadata,
    Column("pk", Integer, primary_key=True),
    Column("source", Integer, ForeignKey("nodes.pk"), nullable=False),
    Column("target", Integer, ForeignKey("nodes.pk"), nullable=False),
    Column("type", Text, nullable=False),
    Column("label", Text, nullable=False),
    Index("ix_links_source", "source", "type"),
    Index("ix_links_target", "target", "type"),
    **_AUTOINCREMENT,
)

users = Table(
    "users", metadata,
    Column("email", Text, primary_key=True),
    Column("first_name", Text, nullable=False, default=""),
    Column("last_name", Text, nullable=False, default=""),
    Column("institution", Text, nullable=False, default=""),
)

computers = Table(
    "computers", metadata,
    Column("pk", Integer, primary_key=True),
    Column("uuid", String(36), nullable=False, unique=True),
    Column("label", Text, nullable=False, unique=True),
    Column("hostname", Text, nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("transport_type", Text, nullable=False),
    Column("scheduler_type", Text, nullable=False),
    Column("workdir", Text, nullable=False),
    Column("mpirun_command", Text, nullable=False),
    Column("default_mpiprocs_per_machine", Integer),
    Column("prepend_text", Text, nullable=False, default=""),
    Column("append_text", Text, nullable=False, default=""),
    Column("metadata", Text, nullable=False, default="{}"),
    **_AUTOINCREMENT,
)

authinfos = Table(
    "authinfos", metadata,
    Column("computer_pk", Integer, ForeignKey("computers.pk"), primary_key=True),
    Column("user_email", Text, ForeignKey("users.email"), primary_key=True),
    Column("params", Text, nullable=False, default="{}"),
)

groups = Table(
    "groups", metadata,
    Column("pk", Integer, primary_key=True),
    Column("uuid", String(36), nullable=False, unique=True),
    Column("label", Text, nullable=False),
    Column("type_string", Text, nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("user", Text, nullable=False, default=""),
    Column("time", Text, nullable=False),
    Column("extras", Text, nullable=False, default="{}"),
    UniqueConstraint("label", "type_string", name="uq_groups_label_type"),
    **_AUTOINCREMENT,
)

group_nodes = Table(
    "group_nodes", metadata,
    Column("group_pk", Integer, ForeignKey("groups.pk"), primary_key=True),
    Column("node_pk", Integer, ForeignKey("nodes.pk"), primary_key=True),
    Index("ix_group_nodes_node", "node_pk"),
)

comments = Table(
    "comments", metadata,
    Column("pk", Integer, primary_key=True),
    Column("uuid", String(36), nullable=False, unique=True),
    Column("node_pk", Integer, ForeignKey("nodes.pk"), nullable=False, index=True),
    Column("ctime", Text, nullable=False),
    Column("mtime", Text, nullable=False),
    Column("user", Text, nullable=False),
    Column("content", Text, nullable=False, default=""),
    **_AUTOINCREMENT,
)

logs = Table(
    "logs", metadata,
    Column("pk", Integer, primary_key=True),
    Column("uuid", String(36), nullable=False, unique=True),
    Column("node_pk", Integer, ForeignKey("nodes.pk"), nullable=False, index=True),
    Column("time", Text, nullable=False),
    Column("loggername", Text, nullable=False, default=""),
    Column("levelname", Text, nullable=False),
    Column("message", Text, nullable=False, default=""),
    Column("metadata", Text, nullable=False, default="{}"),
    **_AUTOINCREMENT,
)

leases = Table(
    "leases", metadata,
    Column("key", Text, primary_key=True),
    Column("owner", Text, nullable=False),
    Column("expires", Float, nullable=False),
)

settings = Table(
    "settings", metadata,
    Column("key", Text, primary_key=True),
    Column("value", Text, nullable=False),
)
