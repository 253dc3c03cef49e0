"""Where famcal's bundled data files live.

Contract: ``data_dir()`` is the folder of rules, venues, geography and the demo snapshot —
the repository's ``data/`` in a checkout or editable install, the copy packed into the wheel
as ``famcal/_data`` otherwise. Runtime files (database, HTTP cache) are not found here: their
paths come from the command line.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path


@cache
def data_dir() -> Path:
    package = Path(__file__).resolve().parent
    for candidate in (package.parent / "data", package / "_data"):
        if (candidate / "tagging").is_dir() or (candidate / "geo").is_dir():
            return candidate
    raise FileNotFoundError(f"famcal's data folder is missing (looked beside {package})")


def data_file(*parts: str) -> Path:
    return data_dir().joinpath(*parts)
