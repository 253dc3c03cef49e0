"""The demo's report page and weekend digest in a real browser (pip playwright driving
/usr/bin/chromium): axe-core finds no violation, nothing is requested from elsewhere, and
screenshots of the report go to test-output/ (issue #21)."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "tests" / "js" / "node_modules" / "axe-core" / "axe.min.js"
OUTPUT = ROOT / "test-output"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def served(demo_out: Path) -> Iterator[str]:
    handler = functools.partial(Quiet, directory=str(demo_out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is absent")
    if not AXE.is_file():
        pytest.skip("axe-core is not installed (make js)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


@pytest.mark.parametrize("path", ["bericht/index.html", "wochenende.html"])
def test_reports_are_accessible(browser: Any, served: str, path: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="de-DE")
    outside: list[str] = []

    def guard(route: Any) -> None:
        if route.request.url.startswith(served + "/"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    tab = context.new_page()
    tab.goto(f"{served}/{path}")
    OUTPUT.mkdir(exist_ok=True)
    name = path.replace("/", "-").removesuffix(".html")
    for width in (390, 1280):
        tab.set_viewport_size({"width": width, "height": 900})
        tab.screenshot(path=str(OUTPUT / f"{name}-{width}.png"), full_page=True)
    tab.add_script_tag(path=str(AXE))
    result = tab.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    violations = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
                  for v in result["violations"]]  # fmt: skip
    context.close()
    assert violations == []
    assert outside == [], f"requests left the site: {outside}"
