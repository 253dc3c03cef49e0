"""The sources file (TOML) of contract.md, read into ``SourceConfig`` values.

Contract: ``load_sources(path)`` returns the sources in file order or raises ``ConfigError``
whose message is one line naming the file and the key (the CLI prints it and exits 2).
Known keys are typed; any other key of a source is kept in ``options`` for its spider
(e.g. ``link_selector`` of a jsonld source, ``timezone`` of an ics source, ``licence``).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.model import SourceType

_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_KNOWN = {"type", "name", "start_urls", "download_delay", "priority", "categories"}


class ConfigError(Exception):
    """A bad sources file; the message is a single line naming file and key."""


@dataclass(frozen=True, kw_only=True)
class SourceConfig:
    id: str
    type: SourceType
    name: str
    start_urls: tuple[str, ...]
    download_delay: float = 1.0
    priority: int = 50
    categories: tuple[str, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)

    def with_urls(self, start_urls: tuple[str, ...]) -> SourceConfig:
        from dataclasses import replace

        return replace(self, start_urls=start_urls)


def load_sources(path: str | Path) -> list[SourceConfig]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read sources file ({exc.strerror or exc})") from exc
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: malformed TOML: {exc}") from exc
    return parse_sources(document, str(path))


def parse_sources(document: dict[str, Any], where: str) -> list[SourceConfig]:
    table = document.get("sources")
    if not isinstance(table, dict) or not table:
        raise ConfigError(f"{where}: sources: no [sources.<id>] tables")
    return [_parse_one(source_id, entry, where) for source_id, entry in table.items()]


def _parse_one(source_id: str, entry: Any, where: str) -> SourceConfig:
    key = f"sources.{source_id}"
    if not _ID.match(source_id):
        raise ConfigError(f"{where}: {key}: id must be lowercase letters, digits and '-'")
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: {key}: must be a table")
    kind = entry.get("type")
    try:
        source_type = SourceType(str(kind))
    except ValueError:
        allowed = ", ".join(t.value for t in SourceType)
        raise ConfigError(
            f"{where}: {key}.type: unknown type {kind!r} (one of {allowed})"
        ) from None
    urls = entry.get("start_urls")
    if not urls or not isinstance(urls, list) or not all(isinstance(u, str) and u for u in urls):
        raise ConfigError(f"{where}: {key}.start_urls: missing or not a list of URLs")
    delay = entry.get("download_delay", 1.0)
    if not isinstance(delay, int | float) or isinstance(delay, bool) or delay < 0:
        raise ConfigError(f"{where}: {key}.download_delay: must be a number of seconds >= 0")
    priority = entry.get("priority", 50)
    if not isinstance(priority, int) or isinstance(priority, bool):
        raise ConfigError(f"{where}: {key}.priority: must be an integer")
    categories = entry.get("categories", [])
    if not isinstance(categories, list) or not all(isinstance(c, str) for c in categories):
        raise ConfigError(f"{where}: {key}.categories: must be a list of strings")
    name = entry.get("name", source_id)
    if not isinstance(name, str):
        raise ConfigError(f"{where}: {key}.name: must be a string")
    return SourceConfig(
        id=source_id,
        type=source_type,
        name=name,
        start_urls=tuple(urls),
        download_delay=float(delay),
        priority=priority,
        categories=tuple(categories),
        options={k: v for k, v in entry.items() if k not in _KNOWN},
    )
