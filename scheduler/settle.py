"""`campaign settle`: a human decides about a publication that was not sent.

A publication that was past when first seen, missed, or failed waits for a decision:
publish it now (the same exactly-once path as `campaign publish`), mark it done (it
went out another way, e.g. posted by hand) or skip it, each with a reason. Done and
skipped are final: the daemon never takes them up again, and the archive keeps the
decision, its reason, who and when. Nothing here prints: the command layer does.
"""

from __future__ import annotations

import difflib
import getpass
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Literal

from campaign.config import Config
from campaign.post import Post
from scheduler.channels.base import PublishRequest
from scheduler.clock import Clock, system_clock
from scheduler.publisher import Outcome, Publisher
from scheduler.store.models import SETTLED, Mode, Publication, State
from scheduler.store.store import Store

Choice = Literal["publish-now", "done", "skip"]

#: The states a human settles: nothing was sent, and the scheduler will not send it.
TO_SETTLE = (State.PAST, State.MISSED, State.FAILED)


class SettleError(Exception):
    """Why nothing was settled, for the person who asked; ``code``: 2 a usage mistake
    (no such post or account, no reason), 1 nothing to settle (published, in flight)."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class Settled:
    """What became of one publication: ``ok`` whether it is settled as asked."""

    row: Publication
    state: State
    message: str
    ok: bool


def who() -> str:
    """``user@host``: who settled it, for the record."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no user name in the environment nor the password file
        user = "someone"
    return f"{user}@{socket.gethostname()}"


def local(moment: datetime | None, zone: tzinfo) -> str:
    """``2021-09-15 09:00 CEST``, as people read it."""
    return "—" if moment is None else f"{moment.astimezone(zone):%Y-%m-%d %H:%M %Z}"


def rows_to_settle(
    store: Store,
    config: Config,
    post_id: str,
    account: str | None,
    modes: Mapping[str, Mode],
    post_ids_on_disk: Iterable[str],
) -> list[Publication]:
    """The post's publications to decide about (``account``: only that one), in the mode
    each account runs in now (``modes``; a switched-off account's live one).

    Raises :class:`SettleError`: no such post (with a close name), no such account, or
    nothing to settle (each publication is published, settled, in flight or to come).
    """
    every = store.publications()
    rows = [
        row
        for row in every
        if row.post_id == post_id and row.mode == modes.get(row.account, Mode.LIVE)
    ]
    on_disk = set(post_ids_on_disk)
    if not rows:
        if post_id in on_disk:
            raise SettleError(
                f"nothing to settle: {post_id} has no publication in the database yet (the "
                "scheduler has not seen it). It goes out at its time once `campaign run` runs.",
                1,
            )
        known = sorted(on_disk | {row.post_id for row in every})
        close = difflib.get_close_matches(post_id, known, n=1, cutoff=0.6)
        hint = f" Did you mean {close[0]}?" if close else ""
        raise SettleError(
            f"no post {post_id!r} in {config.posts_dir.name}/ nor in the database.{hint} Give "
            "the post's file name without .yaml; `campaign status` lists what needs a decision.",
            2,
        )
    if account is not None:
        rows = _of_account(rows, config, post_id, account)
    waiting = [row for row in rows if row.state in TO_SETTLE]
    if waiting:
        return waiting
    zone = config.zone
    reasons = "; ".join(_why_not(row, zone) for row in rows)
    raise SettleError(f"nothing to settle for {post_id}: {reasons}", 1)


def _of_account(
    rows: list[Publication], config: Config, post_id: str, account: str
) -> list[Publication]:
    mine = [row for row in rows if row.account == account]
    if mine:
        return mine
    names = sorted({row.account for row in rows})
    if account in config.accounts:
        raise SettleError(
            f"{post_id} has no publication on the account {account} (its accounts: "
            f"{', '.join(names)}).",
            2,
        )
    close = difflib.get_close_matches(account, [*names, *config.accounts], n=1, cutoff=0.6)
    hint = f" Did you mean {close[0]}?" if close else ""
    raise SettleError(
        f"--account {account}: config.toml has no such account.{hint} {post_id} goes to: "
        f"{', '.join(names)}.",
        2,
    )


def _why_not(row: Publication, zone: tzinfo) -> str:
    """Why ``row`` needs no decision, in words."""
    where = row.account
    state = State(row.state)
    if state == State.PUBLISHED:
        link = f" ({row.url})" if row.url else ""
        return f"on {where} it is already published, at {local(row.published_at, zone)}{link}"
    if state in (State.PUBLISHING, State.UNKNOWN):
        return (
            f"on {where} it may be going out right now or have gone out: run `campaign "
            "reconcile` first, which looks for it on the platform"
        )
    if state in SETTLED:
        return f"on {where} it is settled already as {state.value} ({row.last_error or ''})"
    when = row.next_attempt_at or row.due_at
    return (
        f"on {where} it is scheduled for {local(when, zone)} and goes out then (to keep it "
        "from going out, set its file to status: draft)"
    )


def mark(
    store: Store,
    rows: Iterable[Publication],
    choice: Literal["done", "skip"],
    reason: str,
    *,
    zone: tzinfo,
    clock: Clock = system_clock,
    by: str | None = None,
) -> list[Settled]:
    """Record the decision (done: it went out another way; skip: not to go out) with its
    reason, who and when, on each row still as seen."""
    text = reason.strip()
    if not text:
        flag = "--done" if choice == "done" else "--skip"
        raise SettleError(
            f'{flag} needs a reason, for the record: e.g. {flag} "posted by hand on 3 October".',
            2,
        )
    state = State.DONE if choice == "done" else State.SKIPPED
    by = by or who()
    results = []
    for row in rows:
        now = clock()
        if store.settle(row, state, now=now, by=by, reason=text):
            message = f"{state.value}: {text} (by {by}, {local(now, zone)})"
            results.append(Settled(row, state, message, True))
        else:
            results.append(
                Settled(
                    row,
                    State(row.state),
                    "it moved on meanwhile (another process took it): nothing recorded; see "
                    "`campaign status`",
                    False,
                )
            )
    return results


def publish_by_hand(publisher: Publisher, row: Publication, request: PublishRequest) -> Outcome:
    """The one by-hand path (`campaign publish`, `campaign settle --publish-now`): a
    publication a human settled (done, skipped) is never sent; any other goes through
    :meth:`Publisher.publish` ``by_hand``, exactly once (its claim is a compare-and-set,
    and an unclear earlier try is looked for on the platform before anything is sent)."""
    if row.state in SETTLED:
        return Outcome(
            row.post_id,
            row.channel,
            State(row.state),
            f"nothing was sent: it is settled as {row.state} ({row.last_error or ''}).",
            account=row.account,
        )
    return publisher.publish(request, by_hand=True)


def publish_now(
    publisher: Publisher,
    post: Post,
    rows: Iterable[Publication],
    requests: Mapping[str, PublishRequest],
) -> list[Settled]:
    """Publish each row's post now through :func:`publish_by_hand` (``requests`` by
    account: the post prepared)."""
    results = []
    for row in rows:
        request = requests.get(row.account)
        if request is None:
            results.append(
                Settled(
                    row,
                    State(row.state),
                    f"{post.id} no longer goes to {row.account} (its accounts: "
                    f"{', '.join(post.accounts)}): nothing was sent. Settle it with --done or "
                    "--skip instead.",
                    False,
                )
            )
            continue
        outcome = publish_by_hand(publisher, row, request)
        ok = outcome.state == State.PUBLISHED
        results.append(Settled(row, outcome.state, outcome.message, ok))
    return results
