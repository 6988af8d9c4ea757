"""A simulated audience's report in a real browser (headless Chromium): the banner that says
the numbers are made up stays in view wherever the reader scrolls.

Needs Debian's Chromium at /usr/bin/chromium, as ``tests/test_report_browser.py`` does.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from campaign.config import load_config
from scheduler.engagement.report import build_report
from scheduler.engagement.simulated import simulate_audience
from tests.conftest import Campaign
from tests.test_preview_browser import Visit, _require_chromium, launched_chromium
from tests.test_simulated_audience import rehearsal_store


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _require_chromium()
    root = tmp_path_factory.mktemp("simulated-report")
    campaign = Campaign(root)
    campaign.config()
    config = load_config(campaign.config_path)
    store = rehearsal_store(config.build_dir / "rehearsal", posts=8)
    try:
        simulate_audience(store, config, seed=3)
        ids = [row.id or 0 for row in store.publications() if row.published_at is not None]
        return build_report(config, store, ids, root / "rapport")
    finally:
        store.close()


@pytest.fixture(scope="module")
def page(report: Path) -> Iterator[Visit]:
    with launched_chromium() as browser:
        visit = Visit(browser, report.as_uri(), 1280)
        yield visit
        visit.page.close()


def test_the_simulated_banner_stays_at_the_top_while_scrolling(page: Visit) -> None:
    assert page.errors == []
    banner = page.page.locator(".simulated-banner")
    assert "Simulated audience" in banner.inner_text()
    page.page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.page.wait_for_function("window.scrollY > 1000")
    assert banner.is_visible()
    top = banner.evaluate("b => b.getBoundingClientRect().top")
    assert top == 0
    last = page.page.locator("article.publication").last
    assert "Simulated" in last.locator("h3").inner_text()
