// Uniqueness of node identity, the pk sequence, and the indexes of DESIGN §3.
CREATE CONSTRAINT node_uuid_unique IF NOT EXISTS FOR (n:Node) REQUIRE n.uuid IS UNIQUE;
CREATE CONSTRAINT node_pk_unique IF NOT EXISTS FOR (n:Node) REQUIRE n.pk IS UNIQUE;
CREATE CONSTRAINT sequence_name_unique IF NOT EXISTS FOR (s:_Sequence) REQUIRE s.name IS UNIQUE;
CREATE CONSTRAINT migration_version_unique IF NOT EXISTS FOR (m:_SchemaMigration) REQUIRE m.version IS UNIQUE;
CREATE INDEX node_node_type IF NOT EXISTS FOR (n:Node) ON (n.node_type);
CREATE INDEX node_ctime IF NOT EXISTS FOR (n:Node) ON (n.ctime);
CREATE INDEX node_label IF NOT EXISTS FOR (n:Node) ON (n.label);
CREATE INDEX process_state IF NOT EXISTS FOR (n:ProcessNode) ON (n.`attributes.process_state`);
