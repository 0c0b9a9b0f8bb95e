"""The neo4j storage backend: the production graph store."""
