"""The SQLite library (sqlite-utils), loaded without pandas and numpy.

Contract: ``sqlite_utils`` here is the sqlite-utils package, imported the first time with
pandas and numpy hidden from it, so that it maps no column types of theirs. The store hands
it only text, numbers and None, and importing the two (≈ 0.35 s) was most of the time a
``famcal`` command took to start (famcal itself no longer uses either, but a machine may
have them installed). Both stay importable as usual by any other module; if either was
imported before, sqlite-utils finds it, as it always did.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType

_HIDDEN = ("pandas", "numpy")


def _load() -> ModuleType:
    hidden = [name for name in _HIDDEN if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # an import of it fails
    try:
        module = importlib.import_module("sqlite_utils")
        importlib.import_module("sqlite_utils.db")  # where it looks for them
    finally:
        for name in hidden:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]
    return module


sqlite_utils = _load()
