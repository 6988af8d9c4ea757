"""The engagement report (`campaign stats --html`): one self-contained page, read back.

A real SQLite store with publications published through the store's own claim and finish,
samples at several ages, and renditions on disk (one missing); the page is parsed with the
standard library's HTML parser (the small DOM of ``tests.test_preview``).
"""

from __future__ import annotations

import base64
import io
import json
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from PIL import Image

from campaign.config import Config
from scheduler.engagement.charts import age_label
from scheduler.engagement.report import build_report
from scheduler.store.models import Mode, Sample, State
from scheduler.store.store import Store
from tests.conftest import Campaign, write_image
from tests.test_preview import ROOT, Node, _glob_matches, parse

NOW = datetime(2021, 10, 20, 10, 0, tzinfo=UTC)  # 12:00 in Stockholm (CEST)
HOURS = (1, 6, 24, 72, 168, 720)
SWEDISH_CAPTION = (
    "Rösta för framtiden! Åsa, Örjan och Ängel <script>alert('å')</script>\n"
    "Rad två om vallokalen\n"
    "Rad tre #demokrati100\n"
    "Rad fyra syns inte"
)
ARABIC_CAPTION = "يوم الديمقراطية <b>مهم</b>\nتعالوا وتحدثوا معنا"


@dataclass(frozen=True)
class Published:
    """A publication as the test made it."""

    id: int
    post_id: str
    channel: str
    url: str | None
    latest: dict[str, int | None]


@dataclass(frozen=True)
class Report:
    """The built report: its file, its text, its parsed page, and what it was made of."""

    path: Path
    html: str
    page: Node
    config: Config
    store: Store
    published: dict[str, Published]


def publish(
    store: Store,
    key: str,
    post_id: str,
    channel: str,
    at: datetime,
    *,
    language: str,
    tags: tuple[str, ...],
    caption: str,
    media: list[dict[str, str]],
    url: str | None,
    mode: Mode = Mode.LIVE,
) -> int:
    """A publication taken through the store's exactly-once path to published at ``at``."""
    row = store.ensure_publication(
        post_id, channel, at, at - timedelta(days=1), mode, language=language, tags=tags
    )
    assert row.id is not None
    claim = store.claim(
        row.id,
        now=at,
        claimed_by=f"test-{key}",
        fingerprint="0" * 64,
        caption=caption,
        media_json=json.dumps(media, ensure_ascii=False),
        link=None,
        first_comment=None,
    )
    assert claim is not None
    assert store.finish(
        claim, row.id, now=at, state=State.PUBLISHED, outcome="published", remote_id=key, url=url
    )
    return row.id


def add_samples(
    store: Store, publication_id: int, at: datetime, counts: dict[str, list[int | None]]
) -> dict[str, int | None]:
    """One sample per age of ``HOURS`` (counts[metric][i] at HOURS[i]); the latest counts."""
    ages = HOURS[: len(next(iter(counts.values())))]
    for index, hours in enumerate(ages):
        values = {metric: series[index] for metric, series in counts.items()}
        taken = at + timedelta(hours=hours, minutes=2)
        assert store.add_sample(
            Sample(
                publication_id=publication_id,
                taken_at=taken,
                age_seconds=hours * 3600 + 120,
                target_age_seconds=hours * 3600,
                **values,
            )
        )
    return {metric: series[len(ages) - 1] for metric, series in counts.items()}


def rendition(config: Config, post_id: str, name: str, size: tuple[int, int]) -> dict[str, str]:
    """A rendition file in the build folder, and its media_json entry."""
    write_image(config.build_dir / "renditions" / post_id / name, size)
    return {"file": name, "alt": f"Bild till {post_id}: Åsa vid valurnan", "sha256": "0" * 64}


def make_report(root: Path, *, extra: int = 0, samples: int = 6) -> Report:
    """The test campaign's store and report; ``extra`` more publications for load tests."""
    config = Campaign(root).config()
    store = Store.open(f"sqlite:///{root / 'campaign.db'}")
    published: dict[str, Published] = {}

    def add(key: str, post_id: str, channel: str, at: datetime, counts, **kwargs) -> None:
        publication_id = publish(store, key, post_id, channel, at, **kwargs)
        latest = add_samples(store, publication_id, at, counts) if counts else {}
        published[key] = Published(publication_id, post_id, channel, kwargs.get("url"), latest)

    monday = datetime(2021, 9, 13, 7, 0, tzinfo=UTC)  # Monday 09:00 in Stockholm
    add(
        "valet-fb",
        "2021-09-13-valet",
        "facebook",
        monday,
        {
            "reactions": [10, 40, 80, 100, 110, 120],
            "comments": [1, 3, 5, 6, 6, 7],
            "shares": [0, 2, 4, 5, 5, 6],
            "views": [800, 4000, 9000, 11000, 12000, 12345],
        },
        language="sv",
        tags=("demokrati", "val2022"),
        caption=SWEDISH_CAPTION,
        media=[rendition(config, "2021-09-13-valet", "facebook-1-aaaa.jpg", (1080, 1350))],
        url="https://www.facebook.com/sodertalje/posts/111",
    )
    add(
        "valet-ig",
        "2021-09-13-valet",
        "instagram",
        monday,
        {
            "reactions": [5, 20, 40, 50, 55, 60],
            "comments": [0, 2, 4, 8, 9, 9],
            "shares": [None] * 6,  # Instagram gives no shares
            "saves": [0, 1, 2, 3, 4, 4],
        },
        language="sv",
        tags=("demokrati", "val2022"),
        caption=SWEDISH_CAPTION,
        media=[
            rendition(config, "2021-09-13-valet", "instagram-1-bbbb.jpg", (1080, 1080)),
            rendition(config, "2021-09-13-valet", "instagram-2-cccc.jpg", (1080, 1080)),
        ],
        url="https://www.instagram.com/p/ABC123/",
    )
    add(
        "dag-fb",
        "2021-09-15-demokratidagen",
        "facebook",
        datetime(2021, 9, 15, 16, 30, tzinfo=UTC),  # Wednesday 18:30
        {"reactions": [4, 12, 30], "comments": [0, 1, 3], "shares": [0, 1, 2]},
        language="ar",
        tags=("demokrati",),
        caption=ARABIC_CAPTION,
        # The rendition was cleaned away since: the page shows no thumbnail.
        media=[{"file": "facebook-1-gone.jpg", "alt": "Borta", "sha256": "0" * 64}],
        url="https://www.facebook.com/sodertalje/posts/333",
    )
    add(
        "lordag-ig",
        "2021-09-18-lordag",
        "instagram",
        datetime(2021, 9, 18, 10, 5, tzinfo=UTC),  # Saturday 12:05
        {"reactions": [1, 5], "comments": [0, 0], "shares": [None, None], "saves": [0, 1]},
        language="en",
        tags=(),
        caption="Saturday at the library",
        media=[rendition(config, "2021-09-18-lordag", "instagram-1-dddd.jpg", (1080, 1080))],
        url="https://www.instagram.com/p/DEF456/",
    )
    add(
        "tack-dry",
        "2021-09-20-tack",
        "facebook",
        datetime(2021, 9, 20, 7, 15, tzinfo=UTC),
        None,  # no samples: a dry run is never sampled
        language="en",
        tags=("tack",),
        caption="Tack för i år!",
        media=[rendition(config, "2021-09-20-tack", "facebook-1-eeee.jpg", (1080, 1350))],
        url="file:///srv/campaign/outbox/2021-09-20-tack/facebook",
        mode=Mode.DRY_RUN,
    )
    for index in range(extra):
        at = monday + timedelta(hours=7 * index)
        post_id = f"2021-09-{13 + index // 10:02d}-extra-{index}"
        add(
            f"extra-{index}",
            post_id,
            ("facebook", "instagram")[index % 2],
            at,
            {
                "reactions": [index + 10 * age for age in range(samples)],
                "comments": [age for age in range(samples)],
                "shares": [age // 2 for age in range(samples)],
                "saves": [None] * samples,
                "views": [1000 * age for age in range(samples)],
            },
            language=("sv", "en", "ar", "fi")[index % 4],
            tags=(f"tema{index % 5}", "demokrati"),
            caption=f"Inlägg {index}: Åäö\nmed två rader",
            media=[rendition(config, post_id, f"x-{index}.jpg", (1080, 1350))],
            url=f"https://www.facebook.com/sodertalje/posts/{1000 + index}",
        )
    ids = [p.id for p in published.values()]
    path = build_report(config, store, ids, root / "report", now=NOW)
    html = path.read_text(encoding="utf-8")
    return Report(path, html, parse(html), config, store, published)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Report]:
    built = make_report(tmp_path_factory.mktemp("report"))
    yield built
    built.store.close()


def article(report: Report, key: str) -> Node:
    return report.page.find("article", id=f"publication-{report.published[key].id}")


def words(node: Node) -> str:
    """Text as shown, with the thousands' narrow spaces read as plain spaces."""
    return node.words.replace("\u202f", " ")


def table_rows(report: Report, anchor: str) -> list[list[str]]:
    table = report.page.find("section", id=anchor).find("table")
    return [
        [words(cell) for cell in row.iter() if cell.tag in ("th", "td")]
        for row in table.iter()
        if row.tag == "tr"
    ]


def decode(src: str, kind: str) -> bytes:
    prefix = f"data:{kind};base64,"
    assert src.startswith(prefix), src[:40]
    return base64.b64decode(src[len(prefix) :], validate=True)


# --- The page ----------------------------------------------------------------------------------


def test_one_utf8_file_with_a_header(report: Report) -> None:
    assert [p.name for p in report.path.parent.iterdir()] == ["index.html"]
    assert report.html.startswith("<!doctype html>")
    assert report.page.find("meta", charset="utf-8")
    header = report.page.find("header")
    assert report.page.find("h1").words == "Test campaign"
    assert "4 posts · 5 publications · 4 with engagement counts" in header.words
    assert "1 dry run" in header.words
    generated = header.find("time")
    assert generated.attrs["datetime"] == "2021-10-20T12:00+02:00"  # local time
    assert generated.words == "Wed 20 Oct 2021, 12:00 CEST"


def test_every_publication_in_publishing_order(report: Report) -> None:
    shown = [node.attrs["id"] for node in report.page.find_all("article")]
    order = ["valet-fb", "valet-ig", "dag-fb", "lordag-ig", "tack-dry"]
    assert shown == [f"publication-{report.published[key].id}" for key in order]
    section = article(report, "valet-fb")
    assert section.attrs["data-post-id"] == "2021-09-13-valet"
    assert "2021-09-13-valet" in section.find("h3").words
    assert "Facebook" in section.find("h3").words
    published = section.find("time")
    assert published.attrs["datetime"] == "2021-09-13T09:00+02:00"
    assert published.words == "Mon 13 Sep 2021, 09:00"
    assert "Swedish" in section.by_class("meta")[0].words
    assert [t.words for t in section.by_class("tag")] == ["demokrati", "val2022"]


def test_latest_counts_of_each_publication(report: Report) -> None:
    fb = article(report, "valet-fb")
    cells = {td.attrs["data-metric"]: words(td) for td in fb.find_all("td")}
    assert cells == {"reactions": "120", "comments": "7", "shares": "6", "views": "12 345"}
    assert [words(th) for th in fb.find("table").find_all("th")] == [
        "Reactions",
        "Comments",
        "Shares",
        "Views",
    ]
    assert words(fb.find("caption")) == "Latest counts, at 30 d (6 samples)"
    ig = article(report, "valet-ig")
    cells = {td.attrs["data-metric"]: words(td) for td in ig.find_all("td")}
    assert cells == {"reactions": "60", "comments": "9", "saves": "4"}  # no shares: None
    never = article(report, "tack-dry")
    assert never.find_all("table") == []
    assert "No engagement counts yet" in never.words


def test_caption_first_lines_escaped_and_intact(report: Report) -> None:
    caption = article(report, "valet-fb").by_class("caption")[0]
    assert caption.text == (
        "Rösta för framtiden! Åsa, Örjan och Ängel <script>alert('å')</script>\n"
        "Rad två om vallokalen\nRad tre #demokrati100 …"
    )
    assert caption.attrs["lang"] == "sv"
    assert "Rad fyra" not in report.html
    assert "<script" not in report.html
    assert "&lt;script&gt;alert(&#39;å&#39;)&lt;/script&gt;" in report.html
    arabic = article(report, "dag-fb").by_class("caption")[0]
    assert arabic.attrs["dir"] == "rtl"
    assert arabic.attrs["lang"] == "ar"
    assert arabic.text == ARABIC_CAPTION
    assert "&lt;b&gt;مهم&lt;/b&gt;" in report.html


def test_thumbnails_are_small_embedded_jpegs(report: Report) -> None:
    for key, size, alt in [
        ("valet-fb", (240, 300), "Bild till 2021-09-13-valet: Åsa vid valurnan"),
        ("valet-ig", (240, 240), "Bild till 2021-09-13-valet: Åsa vid valurnan"),
    ]:
        image = article(report, key).by_class("thumb")[0].find("img")
        with Image.open(io.BytesIO(decode(image.attrs["src"], "image/jpeg"))) as thumbnail:
            assert thumbnail.format == "JPEG"
            assert thumbnail.size == size
        assert (image.attrs["width"], image.attrs["height"]) == tuple(map(str, size))
        assert image.attrs["alt"] == alt
    assert "+ 1 more image" in article(report, "valet-ig").words


def test_missing_rendition_shows_no_thumbnail(report: Report) -> None:
    thumb = article(report, "dag-fb").by_class("thumb")[0]
    assert thumb.find_all("img") == []
    assert thumb.words == "No image to show"
    # The rest of the publication is there all the same.
    assert article(report, "dag-fb").by_class("chart")


def test_each_sampled_publication_has_an_embedded_chart(report: Report) -> None:
    for key in ("valet-fb", "valet-ig", "dag-fb", "lordag-ig"):
        charts = [
            img
            for img in article(report, key).find_all("img")
            if "chart" in img.attrs.get("class", "")
        ]
        assert len(charts) == 1, key
        svg = decode(charts[0].attrs["src"], "image/svg+xml")
        assert b"<svg" in svg
        assert int(charts[0].attrs["width"]) > 0
    assert article(report, "tack-dry").by_class("chart") == []
    alt = article(report, "valet-fb").find("img", **{"class": "chart"}).attrs["alt"]
    assert alt == (
        "Line chart of engagement by age of 2021-09-13-valet on Facebook: reactions from 10 at "
        "1 h to 120 at 30 d; comments from 1 at 1 h to 7 at 30 d; shares from 0 at 1 h to 6 "
        "at 30 d."
    )
    ig = article(report, "valet-ig").find("img", **{"class": "chart"}).attrs["alt"]
    assert "shares" not in ig and "saves from 0 at 1 h to 4 at 30 d" in ig


def test_dry_run_is_marked_and_its_file_address_not_linked(report: Report) -> None:
    section = article(report, "tack-dry")
    assert section.by_class("badge-dry-run")[0].words == "Dry run"
    assert section.find_all("a") == []
    assert "file:" not in report.html


# --- Comparisons -------------------------------------------------------------------------------


HEAD = ["Publications", "Reactions", "Comments", "Shares"]


def test_averages_by_tag(report: Report) -> None:
    # demokrati: valet-fb, valet-ig, dag-fb; shares only where given: (6 + 2) / 2.
    # lordag-ig has no tag; tack (the dry run) has no samples and is left out.
    assert table_rows(report, "by-tag") == [
        ["Tag", *HEAD],
        ["demokrati", "3", "70.0", "6.3", "4.0"],
        ["val2022", "2", "90.0", "8.0", "6.0"],
        ["(no tag)", "1", "5.0", "0.0", "–"],
    ]


def test_averages_by_weekday_in_local_time(report: Report) -> None:
    assert table_rows(report, "by-weekday") == [
        ["Weekday", *HEAD],
        ["Monday", "2", "90.0", "8.0", "6.0"],
        ["Wednesday", "1", "30.0", "3.0", "2.0"],
        ["Saturday", "1", "5.0", "0.0", "–"],
    ]


def test_averages_by_local_hour(report: Report) -> None:
    assert table_rows(report, "by-hour") == [
        ["Hour", *HEAD],
        ["09:00–09:59", "2", "90.0", "8.0", "6.0"],
        ["12:00–12:59", "1", "5.0", "0.0", "–"],
        ["18:00–18:59", "1", "30.0", "3.0", "2.0"],
    ]


def test_averages_by_language(report: Report) -> None:
    assert table_rows(report, "by-language") == [
        ["Language", *HEAD],
        ["Arabic (ar)", "1", "30.0", "3.0", "2.0"],
        ["English (en)", "1", "5.0", "0.0", "–"],
        ["Swedish (sv)", "2", "90.0", "8.0", "6.0"],
    ]


def test_comparison_charts_are_embedded_and_described(report: Report) -> None:
    for anchor, what in [
        ("by-tag", "tag"),
        ("by-weekday", "weekday"),
        ("by-hour", "hour"),
        ("by-language", "language"),
    ]:
        section = report.page.find("section", id=anchor)
        image = section.find("img")
        assert b"<svg" in decode(image.attrs["src"], "image/svg+xml")
        assert image.attrs["alt"].startswith(
            f"Bar chart of the average reactions, comments and shares by {what}: "
        )
        assert section.find("table").find_all("th", scope="col")
    alt = report.page.find("section", id="by-weekday").find("img").attrs["alt"]
    assert "Monday 90.0, 8.0, 6.0; Wednesday 30.0, 3.0, 2.0; Saturday 5.0, 0.0, –" in alt


# --- Self-contained, accessible ----------------------------------------------------------------


def test_nothing_external_but_the_posts_own_links(report: Report) -> None:
    links = {p.url for p in report.published.values() if p.url and p.url.startswith("https:")}
    followed = set()
    for node in report.page.iter():
        for name in ("src", "href", "srcset", "poster", "data", "action"):
            if name not in node.attrs:
                continue
            value = node.attrs[name]
            if node.tag == "img" and name == "src":
                assert value.startswith("data:image/"), value[:40]
            elif value.startswith("#"):
                assert report.page.find_all(id=value[1:]), value
            else:
                assert (node.tag, name) == ("a", "href") and value in links, value
                followed.add(value)
    assert followed == links
    # No stylesheet, script, font or import from anywhere (the styles are inline).
    assert not report.page.find_all("link") and not report.page.find_all("script")
    assert "@import" not in report.html and "url(" not in report.html
    addresses = set(re.findall(r"""https?://[^\s"'<>]+""", report.html))
    assert addresses == links
    assert all(urlsplit(link).scheme == "https" for link in followed)


def test_every_image_has_alt_text_and_every_table_headers(report: Report) -> None:
    images = report.page.find_all("img")
    assert len(images) == 4 + 4 + 4  # thumbnails (one missing), timelines, comparisons
    assert all(image.attrs.get("alt", "").strip() for image in images)
    for table in report.page.find_all("table"):
        assert table.find_all("th"), table
        assert table.find("caption").words


def test_unknown_publication_id_is_refused(report: Report, tmp_path: Path) -> None:
    with pytest.raises(KeyError, match="no publication with id 999"):
        build_report(report.config, report.store, [report.published["valet-fb"].id, 999], tmp_path)
    assert not (tmp_path / "index.html").exists()


def test_empty_report(report: Report, tmp_path: Path) -> None:
    path = build_report(report.config, report.store, [], tmp_path / "new" / "folder", now=NOW)
    page = parse(path.read_text(encoding="utf-8"))
    assert "0 posts · 0 publications" in page.find("header").words
    assert "No publications to report." in page.words
    assert page.find_all("img") == []


def test_age_labels() -> None:
    assert [age_label(h) for h in (0.5, 1, 6, 24, 47.5, 72, 168, 720)] == [
        "30 min",
        "1 h",
        "6 h",
        "24 h",
        "47.5 h",
        "3 d",
        "7 d",
        "30 d",
    ]


def test_templates_and_matplotlib_are_declared() -> None:
    """An installed package (not only this checkout) has the report's templates and matplotlib."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    globs = project["tool"]["setuptools"]["package-data"]["scheduler"]
    templates = ROOT / "scheduler" / "templates" / "report"
    for file in templates.iterdir():
        relative = file.relative_to(ROOT / "scheduler").as_posix()
        assert any(_glob_matches(relative, glob) for glob in globs), (
            f"{relative} is not in [tool.setuptools.package-data] scheduler of pyproject.toml"
        )
    names = [re.split(r"[<>=!~ \[]", d)[0].lower() for d in project["project"]["dependencies"]]
    assert "matplotlib" in names
