"""``node.base.caching``: the hash of a node and whether it may serve as a cache (AiiDA's ``NodeCaching``).

The hash is the sha256 of the canonical JSON of: the node type; its attributes, minus the
bookkeeping ones a process changes while it runs and the options that do not change a result
(queue, account, wall time...); the uuid of its computer; for data, its file tree (the
repository keys are sha256 of the content); for a process, the hashes of its inputs by link
label (its files are made from its inputs, and the submit script names the job's pk). A
CalcJob's ``CACHE_VERSION`` (and its parser's) is an attribute of its node (``cache_version``),
so raising it makes new runs miss the old ones.

The hash is kept in the node's ``hash`` field (indexed on both backends). The engine stores it
when a CalcJob starts; :meth:`NodeCaching.rehash` (``provgraph node rehash``) stores it for any
node. A node serves as a cache unless ``is_valid_cache`` was set False; a process node only once
it finished and is sealed, and not when its exit code declares ``invalidates_cache``.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from provgraph.common.json import dumps
from provgraph.exceptions import ValidationError

if TYPE_CHECKING:
    from provgraph.orm.nodes.node import Node

__all__ = ["CACHED_FROM_KEY", "HASH_IGNORED_ATTRIBUTES", "VALID_CACHE_KEY", "NodeCaching"]

#: extra holding the uuid of the node a cached node was cloned from
CACHED_FROM_KEY = "_provgraph_cached_from"
#: extra that, set to False, keeps a node from serving as a cache
VALID_CACHE_KEY = "_provgraph_valid_cache"
#: attributes left out of the hash of a process node (bookkeeping, and options that do not change results)
HASH_IGNORED_ATTRIBUTES = frozenset({
    "process_state", "process_status", "exit_status", "exit_message", "paused", "checkpoint", "checkpoint_version",
    "sealed", "exception", "process_label", "caller_pk", "job_id", "scheduler_state", "remote_workdir",
    "retrieve_list", "retrieve_temporary_list", "detailed_job_info", "dry_run_info", "scheduler_lastchecktime",
    "disable_cache",
    "queue_name", "account", "qos", "priority", "max_wallclock_seconds", "max_memory_kb", "version",
})
_COMPUTER_UUIDS: dict[str, str] = {}


def _computer_uuid(label: str | None) -> str | None:
    if not label:
        return None
    if label not in _COMPUTER_UUIDS:
        from provgraph.orm.computers import Computer

        _COMPUTER_UUIDS[label] = Computer.get(label=label).uuid
    return _COMPUTER_UUIDS[label]


def _is_process(node: Node) -> bool:
    return "ProcessNode" in node.class_tree()


class NodeCaching:
    """The caching namespace of one node (see the module docstring)."""

    def __init__(self, node: Node) -> None:
        self._node = node

    # -- hashing ------------------------------------------------------------------------------------

    def get_objects_to_hash(self) -> dict[str, Any]:
        """What the hash covers (see the module docstring)."""
        node = self._node
        attributes = node.base.attributes.all
        if _is_process(node):
            attributes = {key: value for key, value in attributes.items() if key not in HASH_IGNORED_ATTRIBUTES}
        objects: dict[str, Any] = {"class": node.node_type, "attributes": attributes,
                                   "computer": _computer_uuid(node._record.computer)}
        if not _is_process(node):  # a job's files are made from its inputs (and name its pk): not hashed
            objects["repository"] = sorted(node._record.repository.items())
        if _is_process(node) and node.is_stored:
            from provgraph.common.links import LinkType

            objects["inputs"] = {
                triple.link_label: triple.node.base.caching.compute_hash()
                for triple in node.base.links.get_incoming(link_type=(LinkType.INPUT_CALC, LinkType.INPUT_WORK))
            }
        return objects

    def compute_hash(self) -> str:
        """The hash computed now from the node's content (not stored)."""
        return hashlib.sha256(dumps(self.get_objects_to_hash()).encode("utf-8")).hexdigest()

    def get_hash(self) -> str | None:
        """The stored hash (None when none was stored)."""
        return self._node._record.hash

    def rehash(self) -> str:
        """Compute the hash and store it in the node's ``hash`` field; return it.

        :raises ValidationError: for an unstored node
        """
        value = self.compute_hash()
        self._set_hash(value)
        return value

    def clear_hash(self) -> None:
        """Remove the stored hash (the node is then found by no cache lookup)."""
        self._set_hash(None)

    def _set_hash(self, value: str | None) -> None:
        from provgraph.orm.backend import get_backend

        if not self._node.is_stored:
            raise ValidationError(f"{self._node!r} is not stored: only a stored node keeps a hash")
        get_backend().nodes.update(self._node.pk, hash=value)
        self._node._record.hash = value

    # -- cache source and validity ------------------------------------------------------------------

    def get_cache_source(self) -> str | None:
        """The uuid of the node this one was cloned from by caching, or None."""
        return self._node.base.extras.get(CACHED_FROM_KEY, None)

    @property
    def is_created_from_cache(self) -> bool:
        """Whether this node was made by cloning a cached node."""
        return self.get_cache_source() is not None

    @property
    def is_valid_cache(self) -> bool:
        """Whether this node may serve as a cache (see the module docstring)."""
        if self._node.base.extras.get(VALID_CACHE_KEY, True) is False:
            return False
        if not _is_process(self._node):
            return True
        node: Any = self._node
        if not (node.is_finished and node.is_sealed):
            return False
        return _process_class_accepts(node)

    @is_valid_cache.setter
    def is_valid_cache(self, valid: bool) -> None:
        if not isinstance(valid, bool):
            raise ValidationError(f"is_valid_cache takes a bool, not {valid!r}")
        self._node.base.extras.set(VALID_CACHE_KEY, valid)

    def should_use_cache(self) -> bool:
        """Whether caching is switched on for this node's process (see :mod:`provgraph.manage.caching`)."""
        from provgraph.manage.caching import get_use_cache

        process_type = self._node.base.attributes.get("process_type", None)
        return get_use_cache(identifier=process_type) if process_type else get_use_cache()

    def get_all_same_nodes(self, value: str | None = None) -> list[Node]:
        """The stored nodes of the same type with the same hash that are valid caches (this node excluded).

        :param value: the hash to look for (default: computed now)
        """
        from provgraph.orm.querybuilder import QueryBuilder

        value = value or self.compute_hash()
        builder = QueryBuilder().append(type(self._node), filters={"hash": value}, subclassing=False)
        found = sorted(builder.all(flat=True), key=lambda node: node.pk)
        return [node for node in found if node.pk != self._node.pk and node.base.caching.is_valid_cache]

    def get_same_node(self, value: str | None = None) -> Node | None:
        """The first of :meth:`get_all_same_nodes`, or None."""
        same = self.get_all_same_nodes(value)
        return same[0] if same else None


def _process_class_accepts(node: Any) -> bool:
    """False when the process class declares the node's exit code ``invalidates_cache``."""
    from provgraph.engine.step import load_process_class  # the process class knows its exit codes

    try:
        process_class = load_process_class(node.process_type)
    except Exception:  # noqa: BLE001 - a class that cannot be loaded here cannot vouch for its node
        return False
    validator = getattr(process_class, "is_valid_cache", None)
    if callable(validator):
        return bool(validator(node))
    try:
        code = process_class.exit_codes(node.exit_status)
    except Exception:  # noqa: BLE001 - an undeclared status (or no spec) does not invalidate
        return True
    return not code.invalidates_cache
