"""Run compiled QueryBuilder queries on Neo4j, streaming rows and decoding each column."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from provgraph.exceptions import QueryError
from provgraph.query.ir import EntityKind, Query
from provgraph.storage.neo4j.compiler import compile_query
from provgraph.storage.neo4j.driver import translate_errors
from provgraph.storage.neo4j.nodes import from_node
from provgraph.storage.neo4j.properties import unflatten

if TYPE_CHECKING:
    import neo4j


def _entity_records() -> dict[EntityKind, type]:
    from provgraph.storage import entities

    return {EntityKind.GROUP: entities.GroupRecord, EntityKind.USER: entities.UserRecord,
            EntityKind.COMPUTER: entities.ComputerRecord, EntityKind.COMMENT: entities.CommentRecord,
            EntityKind.LOG: entities.LogRecord}


def plain(value: Any) -> Any:
    """Convert driver values (temporal types, lists, maps) to plain Python values."""
    if hasattr(value, "to_native"):
        return value.to_native()
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    return value


class ColumnDecoder:
    """Turns one returned column into the value the user projected.

    Everything that depends only on the column (its kind, the record class, the attribute
    path) is worked out once here, so decoding a row is one call per column.
    """

    def __init__(self, query: Query, tag: str, path: tuple[str, ...], is_edge: bool) -> None:
        kinds = {v.tag: v.kind for v in query.vertices}
        self.kind = None if is_edge else kinds[tag]
        self.path = path
        if path == ("*",) and self.kind is EntityKind.NODE:
            self._decode = from_node
        elif path == ("*",):
            from provgraph.storage.neo4j.models import record_from_node

            record_class = _entity_records()[self.kind]
            self._decode = lambda value: record_from_node(record_class, value)
        elif path[0] in ("attributes", "extras") and self.kind is EntityKind.NODE:
            self._decode = self._leaf if len(path) > 1 else self._section
        else:
            self._decode = plain

    def __call__(self, value: Any) -> Any:
        return None if value is None else self._decode(value)

    def _section(self, pairs: list) -> Any:
        return unflatten(self.path[0], dict(pairs))

    def _leaf(self, value: list) -> Any:
        # the compiler returns [native value, null] when the leaf is held natively (no decoding
        # at all), else [null, its (key, value) pairs], unflattened here
        native, pairs = value
        if native is not None:
            return native
        if not pairs:
            return None
        tree = unflatten(self.path[0], dict(pairs))
        for step in self.path[1:]:
            if not isinstance(tree, dict) or step not in tree:
                return None
            tree = tree[step]
        return tree


class Neo4jQueries:
    """Execute QueryBuilder IR on one Neo4j database."""

    def __init__(self, driver: neo4j.Driver, database: str, uri: str, transactions: Any = None) -> None:
        self._driver, self._database, self._uri = driver, database, uri
        self._transactions = transactions

    def compile(self, query: Query) -> tuple[str, dict[str, Any]]:
        """The Cypher text and parameters of ``query``."""
        compiled = compile_query(query)
        return compiled.text, compiled.params

    def iterate(self, query: Query, batch_size: int = 1000) -> Iterator[list[Any]]:
        """Yield result rows, fetching ``batch_size`` records at a time from the server."""
        import neo4j

        compiled = compile_query(query)
        decoders = [ColumnDecoder(query, *column) for column in compiled.columns]
        if self._transactions is not None and self._transactions.current is not None:
            with translate_errors(self._uri), self._transactions.joined(write=False) as tx:
                for record in tx.run(compiled.text, compiled.params):
                    yield [decode(value) for decode, value in zip(decoders, record.values(), strict=True)]
            return
        with translate_errors(self._uri), self._driver.session(
            database=self._database, default_access_mode=neo4j.READ_ACCESS, fetch_size=batch_size
        ) as session:
            with session.begin_transaction() as tx:
                for record in tx.run(compiled.text, compiled.params):
                    yield [decode(value) for decode, value in zip(decoders, record.values(), strict=True)]

    def count(self, query: Query) -> int:
        """The number of rows ``query`` returns (ignoring limit and offset)."""
        compiled = compile_query(query, count=True)
        if self._transactions is not None and self._transactions.current is not None:
            with translate_errors(self._uri), self._transactions.joined(write=False) as tx:
                return tx.run(compiled.text, compiled.params).single()["n"]
        with translate_errors(self._uri):
            records, _, _ = self._driver.execute_query(
                compiled.text, compiled.params, database_=self._database, routing_="r"
            )
        return records[0]["n"]


def check_tags(query: Query) -> None:
    """Refuse order_by entries naming tags the query does not have."""
    tags = {v.tag for v in query.vertices}
    for order in query.order_by:
        if order.tag not in tags:
            raise QueryError(f"order_by names unknown tag {order.tag!r}; tags: {', '.join(sorted(tags))}")


def decode_raw(value: Any) -> Any:
    """Turn a raw-Cypher result value into plain Python (node records for provenance nodes)."""
    import neo4j.graph as graph

    if isinstance(value, graph.Node):
        return from_node(value) if "Node" in value.labels else {k: plain(v) for k, v in value.items()}
    if isinstance(value, graph.Relationship):
        return {"type": value.type, "start": value.start_node.get("pk") if value.start_node else None,
                "end": value.end_node.get("pk") if value.end_node else None,
                **{k: plain(v) for k, v in value.items()}}
    if isinstance(value, graph.Path):
        return [decode_raw(node) for node in value.nodes]
    if isinstance(value, list):
        return [decode_raw(item) for item in value]
    if isinstance(value, dict):
        return {key: decode_raw(item) for key, item in value.items()}
    return plain(value)


def run_cypher(driver: neo4j.Driver, database: str, uri: str, query: str, params: dict[str, Any],
               write: bool) -> tuple[list[str], list[list[Any]]]:
    """Run raw Cypher in a read (default) or write transaction; return (column names, rows)."""
    import neo4j
    import neo4j.exceptions as errors

    if not isinstance(query, str) or not query.strip():
        raise QueryError("give a Cypher statement")
    mode = neo4j.WRITE_ACCESS if write else neo4j.READ_ACCESS

    def work(tx: neo4j.ManagedTransaction) -> tuple[list[str], list[list[Any]]]:
        result = tx.run(query, params)
        rows = [[decode_raw(v) for v in record.values()] for record in result]
        return list(result.keys()), rows

    with translate_errors(uri):
        try:
            with driver.session(database=database, default_access_mode=mode) as session:
                return session.execute_write(work) if write else session.execute_read(work)
        except errors.ClientError as exc:
            if not write and "AccessMode" in (exc.code or ""):
                raise QueryError("raw Cypher runs in a read transaction and the server refused a write; "
                                 "pass write=True to modify the graph") from exc
            raise QueryError(f"Cypher error {exc.code}: {exc.message}") from exc
