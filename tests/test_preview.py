"""`campaign preview`: a static HTML folder, read back with the standard library's parser."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Iterator
from datetime import date
from fnmatch import fnmatchcase
from html.parser import HTMLParser
from itertools import pairwise
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from PIL import Image
from typer.testing import CliRunner

from campaign.config import Config, load_config
from campaign.post import Post
from campaign.preview import PreviewResult, build_preview, default_output_dir
from campaign.preview.calendar_view import month_calendars
from campaign.preview.view import caption_lines, direction, web_address
from scheduler.cli.app import app
from tests.conftest import GOOD_POST, NOW, Campaign, write_image

ROOT = Path(__file__).parent.parent
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


# --- A small DOM from html.parser ------------------------------------------------------------


@dataclasses.dataclass(eq=False)
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node | str] = dataclasses.field(default_factory=list, repr=False)

    def iter(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.iter()

    def find_all(self, tag: str | None = None, **attrs: str) -> list[Node]:
        return [
            node
            for node in self.iter()
            if (tag is None or node.tag == tag)
            and all(
                node.attrs.get(key.rstrip("_").replace("_", "-")) == value
                for key, value in attrs.items()
            )
        ]

    def find(self, tag: str | None = None, **attrs: str) -> Node:
        found = self.find_all(tag, **attrs)
        assert found, f"no <{tag} {attrs}>"
        return found[0]

    def by_class(self, name: str) -> list[Node]:
        return [n for n in self.iter() if name in n.attrs.get("class", "").split()]

    @property
    def text(self) -> str:
        """The text as shown: ``<br>`` is a line break, white space otherwise as written."""
        parts = []
        for child in self.children:
            if isinstance(child, str):
                parts.append(child)
            elif child.tag == "br":
                parts.append("\n")
            else:
                parts.append(child.text)
        return "".join(parts)

    @property
    def words(self) -> str:
        return " ".join(self.text.split())


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {key: value or "" for key, value in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, {key: value or "" for key, value in attrs}))

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        assert self.stack[-1].tag == tag, f"</{tag}> closes <{self.stack[-1].tag}>"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(html: str) -> Node:
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    assert builder.stack == [builder.root], "unclosed elements"
    return builder.root


# --- Helpers ---------------------------------------------------------------------------------


def sample_config(build_dir: Path) -> Config:
    """The repository's config.toml, unchanged except that renditions go to ``build_dir``."""
    config = load_config(ROOT / "config.toml")
    render = config.render.model_copy(update={"build": str(build_dir)})
    return dataclasses.replace(
        config, settings=config.settings.model_copy(update={"render": render})
    )


def build_sample(tmp_path_factory: pytest.TempPathFactory) -> PreviewResult:
    """The sample campaign's preview. Renditions are shared by every test of the session."""
    config = sample_config(tmp_path_factory.getbasetemp() / "sample-build")
    return build_preview(config, tmp_path_factory.mktemp("sample-preview"), now=NOW)


def article(page: Node, post: Post) -> Node:
    return page.find("article", id=post.id)


def mock(section: Node, channel: str) -> Node:
    return section.by_class(f"mock-{channel}")[0]


def caption_text(node: Node) -> str:
    return node.text


def assert_self_contained(result: PreviewResult, *forbidden: Path) -> None:
    """Relative links only, nothing from the network, no path of the machine that built it."""
    html = result.index.read_text(encoding="utf-8")
    css = (result.output_dir / "preview.css").read_text(encoding="utf-8")
    for text in (html, css):
        assert "file:" not in text
        for path in (*forbidden, Path.home()):
            assert str(path) not in text
    assert "<script" not in html
    assert "@import" not in css
    assert re.findall(r"url\(([^)]*)\)", css) == ['"img/avatar.png"']
    page = parse(html)
    for node in page.iter():
        for name in ("src", "href", "srcset", "poster", "data", "action"):
            if name not in node.attrs:
                continue
            value = node.attrs[name]
            parts = urlsplit(value)
            if parts.scheme:
                # A link a person may follow (the post's web address) is fine; a resource the
                # page would load from elsewhere is not.
                assert node.tag == "a" and parts.scheme in ("http", "https"), (node.tag, value)
                continue
            assert not value.startswith(("/", "\\")), value
            if value.startswith("#"):
                assert page.find_all(id=unquote(value[1:])), f"dangling link {value}"
            else:
                assert (result.index.parent / unquote(parts.path)).is_file(), value
        assert "style" not in node.attrs or "url(" not in node.attrs["style"]


# --- The sample campaign ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[PreviewResult, Node]:
    result = build_sample(tmp_path_factory)
    return result, parse(result.index.read_text(encoding="utf-8"))


def test_sample_builds_without_problems(sample) -> None:
    result, _ = sample
    assert result.ok
    assert result.broken_files == []
    assert len(result.posts) == len(list((ROOT / "posts").glob("*.yaml")))
    assert result.images == sum(len(p.images) * len(p.channels) for p in result.posts)
    assert {p.name for p in result.output_dir.iterdir()} == {"index.html", "preview.css", "img"}


def test_every_post_has_a_section_in_time_order(sample) -> None:
    result, page = sample
    sections = page.find_all("article")
    assert [s.attrs["id"] for s in sections] == [p.id for p in result.posts]
    times = [p.publish_at.utc for p in result.posts]
    assert times == sorted(times)
    for post in result.posts:
        section = article(page, post)
        assert f"posts/{post.id}.yaml" in section.words
        assert section.find("time").attrs["datetime"] == post.publish_at.local.isoformat(
            timespec="minutes"
        )
        assert post.publish_at.local.strftime("%H:%M") in section.find("h3").words
        for tag in post.tags:
            assert tag in [li.words for li in section.by_class("tags")[0].find_all("li")]
        channels = [m.attrs["class"].split()[1] for m in section.by_class("mock")]
        assert channels == [f"mock-{post.account_platform[a]}" for a in post.accounts]


def test_every_ready_post_is_on_its_local_day_in_the_calendar(sample) -> None:
    result, page = sample
    ready = [p for p in result.posts if p.is_ready]
    assert len(ready) >= 15
    for post in ready:
        day = page.find("td", data_date=post.publish_at.local.date().isoformat())
        links = [a.attrs["href"] for a in day.find_all("a")]
        assert f"#{post.id}" in links, post.id
    linked = [a.attrs["href"] for td in page.find_all("td") for a in td.find_all("a")]
    assert sorted(linked) == sorted(f"#{p.id}" for p in result.posts)


def test_calendar_weeks_start_on_monday(sample) -> None:
    _, page = sample
    table = page.find("table")
    assert table.find("caption").words.startswith("September 2021")
    headers = [th.words for th in table.find("thead").find_all("th")]
    assert headers == ["Wk", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    first_week = table.find("tbody").find("tr")
    assert first_week.find("th").words == "Week 35"
    assert page.find("td", data_date="2021-09-01") in first_week.iter()  # a Wednesday
    assert len(table.find("tbody").find_all("tr")) == 5


def test_images_are_copied_and_carry_the_posts_alt_text(sample) -> None:
    result, page = sample
    seen = set()
    for post in result.posts:
        section = article(page, post)
        for account in post.accounts:  # one mock-up per account
            images = section.find("section", aria_labelledby=f"{post.id}-{account}").find_all("img")
            assert [img.attrs["alt"] for img in images] == [i.alt for i in post.images]
            for img in images:
                assert img.attrs["alt"].strip()
                assert img.attrs["src"].startswith(f"img/{post.id}/")
                file = result.index.parent / unquote(img.attrs["src"])
                assert file.is_file() and file.stat().st_size > 0
                with Image.open(file) as opened:
                    assert opened.size == (int(img.attrs["width"]), int(img.attrs["height"]))
                seen.add(file)
    # accounts of one platform show its one rendition
    assert len(page.find_all("img")) == sum(len(p.images) * len(p.accounts) for p in result.posts)
    assert result.images == len(seen)


def test_captions_keep_their_line_breaks(sample) -> None:
    result, page = sample
    for post in result.posts:
        section = article(page, post)
        for channel in post.channels:
            caption = mock(section, channel).by_class("caption")[0]
            assert caption_text(caption) == post.caption_for(channel)
    multi_line = [p for p in result.posts if "\n" in p.caption_for(p.channels[0])]
    assert multi_line
    assert article(page, multi_line[0]).find_all("br")


def test_hashtags_are_marked_and_facebook_links_are_shown(sample) -> None:
    result, page = sample
    post = next(p for p in result.posts if p.facebook.link and "instagram" in p.channels)
    section = article(page, post)
    hashtags = [n.words for n in mock(section, "facebook").by_class("hashtag")]
    assert "#demokrati100" in hashtags
    link = mock(section, "facebook").by_class("fb-link")[0]
    assert link.tag == "a" and link.attrs["href"] == post.facebook.link
    assert not mock(section, "instagram").by_class("fb-link")


def test_arabic_post_is_right_to_left(sample) -> None:
    result, page = sample
    arabic = [p for p in result.posts if p.language == "ar"]
    assert arabic
    for post in arabic:
        section = article(page, post)
        captions = section.by_class("caption")
        assert len(captions) == len(post.channels)
        for caption in captions:
            assert caption.attrs["dir"] == "rtl" and caption.attrs["lang"] == "ar"
        assert all(img.attrs["lang"] == "ar" for img in section.find_all("img"))
    swedish = next(p for p in result.posts if p.language == "sv")
    assert {c.attrs["dir"] for c in article(page, swedish).by_class("caption")} == {"ltr"}


def test_drafts_are_clearly_marked(sample) -> None:
    result, page = sample
    drafts = [p for p in result.posts if not p.is_ready]
    assert drafts
    for post in result.posts:
        section = article(page, post)
        badge = section.find("header").by_class("badge")[0]
        entry = page.find("a", href=f"#{post.id}")
        calendar_badges = [
            n.words
            for li in page.by_class("entry")
            if entry in li.iter()
            for n in li.by_class("badge")
        ]
        if post.is_ready:
            assert badge.words == "Ready" and calendar_badges == ["Ready"]
            assert "post-ready" in section.attrs["class"]
        else:
            assert badge.words == "Draft" and calendar_badges == ["Draft"]
            assert "post-draft" in section.attrs["class"]
            assert "will not be published" in section.by_class("draft-note")[0].words


def test_each_post_shows_what_campaign_check_says(sample) -> None:
    result, page = sample
    for post in result.posts:
        check = article(page, post).by_class("check")[0]
        problems = [d for d in result.diagnostics if d.path == post.path]
        items = check.by_class("problem")
        assert len(items) == len(problems)
        for item, problem in zip(items, problems, strict=True):
            assert f"line {problem.position.line}, column {problem.position.column}" in item.words
            assert problem.message.split(" ")[0] in item.words
    assert not page.find_all(id="needs-fixing")


def test_ids_are_unique_and_every_reference_resolves(sample) -> None:
    _, page = sample
    ids = [node.attrs["id"] for node in page.iter() if "id" in node.attrs]
    assert len(ids) == len(set(ids))
    for node in page.iter():
        for name in ("aria-labelledby", "aria-describedby"):
            if name in node.attrs:
                assert node.attrs[name] in ids, (node.tag, node.attrs)
    headings = [int(n.tag[1]) for n in page.iter() if re.fullmatch(r"h[1-6]", n.tag)]
    assert headings[0] == 1 and headings.count(1) == 1
    assert all(b - a <= 1 for a, b in pairwise(headings))


def test_sample_preview_is_self_contained(sample) -> None:
    result, _ = sample
    assert_self_contained(result, ROOT, result.output_dir)


# --- A temporary campaign --------------------------------------------------------------------

ESCAPED_POST = """\
publish_at: 2030-09-16 00:30
channels: [facebook, instagram]
status: draft
language: en
tags: [test, "<b>tag</b>"]
caption: |
  Watch <script>alert("x")</script> & "quotes" <b>here</b>
  second line
  #val2022 @sodertalje www.sodertalje.se/val
images:
  - file: one.jpg
    alt: First <img> picture & "quoted" text
  - file: two.jpg
    alt: Second picture, a polling station with a long queue.
facebook:
  link: https://www.sodertalje.se/demokrati
instagram:
  first_comment: "Read more: link in bio #val2022"
"""

TEXT_ONLY_POST = """\
publish_at: 2030-10-01 12:00
channels: [facebook]
status: ready
caption: Bara text den här gången.
"""

BROKEN_POST = """\
publish_at: 2030-09-20 09:00
channels: [facebook]
status: klar
caption: Hej
"""


@pytest.fixture
def temp_campaign(campaign: Campaign) -> Campaign:
    Image.new("RGBA", (64, 64), (27, 54, 93, 255)).save(campaign.root / "logo.png")
    campaign.config_text += '\n[brand]\nlogo = "logo.png"\n\n[render]\nwidth = 320\n'
    campaign.post("2030-09-15-bra", GOOD_POST)
    campaign.post("2030-09-16-escaped", ESCAPED_POST, image=None)
    write_image(campaign.posts / "one.jpg")
    write_image(campaign.posts / "two.jpg")
    campaign.post("2030-10-01-text", TEXT_ONLY_POST, image=None)
    campaign.post("2030-09-20-trasig", BROKEN_POST, image=None)
    return campaign


@pytest.fixture
def temp_preview(temp_campaign: Campaign) -> tuple[PreviewResult, Node, str]:
    result = build_preview(temp_campaign.config(), None, now=NOW)
    html = result.index.read_text(encoding="utf-8")
    return result, parse(html), html


def test_default_output_is_output_preview(temp_campaign: Campaign, temp_preview) -> None:
    result, _, _ = temp_preview
    assert result.output_dir == temp_campaign.root / "output" / "preview"
    assert result.output_dir == default_output_dir(temp_campaign.config())
    assert result.index == result.output_dir / "index.html"


def test_html_in_captions_and_alt_texts_is_escaped(temp_preview) -> None:
    result, page, html = temp_preview
    post = next(p for p in result.posts if p.id == "2030-09-16-escaped")
    assert "<script" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(" in html
    section = article(page, post)
    for channel in post.channels:
        caption = mock(section, channel).by_class("caption")[0]
        assert caption_text(caption) == post.caption_for(channel)
        assert caption.find_all("span") and not caption.find_all("script")
        assert mock(section, channel).find("img").attrs["alt"] == post.images[0].alt
    assert "<b>tag</b>" in [li.words for li in section.by_class("tags")[0].find_all("li")]


def test_carousel_first_comment_and_links(temp_preview) -> None:
    _, page, _ = temp_preview
    section = page.find("article", id="2030-09-16-escaped")
    instagram = mock(section, "instagram")
    assert len(instagram.by_class("ig-slide")) == 2
    assert [n.words for n in instagram.by_class("ig-counter")] == ["1/2", "2/2"]
    assert "carousel of 2 images" in instagram.find("h4").words
    comment = instagram.by_class("ig-comment")[0]
    assert comment.by_class("comment")[0].text == "Read more: link in bio #val2022"
    # Facebook makes a web address in the text clickable; Instagram does not.
    facebook = mock(section, "facebook")
    assert facebook.find("a", href="https://www.sodertalje.se/val").words == "www.sodertalje.se/val"
    assert not [a for a in instagram.find_all("a")]
    assert instagram.by_class("link")[0].words == "www.sodertalje.se/val"
    assert [n.words for n in facebook.by_class("mention")] == ["@sodertalje"]
    assert len(facebook.by_class("fb-album-2")[0].find_all("img")) == 2


def test_post_without_images_shows_no_img(temp_preview) -> None:
    _, page, _ = temp_preview
    section = page.find("article", id="2030-10-01-text")
    assert not section.find_all("img")
    assert caption_text(section.by_class("caption")[0]) == "Bara text den här gången."


def test_calendar_uses_swedish_local_time(temp_preview) -> None:
    result, page, _ = temp_preview
    post = next(p for p in result.posts if p.id == "2030-09-16-escaped")
    assert post.publish_at.utc.date() == date(2030, 9, 15)  # 22:30 UTC the day before
    day = page.find("td", data_date="2030-09-16")
    assert day.find("a", href="#2030-09-16-escaped").find("time").words == "00:30"
    assert not page.find("td", data_date="2030-09-15").find_all("a", href="#2030-09-16-escaped")
    assert [t.find("caption").words.split(" post")[0] for t in page.find_all("table")] == [
        "September 2030 2",
        "October 2030 1",
    ]
    draft_entry = page.find("a", href="#2030-09-16-escaped")
    assert any(
        badge.words == "Draft"
        for li in page.by_class("entry-draft")
        if draft_entry in li.iter()
        for badge in li.by_class("badge")
    )


def test_broken_file_is_listed_under_needs_fixing_with_its_line(temp_preview) -> None:
    result, page, _ = temp_preview
    assert not result.ok
    assert [p.name for p in result.broken_files] == ["2030-09-20-trasig.yaml"]
    fixing = page.find("section", id="needs-fixing")
    assert page.find("main").children.index(fixing) < page.find("main").children.index(
        page.find("section", id="calendar")
    )
    assert fixing.find("h2").words == "Needs fixing"
    item = fixing.by_class("broken-file")[0]
    assert item.find("code").words == "posts/2030-09-20-trasig.yaml"
    problem = item.by_class("problem-error")[0]
    assert "line 3, column 9" in problem.words
    assert [code.words for code in problem.find_all("code")][:1] == ["status"]
    assert "`" not in problem.words  # check's code marks are shown as code, not backticks
    assert not page.find_all("article", id="2030-09-20-trasig")
    assert "1 file needs fixing" in page.by_class("summary")[0].words


def test_code_marks_in_messages_are_code_elements_and_never_html(campaign: Campaign) -> None:
    campaign.config_text += "\n[render]\nwidth = 320\n"
    campaign.post("2030-09-15-bra", GOOD_POST + '"<script>alert(1)</script>": x\n')
    result = build_preview(campaign.config(), None, now=NOW)
    html = result.index.read_text(encoding="utf-8")
    assert "<script" not in html
    problem = parse(html).by_class("problem-error")[0]
    codes = [code.words for code in problem.find_all("code")]
    assert codes[0] == "<script>alert(1)</script>", problem.words  # "unknown key `…`"
    assert not problem.find_all("script")


def test_temp_preview_is_self_contained(temp_campaign: Campaign, temp_preview) -> None:
    result, _, _ = temp_preview
    assert_self_contained(result, temp_campaign.root)


def test_rebuild_keeps_only_the_images_in_use(temp_campaign: Campaign, temp_preview) -> None:
    result, _, _ = temp_preview
    stale = result.output_dir / "img" / "old-post" / "facebook-1-0123.jpg"
    stale.parent.mkdir()
    stale.write_bytes(b"old")
    (temp_campaign.posts / "2030-09-16-escaped.yaml").unlink()
    again = build_preview(temp_campaign.config(), result.output_dir, now=NOW)
    assert again.removed == 1 + 2 * 2  # the stale file, and the deleted post's renditions
    assert not stale.parent.exists()
    files = {p for p in (again.output_dir / "img").rglob("*") if p.is_file()}
    assert len(files) == again.images + 1  # and the avatar
    assert again.report.cached and not again.report.made


def test_paths_limit_the_preview_to_some_files(temp_campaign: Campaign) -> None:
    config = temp_campaign.config()
    result = build_preview(
        config, None, paths=[temp_campaign.posts / "2030-09-15-bra.yaml"], now=NOW
    )
    assert [p.id for p in result.posts] == ["2030-09-15-bra"] and result.ok


# --- Wiring: the command, the package data, the dependencies -------------------------------


def run_cli(campaign: Campaign, *args: str):
    result = CliRunner().invoke(app, ["--config", str(campaign.config_path), *args])
    assert "No such command" not in result.output, (
        "`campaign preview` is not in campaign/cli.py yet: add the command that calls "
        "scheduler.cli.preview.run_preview."
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def test_cli_preview_exit_codes_and_messages(temp_campaign: Campaign) -> None:
    temp_campaign.config()
    output = temp_campaign.root / "shared" / "preview"
    result = run_cli(temp_campaign, "preview", "--output", str(output), "--jobs", "1")
    assert result.exit_code == 1  # a post file has errors: the preview is written all the same
    assert "needs fixing" in result.output and "2030-09-20-trasig.yaml" in result.output
    assert "Preview of 3 posts (2 ready, 1 draft)" in result.output
    assert (output / "index.html").is_file()
    (temp_campaign.posts / "2030-09-20-trasig.yaml").unlink()
    result = run_cli(temp_campaign, "preview", "-o", str(output))
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output


def test_cli_preview_set_up_problems_exit_2(temp_campaign: Campaign) -> None:
    temp_campaign.config_text = temp_campaign.config_text.replace("logo.png", "missing.png")
    temp_campaign.config()
    result = run_cli(temp_campaign, "preview")
    assert result.exit_code == 2 and "missing.png" in result.output
    result = run_cli(temp_campaign, "preview", str(temp_campaign.posts / "nothing.yaml"))
    assert result.exit_code == 2 and "no such file or folder" in result.output


def _glob_matches(path: str, pattern: str) -> bool:
    """setuptools' package-data globs: ``*`` stays within one folder."""
    parts, pattern_parts = path.split("/"), pattern.split("/")
    return len(parts) == len(pattern_parts) and all(
        fnmatchcase(part, glob) for part, glob in zip(parts, pattern_parts, strict=True)
    )


def test_templates_and_dependencies_are_declared() -> None:
    """An installed package (not only this checkout) has the templates, Jinja2 and Playwright."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    globs = project["tool"]["setuptools"]["package-data"]["campaign"]
    templates = ROOT / "campaign" / "templates" / "preview"
    for file in templates.iterdir():
        relative = file.relative_to(ROOT / "campaign").as_posix()
        assert any(_glob_matches(relative, glob) for glob in globs), (
            f"{relative} is not in [tool.setuptools.package-data] campaign of pyproject.toml"
        )
    names = [re.split(r"[<>=!~ \[]", d)[0].lower() for d in project["project"]["dependencies"]]
    assert "jinja2" in names
    tests = project["project"]["optional-dependencies"]["test"]
    assert "playwright" in [re.split(r"[<>=!~ \[]", d)[0].lower() for d in tests]


# --- The parts -------------------------------------------------------------------------------


def test_caption_segments() -> None:
    (line,) = caption_lines("Se #val2022, @kommun och sodertalje.se/val.", links=True)
    assert [(s.kind, s.text, s.href) for s in line] == [
        ("text", "Se ", None),
        ("hashtag", "#val2022", None),
        ("text", ", ", None),
        ("mention", "@kommun", None),
        ("text", " och ", None),
        ("link", "sodertalje.se/val", "https://sodertalje.se/val"),
        ("text", ".", None),
    ]
    assert [s.href for s in caption_lines("https://x.se/#a", links=False)[0]] == [None]
    assert caption_lines("a\n\nb", links=False)[1] == ()


def test_web_addresses_are_only_http() -> None:
    assert web_address("https://www.sodertalje.se/") == "https://www.sodertalje.se/"
    assert web_address("www.sodertalje.se") == "https://www.sodertalje.se"
    assert web_address("javascript:alert(1)") is None
    assert direction("ar") == "rtl" and direction("fa-IR") == "rtl" and direction("sv") == "ltr"


def test_month_calendars_have_only_months_with_entries() -> None:
    months = month_calendars([(date(2021, 9, 30), "a"), (date(2021, 11, 1), "b")])
    assert [m.title for m in months] == ["September 2021", "November 2021"]
    november = months[1]
    first = november.weeks[0]
    assert first.number == 44 and first.days[0].date == date(2021, 11, 1)  # a Monday
    assert first.days[0].entries == ("b",)
    september = months[0]
    last = september.weeks[-1]
    assert [d.in_month for d in last.days] == [True, True, True, True, False, False, False]
    assert all(d.date.weekday() == 0 for d in (w.days[0] for w in september.weeks))
    assert september.entry_count == 1
