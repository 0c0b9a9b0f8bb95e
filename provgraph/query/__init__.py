"""The QueryBuilder's intermediate representation and its compilers (Cypher; SQL later)."""
