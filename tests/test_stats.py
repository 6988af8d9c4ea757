"""`campaign stats`: the latest counts and growth per publication, its CSV and its command.

The data layer runs on SQLite and on PostgreSQL (``tests/database.py``); the CSV and the
command line on SQLite files in ``tmp_path``.
"""

from __future__ import annotations

import csv
import io
import sys
import types
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner, Result

from scheduler.cli.app import app
from scheduler.engagement.csv_export import HEADER, write_csv
from scheduler.engagement.stats_query import (
    COUNTS,
    SORT_KEYS,
    StatsFilter,
    StatsRow,
    latest_rows,
    stats_query,
)
from scheduler.store.models import Mode, Publication, Sample, State
from scheduler.store.store import Store, tags_text
from tests.conftest import Campaign
from tests.database import database_url as database_url
from tests.database import store as store

STOCKHOLM = ZoneInfo("Europe/Stockholm")
# 2021-09-15 09:00 in Stockholm (CEST, UTC+2).
SEPT_15 = datetime(2021, 9, 15, 7, 0, tzinfo=UTC)
HOUR = 3600

runner = CliRunner()


# --- building a store ------------------------------------------------------------------


def add_publication(
    store: Store,
    post_id: str,
    channel: str = "facebook",
    *,
    published_at: datetime | None = SEPT_15,
    state: State = State.PUBLISHED,
    mode: Mode = Mode.LIVE,
    language: str | None = "sv",
    tags: tuple[str, ...] = (),
    caption: str | None = "Idag är det demokratins dag.\n#demokrati100",
) -> int:
    """Insert a publication as the publisher leaves it; its id."""
    with store.writing() as session:
        row = Publication(
            post_id=post_id,
            channel=channel,
            mode=mode.value,
            language=language,
            tags=tags_text(tags),
            state=state.value,
            due_at=published_at or SEPT_15,
            caption=caption,
            remote_id=f"{channel}-{post_id}" if state == State.PUBLISHED else None,
            published_at=published_at if state == State.PUBLISHED else None,
            attempt_count=1,
        )
        session.add(row)
        session.flush()
        assert row.id is not None
        return row.id


def add_sample(
    store: Store, publication_id: int, hours: float, *, late_seconds: int = 0, **counts: int | None
) -> None:
    """A sample taken ``hours`` after SEPT_15 (plus ``late_seconds``) with these counts."""
    target = round(hours * HOUR)
    assert store.add_sample(
        Sample(
            publication_id=publication_id,
            taken_at=SEPT_15 + timedelta(seconds=target + late_seconds),
            age_seconds=target + late_seconds,
            target_age_seconds=target,
            **counts,
        )
    )


def by_post(rows: list[StatsRow]) -> dict[tuple[str, str], StatsRow]:
    return {(row.post_id, row.channel): row for row in rows}


# --- the data layer ----------------------------------------------------------------------


def test_latest_sample_and_growth_since_the_previous(store: Store) -> None:
    pid = add_publication(
        store,
        "2021-09-15-demokratidagen",
        tags=("demokrati100", "val2022"),
        caption="\nIdag är det demokratins dag.\nKom och prata med oss.",
    )
    add_sample(store, pid, 1, reactions=10, comments=1, shares=0, views=100, reach=80, clicks=2)
    add_sample(store, pid, 6, reactions=100, comments=5, shares=3, views=900, reach=700, clicks=9)
    add_sample(
        store, pid, 24, late_seconds=1800, reactions=120, comments=4, shares=3, views=1500
    )  # reach and clicks not given this time; a comment was deleted

    [row] = latest_rows(store)

    assert row.publication_id == pid
    assert (row.post_id, row.channel, row.language) == (
        "2021-09-15-demokratidagen",
        "facebook",
        "sv",
    )
    assert row.tags == ("demokrati100", "val2022")
    assert row.published_at == SEPT_15
    assert row.caption == "Idag är det demokratins dag."
    assert row.age_seconds == 24 * HOUR + 1800
    assert row.age_hours == 24.5
    assert row.counts == {
        "reactions": 120,
        "comments": 4,
        "shares": 3,
        "saves": None,
        "views": 1500,
        "reach": None,
        "clicks": None,
    }
    assert row.growth == {
        "reactions": 20,
        "comments": -1,
        "shares": 0,
        "saves": None,
        "views": 600,
        "reach": None,
        "clicks": None,
    }
    assert (row.reactions, row.reactions_growth) == (120, 20)


def test_one_sample_has_no_growth_and_no_sample_has_no_counts(store: Store) -> None:
    once = add_publication(store, "2021-09-15-en-gang", published_at=SEPT_15)
    add_sample(store, once, 1, reactions=7, saves=None)
    add_publication(store, "2021-09-16-inget-an", published_at=SEPT_15 + timedelta(days=1))

    rows = by_post(latest_rows(store))

    sampled = rows[("2021-09-15-en-gang", "facebook")]
    assert sampled.counts["reactions"] == 7
    assert sampled.counts["saves"] is None
    assert set(sampled.growth.values()) == {None}
    bare = rows[("2021-09-16-inget-an", "facebook")]
    assert bare.age_seconds is None and bare.age_hours is None
    assert set(bare.counts.values()) == {None} and set(bare.growth.values()) == {None}


def test_latest_is_by_time_taken_not_by_insertion_order(store: Store) -> None:
    pid = add_publication(store, "2021-09-15-ordning")
    add_sample(store, pid, 24, reactions=30)
    add_sample(store, pid, 1, reactions=1)  # stored later, taken earlier
    add_sample(store, pid, 6, reactions=12)

    [row] = latest_rows(store)

    assert (row.reactions, row.reactions_growth, row.age_seconds) == (30, 18, 24 * HOUR)


def test_only_live_published_publications(store: Store) -> None:
    live = add_publication(store, "2021-09-15-live")
    add_sample(store, live, 1, reactions=5)
    dry = add_publication(store, "2021-09-15-live", mode=Mode.DRY_RUN)
    add_sample(store, dry, 1, reactions=500)
    for state in (State.SCHEDULED, State.PUBLISHING, State.FAILED, State.UNKNOWN, State.MISSED):
        add_publication(store, f"2021-09-15-{state.value}", state=state)

    rows = latest_rows(store)

    assert [(row.post_id, row.reactions) for row in rows] == [("2021-09-15-live", 5)]


def test_filters_by_channel_and_language(store: Store) -> None:
    add_publication(store, "2021-09-15-a", "facebook", language="sv")
    add_publication(store, "2021-09-15-a", "instagram", language="sv")
    add_publication(store, "2021-09-15-b", "facebook", language="en")
    add_publication(store, "2021-09-15-c", "instagram", language=None)

    def keys(where: StatsFilter) -> set[tuple[str, str]]:
        return set(by_post(latest_rows(store, where)))

    assert keys(StatsFilter(channel="instagram")) == {
        ("2021-09-15-a", "instagram"),
        ("2021-09-15-c", "instagram"),
    }
    assert keys(StatsFilter(language="en")) == {("2021-09-15-b", "facebook")}
    assert keys(StatsFilter(language="EN")) == {("2021-09-15-b", "facebook")}
    assert keys(StatsFilter(channel="facebook", language="sv")) == {("2021-09-15-a", "facebook")}
    assert keys(StatsFilter(language="fi")) == set()


def test_tag_matches_a_whole_tag_only(store: Store) -> None:
    add_publication(store, "2021-09-15-val", tags=("demokrati100", "val"))
    add_publication(store, "2021-09-16-val2022", tags=("val2022",))
    add_publication(store, "2021-09-17-forval", tags=("förval", "x_y"))
    add_publication(store, "2021-09-18-utan")
    add_publication(store, "2021-09-19-procent", tags=("100%",))

    def posts(tag: str) -> list[str]:
        return sorted(row.post_id for row in latest_rows(store, StatsFilter(tag=tag)))

    assert posts("val") == ["2021-09-15-val"]
    assert posts("val2022") == ["2021-09-16-val2022"]
    assert posts("VAL2022") == ["2021-09-16-val2022"]  # ASCII case is ignored
    assert posts("förval") == ["2021-09-17-forval"]
    assert posts("al") == []
    assert posts("x_y") == ["2021-09-17-forval"]
    assert posts("x%y") == [] and posts("xzy") == []  # LIKE wildcards are plain characters
    assert posts("100%") == ["2021-09-19-procent"]
    assert posts("100") == []


def test_since_and_until_are_local_days(store: Store) -> None:
    # Stockholm is UTC+2 in September: 21:59 UTC is 23:59 on the 14th, 22:30 UTC is 00:30
    # on the 15th. On 31 October the clocks go back: the day ends at 23:00 UTC.
    moments = {
        "14-late": datetime(2021, 9, 14, 21, 59, tzinfo=UTC),
        "15-early": datetime(2021, 9, 14, 22, 30, tzinfo=UTC),
        "15-late": datetime(2021, 9, 15, 21, 59, tzinfo=UTC),
        "16-early": datetime(2021, 9, 15, 22, 0, tzinfo=UTC),
        "oct31-late": datetime(2021, 10, 31, 22, 59, tzinfo=UTC),
        "nov1-midnight": datetime(2021, 10, 31, 23, 0, tzinfo=UTC),
    }
    for name, moment in moments.items():
        add_publication(store, name, published_at=moment)

    def posts(since: str | None = None, until: str | None = None) -> set[str]:
        where = StatsFilter.parse(since=since, until=until, zone=STOCKHOLM)
        return {row.post_id for row in latest_rows(store, where)}

    assert posts("2021-09-15", "2021-09-15") == {"15-early", "15-late"}
    assert posts(until="2021-09-14") == {"14-late"}
    assert posts(since="2021-09-16") == {"16-early", "oct31-late", "nov1-midnight"}
    assert posts("2021-10-31", "2021-10-31") == {"oct31-late"}
    assert posts(since="2021-11-01") == {"nov1-midnight"}
    assert len(posts()) == len(moments)


def test_filter_bounds_are_utc_instants_of_local_midnights() -> None:
    where = StatsFilter.parse(since="2021-10-31", until="2021-10-31", zone=STOCKHOLM)
    assert where.bounds() == (
        datetime(2021, 10, 30, 22, 0, tzinfo=UTC),  # CEST midnight
        datetime(2021, 10, 31, 23, 0, tzinfo=UTC),  # CET midnight: a 25-hour day
    )
    assert StatsFilter().bounds() == (None, None)


def test_sorting_newest_first_or_by_a_count_with_none_last(store: Store) -> None:
    counts = {"old": 50, "middle": None, "new": 5, "newest": 50}
    for day, (name, reactions) in enumerate(counts.items()):
        pid = add_publication(store, name, published_at=SEPT_15 + timedelta(days=day))
        add_sample(store, pid, 1, reactions=reactions, views=day)
    add_publication(store, "unsampled", published_at=SEPT_15 - timedelta(days=1))

    def order(sort: str) -> list[str]:
        return [row.post_id for row in latest_rows(store, sort=sort)]

    assert order("published") == ["newest", "new", "middle", "old", "unsampled"]
    assert latest_rows(store) == latest_rows(store, sort="published")
    # Highest first; equal counts newest first; posts without the count last (newest first).
    assert order("reactions") == ["newest", "old", "new", "middle", "unsampled"]
    assert order("views") == ["newest", "new", "middle", "old", "unsampled"]
    assert order("saves") == ["newest", "new", "middle", "old", "unsampled"]


def test_unknown_sort_key_names_the_valid_ones(store: Store) -> None:
    with pytest.raises(ValueError, match="likes") as raised:
        latest_rows(store, sort="likes")
    for key in SORT_KEYS:
        assert key in str(raised.value)


@pytest.mark.parametrize(
    ("since", "until", "expected"),
    [
        ("2021-13-01", None, "--since '2021-13-01' is not a date: write it as YYYY-MM-DD"),
        ("15/9/2021", None, "YYYY-MM-DD"),
        (None, "20210915", "--until '20210915' is not a date"),
        (None, "2021-W37-3", "YYYY-MM-DD"),
        ("2021-09-16", "2021-09-15", "--since 2021-09-16 is after --until 2021-09-15"),
    ],
)
def test_bad_dates_are_refused(since: str | None, until: str | None, expected: str) -> None:
    with pytest.raises(ValueError) as raised:
        StatsFilter.parse(since=since, until=until, zone=STOCKHOLM)
    assert expected in str(raised.value)


def test_unknown_channel_is_refused() -> None:
    with pytest.raises(ValueError, match="facebook or instagram"):
        StatsFilter.parse(channel="tiktok")


def test_the_sqlite_query_reads_samples_through_the_index_only(tmp_path: Path) -> None:
    """Each sample look-up is an index SEARCH: no scan of the samples table."""
    from sqlalchemy import text
    from sqlalchemy.dialects import sqlite

    opened = Store.open(f"sqlite:///{tmp_path / 'plan.db'}")
    try:
        for sort in SORT_KEYS:
            query = stats_query("sqlite", StatsFilter(tag="val", since=None), sort)
            sql = str(
                query.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True})
            )
            with opened.engine.connect() as connection:
                plan = [row[3] for row in connection.execute(text("EXPLAIN QUERY PLAN " + sql))]
            samples = [
                line for line in plan if any(a in line for a in ("latest", "previous", "pick"))
            ]
            assert samples and all(line.startswith("SEARCH") for line in samples), plan
            assert any("ix_samples_publication_taken" in line for line in plan), plan
    finally:
        opened.close()


def test_a_rehearsal_shows_its_dry_runs_dated_by_campaign_time(store: Store) -> None:
    live = add_publication(store, "2021-09-15-live")
    add_sample(store, live, 1, reactions=5)
    rehearsed = add_publication(store, "2021-09-16-repetition", mode=Mode.DRY_RUN)
    campaign_time = SEPT_15 + timedelta(days=1)
    with store.writing() as session:  # the rehearsal sent it years "later", at its speed
        row = session.get(Publication, rehearsed)
        assert row is not None
        row.due_at, row.published_at = campaign_time, SEPT_15 + timedelta(days=3000)
    add_sample(store, rehearsed, 1, reactions=50)

    [row] = latest_rows(store, StatsFilter(rehearsal=True))
    assert (row.post_id, row.reactions, row.published_at) == (
        "2021-09-16-repetition",
        50,
        campaign_time,
    )
    day = StatsFilter.parse(since="2021-09-16", until="2021-09-16", rehearsal=True, zone=STOCKHOLM)
    assert [row.post_id for row in latest_rows(store, day)] == ["2021-09-16-repetition"]
    assert [row.post_id for row in latest_rows(store)] == ["2021-09-15-live"]


def varied_store(path: Path) -> Store:
    """Publications of every kind the stats must tell apart, with samples."""
    opened = Store.open(f"sqlite:///{path}")
    for day in range(6):
        when = SEPT_15 + timedelta(days=day, hours=day)
        for channel in ("facebook", "instagram"):
            pid = add_publication(
                opened,
                f"2021-09-{15 + day}-post-{day}",
                channel,
                published_at=when,
                language=("sv", "EN", None)[day % 3],
                tags=(("val", "Kultur"), ("val2022",), ())[day % 3],
                caption=f"Rad ett {day}\nRad två",
            )
            for hours in range(day % 4):
                add_sample(opened, pid, hours + 1, reactions=day * 10 + hours, saves=hours or None)
    add_publication(opened, "2021-09-30-repetition", mode=Mode.DRY_RUN)
    add_publication(opened, "2021-09-30-planerad", state=State.SCHEDULED)
    return opened


@pytest.mark.parametrize(
    "where",
    [
        {},
        {"channel": "instagram"},
        {"account": "facebook"},
        {"language": "en"},
        {"tag": "kultur"},
        {"tag": "val"},
        {"since": "2021-09-17", "until": "2021-09-19"},
        {"rehearsal": True},
    ],
)
def test_the_sqlite_reader_gives_the_rows_of_the_store_query(
    tmp_path: Path, where: dict[str, object]
) -> None:
    """`campaign stats` reads a SQLite file with sqlite3 alone: the same rows, in the same
    order, as the store's query, for every filter and sort."""
    from scheduler.engagement.stats_sqlite import read_rows

    database = tmp_path / "k.db"
    opened = varied_store(database)
    try:
        for sort in SORT_KEYS:
            wanted = StatsFilter.parse(zone=STOCKHOLM, **where)  # type: ignore[arg-type]
            expected = latest_rows(opened, wanted, sort)
            assert read_rows(database, wanted, sort) == expected, sort
            assert expected or where in ({"rehearsal": True},)
    finally:
        opened.close()


def test_the_sqlite_reader_leaves_any_other_database_to_the_store(tmp_path: Path) -> None:
    import sqlite3

    from scheduler.engagement.stats_sqlite import SCHEMA_VERSION, NeedsTheStore, read_rows
    from scheduler.store.models import SCHEMA_VERSION as STORE_SCHEMA_VERSION

    assert SCHEMA_VERSION == STORE_SCHEMA_VERSION  # written for the store's schema
    database = tmp_path / "k.db"
    varied_store(database).close()
    connection = sqlite3.connect(database)
    with connection:
        connection.execute("UPDATE store_info SET value = '1' WHERE key = 'schema_version'")
    connection.close()
    with pytest.raises(NeedsTheStore):  # an older release's: the store migrates it first
        read_rows(database, StatsFilter())
    (tmp_path / "other.db").write_text("not a database", encoding="utf-8")
    for path in (tmp_path / "other.db", tmp_path / "missing.db"):
        with pytest.raises(NeedsTheStore):
            read_rows(path, StatsFilter())
    assert not (tmp_path / "missing.db").exists()


# --- CSV -----------------------------------------------------------------------------------


def csv_rows() -> list[StatsRow]:
    counts: dict[str, int | None] = dict.fromkeys(COUNTS)
    growth: dict[str, int | None] = dict.fromkeys(COUNTS)
    counts.update(reactions=1234, comments=5, views=40000)
    growth.update(reactions=-3, views=1500)
    numbers = [value for name in COUNTS for value in (counts[name], growth[name])]
    return [
        StatsRow(
            7,
            "2021-09-15-västerås-öppet",
            "instagram",
            "sv",
            ("demokrati100", "rösträtt"),
            SEPT_15,
            'Rösträtt för alla – "en stark demokrati"; kom!',
            5400,
            *numbers,
        ),
        StatsRow(
            8,
            "2021-12-01-vinter",
            "facebook",
            None,
            (),
            SEPT_15 + timedelta(days=77),
            "",
            None,
            *([None] * 14),
        ),
    ]


def test_csv_has_bom_english_header_crlf_and_local_times(tmp_path: Path) -> None:
    path = tmp_path / "stats.csv"
    write_csv(csv_rows(), path, False, STOCKHOLM)
    data = path.read_bytes()

    assert data.startswith(b"\xef\xbb\xbf")
    assert data.count(b"\r\n") == 3 and data.count(b"\n") == 3  # no bare LF anywhere
    text = data.decode("utf-8-sig")
    header, first, second = list(csv.reader(io.StringIO(text, newline="")))
    assert tuple(header) == HEADER
    assert header[:6] == ["post", "channel", "language", "tags", "published", "age_hours"]
    assert header[6:8] == ["reactions", "reactions_growth"] and header[-1] == "caption"
    row = dict(zip(header, first, strict=True))
    assert row["post"] == "2021-09-15-västerås-öppet"
    assert row["tags"] == "demokrati100, rösträtt"
    assert row["published"] == "2021-09-15 09:00"
    assert row["age_hours"] == "1.5"
    assert (row["reactions"], row["reactions_growth"]) == ("1234", "-3")
    assert (row["views"], row["views_growth"], row["comments_growth"]) == ("40000", "1500", "")
    assert (row["saves"], row["saves_growth"]) == ("", "")
    assert row["caption"] == 'Rösträtt för alla – "en stark demokrati"; kom!'
    empty = dict(zip(header, second, strict=True))
    assert empty["published"] == "2021-12-01 08:00"  # CET: UTC+1 in December
    assert all(empty[name] == "" for name in ("language", "tags", "age_hours", *COUNTS))
    assert text.splitlines()[1].startswith('2021-09-15-västerås-öppet,instagram,sv,"demokrati100')


def test_csv_for_swedish_excel_uses_semicolons_and_decimal_commas(tmp_path: Path) -> None:
    path = tmp_path / "stats.csv"
    write_csv(csv_rows(), path, True, STOCKHOLM)
    data = path.read_bytes()

    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data
    text = data.decode("utf-8-sig")
    lines = text.split("\r\n")
    assert lines[0].startswith("post;channel;language;tags;published;age_hours;reactions;")
    assert "," not in lines[0]
    assert lines[1].startswith(
        "2021-09-15-västerås-öppet;instagram;sv;demokrati100, rösträtt;2021-09-15 09:00;1,5;"
        "1234;-3;5;;;;;;40000;1500;"
    )
    header, first, _second = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    assert dict(zip(header, first, strict=True))["caption"] == (
        'Rösträtt för alla – "en stark demokrati"; kom!'
    )
    assert "västerås-öppet" in text and "rösträtt" in text and "för alla" in text


# --- the command line ----------------------------------------------------------------------


@pytest.fixture
def cli_campaign(campaign: Campaign, monkeypatch: pytest.MonkeyPatch) -> Campaign:
    """A campaign whose database is a SQLite file in the test's folder."""
    monkeypatch.delenv("CAMPAIGN_DATABASE_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    campaign.config_text += f'\n[database]\nurl = "sqlite:///{campaign.root / "data" / "k.db"}"\n'
    campaign.config_path.write_text(campaign.config_text, encoding="utf-8")
    return campaign


def run(campaign: Campaign, *args: str) -> Result:
    result = runner.invoke(app, ["--config", str(campaign.config_path), "stats", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    return result


def filled(campaign: Campaign) -> Store:
    opened = Store.open(f"sqlite:///{campaign.root / 'data' / 'k.db'}")
    first = add_publication(opened, "2021-09-15-demokratidagen", tags=("val",))
    add_sample(opened, first, 6, reactions=105, comments=3)
    add_sample(opened, first, 24, reactions=120, comments=3)
    second = add_publication(
        opened, "2021-09-16-rosta", "instagram", published_at=SEPT_15 + timedelta(days=1)
    )
    add_sample(opened, second, 1, reactions=40, saves=2)
    add_publication(opened, "2021-09-17-prov", mode=Mode.DRY_RUN)
    return opened


def test_cli_without_a_database_says_so(cli_campaign: Campaign) -> None:
    result = run(cli_campaign)
    assert result.exit_code == 0
    assert "No database yet" in result.output
    assert not (cli_campaign.root / "data" / "k.db").exists()


def test_cli_shows_the_table_and_a_total(cli_campaign: Campaign) -> None:
    filled(cli_campaign).close()
    result = run(cli_campaign)

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    [first] = [line for line in lines if "2021-09-15-demokratidagen" in line]
    [second] = [line for line in lines if "2021-09-16-rosta" in line]
    assert lines.index(second) < lines.index(first)  # newest first
    assert "facebook" in first and "2021-09-15 09:00" in first and "24 h" in first
    assert "120 (+15)" in first and "3 (+0)" in first
    assert "instagram" in second and "1 h" in second and " 40 " in f"{second} "
    assert "prov" not in result.output  # a dry run
    [header] = [line for line in lines if line.lstrip().startswith("post")]
    assert header.split() == [
        "post",
        "channel",
        "published",
        "age",
        "reactions",
        "comments",
        "saves",
    ]
    assert "Total, 2 publications: reactions 160, comments 3, saves 2" in result.output


def test_cli_table_is_cut_short_but_the_total_and_csv_are_not(
    cli_campaign: Campaign, monkeypatch: pytest.MonkeyPatch
) -> None:
    from scheduler.cli import stats as stats_command

    monkeypatch.setattr(stats_command, "TABLE_LIMIT", 1)
    filled(cli_campaign).close()
    target = cli_campaign.root / "alla.csv"

    result = run(cli_campaign, "--csv", str(target))

    assert result.exit_code == 0
    assert "2021-09-16-rosta" in result.output and "demokratidagen" not in result.output
    assert "The first 1 of 2 rows" in result.output
    assert "Total, 2 publications" in result.output
    assert len(target.read_bytes().split(b"\r\n")) == 4  # header, two rows, end


def test_cli_filters_and_sorts(cli_campaign: Campaign) -> None:
    filled(cli_campaign).close()

    tagged = run(cli_campaign, "--tag", "val", "--sort", "reactions")
    assert tagged.exit_code == 0
    assert "2021-09-15-demokratidagen" in tagged.output and "rosta" not in tagged.output
    assert "Total, 1 publication:" in tagged.output

    nothing = run(cli_campaign, "--channel", "instagram", "--until", "2021-09-15")
    assert nothing.exit_code == 0
    assert "No live published posts match" in nothing.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sort", "likes"], "published, reactions, comments, shares, saves, views, reach"),
        (["--since", "15 september"], "YYYY-MM-DD"),
        (["--until", "2021-02-30"], "YYYY-MM-DD"),
        (["--channel", "tiktok"], "facebook or instagram"),
        (["--excel-sv"], "--csv"),
    ],
)
def test_cli_bad_options_exit_2_with_a_message(
    cli_campaign: Campaign, args: list[str], message: str
) -> None:
    filled(cli_campaign).close()
    result = run(cli_campaign, *args)
    assert result.exit_code == 2
    assert "error" in result.output.lower() and message in result.output


def test_cli_bad_options_exit_2_even_without_a_database(cli_campaign: Campaign) -> None:
    result = run(cli_campaign, "--sort", "likes")
    assert result.exit_code == 2 and "--sort 'likes' is not known" in result.output


def test_cli_writes_the_csv_and_says_where(cli_campaign: Campaign) -> None:
    filled(cli_campaign).close()
    target = cli_campaign.root / "ut" / "statistik.csv"
    target.parent.mkdir()

    result = run(cli_campaign, "--csv", str(target), "--excel-sv")

    assert result.exit_code == 0, result.output
    assert str(target) in result.output.replace("\n", "")
    lines = target.read_bytes().decode("utf-8-sig").split("\r\n")
    assert lines[0].startswith("post;channel;")
    assert lines[1].startswith("2021-09-16-rosta;instagram;sv;;2021-09-16 09:00;1;40;;")
    assert lines[2].startswith("2021-09-15-demokratidagen;facebook;sv;val;2021-09-15 09:00;24;")
    assert lines[3] == ""


def test_cli_csv_into_a_missing_folder_is_a_message(cli_campaign: Campaign) -> None:
    filled(cli_campaign).close()
    result = run(cli_campaign, "--csv", str(cli_campaign.root / "saknas" / "s.csv"))
    assert result.exit_code == 2
    assert "cannot write" in result.output


def test_cli_html_calls_build_report_with_the_selected_publications(
    cli_campaign: Campaign, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[list[int], Path]] = []

    def build_report(config: object, store: Store, ids: list[int], directory: Path) -> Path:
        calls.append((ids, directory))
        return directory / "index.html"

    fake = types.ModuleType("scheduler.engagement.report")
    fake.build_report = build_report  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "scheduler.engagement.report", fake)
    opened = filled(cli_campaign)
    try:
        wanted = [row.publication_id for row in latest_rows(opened, StatsFilter(tag="val"))]
    finally:
        opened.close()
    folder = cli_campaign.root / "rapport"

    result = run(cli_campaign, "--tag", "val", "--html", str(folder))

    assert result.exit_code == 0, result.output
    assert calls == [(wanted, folder)] and len(wanted) == 1
    assert str(folder / "index.html") in result.output.replace("\n", "")


def test_cli_html_writes_the_real_report(cli_campaign: Campaign) -> None:
    try:
        import scheduler.engagement.report  # noqa: F401
    except ImportError:
        pytest.skip("scheduler/engagement/report.py (build_report) is not there yet")
    filled(cli_campaign).close()
    folder = cli_campaign.root / "rapport"

    result = run(cli_campaign, "--html", str(folder))

    assert result.exit_code == 0, result.output
    page = (folder / "index.html").read_text(encoding="utf-8")
    assert "2021-09-15-demokratidagen" in page and "2021-09-16-rosta" in page
    assert "2021-09-17-prov" not in page


def test_cli_on_sqlite_imports_neither_sqlalchemy_nor_the_store(cli_campaign: Campaign) -> None:
    """Start-up is most of `campaign stats`: a SQLite database is read with sqlite3 alone."""
    import subprocess

    filled(cli_campaign).close()
    probe = (
        "import sys\n"
        "from scheduler.cli.app import app\n"
        "try:\n"
        "    app(['--config', sys.argv[1], 'stats'])\n"
        "except SystemExit as done:\n"
        "    code = done.code\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'sqlalchemy', 'sqlmodel',"
        " 'matplotlib', 'jinja2', 'PIL'})\n"
        "print('exit', code, 'heavy', heavy)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(cli_campaign.config_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cli_campaign.root,
    )
    assert done.stdout.strip().endswith("exit 0 heavy []"), done.stdout + done.stderr
    assert "120 (+15)" in done.stdout


def test_cli_table_lines_are_whole_and_names_visible(
    campaign: Campaign, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Piped (or wide enough), each row is one line however long, and a control character
    in a name is shown as an escape, never sent to the terminal."""
    monkeypatch.delenv("CAMPAIGN_DATABASE_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "60")
    campaign.config_text += f'\n[database]\nurl = "sqlite:///{campaign.root / "data" / "k.db"}"\n'
    campaign.config_path.write_text(campaign.config_text, encoding="utf-8")
    opened = filled(campaign)
    odd = add_publication(opened, "2021-09-18-\x1b[2Jrensa-skarmen-med-ett-mycket-langt-namn")
    add_sample(opened, odd, 1, reactions=123456, comments=2, saves=1, views=999999)
    opened.close()

    result = run(campaign)

    assert result.exit_code == 0, result.output
    [line] = [line for line in result.output.splitlines() if "rensa" in line]
    assert "2021-09-18-\\x1b[2Jrensa-skarmen-med-ett-mycket-langt-namn" in line
    assert "\x1b" not in result.output
    assert len(line) > 60 and "123456" in line and "999999" in line


def test_cli_narrow_terminal_gets_the_folding_table(cli_campaign: Campaign) -> None:
    import io

    from rich.console import Console

    from campaign.config import load_config
    from scheduler.cli.stats import run_stats

    filled(cli_campaign).close()
    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=40, color_system=None)
    config = load_config(cli_campaign.config_path)

    assert run_stats(config, out=terminal, err=terminal) == 0

    lines = screen.getvalue().splitlines()
    assert lines and max(len(line) for line in lines) <= 40
    assert "Total, 2 publications" in screen.getvalue().replace("\n", " ")


def test_a_caption_that_looks_like_a_formula_stays_text_in_excel(tmp_path: Path) -> None:
    from scheduler.engagement.csv_export import spreadsheet_safe

    assert (
        spreadsheet_safe('=HYPERLINK("http://x","klicka")') == '\'=HYPERLINK("http://x","klicka")'
    )
    assert spreadsheet_safe("-50 % på biljetter") == "'-50 % på biljetter"
    assert spreadsheet_safe("@kommunen svarar") == "'@kommunen svarar"
    assert spreadsheet_safe("Rösta den 11 september") == "Rösta den 11 september"
    assert spreadsheet_safe(None) is None
