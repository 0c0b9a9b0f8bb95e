// Users, computers (with AUTHINFO relationships), groups, comments and logs (DESIGN §2).
// Their neomodel models (provgraph/storage/neo4j/models.py) declare the same keys; neomodel never installs schema.
CREATE CONSTRAINT user_email_unique IF NOT EXISTS FOR (u:User) REQUIRE u.email IS UNIQUE;
CREATE CONSTRAINT computer_label_unique IF NOT EXISTS FOR (c:Computer) REQUIRE c.label IS UNIQUE;
CREATE CONSTRAINT computer_uuid_unique IF NOT EXISTS FOR (c:Computer) REQUIRE c.uuid IS UNIQUE;
CREATE CONSTRAINT computer_pk_unique IF NOT EXISTS FOR (c:Computer) REQUIRE c.pk IS UNIQUE;
// A group label is unique within its type_string (a composite uniqueness constraint).
CREATE CONSTRAINT group_label_type_unique IF NOT EXISTS FOR (g:Group) REQUIRE (g.label, g.type_string) IS UNIQUE;
CREATE CONSTRAINT group_uuid_unique IF NOT EXISTS FOR (g:Group) REQUIRE g.uuid IS UNIQUE;
CREATE CONSTRAINT group_pk_unique IF NOT EXISTS FOR (g:Group) REQUIRE g.pk IS UNIQUE;
CREATE CONSTRAINT comment_uuid_unique IF NOT EXISTS FOR (c:Comment) REQUIRE c.uuid IS UNIQUE;
CREATE CONSTRAINT comment_pk_unique IF NOT EXISTS FOR (c:Comment) REQUIRE c.pk IS UNIQUE;
CREATE CONSTRAINT log_uuid_unique IF NOT EXISTS FOR (l:Log) REQUIRE l.uuid IS UNIQUE;
CREATE CONSTRAINT log_pk_unique IF NOT EXISTS FOR (l:Log) REQUIRE l.pk IS UNIQUE;
// Lookups: groups by label, comments and logs by their node, logs in time order, nodes by computer.
CREATE INDEX group_label IF NOT EXISTS FOR (g:Group) ON (g.label);
CREATE INDEX comment_node_pk IF NOT EXISTS FOR (c:Comment) ON (c.node_pk);
CREATE INDEX log_node_pk IF NOT EXISTS FOR (l:Log) ON (l.node_pk);
CREATE INDEX log_time IF NOT EXISTS FOR (l:Log) ON (l.time);
CREATE INDEX node_computer IF NOT EXISTS FOR (n:Node) ON (n.computer);
