"""The archive (`campaign export`): what the fakes of Meta's servers received, exactly.

Posts are published through the Publisher with the real Facebook and Instagram channels
against the fakes, then archived; the archive must agree with what the fakes recorded:
the caption, each uploaded image's SHA-256, the remote id and URL.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from typer.testing import CliRunner, Result

from campaign.config import FacebookSection, InstagramSection
from scheduler.channels.base import Channel, MediaItem, PublishRequest
from scheduler.channels.facebook import FacebookChannel
from scheduler.channels.instagram import InstagramChannel
from scheduler.channels.outbox import OutboxChannel
from scheduler.cli.app import app
from scheduler.engagement.archive import (
    CSV_COLUMNS,
    archive_records,
    local_text,
    utc_text,
    write_archive,
)
from scheduler.prepare import content_fingerprint, media_json
from scheduler.publisher import Outcome, Publisher
from scheduler.retry_policy import RetryPolicy
from scheduler.store.engine import StoreError
from scheduler.store.models import Mode, State
from scheduler.store.store import Store
from tests.conftest import Campaign, HandClock
from tests.fakes.graph_api import FakeGraphAPI
from tests.fakes.graph_api import fake_graph as fake_graph
from tests.fakes.instagram_api import USERNAME, FakeInstagram
from tests.fakes.instagram_api import fake_instagram as fake_instagram

STOCKHOLM = ZoneInfo("Europe/Stockholm")
POLICY = RetryPolicy(
    max_attempts=3,
    first_retry=timedelta(seconds=60),
    longest_retry=timedelta(minutes=10),
    rate_limit_cooldown=timedelta(minutes=30),
    reconcile_after=timedelta(seconds=30),
    auth_check_every=timedelta(minutes=15),
    request_timeout=timedelta(seconds=1),
)
TIMEOUT = 1.0
#: 09:00 in Stockholm on the international day of democracy (summer time, UTC+2).
SEPTEMBER = datetime(2021, 9, 15, 7, 0, tzinfo=UTC)
CAPTION = (
    "Idag är det demokratins dag. Kom och prata med oss på torget i Södertälje.\n#demokrati100"
)
FIRST_COMMENT = "#val2022 #röstaidag"
runner = CliRunner()


# -- fixtures and helpers ----------------------------------------------------------------------


@pytest.fixture
def clock() -> HandClock:
    # Nothing here reconciles, so the fakes' own time stamps do not matter.
    return HandClock(SEPTEMBER)


@pytest.fixture
def channels(
    graph_through: FakeGraphAPI, fake_instagram: FakeInstagram, tmp_path: Path
) -> dict[str, Channel]:
    session = fake_instagram.saved_session(tmp_path / "secrets")
    fb_settings = FacebookSection(
        page_id=graph_through.page_id,
        graph_url=graph_through.url,
        api_version=graph_through.version,
    )
    return {
        "facebook": FacebookChannel(fb_settings, graph_through.token, TIMEOUT),
        "instagram": InstagramChannel(InstagramSection(username=USERNAME), session, None, TIMEOUT),
    }


def picture(folder: Path, number: int, alt: str | None = None) -> MediaItem:
    """A small 4:5 JPEG (both channels take it as it is); each number a different picture."""
    path = folder / f"2021-09-15-demokratidagen-{number}.jpg"
    Image.new("RGB", (320, 400), (40 * number % 256, 54, 93)).save(path, "JPEG", quality=90)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return MediaItem(
        path, alt or f"Bild {number}: tre generationer kvinnor framför en vallokal.", digest
    )


def make_request(
    post_id: str,
    channel: str,
    media: tuple[MediaItem, ...],
    caption: str = CAPTION,
    first_comment: str | None = None,
) -> PublishRequest:
    return PublishRequest(
        post_id=post_id,
        channel=channel,  # type: ignore[arg-type]
        caption=caption,
        media=media,
        fingerprint=content_fingerprint(channel, caption, None, first_comment, media),
        first_comment=first_comment,
    )


def publish(
    store: Store,
    clock: HandClock,
    channel: Channel,
    sent: PublishRequest,
    due: datetime,
    mode: Mode = Mode.LIVE,
) -> tuple[int, Outcome]:
    row = store.ensure_publication(sent.post_id, sent.channel, due, clock(), mode)
    assert row.id is not None
    outcome = Publisher(store, {channel.name: channel}, POLICY, clock, random.Random(3)).publish(
        sent
    )
    return row.id, outcome


def by_post(records: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["post_id"], r["channel"]): r for r in records}


# -- the records -------------------------------------------------------------------------------


def test_the_archive_holds_exactly_what_the_platforms_received(
    graph_through: FakeGraphAPI,
    fake_instagram: FakeInstagram,
    channels: dict[str, Channel],
    store: Store,
    clock: HandClock,
    tmp_path: Path,
) -> None:
    album = (picture(tmp_path, 1), picture(tmp_path, 2))
    fb_request = make_request("2021-09-15-demokratidagen", "facebook", album)
    fb_id, fb_outcome = publish(store, clock, channels["facebook"], fb_request, SEPTEMBER)
    clock.advance(timedelta(seconds=4))
    ig_request = make_request(
        "2021-09-15-demokratidagen", "instagram", (album[0],), first_comment=FIRST_COMMENT
    )
    ig_id, ig_outcome = publish(store, clock, channels["instagram"], ig_request, SEPTEMBER)
    assert fb_outcome.state is ig_outcome.state is State.PUBLISHED
    # A photo Facebook refuses: failed at once, with its attempt and Facebook's error.
    graph_through.script("POST photos", "error_324")
    refused = make_request("2021-09-16-valet", "facebook", (picture(tmp_path, 3),), "Val 2022.")
    refused_id, refused_outcome = publish(
        store, clock, channels["facebook"], refused, SEPTEMBER + timedelta(days=1)
    )
    assert refused_outcome.state is State.FAILED
    # A rehearsal (dry run) and a post not tried yet are not in the archive.
    outbox = OutboxChannel("facebook", tmp_path / "outbox", clock)
    dry = make_request("2021-09-17-prov", "facebook", (picture(tmp_path, 4),), "Bara ett prov.")
    assert publish(store, clock, outbox, dry, SEPTEMBER, Mode.DRY_RUN)[1].state is State.PUBLISHED
    store.ensure_publication("2021-09-20-senare", "facebook", SEPTEMBER + timedelta(5), clock())

    records = archive_records(store)

    assert [(r["post_id"], r["channel"]) for r in records] == [
        ("2021-09-15-demokratidagen", "facebook"),
        ("2021-09-15-demokratidagen", "instagram"),
        ("2021-09-16-valet", "facebook"),
    ]
    archived = by_post(records)
    [fb_post] = [p for p in graph_through.posts if p.id == fb_outcome.remote_id]
    fb = archived[("2021-09-15-demokratidagen", "facebook")]
    assert fb["state"] == "published"
    assert fb["caption"] == fb_post.message == CAPTION
    assert [i["sha256"] for i in fb["images"]] == [p.sha256 for p in fb_post.photos]
    assert [i["alt"] for i in fb["images"]] == fb_post.alt_texts == [m.alt for m in album]
    assert [i["file"] for i in fb["images"]] == [m.path.name for m in album]
    assert (fb["remote_id"], fb["url"]) == (fb_post.id, fb_outcome.url)
    assert fb["url"] == f"https://www.facebook.com/{fb_post.id}"
    assert (fb["due_at"], fb["claimed_at"], fb["published_at"]) == (SEPTEMBER,) * 3
    assert fb["attempt_count"] == 1
    [attempt] = fb["attempts"]
    assert (attempt["kind"], attempt["outcome"], attempt["error_class"]) == (
        "publish",
        "published",
        None,
    )
    assert fb["link"] is fb["first_comment"] is None
    assert fb["fingerprint"] == fb_request.fingerprint

    [ig_post] = fake_instagram.posts
    ig = archived[("2021-09-15-demokratidagen", "instagram")]
    assert ig["caption"] == ig_post.caption == CAPTION
    assert [i["sha256"] for i in ig["images"]] == [u.sha256 for u in ig_post.uploads]
    assert [i["alt"] for i in ig["images"]] == ig_post.alt_texts
    assert ig["remote_id"] == str(ig_post.pk) == ig_outcome.remote_id
    assert ig["url"] == f"https://www.instagram.com/p/{ig_post.code}/"
    assert ig["first_comment"] == ig_post.comments[0] == FIRST_COMMENT
    assert ig["published_at"] == SEPTEMBER + timedelta(seconds=4)

    failed = archived[("2021-09-16-valet", "facebook")]
    assert failed["state"] == "failed"
    assert failed["caption"] == "Val 2022."
    assert (failed["remote_id"], failed["url"], failed["published_at"]) == (None, None, None)
    assert failed["due_at"] == SEPTEMBER + timedelta(days=1)
    assert [i["sha256"] for i in failed["images"]] == [refused.media[0].sha256]
    assert failed["attempt_count"] == 1
    [attempt] = failed["attempts"]
    assert (attempt["outcome"], attempt["error_class"], attempt["platform_code"]) == (
        "failed",
        "permanent",
        "324",
    )
    assert "image" in attempt["message"]
    assert "Missing or invalid image file" in attempt["message"]
    assert failed["last_error"] == attempt["message"]
    assert {fb_id, ig_id, refused_id} == {
        store.get(r["post_id"], r["channel"]).id  # type: ignore[union-attr]
        for r in records
    }


def test_unknown_and_missed_publications_that_were_tried_are_archived(
    graph_through: FakeGraphAPI,
    channels: dict[str, Channel],
    store: Store,
    clock: HandClock,
    tmp_path: Path,
) -> None:
    fb = channels["facebook"]
    # Facebook made the post, then answered 500: nobody knows yet whether it is online.
    graph_through.script("POST photos", "create_then_500")
    unclear = make_request("2021-09-15-oklart", "facebook", (picture(tmp_path, 1),), "Oklart.")
    assert publish(store, clock, fb, unclear, SEPTEMBER)[1].state is State.UNKNOWN
    # A first try failed for a while, then the post was missed while the scheduler was down.
    graph_through.script("POST photos", "error_2")
    album = (picture(tmp_path, 2), picture(tmp_path, 3))
    late = make_request("2021-09-15-sent", "facebook", album, "Sent.")
    late_id, outcome = publish(store, clock, fb, late, SEPTEMBER)
    assert outcome.state is State.SCHEDULED
    store.set_state(late_id, State.MISSED, clock() + timedelta(hours=2), "missed: too late")
    # Missed without ever being tried: nothing was sent, so it is not in the archive.
    never = store.ensure_publication("2021-09-15-aldrig", "facebook", SEPTEMBER, clock())
    assert never.id is not None
    store.set_state(never.id, State.MISSED, clock(), "missed: the scheduler was down")

    archived = by_post(archive_records(store))

    assert set(archived) == {("2021-09-15-oklart", "facebook"), ("2021-09-15-sent", "facebook")}
    unknown = archived[("2021-09-15-oklart", "facebook")]
    assert (unknown["state"], unknown["remote_id"], unknown["caption"]) == (
        "unknown",
        None,
        "Oklart.",
    )
    [attempt] = unknown["attempts"]
    assert (attempt["outcome"], attempt["error_class"], attempt["platform_code"]) == (
        "unknown",
        "unknown",
        "2",
    )
    missed = archived[("2021-09-15-sent", "facebook")]
    assert missed["state"] == "missed"
    assert missed["claimed_at"] == SEPTEMBER
    assert [i["sha256"] for i in missed["images"]] == [m.sha256 for m in album]
    assert [(a["outcome"], a["error_class"]) for a in missed["attempts"]] == [
        ("retry", "transient")
    ]


# -- the files ---------------------------------------------------------------------------------


def one_record(store: Store, clock: HandClock, *, when: datetime = SEPTEMBER) -> list[dict]:
    """One Facebook publication claimed at ``when`` and published a minute later, with a
    first try that failed (written straight into the store, no platform)."""
    media = (
        MediaItem(Path("bild-1.jpg"), "Tre kvinnor framför en vallokal i Södertälje.", "a" * 64),
        MediaItem(Path("bild-2.jpg"), "Röstsedlar på ett bord.", "b" * 64),
    )
    row = store.ensure_publication("2021-09-15-demokratidagen", "facebook", when, when)
    assert row.id is not None

    def claim(now: datetime) -> Any:
        claimed = store.claim(
            row.id,  # type: ignore[arg-type]
            now=now,
            claimed_by="test",
            fingerprint="f" * 64,
            caption=CAPTION,
            media_json=media_json(media),
            link="https://www.sodertalje.se/",
            first_comment=None,
        )
        assert claimed is not None
        return claimed

    store.finish(
        claim(when),
        row.id,
        now=when + timedelta(seconds=2),
        state=State.SCHEDULED,
        outcome="retry",
        error_class="transient",
        code="2",
        message="Facebook hade ett tillfälligt fel; försöker igen.",
    )
    store.finish(
        claim(when + timedelta(minutes=1)),
        row.id,
        now=when + timedelta(minutes=1, seconds=3),
        state=State.PUBLISHED,
        outcome="published",
        remote_id="1234567890_1001",
        url="https://www.facebook.com/1234567890/posts/1001",
    )
    return archive_records(store)


def test_json_is_utf8_indented_stable_with_utc_and_local_times(
    store: Store, clock: HandClock, tmp_path: Path
) -> None:
    records = one_record(store, clock)

    json_path, csv_path = write_archive(records, tmp_path / "arkiv", STOCKHOLM)

    assert (json_path.name, csv_path.name) == ("archive.json", "archive.csv")
    data = json_path.read_bytes()
    assert not data.startswith(b"\xef\xbb\xbf")
    for letter in ("ä", "å", "ö"):
        assert letter.encode("utf-8") in data
    assert b"\\u00e4" not in data  # not escaped: readable as it is
    assert data.startswith(b'{\n  "time_zone": "Europe/Stockholm"')
    document = json.loads(data.decode("utf-8"))
    assert document["count"] == 1
    [record] = document["publications"]
    assert record["caption"] == CAPTION
    assert record["link"] == "https://www.sodertalje.se/"
    assert record["due_at"] == "2021-09-15T07:00:00Z"
    assert record["due_at_local"] == "2021-09-15T09:00:00+02:00"
    assert record["claimed_at"] == "2021-09-15T07:01:00Z"  # the last claim
    assert record["claimed_at_local"] == "2021-09-15T09:01:00+02:00"
    assert record["published_at"] == "2021-09-15T07:01:03Z"
    assert record["published_at_local"] == "2021-09-15T09:01:03+02:00"
    assert record["images"] == [
        {
            "file": "bild-1.jpg",
            "alt": "Tre kvinnor framför en vallokal i Södertälje.",
            "sha256": "a" * 64,
        },
        {"file": "bild-2.jpg", "alt": "Röstsedlar på ett bord.", "sha256": "b" * 64},
    ]
    assert record["attempt_count"] == 2
    first, second = record["attempts"]
    assert first == {
        "kind": "publish",
        "started_at": "2021-09-15T07:00:00Z",
        "started_at_local": "2021-09-15T09:00:00+02:00",
        "finished_at": "2021-09-15T07:00:02Z",
        "finished_at_local": "2021-09-15T09:00:02+02:00",
        "outcome": "retry",
        "error_class": "transient",
        "platform_code": "2",
        "platform_subcode": None,
        "message": "Facebook hade ett tillfälligt fel; försöker igen.",
    }
    assert (second["outcome"], second["started_at"]) == ("published", "2021-09-15T07:01:00Z")
    # The same database gives the same bytes.
    again, _ = write_archive(archive_records(store), tmp_path / "igen", STOCKHOLM)
    assert again.read_bytes() == data


def test_csv_opens_in_excel_with_a_bom_one_row_per_publication(
    store: Store, clock: HandClock, tmp_path: Path
) -> None:
    records = one_record(store, clock)

    _, csv_path = write_archive(records, tmp_path, STOCKHOLM)

    data = csv_path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: Excel shows å, ä, ö
    assert data.count(b"\xef\xbb\xbf") == 1
    text = data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == 2
    row = dict(zip(CSV_COLUMNS, rows[1], strict=True))
    assert row["caption"] == CAPTION  # the line break kept inside the quoted cell
    assert row["images"] == (
        f"bild-1.jpg ({'a' * 64}) — Tre kvinnor framför en vallokal i Södertälje."
        f" | bild-2.jpg ({'b' * 64}) — Röstsedlar på ett bord."
    )
    assert row["published_at"] == "2021-09-15T07:01:03Z"
    assert row["published_at_local"] == "2021-09-15T09:01:03+02:00"
    assert row["attempt_count"] == "2"
    assert row["attempts"].splitlines() == [
        "2021-09-15T09:00:00+02:00 publish: retry (transient, code 2) — "
        "Facebook hade ett tillfälligt fel; försöker igen.",
        "2021-09-15T09:01:00+02:00 publish: published",
    ]
    assert row["remote_id"] == "1234567890_1001"
    assert row["first_comment"] == ""


def test_local_times_follow_the_campaigns_zone_across_daylight_saving() -> None:
    summer = datetime(2021, 9, 15, 7, 0, tzinfo=UTC)
    winter = datetime(2021, 11, 15, 8, 0, tzinfo=UTC)

    assert (utc_text(summer), local_text(summer, STOCKHOLM)) == (
        "2021-09-15T07:00:00Z",
        "2021-09-15T09:00:00+02:00",
    )
    assert (utc_text(winter), local_text(winter, STOCKHOLM)) == (
        "2021-11-15T08:00:00Z",
        "2021-11-15T09:00:00+01:00",
    )
    assert utc_text(None) is local_text(None, STOCKHOLM) is None


def test_an_empty_archive_is_two_valid_files(store: Store, tmp_path: Path) -> None:
    json_path, csv_path = write_archive(archive_records(store), tmp_path, STOCKHOLM)

    assert json.loads(json_path.read_text("utf-8"))["publications"] == []
    assert csv_path.read_bytes().decode("utf-8-sig").splitlines() == [",".join(CSV_COLUMNS)]


# -- the command -------------------------------------------------------------------------------


@pytest.fixture
def sample(campaign: Campaign, monkeypatch: pytest.MonkeyPatch) -> Campaign:
    monkeypatch.delenv("CAMPAIGN_DATABASE_URL", raising=False)
    campaign.config_text += f'\n[database]\nurl = "sqlite:///{campaign.root / "data" / "k.db"}"\n'
    campaign.config_path.write_text(campaign.config_text, encoding="utf-8")
    return campaign


def run(campaign: Campaign, *args: str) -> Result:
    result = runner.invoke(app, ["--config", str(campaign.config_path), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    return result


def test_export_writes_both_files_and_reports_the_counts(
    sample: Campaign, clock: HandClock, tmp_path: Path
) -> None:
    (sample.root / "data").mkdir()
    store = Store.open(f"sqlite:///{sample.root / 'data' / 'k.db'}")
    try:
        one_record(store, clock)
        failed = store.ensure_publication("2021-09-16-valet", "instagram", SEPTEMBER, SEPTEMBER)
        assert failed.id is not None
        claim = store.claim(
            failed.id,
            now=SEPTEMBER,
            claimed_by="test",
            fingerprint="e" * 64,
            caption="Val 2022 — rösta!",
            media_json="[]",
            link=None,
            first_comment=None,
        )
        assert claim is not None
        store.finish(
            claim, failed.id, now=SEPTEMBER, state=State.FAILED, outcome="failed", message="nej"
        )
    finally:
        store.close()
    target = tmp_path / "export" / "arkiv"

    result = run(sample, "export", "-o", str(target))

    assert result.exit_code == 0, result.output
    assert "Archived 2 publications (1 failed, 1 published; facebook 1, instagram 1)." in (
        result.output
    )
    assert str(target / "archive.json") in result.output
    assert str(target / "archive.csv") in result.output
    document = json.loads((target / "archive.json").read_text("utf-8"))
    assert [r["caption"] for r in document["publications"]] == [CAPTION, "Val 2022 — rösta!"]
    assert (target / "archive.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_export_without_a_database_writes_nothing(sample: Campaign, tmp_path: Path) -> None:
    target = tmp_path / "export"

    result = run(sample, "export", "-o", str(target))

    assert result.exit_code == 0
    assert "No database yet" in result.output
    assert not target.exists()
    assert not (sample.root / "data").exists()  # and no database was made


def test_export_of_a_file_that_is_no_database_is_an_error(sample: Campaign, tmp_path: Path) -> None:
    (sample.root / "data").mkdir()
    (sample.root / "data" / "k.db").write_text("inte en databas, bara text " * 20, "utf-8")
    target = tmp_path / "export"

    result = run(sample, "export", "-o", str(target))

    assert result.exit_code == 2
    assert "database" in result.output and "not a database" in result.output
    assert not target.exists()


def test_export_to_a_folder_that_cannot_be_made_is_an_error(
    sample: Campaign, clock: HandClock, tmp_path: Path
) -> None:
    (sample.root / "data").mkdir()
    store = Store.open(f"sqlite:///{sample.root / 'data' / 'k.db'}")
    try:
        one_record(store, clock)
    finally:
        store.close()
    blocker = tmp_path / "a-file"
    blocker.write_text("x", "utf-8")

    result = run(sample, "export", "-o", str(blocker / "arkiv"))

    assert result.exit_code == 2
    assert "cannot write the archive" in result.output


def test_opening_a_file_that_is_not_a_database_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "k.db"
    path.write_text("inte en databas, bara text " * 20, "utf-8")

    with pytest.raises(StoreError, match="cannot open the database"):
        Store.open(f"sqlite:///{path}")
