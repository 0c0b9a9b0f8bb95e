"""The broker of a profile, for Celery and kombu: RabbitMQ, or a sqlite queue file that needs no server.

A profile's ``broker`` section is ``{"backend": <kind>, "config": {...}}``:

- ``rabbitmq`` — ``{host, port, user, password, vhost}``: the production broker (AMQP). It
  redelivers the message of a worker that died before acking (``acks_late``).
- ``sqlite`` — ``{path}``: a queue in one sqlite file, through kombu's SQLAlchemy transport
  (:class:`SqliteTransport`), for the embedded profile of ``provgraph presto``.

**Why the SQLAlchemy transport on sqlite, not kombu's ``filesystem`` transport.** Both are
kombu "virtual" transports that keep delivered-but-unacked messages only in the consuming
process's memory, so neither redelivers the message of a worker killed mid-step. They differ in
what they guarantee otherwise. A publish here is one committed, fsynced sqlite transaction (no
half-written message file), and a fetch runs under ``BEGIN IMMEDIATE``, so of several worker
processes exactly one gets each message; the filesystem transport hands messages over by moving
files, by default into the temporary directory, which is a copy (not an atomic rename) when that
is another file system, so two workers can both take one message, and its every poll lists the
whole queue directory. Stock kombu leaves each fetched row in the table for ever (``visible =
false``; nothing ever shows it again): :class:`SqliteChannel` deletes it in the same transaction,
so the file stays small. Messages are JSON, as on RabbitMQ.

**Undecodable messages are moved aside, never retried.** A fetched row whose payload is not a
kombu message in JSON (written by hand, by another program, or damaged) is moved, in the same
transaction that took it, into the table ``provgraph_dead_letter`` (queue, payload, error, time)
with an error in the worker's log, and the next message is taken: one bad row must not stop every
worker (it was decoded before being removed, so each restarted worker died on it again).
``provgraph status`` runs sqlite's ``integrity_check`` on the queue file (a damaged page is
reported, not only an unreadable header) and counts the dead letters.

Since this broker never redelivers, a worker on it holds a lease on every process it steps (not
only on ``long_running`` ones, see :mod:`provgraph.engine.celery.tasks`): the reconciler
re-publishes the process of a worker that died, as it re-publishes lost messages, so no process
is lost on this broker either, only resumed later (after the lease or ``--reconcile-after``).
"""

from __future__ import annotations

import logging
import sqlite3
from contextlib import closing
from datetime import datetime, timezone
from json import loads
from pathlib import Path
from queue import Empty
from typing import Any
from urllib.parse import quote

from kombu.transport import sqlalchemy as kombu_sqlalchemy
from kombu.transport.sqlalchemy import models as kombu_models
from kombu.utils.encoding import bytes_to_str
from sqlalchemy import create_engine, event, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import NullPool

from provgraph.exceptions import ConfigurationError

#: the broker kinds a profile can name
BROKER_KINDS = ("rabbitmq", "sqlite")
#: seconds a sqlite broker connection waits for the file's write lock
SQLITE_BUSY_TIMEOUT = 60.0
#: the table of a sqlite queue file holding the messages no worker could decode
DEAD_LETTER_TABLE = "provgraph_dead_letter"

LOGGER = logging.getLogger(__name__)


def broker_kind(section: dict[str, Any]) -> str:
    """The kind of a profile's broker section (``rabbitmq`` or ``sqlite``).

    :raises ConfigurationError: when the profile has no broker or an unknown one
    """
    kind = (section or {}).get("backend")
    if kind not in BROKER_KINDS:
        shown = repr(kind) if kind else "none"
        raise ConfigurationError(f"the profile's broker is {shown}; expected one of {', '.join(BROKER_KINDS)} "
                                 "(`provgraph profile setup` or `provgraph presto` configure one)")
    return kind


def broker_url(config: dict[str, Any]) -> str:
    """Return the AMQP URL for a profile's rabbitmq broker config (secrets merged in).

    User, password and vhost are percent-encoded, so any generated password is safe.
    """
    missing = [key for key in ("host", "port", "user", "password", "vhost") if key not in config]
    if missing:
        raise ConfigurationError(f"rabbitmq broker config lacks {', '.join(missing)}")
    user = quote(config["user"], safe="")
    password = quote(config["password"], safe="")
    vhost = quote(config["vhost"], safe="")
    return f"amqp://{user}:{password}@{config['host']}:{int(config['port'])}/{vhost}"


def sqlite_broker_path(config: dict[str, Any]) -> Path:
    """The absolute queue file of a sqlite broker config.

    :raises ConfigurationError: when the config names no path
    """
    path = config.get("path")
    if not path or not isinstance(path, str):
        raise ConfigurationError(f"the sqlite broker config needs a 'path' to its queue file, got {config!r}")
    return Path(path).expanduser().resolve()


def connection_settings(kind: str, config: dict[str, Any]) -> dict[str, Any]:
    """The Celery settings that connect to a broker of ``kind`` with ``config`` (secrets merged in)."""
    if kind == "rabbitmq":
        return {"broker_url": broker_url(config)}
    if kind == "sqlite":
        path = sqlite_broker_path(config)
        path.parent.mkdir(parents=True, exist_ok=True)
        return {"broker_url": f"sqlite:///{path}", "broker_transport": f"{__name__}:SqliteTransport"}
    raise ConfigurationError(f"unknown broker kind {kind!r}; expected one of {', '.join(BROKER_KINDS)}")


def redelivers(kind: str) -> bool:
    """Whether a broker of ``kind`` redelivers the unacked message of a worker that died."""
    return kind == "rabbitmq"


def check_broker(config: dict[str, Any], kind: str = "rabbitmq") -> str:
    """Open and close a connection to the broker (check a sqlite queue file); return a one-line description.

    :raises ServiceUnavailable: when the broker cannot be reached or refuses the login
    """
    from kombu import Connection

    from provgraph.exceptions import ServiceUnavailable

    if kind == "sqlite":
        path = sqlite_broker_path(config)
        return check_queue_file(path) if path.exists() else _check_new_queue_file(path)
    settings = connection_settings(kind, config)
    where = f"{config['host']}:{config['port']}"
    try:
        with Connection(settings["broker_url"], transport=settings.get("broker_transport"),
                        connect_timeout=5) as connection:
            connection.ensure_connection(max_retries=1)
            version = connection.connection.server_properties.get("version", b"")
    except Exception as exc:  # kombu surfaces socket, auth, AMQP and SQL errors alike
        raise ServiceUnavailable(f"{kind} broker at {where}: {exc}") from exc
    if isinstance(version, bytes):
        version = version.decode()
    return f"rabbitmq {version} at {where} vhost {config['vhost']}"


def check_queue_file(path: Path) -> str:
    """Run sqlite's integrity check on a queue file and count its dead letters; return a one-line description.

    :raises ServiceUnavailable: when the file is not a sqlite database or fails the check
    """
    from provgraph.exceptions import ServiceUnavailable

    try:
        with closing(sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT)) as connection:  # checks write nothing
            problems = [row[0] for row in connection.execute("PRAGMA integrity_check")]
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            dead = (connection.execute(f"SELECT count(*) FROM {DEAD_LETTER_TABLE}").fetchone()[0]
                    if DEAD_LETTER_TABLE in tables else 0)
    except sqlite3.Error as exc:
        raise ServiceUnavailable(f"sqlite broker at {path}: the queue file cannot be read ({exc}); stop the "
                                 "workers and move it aside (queued processes are re-published by "
                                 "`provgraph worker reconcile`)") from exc
    if problems != ["ok"]:
        shown = "; ".join(problems[:3]) + (f" (and {len(problems) - 3} more)" if len(problems) > 3 else "")
        raise ServiceUnavailable(f"sqlite broker at {path}: the queue file is corrupt ({shown}); stop the "
                                 "workers and move it aside (queued processes are re-published by "
                                 "`provgraph worker reconcile`)")
    letters = f", {dead} undecodable message(s) in table {DEAD_LETTER_TABLE}" if dead else ""
    return f"sqlite queue file {path} (no server, integrity ok{letters})"


def _check_new_queue_file(path: Path) -> str:
    """Describe a sqlite queue file not created yet, if it can be (nothing is written)."""
    import os

    from provgraph.exceptions import ServiceUnavailable

    folder = next((parent for parent in path.parents if parent.exists()), path.parent)
    if not os.access(folder, os.W_OK):
        raise ServiceUnavailable(f"sqlite broker at {path}: {folder} is not writable")
    return f"sqlite queue file {path} (created on first use, no server)"


class SqliteChannel(kombu_sqlalchemy.Channel):
    """kombu's SQLAlchemy channel on a sqlite file: WAL, a busy timeout, no shared state, delete on fetch.

    Each channel has its own engine (``NullPool``: a connection per transaction) instead of
    kombu's process-wide engine cache and mutex: a worker forks its pool processes while its
    other threads (the reconciler) publish, and a lock or a pooled sqlite connection inherited
    across a fork would block or corrupt the child.
    """

    _own: tuple[Any, Any] | None = None

    def _open(self) -> tuple[Any, Any]:
        if self._own is None:
            engine = self._engine_from_config()
            try:
                kombu_models.metadata.create_all(engine)
            except OperationalError:  # another process created the tables in between: they exist now
                kombu_models.metadata.create_all(engine)
            self._own = (engine, sessionmaker(bind=engine))
        return self._own

    def _engine_from_config(self) -> Any:
        engine = create_engine(self.connection.client.hostname, poolclass=NullPool,
                               connect_args={"timeout": SQLITE_BUSY_TIMEOUT})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT * 1000)}")
                cursor.execute("PRAGMA journal_mode = WAL")
                cursor.execute("PRAGMA synchronous = FULL")
            finally:
                cursor.close()

        return engine

    def _get_or_create(self, queue: str) -> Any:
        """The row of ``queue``, created if missing (the unique name settles a race between processes)."""
        session, model = self.session, self.queue_cls
        row = session.query(model).filter(model.name == queue).first()
        if row is None:
            session.add(model(queue))
            try:
                session.commit()
            except (IntegrityError, OperationalError):
                session.rollback()
            row = session.query(model).filter(model.name == queue).one()
        return row

    def close(self) -> None:
        """Close the channel and its engine."""
        super().close()
        if self._session is not None:
            self._session.close()
            self._session = None
        if self._own is not None:
            self._own[0].dispose()
            self._own = None

    def _get(self, queue: str) -> Any:
        """Take the oldest message of ``queue`` and delete it, under the file's write lock (one taker).

        Rows that do not decode into a kombu message are moved to the dead-letter table, in the
        same transaction, and the next row is taken (see the module docstring).
        """
        queue_row = self._get_or_create(queue)
        session = self.session
        table = self.message_cls.__table__.name
        session.execute(text("BEGIN IMMEDIATE TRANSACTION"))
        try:
            while True:
                # plain SQL: a row whose columns the ORM could not parse must not stop the fetch
                row = session.execute(text(f"SELECT id, payload FROM {table} WHERE queue_id = :queue "
                                           "ORDER BY timestamp, id LIMIT 1"), {"queue": queue_row.id}).first()
                if row is None:
                    raise Empty()
                session.execute(text(f"DELETE FROM {table} WHERE id = :id"), {"id": row.id})
                try:
                    return self._decoded(row.payload)
                except Exception as exc:  # anything a foreign or damaged row can provoke
                    self._dead_letter(queue, row.id, row.payload, exc)
        finally:
            session.commit()

    def _decoded(self, raw: Any) -> dict[str, Any]:
        """The payload of a stored message, checked to make a kombu message (raises when it does not)."""
        payload = loads(bytes_to_str(raw))
        self.Message(payload, channel=self)  # what the consumer will build: it must not fail there
        return payload

    def _dead_letter(self, queue: str, message_id: Any, raw: Any, exc: Exception) -> None:
        """Keep an undecodable message in the dead-letter table and log it."""
        session = self.session
        session.execute(text(f"CREATE TABLE IF NOT EXISTS {DEAD_LETTER_TABLE} (id INTEGER PRIMARY KEY, "
                             "queue TEXT NOT NULL, message_id INTEGER, payload, error TEXT NOT NULL, "
                             "moved_at TEXT NOT NULL)"))
        error = f"{type(exc).__name__}: {exc}"[:1000]
        session.execute(text(f"INSERT INTO {DEAD_LETTER_TABLE} (queue, message_id, payload, error, moved_at) "
                             "VALUES (:queue, :id, :payload, :error, :moved_at)"),
                        {"queue": queue, "id": message_id, "payload": raw, "error": error,
                         "moved_at": datetime.now(timezone.utc).isoformat()})
        LOGGER.error("moved undecodable message %s of queue %r to table %s of %s: %s", message_id, queue,
                     DEAD_LETTER_TABLE, self.connection.client.hostname, error)


class SqliteTransport(kombu_sqlalchemy.Transport):
    """The serverless broker transport (see the module docstring); polls its file every 0.2 s."""

    Channel = SqliteChannel
    polling_interval = 0.2
    driver_name = "sqlite"
