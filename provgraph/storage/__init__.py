"""Storage backends (neo4j, sqlite) and the file repository."""
