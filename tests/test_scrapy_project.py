"""Scrapy's own tools see the project as famcal crawls it (issue #13): ``scrapy list`` names one
spider per source of the sources file, the project settings are famcal's (robots.txt obeyed,
the HTTP cache, the User-Agent, the budgets), and ``scrapy crawl <id>`` crawls that source."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from core.config import load_sources
from spiders.settings import crawl_settings
from tests.conftest import FIXTURES, NOW, ROOT, LocalSite

SCRAPY = str(Path(sys.executable).with_name("scrapy"))


def scrapy(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SCRAPY, *args], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )


def test_scrapy_list_names_every_source() -> None:
    result = scrapy("list")
    assert result.returncode == 0, result.stderr
    expected = [s.id for s in load_sources(ROOT / "data" / "sources.toml")]
    assert result.stdout.split() == sorted(expected)


def test_scrapy_reads_the_settings_famcal_crawls_with() -> None:
    for name in ("ROBOTSTXT_OBEY", "USER_AGENT", "DOWNLOAD_MAXSIZE", "HTTPCACHE_POLICY"):
        result = scrapy("settings", "--get", name)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == str(crawl_settings()[name]), name
    assert crawl_settings()["ROBOTSTXT_OBEY"] is True


def test_scrapy_crawl_runs_one_source(tmp_path: Path) -> None:
    site = LocalSite()
    try:
        site.put("/partner.ics", (FIXTURES / "ics" / "family.ics").read_bytes(), ETag='"v1"')
        sources = tmp_path / "sources.toml"
        sources.write_text(
            f'[sources.partner]\ntype = "ics"\nname = "P"\n'
            f'start_urls = ["{site.url("/partner.ics")}"]\ndownload_delay = 0\n'
        )
        result = scrapy(
            *("crawl", "partner", "-a", f"now={NOW.isoformat()}"),
            *("-s", f"FAMCAL_SOURCES={sources}", "-s", f"HTTPCACHE_DIR={tmp_path / 'cache'}"),
            *("-s", "AUTOTHROTTLE_ENABLED=false"),
        )
    finally:
        site.close()
    assert result.returncode == 0, result.stderr
    log = result.stderr
    assert site.requests[:2] == ["/robots.txt", "/partner.ics"]  # robots.txt first
    assert "'item_scraped_count'" in log and "'spider_exceptions" not in log
    assert "'httpcache/miss'" in log  # through the HTTP cache
    assert (tmp_path / "cache" / "partner").is_dir()  # stored for revalidation (ETag)
    assert set(site.agents) == {crawl_settings()["USER_AGENT"]}  # the project's own
