"""The sample campaign's preview in a real browser (headless Chromium): what a person sees.

Needs Debian's Chromium at /usr/bin/chromium (``apt-get install chromium``); Playwright drives
it, so ``playwright install`` is never needed. Without Chromium the tests are skipped, except
in CI (the environment variable CI is set), where they fail.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from campaign.preview import PreviewResult
from tests.test_preview import build_sample

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


CLOCK_SHIFT = ("LD_PRELOAD", "FAKETIME", "FAKETIME_DONT_FAKE_MONOTONIC")


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} is missing: install Debian's Chromium (apt-get install chromium)"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must run the browser tests.")
    pytest.skip(f"{reason} to run the browser tests.")


@pytest.fixture(scope="module")
def preview(tmp_path_factory: pytest.TempPathFactory) -> PreviewResult:
    _require_chromium()
    return build_sample(tmp_path_factory)


@contextmanager
def launched_chromium() -> Iterator:
    """Debian's Chromium driven by Playwright, on the real clock.

    CI runs the suite a second time with the clock shifted (``.ci/at-hour``, libfaketime
    preloaded); Playwright's driver and Chromium hang under it, and the pages they show
    depend on no clock, so they start without the preload.
    """
    from playwright.sync_api import sync_playwright

    shifted = {k: os.environ.pop(k) for k in list(os.environ) if k in CLOCK_SHIFT}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            os.environ.update(shifted)
            shifted = {}
            yield browser
            browser.close()
    finally:
        os.environ.update(shifted)


@pytest.fixture(scope="module")
def browser(preview: PreviewResult) -> Iterator:
    with launched_chromium() as browser:
        yield browser


class Visit:
    """A page opened from disk, with every console error, page error and request seen."""

    def __init__(self, browser, url: str, width: int) -> None:
        self.page = browser.new_page(viewport={"width": width, "height": 900})
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on(
            "console",
            lambda message: (
                self.errors.append(f"console: {message.text}") if message.type == "error" else None
            ),
        )
        self.page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        self.page.on("requestfailed", lambda request: self.errors.append(f"failed: {request.url}"))
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.goto(url, wait_until="load")
        self.page.wait_for_function("[...document.images].every(image => image.complete)")


@pytest.fixture(scope="module")
def desktop(browser, preview: PreviewResult) -> Iterator[Visit]:
    visit = Visit(browser, preview.index.as_uri(), 1280)
    yield visit
    visit.page.close()


def test_no_console_errors_and_nothing_from_the_network(desktop: Visit) -> None:
    assert desktop.errors == []
    assert desktop.requests
    outside = [url for url in desktop.requests if not url.startswith(("file://", "data:"))]
    assert outside == []


def test_every_image_loads_and_has_alt_text(desktop: Visit, preview: PreviewResult) -> None:
    images = desktop.page.eval_on_selector_all(
        "img",
        "images => images.map(i => ({src: i.currentSrc, width: i.naturalWidth, alt: i.alt}))",
    )
    assert len({i["src"] for i in images}) == preview.images > 0  # accounts share renditions
    assert [i["src"] for i in images if i["width"] <= 0] == []
    assert [i["src"] for i in images if not i["alt"].strip()] == []
    alts = {image.alt for post in preview.posts for image in post.images}
    assert {i["alt"] for i in images} == alts


def test_every_ready_post_is_shown_on_its_day(desktop: Visit, preview: PreviewResult) -> None:
    page = desktop.page
    ready = [post for post in preview.posts if post.is_ready]
    assert len(ready) >= 15
    for post in ready:
        day = post.publish_at.local.date().isoformat()
        entry = page.locator(f'td[data-date="{day}"] a[href="#{post.id}"]')
        assert entry.is_visible(), post.id
        assert post.publish_at.local.strftime("%H:%M") in entry.inner_text()
        section = page.locator(f'article[id="{post.id}"]')
        assert section.is_visible()
        assert section.locator(".badge").first.inner_text() == "Ready"
        for account in post.accounts:
            caption = section.locator(f'.mock[aria-labelledby="{post.id}-{account}"] .caption')
            # Line breaks as written, as a person sees them (innerText follows <br>).
            assert caption.inner_text() == post.caption_for_account(account)


def test_drafts_look_different_from_ready_posts(desktop: Visit, preview: PreviewResult) -> None:
    page = desktop.page
    drafts = [post for post in preview.posts if not post.is_ready]
    assert drafts
    for post in drafts:
        section = page.locator(f'article[id="{post.id}"]')
        assert section.locator(".badge").first.inner_text() == "Draft"
        assert "will not be published" in section.locator(".draft-note").inner_text()
        style = section.evaluate("s => getComputedStyle(s).borderTopStyle")
        assert style == "dashed"


def test_calendar_link_scrolls_to_the_post(desktop: Visit, preview: PreviewResult) -> None:
    page = desktop.page
    post = preview.posts[len(preview.posts) // 2]
    page.locator(f'td a[href="#{post.id}"]').click()
    page.wait_for_function(f"location.hash === '#{post.id}'")
    section = page.locator(f'article[id="{post.id}"]')
    page.wait_for_function(
        "id => { const r = document.getElementById(id).getBoundingClientRect();"
        " return r.top >= 0 && r.top < innerHeight; }",
        arg=post.id,
    )
    assert section.is_visible()


def test_arabic_text_runs_right_to_left(desktop: Visit, preview: PreviewResult) -> None:
    arabic = [post for post in preview.posts if post.language == "ar"]
    assert arabic
    for post in arabic:
        captions = desktop.page.locator(f'article[id="{post.id}"] .caption')
        assert captions.count() == len(post.channels)
        for index in range(captions.count()):
            assert captions.nth(index).evaluate("c => getComputedStyle(c).direction") == "rtl"


def test_narrow_screen_has_no_sideways_scrolling(browser, preview: PreviewResult) -> None:
    visit = Visit(browser, preview.index.as_uri(), 390)
    try:
        assert visit.errors == []
        width = visit.page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390
        first = preview.posts[0]
        day = first.publish_at.local.date().isoformat()
        assert visit.page.locator(f'td[data-date="{day}"] a[href="#{first.id}"]').is_visible()
    finally:
        visit.page.close()
