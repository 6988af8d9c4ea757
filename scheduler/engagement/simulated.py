"""A simulated audience for rehearsals: made-up engagement, so that a newcomer sees what the
engagement report will look like before any post goes out for real.

After a rehearsal, every publication it sent to the outbox gets one sample at each of the
configured ages (``[engagement] ages_hours``), as the sampler would have taken them. The
numbers are invented but plausible: each count grows towards a final value and levels off
(most of it within the first day, a little more over the following weeks), in the ratios
each platform shows (Facebook: reactions, comments, shares, clicks, views and reach;
Instagram: likes, comments, shares, saves, views and reach), and some posts do much better
than others. They are seeded: the same seed, post and account always give the same
numbers.

Simulated numbers must never pass for real ones, so:

* they are written only into a rehearsal's own database (a SQLite file named
  ``rehearsal.db``, not the one config.toml names, holding dry-run publications only):
  :func:`simulate_audience` raises :class:`NotARehearsal` for anything else;
* the database itself says so: a ``store_info`` entry
  (:data:`scheduler.engagement.audience_mark.AUDIENCE_KEY`), which goes
  wherever the file is copied, and every sample's ``raw_json`` says ``"simulated": true``.
  :func:`simulated_note` reads the entry; every reader labels the data by it.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import NamedTuple

from sqlalchemy import func, insert, select
from sqlalchemy.engine import make_url
from sqlmodel import Session

from campaign.config import Config
from scheduler.engagement.audience_mark import AUDIENCE_KEY, SIMULATED, is_simulated
from scheduler.engagement.sampling import ages_from_hours
from scheduler.store.models import Mode, Publication, Sample, State, StoreInfo
from scheduler.store.store import Store

#: The only file name a simulated audience is written into.
REHEARSAL_DATABASE = "rehearsal.db"


class NotARehearsal(ValueError):
    """The store is not a rehearsal's database: no simulated audience is written there."""


@dataclass(frozen=True)
class _Platform:
    """How an audience behaves on one platform: the median final reach, how far posts
    differ (the spread of a log-normal), how fast counts come in, and the ratios."""

    reach: float
    spread: float
    #: Hours until two thirds of the fast part of a count is in.
    pace_hours: float
    #: Views per reached person; reactions per reached person.
    views: tuple[float, float]
    reactions: tuple[float, float]
    #: Per reaction.
    comments: tuple[float, float]
    shares: tuple[float, float]
    saves: tuple[float, float] | None
    #: Per reached person.
    clicks: tuple[float, float] | None


_PLATFORMS: dict[str, _Platform] = {
    "facebook": _Platform(
        reach=900,
        spread=0.7,
        pace_hours=5,
        views=(1.2, 1.7),
        reactions=(0.025, 0.07),
        comments=(0.06, 0.2),
        shares=(0.04, 0.18),
        saves=None,
        clicks=(0.01, 0.04),
    ),
    "instagram": _Platform(
        reach=650,
        spread=0.6,
        pace_hours=3,
        views=(1.3, 2.2),
        reactions=(0.05, 0.12),
        comments=(0.02, 0.07),
        shares=(0.02, 0.08),
        saves=(0.03, 0.1),
        clicks=None,
    ),
}
#: How much later than the reach each count comes in (comments early, shares late).
_PACE = {"reach": 1.0, "views": 1.0, "reactions": 1.0, "comments": 0.7, "shares": 1.6}
_PACE |= {"saves": 1.3, "clicks": 0.8}
#: The share of a count that comes in slowly, over weeks, and how much slower.
_TAIL_SHARE = 0.15
_TAIL_SLOWER = 25


def simulate_audience(store: Store, config: Config, *, seed: int = 0) -> int:
    """Write a simulated audience's samples for every publication of the rehearsal that
    went out and has none yet; the number of samples written.

    Raises :class:`NotARehearsal` if ``store`` is not a rehearsal's database.
    """
    _check_rehearsal(store, config)
    ages = ages_from_hours(config.engagement.ages_hours)
    lateness = max(1, round(config.engagement.check_minutes * 60))
    publications = Publication.__table__  # type: ignore[attr-defined]
    samples = Sample.__table__  # type: ignore[attr-defined]
    sampled = select(samples.c.publication_id).distinct()
    query = (
        select(publications.c.id, publications.c.post_id, publications.c.channel)
        .add_columns(publications.c.account, publications.c.due_at)
        .where(
            publications.c.state == State.PUBLISHED.value,
            publications.c.mode == Mode.DRY_RUN.value,
            publications.c.published_at.is_not(None),
            publications.c.id.not_in(sampled),
        )
        .order_by(publications.c.id)
    )
    note = json.dumps({SIMULATED: True, "seed": seed})
    rows = []
    with store.writing() as session:
        for publication_id, post_id, channel, account, due_at in session.execute(query):
            rng = random.Random(f"{seed}/{account}/{post_id}")
            for point in audience_curve(channel, ages, rng, lateness):
                rows.append(
                    {
                        "publication_id": publication_id,
                        # Campaign time: when it would have been read had it gone out then.
                        "taken_at": due_at + timedelta(seconds=point.age),
                        "age_seconds": point.age,
                        "target_age_seconds": point.target,
                        **point.counts,
                        "raw_json": note,
                    }
                )
        if rows:
            session.execute(insert(Sample), rows)
        _mark(session, seed)
    return len(rows)


class CurvePoint(NamedTuple):
    """One simulated sample: the age it was for, its real age (seconds), its counts."""

    target: int
    age: int
    counts: dict[str, int | None]


def audience_curve(
    channel: str, ages: Sequence[int], rng: random.Random, lateness: int = 1
) -> list[CurvePoint]:
    """One publication's samples, one per target age; no count ever falls from one age to
    the next. ``lateness``: a sample is taken up to that many seconds after its age."""
    platform = _PLATFORMS.get(channel, _PLATFORMS["facebook"])
    luck = math.exp(rng.gauss(0, platform.spread))
    if rng.random() < 0.05:
        luck *= rng.uniform(3, 6)  # now and then a post takes off
    reach = min(250_000.0, max(30.0, platform.reach * luck))
    pace = platform.pace_hours * rng.uniform(0.7, 1.4)
    reactions = reach * rng.uniform(*platform.reactions)
    finals: dict[str, float | None] = {
        "reactions": reactions,
        "comments": reactions * rng.uniform(*platform.comments),
        "shares": reactions * rng.uniform(*platform.shares),
        "saves": reactions * rng.uniform(*platform.saves) if platform.saves else None,
        "views": reach * rng.uniform(*platform.views),
        "reach": reach,
        "clicks": reach * rng.uniform(*platform.clicks) if platform.clicks else None,
    }
    curve = []
    for target in ages:
        age = target + rng.randrange(lateness)
        hours = target / 3600
        counts = {
            name: None if final is None else int(final * _grown(hours, pace * _PACE[name]))
            for name, final in finals.items()
        }
        curve.append(CurvePoint(target, age, counts))
    return curve


def _grown(hours: float, pace: float) -> float:
    """The share of a count that is in after ``hours`` (0 at first, towards 1, never down)."""
    fast = 1 - math.exp(-hours / pace)
    slow = 1 - math.exp(-hours / (pace * _TAIL_SLOWER))
    return (1 - _TAIL_SHARE) * fast + _TAIL_SHARE * slow


def simulated_note(store: Store) -> str | None:
    """The database's mark (``simulated …``) if its engagement is a simulated audience."""
    with store.reading() as session:
        value = session.execute(
            select(StoreInfo.value).where(StoreInfo.key == AUDIENCE_KEY)  # type: ignore[arg-type]
        ).scalar()
    return value if is_simulated(value) else None


def _mark(session: Session, seed: int) -> None:
    if session.get(StoreInfo, AUDIENCE_KEY) is None:
        session.add(StoreInfo(key=AUDIENCE_KEY, value=f"{SIMULATED} (seed {seed})"))


def _check_rehearsal(store: Store, config: Config) -> None:
    """NotARehearsal unless ``store`` is a SQLite file named rehearsal.db, not the
    database of config.toml, with no live publication in it."""
    url = store.engine.url
    where = url.render_as_string(hide_password=True)
    if url.get_backend_name() != "sqlite" or not url.database:
        raise NotARehearsal(f"{where} is not a rehearsal's database (a SQLite file)")
    file = Path(url.database).resolve()
    if file.name != REHEARSAL_DATABASE:
        raise NotARehearsal(f"{file} is not a rehearsal's database ({REHEARSAL_DATABASE})")
    real = make_url(config.database_url)
    same = real.get_backend_name() == "sqlite" and real.database
    if same and Path(str(real.database)).resolve() == file:
        raise NotARehearsal(f"{file} is the campaign's database ([database] url)")
    publications = Publication.__table__  # type: ignore[attr-defined]
    with store.reading() as session:
        live = session.execute(
            select(func.count()).where(publications.c.mode == Mode.LIVE.value)
        ).scalar()
    if live:
        raise NotARehearsal(f"{file} holds {live} live publications: it is not a rehearsal's")
