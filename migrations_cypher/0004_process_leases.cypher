// Worker-fleet leases (provgraph/storage/neo4j/coordination.py): one (:_ProcessLease {key, owner, expires}) per key.
// Leases of the earlier engine were keyed by the process pk: give them the key 'process:<pk>'.
MATCH (l:_ProcessLease) WHERE l.key IS NULL AND l.pk IS NOT NULL SET l.key = 'process:' + toString(l.pk) REMOVE l.pk;
MATCH (l:_ProcessLease) WHERE l.key IS NULL DELETE l;
CREATE CONSTRAINT process_lease_key_unique IF NOT EXISTS FOR (l:_ProcessLease) REQUIRE l.key IS UNIQUE;
