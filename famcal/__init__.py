"""famcal: the Familienkalender Hannover pipeline (core: model, configuration, store, CLI)."""

__version__ = "0.1.0"
