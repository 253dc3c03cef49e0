"""Where famcal's bundled data files live.

Contract: ``data_dir()`` is the folder of rules, venues, geography and the demo snapshot —
the repository's ``data/`` in a checkout or editable install, the copy packed into the wheel
as ``core._data`` otherwise. Runtime files (database, HTTP cache) are not found here: their
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


@cache
def data_digest() -> str:
    """A digest of the rule, place and label files: the processing they drive must be redone
    when any of them changes. The sources files, the demo snapshot and runtime files (the
    database, HTTP cache, logs, which may live in the same folder) do not count."""
    import hashlib

    root = data_dir()
    files = [p for p in root.glob("*.toml") if p.name != "sources.toml"]
    for folder in ("tagging", "geo", "schema"):
        files.extend(p for p in (root / folder).rglob("*") if p.is_file())
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


@cache
def code_digest(*packages: str) -> str:
    """A digest of the source of the named packages: results cached across runs (tags,
    serialized feeds) must not outlive a change of the code that made them."""
    import hashlib
    import importlib

    digest = hashlib.sha256()
    for name in packages:
        module = importlib.import_module(name)
        for path in sorted(Path(next(iter(module.__path__))).rglob("*.py")):
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()
