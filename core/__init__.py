"""core: the foundation every other folder builds on — the domain model, the configuration,
the store, paths and small shared utilities. It imports nothing of ``spiders``, ``pipeline``,
``feeds`` or ``famcal`` (a test enforces the direction)."""

__version__ = "0.1.0"
