"""The engagement report in a real browser (headless Chromium): what a communicator sees.

Needs Debian's Chromium at /usr/bin/chromium, as ``tests/test_preview_browser.py`` does (and
skips or, in CI, fails the same way without it). The report is opened from disk (file://).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.test_preview_browser import Visit, _require_chromium, launched_chromium
from tests.test_report import ARABIC_CAPTION, Report, make_report


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Report]:
    _require_chromium()
    built = make_report(tmp_path_factory.mktemp("report-browser"))
    yield built
    built.store.close()


@pytest.fixture(scope="module")
def browser(report: Report) -> Iterator:
    with launched_chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def desktop(browser, report: Report) -> Iterator[Visit]:
    visit = Visit(browser, report.path.as_uri(), 1280)
    yield visit
    visit.page.close()


def test_no_console_errors_and_nothing_from_the_network(desktop: Visit, report: Report) -> None:
    assert desktop.errors == []
    assert desktop.requests[0] == report.path.as_uri()
    outside = [url for url in desktop.requests if not url.startswith(("file://", "data:"))]
    assert outside == []


def test_every_chart_and_thumbnail_loads(desktop: Visit) -> None:
    images = desktop.page.eval_on_selector_all(
        "img",
        "images => images.map(i => ({chart: i.classList.contains('chart'),"
        " width: i.naturalWidth, height: i.naturalHeight, alt: i.alt}))",
    )
    charts = [image for image in images if image["chart"]]
    assert len(charts) == 4 + 4  # one per sampled publication, one per comparison
    assert len(images) - len(charts) == 4  # thumbnails; one rendition is missing
    assert [image for image in images if image["width"] <= 0 or image["height"] <= 0] == []
    assert [image for image in images if not image["alt"].strip()] == []


def test_every_publication_is_shown(desktop: Visit, report: Report) -> None:
    page = desktop.page
    for key, published in report.published.items():
        section = page.locator(f'article[id="publication-{published.id}"]')
        assert section.is_visible(), key
        assert published.post_id in section.locator("h3").inner_text()
        for metric, value in published.latest.items():
            if value is not None:
                cell = section.locator(f'td[data-metric="{metric}"]')
                assert cell.inner_text().replace("\u202f", "") == str(value), (key, metric)
    caption = page.locator(f'article[id="publication-{report.published["valet-fb"].id}"] .caption')
    # Escaped in the file, shown as the text that was posted.
    assert "Åsa, Örjan och Ängel <script>alert('å')</script>" in caption.inner_text()


def test_arabic_caption_runs_right_to_left(desktop: Visit, report: Report) -> None:
    caption = desktop.page.locator(
        f'article[id="publication-{report.published["dag-fb"].id}"] .caption'
    )
    assert caption.evaluate("c => getComputedStyle(c).direction") == "rtl"
    assert caption.inner_text() == ARABIC_CAPTION


def test_comparison_tables_are_shown(desktop: Visit) -> None:
    for anchor in ("by-tag", "by-weekday", "by-hour", "by-language"):
        section = desktop.page.locator(f'section[id="{anchor}"]')
        assert section.locator("table").is_visible()
        assert section.locator("img.chart").is_visible()


def test_narrow_screen_has_no_sideways_scrolling(browser, report: Report) -> None:
    visit = Visit(browser, report.path.as_uri(), 390)
    try:
        assert visit.errors == []
        assert visit.page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        visit.page.close()
