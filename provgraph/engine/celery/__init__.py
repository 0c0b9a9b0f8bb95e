"""The Celery adapter of the engine: the only package that imports celery/kombu."""
