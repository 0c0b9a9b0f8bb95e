"""The sqlite storage backend: the embedded default profile and the on-disk format of archives."""
