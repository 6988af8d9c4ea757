"""Make the "database of the previous release" that tests/test_store_migration.py migrates.

Run it with the previous release's own code first on the path (schema version 1), never
with this tree's: the rows must be what that release wrote, through its own store API::

    git worktree add /tmp/store-v1 <the commit before schema version 2>
    PYTHONPATH=/tmp/store-v1 python tests/data/make_store_v1.py --out tests/data/store_v1
    git worktree remove /tmp/store-v1

It plays a short campaign through the version-1 ``Store`` (``ensure_publication``,
``claim``, ``finish``, ``mark_unknown_if_publishing``, ``set_state``, ``hold``,
``cool_down``, ``pause_channel``, ``raise_alert``, ``add_sample``, ``beat``) on a SQLite
file at fixed times, and writes:

- ``sqlite.sql``: the file's ``iterdump()``;
- ``postgresql.sql``: the same tables as version 1 creates them on PostgreSQL (its
  models' DDL compiled for PostgreSQL, names unqualified so that a ``search_path`` picks
  the schema) and the same rows as INSERTs with literal values, then ``setval`` for each
  serial column so that the next insert gets a new id.

The fingerprints and media lists are made with the release's own ``content_fingerprint``
and ``media_json``, as its publisher stores them.
"""

from __future__ import annotations

import argparse
import hashlib
import sqlite3
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Table, insert, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import CreateIndex, CreateTable
from sqlmodel import SQLModel

from scheduler.channels.base import MediaItem
from scheduler.prepare import content_fingerprint, media_json
from scheduler.store import models
from scheduler.store.models import Mode, Sample, State
from scheduler.store.store import Store

T0 = datetime(2026, 9, 14, 8, 0, tzinfo=UTC)
HOST = "kampanj-01:4242:9f3c"


def media(name: str, alt: str) -> tuple[MediaItem, ...]:
    digest = hashlib.sha256(name.encode()).hexdigest()
    return (MediaItem(Path("build", "render", name), alt, digest),)


def publish(
    store: Store,
    post_id: str,
    channel: str,
    due: datetime,
    caption: str,
    *,
    mode: Mode = Mode.LIVE,
    link: str | None = None,
    first_comment: str | None = None,
    tags: tuple[str, ...] = (),
) -> tuple[int, object]:
    """Schedule a publication and claim it as the v1 publisher does; (id, claim)."""
    row = store.ensure_publication(
        post_id, channel, due, due - timedelta(days=2), mode, language="sv", tags=tags
    )
    assert row.id is not None
    sent = media(f"{post_id}-{channel}.jpg", f"Bild till {post_id}")
    taken = store.claim(
        row.id,
        now=due,
        claimed_by=HOST,
        fingerprint=content_fingerprint(channel, caption, link, first_comment, sent),
        caption=caption,
        media_json=media_json(sent),
        link=link,
        first_comment=first_comment,
    )
    assert taken is not None
    return row.id, taken


def play(store: Store) -> None:
    """The campaign, at fixed times."""
    # Published on Facebook and Instagram, with engagement samples.
    day = T0 + timedelta(days=1)
    for channel, link, comment in (
        ("facebook", "https://www.sodertalje.se/demokrati", None),
        ("instagram", None, "Läs mer på sodertalje.se/demokrati"),
    ):
        caption = "Idag är det demokratins dag.\n#demokrati100"
        publication_id, taken = publish(
            store,
            "2026-09-15-demokrati",
            channel,
            day,
            caption,
            link=link,
            first_comment=comment,
            tags=("demokrati", "val"),
        )
        assert store.finish(
            taken,  # type: ignore[arg-type]
            publication_id,
            now=day + timedelta(seconds=2),
            state=State.PUBLISHED,
            outcome="published",
            remote_id=f"{channel}-1789_2026",
            url=f"https://www.{channel}.com/p/1789_2026",
        )
        for hours, reactions in ((1, 12), (24, 57)):
            store.add_sample(
                Sample(
                    publication_id=publication_id,
                    taken_at=day + timedelta(hours=hours, seconds=40),
                    age_seconds=hours * 3600 + 38,
                    target_age_seconds=hours * 3600,
                    reactions=reactions,
                    comments=reactions // 6,
                    shares=reactions // 10 if channel == "facebook" else None,
                    saves=reactions // 8 if channel == "instagram" else None,
                    views=reactions * 14,
                    reach=reactions * 9,
                    clicks=reactions // 4 if channel == "facebook" else None,
                    raw_json=f'{{"likes": {reactions}}}',
                )
            )
    store.raise_alert(
        "warning:2026-09-15-demokrati:instagram:first comment",
        "warning",
        "2026-09-15-demokrati on instagram is online, but: the first comment was not posted",
        day + timedelta(seconds=3),
        channel="instagram",
        post_id="2026-09-15-demokrati",
    )

    # Failed after two tries: one retried, one refused for good.
    due = T0 + timedelta(days=2)
    publication_id, taken = publish(store, "2026-09-16-bibliotek", "facebook", due, "Bibblan!")
    store.finish(
        taken,  # type: ignore[arg-type]
        publication_id,
        now=due + timedelta(seconds=31),
        state=State.SCHEDULED,
        outcome="retry",
        error_class="transient",
        code="2",
        message="Facebook is temporarily unavailable",
        next_attempt_at=due + timedelta(minutes=2),
    )
    retry = store.get_by_id(publication_id)
    again = store.claim(
        publication_id,
        now=due + timedelta(minutes=2),
        claimed_by=HOST,
        fingerprint=retry.fingerprint or "",
        caption=retry.caption or "",
        media_json=retry.media_json or "[]",
        link=None,
        first_comment=None,
    )
    assert again is not None
    store.finish(
        again,
        publication_id,
        now=due + timedelta(minutes=2, seconds=1),
        state=State.FAILED,
        outcome="failed",
        error_class="permanent",
        code="324",
        subcode="2069019",
        message="the photo could not be read (code 324)",
    )
    store.raise_alert(
        "failed:2026-09-16-bibliotek:facebook",
        "failed",
        "2026-09-16-bibliotek was not published on facebook: the photo could not be read",
        due + timedelta(minutes=2, seconds=1),
        channel="facebook",
        post_id="2026-09-16-bibliotek",
    )

    # Unknown: the answer never came; the claim was given up for lost.
    due = T0 + timedelta(days=3)
    publication_id, _ = publish(store, "2026-09-17-kultur", "instagram", due, "Kulturnatten")
    assert store.mark_unknown_if_publishing(
        publication_id, due + timedelta(minutes=5), "no answer within 60 s"
    )
    store.raise_alert(
        "unknown:2026-09-17-kultur:instagram",
        "unknown",
        "2026-09-17-kultur on instagram: whether it went out is not known yet",
        due + timedelta(minutes=5),
        channel="instagram",
        post_id="2026-09-17-kultur",
    )

    # Publishing right now: claimed, no answer yet.
    due = T0 + timedelta(days=4)
    publish(store, "2026-09-18-ungdom", "facebook", due, "Fritidsgården öppnar")

    # Scheduled, held back by a cool-down until its retry time.
    due = T0 + timedelta(days=5)
    row = store.ensure_publication("2026-09-19-raddning", "facebook", due, T0, language="sv")
    assert store.hold(row, due + timedelta(minutes=30), due)

    # Scheduled, never tried, further ahead.
    store.ensure_publication(
        "2026-10-01-hosten", "instagram", T0 + timedelta(days=17), T0, tags=("höst",)
    )

    # Missed: the scheduler was down when it was due.
    due = T0 + timedelta(days=6)
    row = store.ensure_publication("2026-09-20-marknad", "instagram", due, T0)
    assert row.id is not None
    assert store.set_state(
        row.id,
        State.MISSED,
        due + timedelta(hours=3),
        "missed: more than 2 h late",
        expect=row,
    )
    store.raise_alert(
        "missed:2026-09-20-marknad:instagram",
        "missed",
        "2026-09-20-marknad was due on instagram but could not go out in time",
        due + timedelta(hours=3),
        channel="instagram",
        post_id="2026-09-20-marknad",
    )

    # A rehearsal (dry run) of a post that is also scheduled for real.
    due = T0 + timedelta(days=1)
    publication_id, taken = publish(
        store, "2026-09-15-demokrati", "facebook", due, "Repetition", mode=Mode.DRY_RUN
    )
    store.finish(
        taken,  # type: ignore[arg-type]
        publication_id,
        now=due,
        state=State.PUBLISHED,
        outcome="published",
        remote_id="outbox-0001",
        url=None,
    )

    # Channel states: Facebook rests after a rate limit, Instagram waits for a new login.
    rest_at = T0 + timedelta(days=5)
    store.cool_down("facebook", rest_at + timedelta(hours=1), "rate limited (code 4)")
    assert store.pause_channel("instagram", "the session has expired: log in again", rest_at)
    store.raise_alert(
        "paused:instagram",
        "paused",
        "instagram is paused: nothing more is sent there until a human acts.",
        rest_at,
        channel="instagram",
    )
    store.mark_alert_delivered(1, day + timedelta(minutes=1))

    # The daemon's heartbeat.
    store.beat(
        holder=HOST,
        mode="live",
        started_at=T0,
        now=T0 + timedelta(days=6, hours=3),
        next_due_at=T0 + timedelta(days=17),
        jobs=2,
    )


def postgresql_dump(path: Path) -> str:
    """The tables of ``path`` as version 1 makes them on PostgreSQL, with their rows."""
    dialect = postgresql.dialect()
    tables = list(SQLModel.metadata.sorted_tables)
    lines = ["-- Made by tests/data/make_store_v1.py with schema version 1's code.", ""]
    for table in tables:
        lines.append(f"{str(CreateTable(table).compile(dialect=dialect)).strip()};")
        for index in sorted(table.indexes, key=lambda i: str(i.name)):
            lines.append(f"{CreateIndex(index).compile(dialect=dialect)};")
        lines.append("")
    store = Store.open(f"sqlite:///{path}")
    try:
        for table in tables:
            with store.engine.connect() as reader:
                rows = reader.execute(select(table).order_by(*table.primary_key.columns))
                for row in rows.mappings():
                    lines.append(f"{_literal_insert(table, dict(row), dialect)};")
            serial = _serial(table)
            if serial is not None:
                lines.append(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', '{serial}'), "
                    f"(SELECT coalesce(max({serial}), 0) + 1 FROM {table.name}), false);"
                )
    finally:
        store.close()
    return "\n".join(lines) + "\n"


def _literal_insert(table: Table, row: dict[str, object], dialect: postgresql.dialect) -> str:
    statement = insert(table).values(**row)
    return str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def _serial(table: Table) -> str | None:
    """The integer primary key that PostgreSQL makes a SERIAL, if any."""
    column = table.autoincrement_column
    return column.name if column is not None else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the two dumps")
    arguments = parser.parse_args()
    if models.SCHEMA_VERSION != 1:
        raise SystemExit(
            f"this is schema version {models.SCHEMA_VERSION}'s code: put the previous "
            "release first on PYTHONPATH (see this file's docstring)."
        )
    arguments.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "campaign.db"
        store = Store.open(f"sqlite:///{path}")
        try:
            play(store)
        finally:
            store.close()
        with sqlite3.connect(path) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            dump = "\n".join(connection.iterdump()) + "\n"
        connection.close()
        (arguments.out / "sqlite.sql").write_text(dump, encoding="utf-8")
        (arguments.out / "postgresql.sql").write_text(postgresql_dump(path), encoding="utf-8")
    print(f"wrote {arguments.out / 'sqlite.sql'} and {arguments.out / 'postgresql.sql'}")


if __name__ == "__main__":
    main()
