"""Process-wide management helpers (AiiDA's ``aiida.manage``): for now the caching switches."""
