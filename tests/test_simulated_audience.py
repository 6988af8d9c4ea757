"""A rehearsal's simulated audience: seeded, plausible engagement written into the rehearsal
database only, and `campaign stats --rehearsal` showing it, labelled simulated everywhere."""

from __future__ import annotations

import csv
import io
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from typer.testing import CliRunner, Result

from campaign.config import Config, load_config
from scheduler.cli.app import app
from scheduler.engagement.csv_export import HEADER, SIMULATED_CELL, SIMULATED_HEADER
from scheduler.engagement.sampling import ages_from_hours
from scheduler.engagement.simulated import (
    NotARehearsal,
    audience_curve,
    simulate_audience,
    simulated_note,
)
from scheduler.store.models import Mode, Publication, Sample, State
from scheduler.store.store import Store
from tests.conftest import Campaign

SEPT_1 = datetime(2030, 9, 1, 7, 0, tzinfo=UTC)
COUNT_NAMES = ("reactions", "comments", "shares", "saves", "views", "reach", "clicks")
runner = CliRunner()


def config_of(campaign: Campaign, extra: str = "") -> Config:
    campaign.config(extra)
    return load_config(campaign.config_path)


def rehearsal_store(folder: Path, posts: int = 3, *, live: bool = False) -> Store:
    """A database named like a rehearsal's with ``posts`` dry runs on each platform that
    went out (and one that did not), as a rehearsal leaves it."""
    folder.mkdir(parents=True, exist_ok=True)
    store = Store.open(f"sqlite:///{folder / 'rehearsal.db'}")
    with store.writing() as session:
        for index in range(posts):
            for channel in ("facebook", "instagram"):
                session.add(
                    Publication(
                        post_id=f"2030-09-{index + 1:02d}-post-{index}",
                        channel=channel,
                        account=channel,
                        mode=(Mode.LIVE if live else Mode.DRY_RUN).value,
                        state=State.PUBLISHED.value,
                        due_at=SEPT_1 + timedelta(days=index),
                        published_at=datetime.now(UTC),
                        remote_id=f"outbox:{channel}:{index}",
                        attempt_count=1,
                    )
                )
        session.add(
            Publication(
                post_id="2030-09-30-not-yet",
                channel="facebook",
                mode=Mode.DRY_RUN.value,
                state=State.SCHEDULED.value,
                due_at=SEPT_1 + timedelta(days=29),
            )
        )
    return store


def all_samples(store: Store) -> dict[tuple[str, str], list[Sample]]:
    return {
        (row.post_id, row.channel): store.samples(row.id or 0)
        for row in store.publications()
        if row.state == State.PUBLISHED
    }


def counts_of(samples: list[Sample]) -> list[tuple[int, ...]]:
    return [
        (sample.target_age_seconds, *(getattr(sample, name) or 0 for name in COUNT_NAMES))
        for sample in samples
    ]


# --- the simulation ------------------------------------------------------------------------


def test_one_sample_per_configured_age_for_each_publication_that_went_out(
    campaign: Campaign, tmp_path: Path
) -> None:
    config = config_of(campaign, "\n[engagement]\nages_hours = [1, 24, 168]\n")
    store = rehearsal_store(tmp_path / "r")
    try:
        written = simulate_audience(store, config, seed=7)

        samples = all_samples(store)
        assert written == 6 * 3 and len(samples) == 6
        ages = list(ages_from_hours([1, 24, 168]))
        for (_post, channel), taken in samples.items():
            assert [sample.target_age_seconds for sample in taken] == ages
            for sample in taken:
                late = sample.age_seconds - sample.target_age_seconds
                assert 0 <= late < 5 * 60  # read at the next check, as the sampler would
                assert json.loads(sample.raw_json or "{}") == {"simulated": True, "seed": 7}
            assert all(sample.saves is None for sample in taken) == (channel == "facebook")
            assert all(sample.clicks is None for sample in taken) == (channel == "instagram")
        not_sent = store.get("2030-09-30-not-yet", "facebook", Mode.DRY_RUN)
        assert not_sent is not None and store.samples(not_sent.id or 0) == []
        assert simulated_note(store) == "simulated (seed 7)"
        assert simulate_audience(store, config, seed=7) == 0  # nothing twice
    finally:
        store.close()


def test_the_same_seed_gives_the_same_audience(campaign: Campaign, tmp_path: Path) -> None:
    config = config_of(campaign)
    runs = []
    for name, seed in (("a", 0), ("b", 0), ("c", 1)):
        store = rehearsal_store(tmp_path / name)
        try:
            simulate_audience(store, config, seed=seed)
            runs.append({key: counts_of(samples) for key, samples in all_samples(store).items()})
        finally:
            store.close()
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]
    assert runs[0][("2030-09-01-post-0", "facebook")] != runs[0][("2030-09-01-post-0", "instagram")]


def test_counts_grow_level_off_and_keep_platform_ratios() -> None:
    import random

    ages = ages_from_hours([1, 6, 24, 72, 168, 720])
    for channel in ("facebook", "instagram"):
        finals = []
        for post in range(300):
            curve = audience_curve(channel, ages, random.Random(f"3/{channel}/{post}"), 300)
            for name in COUNT_NAMES:
                values = [point.counts[name] for point in curve]
                if values[0] is None:
                    assert set(values) == {None}
                    continue
                assert values == sorted(values), (channel, post, name)  # never down
                assert all(value >= 0 for value in values)
            last = curve[-1].counts
            first = curve[0].counts
            assert last["views"] >= last["reach"] >= last["reactions"] >= last["comments"]
            assert last["reach"] <= 250_000
            assert first["reach"] < last["reach"]  # still coming in after an hour
            # Most of it comes within a day, little after a week.
            day = curve[2].counts["reach"]
            week = curve[4].counts["reach"]
            assert day >= 0.6 * last["reach"] and week >= 0.85 * last["reach"]
            finals.append(last["reach"])
        finals.sort()
        assert finals[-1] > 5 * finals[len(finals) // 2]  # some posts do much better
        assert finals[0] < finals[len(finals) // 2] / 2


def test_only_a_rehearsal_database_gets_a_simulated_audience(
    campaign: Campaign, tmp_path: Path
) -> None:
    real = tmp_path / "real" / "rehearsal.db"
    config = config_of(campaign, f'\n[database]\nurl = "sqlite:///{real}"\n')
    refused = {
        "the campaign's database": rehearsal_store(tmp_path / "real"),
        "a database of another name": Store.open(f"sqlite:///{tmp_path / 'campaign.db'}"),
        "a database with live publications": rehearsal_store(tmp_path / "live", live=True),
    }
    for why, store in refused.items():
        try:
            with pytest.raises(NotARehearsal):
                simulate_audience(store, config)
            assert all(samples == [] for samples in all_samples(store).values()), why
            assert simulated_note(store) is None, why
        finally:
            store.close()


# --- `campaign stats --rehearsal` after a real rehearsal -----------------------------------


def stats(campaign: Campaign, *args: str) -> Result:
    result = runner.invoke(
        app, ["--config", str(campaign.config_path), "stats", *args], env={"COLUMNS": "200"}
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    return result


def rehearsal_database(campaign: Campaign) -> Path:
    return load_config(campaign.config_path).build_dir / "rehearsal" / "rehearsal.db"


@pytest.fixture
def simulated(campaign: Campaign) -> Campaign:
    """A campaign whose last rehearsal sent three posts to each platform and ended with a
    simulated audience; no live database."""
    config = config_of(campaign)
    store = rehearsal_store(config.build_dir / "rehearsal")
    try:
        assert simulate_audience(store, config) == 6 * 6
    finally:
        store.close()
    return campaign


def test_stats_rehearsal_shows_the_simulated_audience(simulated: Campaign) -> None:
    result = stats(simulated, "--rehearsal")

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("SIMULATED AUDIENCE")
    rows = [line for line in lines if line.startswith("2030-09-")]
    assert len(rows) == 6 and "2030-09-03 09:00" in rows[0]  # campaign time, newest first
    assert all(" 30 d " in row for row in rows)
    assert "Simulated: nothing here was read" in result.output
    assert "Simulated total, 6 publications: reactions" in result.output


def test_plain_stats_never_shows_the_simulated_audience(simulated: Campaign) -> None:
    result = stats(simulated)

    assert result.exit_code == 0, result.output
    assert "to show" in result.output and "campaign stats --rehearsal" in result.output
    assert "SIMULATED" not in result.output and "2030-09-" not in result.output
    assert not (simulated.root / "campaign.db").exists()


def test_stats_rehearsal_csv_marks_every_row(simulated: Campaign) -> None:
    target = simulated.root / "simulerad.csv"

    result = stats(simulated, "--rehearsal", "--csv", str(target), "--excel-sv")

    assert result.exit_code == 0, result.output
    assert "marked simulated in its first column" in result.output.replace("\n", " ")
    text = target.read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    assert rows[0] == [SIMULATED_HEADER, *HEADER]
    assert len(rows) == 7 and all(row[0] == SIMULATED_CELL for row in rows[1:])
    assert "SIMULATED" in SIMULATED_CELL


def test_stats_rehearsal_html_says_simulated_on_the_page_and_every_chart(
    simulated: Campaign,
) -> None:
    import base64
    import re

    folder = simulated.root / "rapport"

    result = stats(simulated, "--rehearsal", "--html", str(folder))

    assert result.exit_code == 0, result.output
    assert "HTML report of the simulated audience" in result.output
    page = (folder / "index.html").read_text(encoding="utf-8")
    assert [path.name for path in folder.iterdir()] == ["index.html"]  # one page
    assert "<title>SIMULATED engagement" in page
    assert page.count('class="simulated-banner"') == 1
    assert page.index('class="simulated-banner"') < page.index("<header")
    assert page.count('class="badge-simulated"') == 6
    chart = r'<img class="chart" src="data:image/svg\+xml;base64,([^"]+)" alt="([^"]*)"'
    charts = re.findall(chart, page)
    assert len(charts) == 6 + 4  # one per publication, one per comparison
    for encoded, alt in charts:
        assert alt.startswith("Simulated audience")
        assert "Simulated audience – not real numbers" in base64.b64decode(encoded).decode()
    assert "1 Sep 2030" in page and "3 Sep 2030" in page  # campaign time, not today


def test_stats_rehearsal_without_a_rehearsal_names_the_command(campaign: Campaign) -> None:
    config_of(campaign)
    result = stats(campaign, "--rehearsal")
    assert result.exit_code == 0
    assert "No rehearsal yet" in result.output
    assert "campaign run --rehearse 100000" in result.output


def test_stats_rehearsal_of_an_unfinished_rehearsal_says_so(campaign: Campaign) -> None:
    config = config_of(campaign)
    rehearsal_store(config.build_dir / "rehearsal").close()  # no audience: it was stopped

    result = stats(campaign, "--rehearsal")

    assert result.exit_code == 0
    assert "stopped before its end" in result.output
    assert "campaign run --rehearse 100000" in result.output
    assert "2030-09-" not in result.output


@pytest.mark.parametrize("html", [False, True])
def test_a_copy_of_a_rehearsal_database_is_never_shown_as_real(
    campaign: Campaign, tmp_path: Path, html: bool
) -> None:
    copy = tmp_path / "copied" / "campaign.db"
    config = config_of(campaign, f'\n[database]\nurl = "sqlite:///{copy}"\n')
    store = rehearsal_store(config.build_dir / "rehearsal")
    try:
        simulate_audience(store, config)
        with store.writing() as session:  # what a live row in the copy would look like
            session.execute(update(Publication).values(mode=Mode.LIVE.value))
    finally:
        store.close()
    copy.parent.mkdir()
    shutil.copy(config.build_dir / "rehearsal" / "rehearsal.db", copy)

    result = stats(campaign, *(("--html", str(tmp_path / "rapport")) if html else ()))

    assert result.exit_code == 2, result.output
    assert "simulated audience, not real engagement" in result.output
    assert "2030-09-" not in result.output
    assert not (tmp_path / "rapport" / "index.html").exists()
