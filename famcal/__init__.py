"""famcal: the application on top — the run, the command line, the demo and the server.
It composes the stages (``spiders``, ``pipeline``, ``feeds``) over the foundation (``core``)."""

from core import __version__

__all__ = ["__version__"]
