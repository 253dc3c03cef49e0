"""The sources file (TOML) of contract.md, read into ``SourceConfig`` values.

Contract: ``load_sources(path)`` returns the sources in file order or raises ``ConfigError``
whose message is one line naming the file and the key (the CLI prints it and exits 2).
Known keys are typed; the other keys of a source are its type's options (``OPTIONS``, the one
place that declares them: e.g. ``link_selector`` of a jsonld source, ``timezone`` of an ics
source, ``licence`` of any) and are kept in ``options`` for its spider. A key that is neither
is a configuration error naming the source, the key and the type's options; so is an ``html``
source's ``select`` table without ``item``/``title``/``start`` or with a key of its own.
The budgets (``max_pages``, ``max_bytes``, ``max_occurrences``, ``max_seconds``) are typed
integers of every type, with contract.md's defaults; a budget that is no integer or below its
minimum is a ``ConfigError``.
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
# Budgets (contract.md, "Sources file"): key -> (default, the smallest allowed value).
MB = 1024 * 1024
_BUDGETS: dict[str, tuple[int, int]] = {
    "max_pages": (200, 1),
    "max_bytes": (100 * MB, 1024),
    "max_occurrences": (50_000, 1),
    "max_seconds": (300, 1),
}
BUDGET_KEYS = tuple(_BUDGETS)
# The per-response and per-series parts of max_bytes and max_occurrences: these defaults, or
# the source's own budget where that is smaller.
MAX_RESPONSE_BYTES = 32 * MB
MAX_SERIES_OCCURRENCES = 5_000

# The options each source type reads, besides the keys every type has (``_KNOWN``) and the
# documentation keys any source may carry (``_ANY``). One place, so that the sources file,
# ``famcal sources check --option`` and the error messages agree.
_ANY = frozenset({"licence"})
OPTIONS: dict[SourceType, frozenset[str]] = {
    SourceType.HANNOVER_DE: frozenset({"user_agent"}),
    SourceType.ICS: frozenset({"timezone"}),
    SourceType.JSONLD: frozenset({"link_selector", "timezone"}),
    SourceType.TRIBE: frozenset({"timezone"}),
    SourceType.WORDPRESS: frozenset({"timezone"}),
    SourceType.HTML: frozenset({"select", "timezone"}),
}
# The ``select`` table of an ``html`` source: what must be there, and what may.
SELECT_REQUIRED = ("item", "title", "start")
SELECT_OPTIONAL = ("end", "place", "description", "link", "next_page")


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
    # Budgets: pages followed, bytes read (per source; per response at most 32 MB),
    # occurrences after expansion (per source; per series at most 5,000), seconds of crawling.
    max_pages: int = 200
    max_bytes: int = 100 * MB
    max_occurrences: int = 50_000
    max_seconds: int = 300

    @property
    def max_response_bytes(self) -> int:
        return min(MAX_RESPONSE_BYTES, self.max_bytes)

    @property
    def max_series_occurrences(self) -> int:
        return min(MAX_SERIES_OCCURRENCES, self.max_occurrences)

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
    options = {k: v for k, v in entry.items() if k not in _KNOWN and k not in _BUDGETS}
    _check_options(source_type, options, f"{where}: {key}")
    budgets: dict[str, int] = {}
    for budget, (default, least) in _BUDGETS.items():
        value = entry.get(budget, default)
        if not isinstance(value, int) or isinstance(value, bool) or value < least:
            raise ConfigError(f"{where}: {key}.{budget}: must be a whole number >= {least}")
        budgets[budget] = value
    return SourceConfig(
        id=source_id,
        type=source_type,
        name=name,
        start_urls=tuple(urls),
        download_delay=float(delay),
        priority=priority,
        categories=tuple(categories),
        options=options,
        **budgets,
    )


def _check_options(source_type: SourceType, options: dict[str, Any], where: str) -> None:
    allowed = OPTIONS[source_type] | _ANY
    for name in options:
        if name not in allowed:
            listed = ", ".join(sorted(allowed))
            raise ConfigError(
                f"{where}.{name}: unknown option for type {source_type.value!r} "
                f"(its options: {listed})"
            )
    for name in ("link_selector", "timezone", "user_agent", "licence"):
        if name in options and not isinstance(options[name], str):
            raise ConfigError(f"{where}.{name}: must be a string")
    if isinstance(options.get("link_selector"), str):
        _check_css(options["link_selector"], f"{where}.link_selector")
    if source_type is SourceType.HTML:
        _check_select(options.get("select"), f"{where}.select")


def _check_select(select: Any, where: str) -> None:
    if not isinstance(select, dict):
        raise ConfigError(f"{where}: an html source needs a [select] table of CSS selectors")
    for name in SELECT_REQUIRED:
        if not select.get(name):
            raise ConfigError(f"{where}.{name}: missing (required: {', '.join(SELECT_REQUIRED)})")
    for name, value in select.items():
        if name not in SELECT_REQUIRED + SELECT_OPTIONAL:
            listed = ", ".join(SELECT_REQUIRED + SELECT_OPTIONAL)
            raise ConfigError(f"{where}.{name}: unknown selector (the selectors: {listed})")
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{where}.{name}: must be a CSS selector text")
        _check_css(value, f"{where}.{name}")


def _check_css(text: str, where: str) -> None:
    # Scrapy's own selector dialect (parsel: CSS plus ::text and ::attr(name)), read now so
    # that a typo is a configuration error before anything is fetched.
    from cssselect import SelectorError
    from parsel.csstranslator import HTMLTranslator

    try:
        HTMLTranslator().css_to_xpath(text)
    except SelectorError as exc:
        raise ConfigError(f"{where}: not a CSS selector: {text!r} ({exc})") from None
