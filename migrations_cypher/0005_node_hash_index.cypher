// The caching hash of every node (provgraph/orm/nodes/caching.py): cache lookups filter on it.
CREATE INDEX node_hash IF NOT EXISTS FOR (n:Node) ON (n.hash);
