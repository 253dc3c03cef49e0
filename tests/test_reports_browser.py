"""The demo's report page and weekend digest in a real browser (pip playwright driving
/usr/bin/chromium): axe-core finds no violation, nothing is requested from elsewhere, and
screenshots of the report go to test-output/ (issue #21)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import AXE
from tests.conftest import TEST_OUTPUT as OUTPUT

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module", autouse=True)
def _axe_installed() -> None:
    if not AXE.is_file():
        pytest.skip("axe-core is not installed (make js)")


@pytest.mark.parametrize("path", ["bericht/index.html", "wochenende.html"])
def test_reports_are_accessible(site_context: Any, served: str, path: str) -> None:
    tab = site_context(viewport={"width": 1280, "height": 900}).new_page()
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
    assert violations == []
