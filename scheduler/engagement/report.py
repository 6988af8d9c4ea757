"""`campaign stats --html DIR`: one page of how the published posts did.

The page is a single ``index.html`` that needs nothing beside it: the styles are inline, the
thumbnails (small JPEGs) and the charts (SVG) are embedded as ``data:`` URIs, so it opens from
disk, offline, or as an e-mail attachment. The only links out are the posts' own addresses.
Every count shown is a publication's latest sample; averages leave out the counts a
platform does not give (None), rather than counting them as zero.

A database whose engagement is a rehearsal's simulated audience
(:func:`scheduler.engagement.simulated.simulated_note`) gives a report that says so
everywhere: a banner that stays at the top of the window (and of every printed page), a
badge on every publication, a title on every chart and its description. Its publications
are dated by their campaign time, as the rehearsal played them.
"""

from __future__ import annotations

import base64
import io
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from PIL import Image
from sqlmodel import col, select

from campaign.branding.render_all import RENDITIONS_FOLDER
from campaign.config import Config
from campaign.preview.calendar_view import WEEKDAY_NAMES
from campaign.preview.view import CHANNEL_NAMES, LocalTime, direction, language_name
from campaign.safe_output import real_folder, write_file
from scheduler.engagement.charts import Bars, Chart, Line, age_label, bar_chart, timeline_chart
from scheduler.engagement.simulated import simulated_note
from scheduler.store.models import Mode, Publication, Sample
from scheduler.store.store import Store

TEMPLATES = Path(__file__).parent.parent / "templates" / "report"
REPORT_FILE = "index.html"
#: Every count a sample may have, in the order the page shows them.
METRICS: tuple[tuple[str, str], ...] = (
    ("reactions", "Reactions"),
    ("comments", "Comments"),
    ("shares", "Shares"),
    ("saves", "Saves"),
    ("views", "Views"),
    ("reach", "Reach"),
    ("clicks", "Clicks"),
)
#: The counts drawn over time (views and reach are of another size: they would flatten these).
CHARTED = ("reactions", "comments", "shares", "saves")
#: The counts compared between tags, weekdays, hours and languages.
COMPARED = ("reactions", "comments", "shares")
LABELS = dict(METRICS)
THUMBNAIL_SIZE = (240, 300)  # at most 240 px wide (and 300 px high)
CAPTION_LINES = 3
CAPTION_CHARS = 280
NO_TAG = "(no tag)"
#: The title of every chart of a simulated audience, and the start of its description.
SIMULATED_CHART_TITLE = "Simulated audience – not real numbers"


@dataclass(frozen=True)
class Thumbnail:
    """A small JPEG of a publication's first image, embedded in the page."""

    src: str
    alt: str
    width: int
    height: int


@dataclass(frozen=True)
class Count:
    """One count of a publication's latest sample, formatted."""

    metric: str
    label: str
    value: str


@dataclass(frozen=True)
class PublicationView:
    """One publication's section of the report."""

    anchor: str
    id: int
    post_id: str
    channel: str
    channel_name: str
    dry_run: bool
    simulated: bool
    language: str | None
    language_name: str | None
    direction: str
    tags: tuple[str, ...]
    time: LocalTime | None
    url: str | None
    caption: tuple[str, ...]
    caption_cut: bool
    thumbnail: Thumbnail | None
    more_images: int
    samples: int
    latest_age: str | None
    counts: tuple[Count, ...]
    chart: Chart | None
    chart_alt: str


@dataclass(frozen=True)
class GroupRow:
    """One row of a comparison: a group, how many publications are in it, their averages."""

    label: str
    publications: int
    averages: tuple[str, ...]


@dataclass(frozen=True)
class Comparison:
    """Averages of the latest counts by one property (tag, weekday, hour, language)."""

    anchor: str
    title: str
    heading: str
    rows: tuple[GroupRow, ...]
    chart: Chart | None
    chart_alt: str


@dataclass(frozen=True)
class _Measured:
    """A publication with its latest sample, and its publishing time in local time."""

    row: Publication
    latest: Sample
    local: datetime | None


def build_report(
    config: Config,
    store: Store,
    publication_ids: list[int],
    directory: Path,
    *,
    now: datetime | None = None,
) -> Path:
    """Write the engagement report of these publications to ``directory/index.html``.

    Creates ``directory``; returns the page's path. Raises ``KeyError`` naming the ids
    that are not in the store. ``now`` (default: the current time) is the generated time
    shown in the header.
    """
    now = now or datetime.now(UTC)
    simulated = simulated_note(store) is not None
    rows, samples = _load(store, publication_ids, simulated)
    zone = config.zone
    views = [
        _publication_view(config, row, samples.get(row.id or 0, []), simulated) for row in rows
    ]
    measured = [
        _Measured(row, samples[row.id][-1], _local(_when(row, simulated), config))
        for row in rows
        if row.id in samples
    ]
    html = (
        _environment()
        .get_template("report.html.j2")
        .render(
            campaign_name=config.campaign.name,
            timezone=config.campaign.timezone,
            generated=LocalTime.of(now.astimezone(zone)),
            posts=len({row.post_id for row in rows}),
            publications=views,
            sampled=len(measured),
            dry_runs=sum(view.dry_run for view in views),
            simulated=simulated,
            compared=[LABELS[metric] for metric in COMPARED],
            comparisons=_comparisons(config, measured, simulated),
        )
    )
    real_folder(directory)  # the command checked the folders above it inside the repository
    return write_file(directory / REPORT_FILE, html)


_BATCH = 5_000


def _load(
    store: Store, publication_ids: Iterable[int], simulated: bool = False
) -> tuple[list[Publication], dict[int, list[Sample]]]:
    """The publications in publishing order (``simulated``: campaign order), and each
    one's samples, oldest first."""
    wanted = set(publication_ids)
    ordered = sorted(wanted)
    rows: list[Publication] = []
    by_publication: dict[int, list[Sample]] = defaultdict(list)
    with store.reading() as session:
        # In batches: SQLite takes at most 32,766 values in one IN (…).
        for start in range(0, len(ordered), _BATCH):
            batch = ordered[start : start + _BATCH]
            rows += session.exec(select(Publication).where(col(Publication.id).in_(batch)))
            samples = session.exec(
                select(Sample)
                .where(col(Sample.publication_id).in_(batch))
                .order_by(col(Sample.publication_id), col(Sample.taken_at), col(Sample.id))
            )
            for sample in samples:
                by_publication[sample.publication_id].append(sample)
    missing = wanted - {row.id for row in rows}
    if missing:
        raise KeyError(f"no publication with id {', '.join(map(str, sorted(missing)))}")
    rows.sort(key=lambda row: (_when(row, simulated) or row.due_at, row.id or 0))
    return rows, dict(by_publication)


def _when(row: Publication, simulated: bool) -> datetime | None:
    """When a publication went online; in a simulated audience's rehearsal, its campaign
    time (a rehearsal sends a month's posts within minutes)."""
    if row.published_at is None:
        return None
    return row.due_at if simulated else row.published_at


def _local(moment: datetime | None, config: Config) -> datetime | None:
    return moment.astimezone(config.zone) if moment else None


# --- One publication -------------------------------------------------------------------------


def _publication_view(
    config: Config, row: Publication, samples: list[Sample], simulated: bool = False
) -> PublicationView:
    assert row.id is not None
    latest = samples[-1] if samples else None
    caption, cut = _caption(row.caption or "")
    media = _media(row.media_json)
    lines = _lines(samples)
    channel_name = account_name(config, row)
    local = _local(_when(row, simulated), config)
    title = SIMULATED_CHART_TITLE if simulated else None
    return PublicationView(
        anchor=f"publication-{row.id}",
        id=row.id,
        post_id=row.post_id,
        channel=row.channel,
        channel_name=channel_name,
        dry_run=row.mode == Mode.DRY_RUN.value,
        simulated=simulated,
        language=row.language,
        language_name=language_name(row.language) if row.language else None,
        direction=direction(row.language or ""),
        tags=_tags(row.tags),
        time=LocalTime.of(local) if local else None,
        url=_web_address(row.url),
        caption=caption,
        caption_cut=cut,
        thumbnail=_thumbnail(config, row.post_id, media[0]) if media else None,
        more_images=max(len(media) - 1, 0),
        samples=len(samples),
        latest_age=age_label(latest.age_seconds / 3600) if latest else None,
        counts=tuple(
            Count(metric, label, _number(value))
            for metric, label in METRICS
            if latest is not None and (value := getattr(latest, metric)) is not None
        ),
        chart=timeline_chart(lines, title=title) if lines else None,
        chart_alt=_simulated_alt(title) + _timeline_alt(row.post_id, channel_name, lines),
    )


def account_name(config: Config, row: Publication) -> str:
    """How the page names where a publication went: its platform ("Facebook") for a
    default account, else the account's display name with its platform
    ("Södertälje stadsbibliotek (Facebook)")."""
    platform = CHANNEL_NAMES.get(row.channel, row.channel.capitalize())
    if row.account == row.channel:
        return platform
    account = config.accounts.get(row.account)
    if account is not None:
        return account.label
    return f"{row.account} ({platform})"  # an account no longer in config.toml


def _caption(text: str) -> tuple[tuple[str, ...], bool]:
    """The caption's first lines, cut at a word near ``CAPTION_CHARS``; whether it was cut."""
    lines = text.strip().split("\n")
    kept: list[str] = []
    length = 0
    for line in lines[:CAPTION_LINES]:
        if length + len(line) > CAPTION_CHARS:
            room = CAPTION_CHARS - length
            kept.append(line[:room].rsplit(" ", 1)[0] if " " in line[:room] else line[:room])
            return tuple(kept), True
        kept.append(line)
        length += len(line)
    return tuple(kept), len(lines) > CAPTION_LINES


def _tags(stored: str | None) -> tuple[str, ...]:
    """Tags as the store keeps them (",a,b,", see campaign.tag_text) as a tuple."""
    from campaign.tag_text import split_tags

    return split_tags(stored)


def _web_address(url: str | None) -> str | None:
    """The post's address if it is on the web (a dry run's is a file on the machine)."""
    if not url:
        return None
    parts = urlsplit(url)
    return url if parts.scheme.lower() in ("http", "https") and parts.hostname else None


def _media(media_json: str | None) -> list[dict[str, str]]:
    try:
        media = json.loads(media_json or "[]")
    except ValueError:
        return []
    if not isinstance(media, list):
        return []
    return [item for item in media if isinstance(item, dict) and isinstance(item.get("file"), str)]


def _thumbnail(config: Config, post_id: str, item: dict[str, str]) -> Thumbnail | None:
    """A small JPEG of the rendition that was sent, or None when it is gone or unreadable."""
    name = item["file"]
    if not (_plain_name(post_id) and _plain_name(name)):
        return None
    path = config.build_dir / RENDITIONS_FOLDER / post_id / name
    try:
        with Image.open(path) as image:
            image.thumbnail(THUMBNAIL_SIZE)  # a JPEG is decoded at a reduced size already
            small = image.convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    buffer = io.BytesIO()
    small.save(buffer, "JPEG", quality=80, optimize=True)
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return Thumbnail(
        src=f"data:image/jpeg;base64,{encoded}",
        alt=str(item.get("alt") or "The post's image"),
        width=small.width,
        height=small.height,
    )


def _plain_name(name: str) -> bool:
    """A file or folder name that stays inside its folder."""
    return bool(name) and name not in (".", "..") and Path(name).name == name and "\\" not in name


def _lines(samples: Sequence[Sample]) -> list[Line]:
    """The charted counts by age in hours, metrics with no count at all left out."""
    lines = []
    for metric in CHARTED:
        points = [
            (sample.age_seconds / 3600, value)
            for sample in samples
            if (value := getattr(sample, metric)) is not None
        ]
        if points:
            lines.append(Line(metric, LABELS[metric], points))
    return lines


def _timeline_alt(post_id: str, channel_name: str, lines: Sequence[Line]) -> str:
    """The chart in words: each line's first and last count, and at which ages."""
    parts = []
    for line in lines:
        (first_age, first), (last_age, last) = line.points[0], line.points[-1]
        if len(line.points) == 1:
            parts.append(f"{line.label.lower()} {_number(first)} at {age_label(first_age)}")
        else:
            parts.append(
                f"{line.label.lower()} from {_number(first)} at {age_label(first_age)}"
                f" to {_number(last)} at {age_label(last_age)}"
            )
    return f"Line chart of engagement by age of {post_id} on {channel_name}: {'; '.join(parts)}."


# --- Comparisons -----------------------------------------------------------------------------

#: A group a publication is in: (sort key, label).
_Group = tuple[tuple[int, str], str]


def _simulated_alt(title: str | None) -> str:
    return f"{title}. " if title else ""


def _comparisons(
    config: Config, measured: Sequence[_Measured], simulated: bool = False
) -> list[Comparison]:
    """By tag, weekday, hour and language; first by account when a publication went to an
    account of [accounts.*]."""
    title = SIMULATED_CHART_TITLE if simulated else None
    by_account: list[Comparison] = []
    if any(item.row.account != item.row.channel for item in measured):

        def of_account(item: _Measured) -> list[_Group]:
            name = account_name(config, item.row)
            return [((0 if item.row.account == item.row.channel else 1, name.casefold()), name)]

        by_account.append(
            _comparison("by-account", "By account", "Account", measured, of_account, title)
        )
    return [
        *by_account,
        _comparison("by-tag", "By tag", "Tag", measured, _by_tag, title),
        _comparison("by-weekday", "By weekday", "Weekday", measured, _by_weekday, title),
        _comparison("by-hour", "By hour of day", "Hour", measured, _by_hour, title),
        _comparison("by-language", "By language", "Language", measured, _by_language, title),
    ]


def _by_tag(item: _Measured) -> list[_Group]:
    tags = _tags(item.row.tags)
    if not tags:
        return [((1, ""), NO_TAG)]
    return [((0, tag.casefold()), tag) for tag in tags]


def _by_weekday(item: _Measured) -> list[_Group]:
    if item.local is None:
        return []
    day = item.local.weekday()
    return [((day, ""), WEEKDAY_NAMES[day])]


def _by_hour(item: _Measured) -> list[_Group]:
    if item.local is None:
        return []
    hour = item.local.hour
    return [((hour, ""), f"{hour:02d}:00–{hour:02d}:59")]


def _by_language(item: _Measured) -> list[_Group]:
    code = item.row.language
    if not code:
        return [((1, ""), "(not known)")]
    name = language_name(code)
    return [((0, name.casefold()), f"{name} ({code})")]


def _comparison(
    anchor: str,
    title: str,
    heading: str,
    measured: Sequence[_Measured],
    groups_of: Callable[[_Measured], list[_Group]],
    chart_title: str | None = None,
) -> Comparison:
    members: dict[_Group, list[Sample]] = defaultdict(list)
    for item in measured:
        for group in groups_of(item):
            members[group].append(item.latest)
    groups = sorted(members)
    averages = {
        group: [_average(getattr(s, metric) for s in members[group]) for metric in COMPARED]
        for group in groups
    }
    rows = tuple(
        GroupRow(
            label=group[1],
            publications=len(members[group]),
            averages=tuple(_number(value, 1) for value in averages[group]),
        )
        for group in groups
    )
    labels = [label for _, label in groups]
    chart = (
        bar_chart(
            labels,
            [
                Bars(metric, LABELS[metric], [averages[group][index] for group in groups])
                for index, metric in enumerate(COMPARED)
            ],
            title=chart_title,
        )
        if groups
        else None
    )
    what = heading.lower()
    alt = _simulated_alt(chart_title) + (
        f"Bar chart of the average {', '.join(LABELS[m].lower() for m in COMPARED[:-1])} and "
        f"{LABELS[COMPARED[-1]].lower()} by {what}: "
        + "; ".join(f"{row.label} {', '.join(row.averages)}" for row in rows)
        + ". The table below has the same numbers."
    )
    return Comparison(anchor, title, heading, rows, chart, alt)


def _average(values: Iterable[int | None]) -> float | None:
    """The mean of the counts there are, or None when there is none."""
    present = [value for value in values if value is not None]
    return sum(present) / len(present) if present else None


def _number(value: float | None, decimals: int = 0) -> str:
    """``12345`` as ``12 345`` (a narrow no-break space between thousands); None as a dash."""
    if value is None:
        return "–"
    return f"{value:,.{decimals}f}".replace(",", "\u202f")


def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,  # captions, tags and alt texts come from people: all escaped
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
