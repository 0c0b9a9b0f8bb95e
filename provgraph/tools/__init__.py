"""Tools built on the ORM: reaching a computer through its transport, and provenance graph pictures."""
