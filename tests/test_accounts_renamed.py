"""An account renamed in config.toml after its posts went out: the same Page must not get
them again under the new name. The post is held back on the new account and a human is
told, who publishes it by hand if the new account is in fact another Page."""

from __future__ import annotations

from apscheduler.schedulers.base import BaseScheduler

from scheduler.channels.factory import build_channels
from scheduler.daemon import Daemon
from scheduler.store.models import Mode
from tests.database import database_url as database_url
from tests.test_accounts_runtime import (
    LIBRARY,
    TwoPages,
    at,
    due,
    jobs,
    post_text,
)
from tests.test_accounts_runtime import pages as pages

RENAMED = "bib-fb"
POST_ID = "2030-09-15-val"


def _restart_with(pages: TwoPages, config_text: str, post: str) -> Daemon:
    """config.toml and the post rewritten, then a new daemon over the same database."""
    pages.campaign.config_text = config_text
    pages.config = pages.campaign.config()
    pages.post(POST_ID, post)
    setups = build_channels(pages.config, environ=pages.environ, clock=pages.clock)
    daemon = Daemon(pages.config, pages.store(), setups, clock=pages.clock)
    pages.daemons.append(daemon)
    daemon.rescan(force=True)
    BaseScheduler.start(daemon.scheduler, paused=True)
    return daemon


def test_a_renamed_account_does_not_get_its_posts_again(pages: TwoPages) -> None:
    pages.post(POST_ID, post_text("2030-09-15 09:00", "valet"))
    first = pages.daemon()
    pages.clock.now = at("2030-09-15 09:00")
    due(first, POST_ID, "facebook", LIBRARY)
    assert len(pages.bibliotek.posts) == 1

    # The same Page, renamed within the misfire grace of the post's time.
    renamed_config = pages.campaign.config_text.replace(
        f"[accounts.{LIBRARY}]", f"[accounts.{RENAMED}]"
    )
    second = _restart_with(
        pages, renamed_config, post_text("2030-09-15 09:00", "valet").replace(LIBRARY, RENAMED)
    )
    assert f"publish:{POST_ID}:{RENAMED}" not in jobs(second)
    assert second.store.get(POST_ID, RENAMED, Mode.LIVE) is None  # nothing left to go out
    for job_id in jobs(second):
        job = second.scheduler.get_job(job_id)
        job.func(*job.args)
    assert second.lanes.wait_idle(30)
    assert len(pages.bibliotek.posts) == 1, "the library's Page got the post twice"
    [alert] = [a for a in second.store.alerts() if a.key.startswith("elsewhere:")]
    assert alert.account == RENAMED and alert.post_id == POST_ID
    assert f"it went out (or may have) on {LIBRARY}" in alert.message
    assert f"campaign publish {POST_ID} --account {RENAMED}" in alert.message
    second.rescan(force=True)  # told once, not at every rescan
    assert len([a for a in second.store.alerts() if a.key.startswith("elsewhere:")]) == 1


def test_an_account_still_named_in_config_is_not_held_back(pages: TwoPages) -> None:
    """A post that went out on one account goes to a newly added one as usual."""
    pages.post(POST_ID, post_text("2030-09-15 09:00", "valet").replace(f", {LIBRARY}", ""))
    first = pages.daemon()
    pages.clock.now = at("2030-09-15 09:00")
    due(first, POST_ID, "facebook")
    second = _restart_with(
        pages, pages.campaign.config_text, post_text("2030-09-15 09:00", "valet")
    )
    assert f"publish:{POST_ID}:{LIBRARY}" in jobs(second)
    due(second, POST_ID, LIBRARY)
    assert len(pages.bibliotek.posts) == 1 and len(pages.kommun.posts) == 1
    assert not [a for a in second.store.alerts() if a.key.startswith("elsewhere:")]
