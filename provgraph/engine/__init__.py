"""The process engine: processes, state machine, launch, Celery workers."""
