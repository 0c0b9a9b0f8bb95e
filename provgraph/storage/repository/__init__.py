"""The content-addressed file repository (local disk, S3)."""
