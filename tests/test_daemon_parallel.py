"""Publications due together on different accounts are in flight at the same time; one
account's go out one at a time and in order; a stop loses none of them.

The real daemon in this process (tests/test_daemon.py's harness: a clock set by hand,
the job store started paused). Its publish jobs are run as the scheduler runs them
(``job.func(*job.args)``: they hand the publication to its account's lane and return),
through the real Facebook and Instagram Graph channels, against the fake Graph APIs on
127.0.0.1. Concurrency is shown with a barrier in the fakes, never with timing: each
account's first request waits there for the other's, so a serial daemon breaks it.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from campaign.branding.render_all import RENDER_TRACE_ENV
from scheduler import redaction
from scheduler.channels.factory import ChannelSetup, build_channels
from scheduler.channels.instagram_graph import InstagramGraphChannel, InstagramGraphSettings
from scheduler.daemon import Daemon
from scheduler.store.models import Mode, State
from tests.conftest import HandClock
from tests.fakes.graph_api import FakeGraphAPI
from tests.fakes.instagram_graph_api import FakeInstagramGraphAPI
from tests.fakes.media_server import LoopbackMediaHost
from tests.test_daemon import Setup, at, post_text, start_job_store
from tests.test_daemon import clock as clock
from tests.test_daemon import setup as setup

BOUND = 30  # seconds: a bound on a hang, never a measure of speed
TOKEN_ENV = "CAMPAIGN_FACEBOOK_TOKEN"
LIBRARY = "bibliotek-fb"  # a second Facebook Page: [accounts.bibliotek-fb]
LIBRARY_TOKEN_ENV = "CAMPAIGN_TOKEN_BIBLIOTEK_FB"


class Watched:
    """Counts a fake's publishing requests in flight, keeps their order, and can hold
    each one at a gate (a barrier, an event) before it is answered."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = 0
        self.most = 0
        self.order: list[str] = []
        self.gate: Callable[[str], None] = lambda _caption: None

    def around(self, caption: str, answer: Callable[[], Any]) -> Any:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
            self.order.append(caption)
        try:
            self.gate(caption)
            return answer()
        finally:
            with self.lock:
                self.now -= 1


class WatchedGraphAPI(FakeGraphAPI):
    """The fake Graph API; each photo post (``POST photos``) passes :attr:`watched`."""

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        self.watched = Watched()

    def _answer(self, handler: Any, request: Any) -> Any:
        if request.kind != "POST photos":
            return super()._answer(handler, request)
        caption = request.params.get("caption", "").splitlines()[0]
        return self.watched.around(
            caption, lambda: super(WatchedGraphAPI, self)._answer(handler, request)
        )


class WatchedInstagramGraphAPI(FakeInstagramGraphAPI):
    """The fake Instagram Graph API; each container (``POST media``) passes :attr:`watched`."""

    def __init__(self) -> None:
        super().__init__(polls_in_progress=0)
        self.watched = Watched()

    def _answer(self, handler: Any, request: Any) -> Any:
        if request.kind != "POST media":
            return super()._answer(handler, request)
        caption = request.params.get("caption", "").splitlines()[0]
        return self.watched.around(
            caption, lambda: super(WatchedInstagramGraphAPI, self)._answer(handler, request)
        )


class Live:
    """The harness's campaign with Facebook and Instagram live against the fakes."""

    def __init__(
        self, setup: Setup, facebook: WatchedGraphAPI, library: WatchedGraphAPI, instagram: Any
    ) -> None:
        self.setup = setup
        self.facebook = facebook
        self.library = library
        self.instagram = instagram
        self.host = LoopbackMediaHost(setup.root / "hosted")

    def daemon(self) -> Daemon:
        config = self.setup.config
        environ = {TOKEN_ENV: self.facebook.token, LIBRARY_TOKEN_ENV: self.library.token}
        setups = build_channels(config, environ=environ, clock=self.setup.clock)
        assert setups["facebook"].dry_run_reason is None
        assert setups[LIBRARY].dry_run_reason is None
        settings = InstagramGraphSettings(
            self.instagram.ig_user_id, self.instagram.url, self.instagram.version
        )
        channel = InstagramGraphChannel(
            settings,
            self.instagram.token,
            self.host,
            10.0,
            remove_after=True,
            sleep=lambda _seconds: None,
            clock=self.setup.clock,
        )
        setups["instagram"] = ChannelSetup(channel, None, "graph", self.host.describe())
        daemon = Daemon(config, self.setup.store(), setups, clock=self.setup.clock)
        self.setup.daemons.append(daemon)
        return daemon


@pytest.fixture
def live(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> Iterator[Live]:
    monkeypatch.setattr(redaction, "_secrets", set())
    facebook = WatchedGraphAPI().start()
    library = WatchedGraphAPI(page_id="9988776655", page_name="Stadsbiblioteket").start()
    instagram = WatchedInstagramGraphAPI().start()
    setup.campaign.config_text += f"""
[channels.facebook]
page_id = "{facebook.page_id}"
graph_url = "{facebook.url}"
api_version = "{facebook.version}"
token_env = "{TOKEN_ENV}"

[accounts.{LIBRARY}]
platform = "facebook"
page_id = "{library.page_id}"
graph_url = "{library.url}"
token_env = "{LIBRARY_TOKEN_ENV}"
"""
    state = Live(setup, facebook, library, instagram)
    try:
        yield state
    finally:
        for daemon in setup.daemons:
            daemon.lanes.stop()
        facebook.stop()
        library.stop()
        instagram.stop()
        state.host.stop()


def due_now(daemon: Daemon, post_id: str, account: str) -> None:
    """What the scheduler does when a publish job comes due: run the job's function."""
    job = daemon.scheduler.get_job(f"publish:{post_id}:{account}")
    assert job is not None, f"no job for {post_id} on {account}"
    job.func(*job.args)


def until(condition: Callable[[], bool]) -> None:
    """Wait for ``condition`` (polled; the bound only ends a hang)."""
    deadline = time.monotonic() + BOUND
    while not condition():
        assert time.monotonic() < deadline, "the condition never came true"
        time.sleep(0.01)


def caption(name: str) -> str:
    return f"Inlägg {name}: demokratin fyller hundra år."


def test_two_accounts_due_together_are_in_flight_at_once_and_one_account_keeps_its_order(
    live: Live, clock: HandClock
) -> None:
    setup = live.setup
    for name in ("a", "b", "c"):
        setup.post(
            f"2030-09-15-fb-{name}",
            post_text("2030-09-15 09:00", "[facebook]", caption=caption(f"fb-{name}")),
        )
    setup.post("2030-09-15-ig", post_text("2030-09-15 09:00", "[instagram]", caption=caption("ig")))
    daemon = live.daemon()
    daemon.rescan(force=True)
    start_job_store(daemon)

    # Facebook's first photo post and Instagram's container meet here: only two requests
    # in flight at the same time get through; one after the other breaks the barrier.
    meeting = threading.Barrier(2, timeout=BOUND)
    broken: list[str] = []

    def meet_once(watched: Watched) -> Callable[[str], None]:
        def gate(text: str) -> None:
            watched.gate = lambda _text: None  # only the first request of each account
            try:
                meeting.wait()
            except threading.BrokenBarrierError:
                broken.append(f"{text} was not in flight together with the other account")

        return gate

    live.facebook.watched.gate = meet_once(live.facebook.watched)
    live.instagram.watched.gate = meet_once(live.instagram.watched)

    clock.now = at("2030-09-15 09:00")
    # As the scheduler hands them over: Facebook's "a" starts, "c" and "b" come in behind
    # it out of order and wait in Facebook's lane; Instagram's own lane starts at once.
    for post_id, account in (
        ("2030-09-15-fb-a", "facebook"),
        ("2030-09-15-fb-c", "facebook"),
        ("2030-09-15-fb-b", "facebook"),
        ("2030-09-15-ig", "instagram"),
    ):
        due_now(daemon, post_id, account)  # returns at once: the lane publishes
    assert daemon.lanes.wait_idle(BOUND * 2), "the publications never finished"

    assert broken == []
    assert live.facebook.watched.order == [caption("fb-a"), caption("fb-b"), caption("fb-c")]
    assert live.facebook.watched.most == 1  # never two of one account at once
    assert live.instagram.watched.order == [caption("ig")]
    for post_id, account in (
        ("2030-09-15-fb-a", "facebook"),
        ("2030-09-15-fb-b", "facebook"),
        ("2030-09-15-fb-c", "facebook"),
        ("2030-09-15-ig", "instagram"),
    ):
        row = daemon.store.get(post_id, account, Mode.LIVE)
        assert row is not None and (row.state, row.attempt_count) == (State.PUBLISHED, 1)
    assert len(live.facebook.posts) == 3 and len(live.instagram.media) == 1


def test_two_pages_due_together_are_in_flight_at_once(live: Live, clock: HandClock) -> None:
    """Two accounts of one platform (the default Page and [accounts.bibliotek-fb], each on
    its own fake): each has its own lane."""
    setup = live.setup
    for name, account in (("kommun", "facebook"), ("bibliotek", LIBRARY)):
        text = post_text("2030-09-15 09:00", f"[{account}]", caption=caption(name))
        setup.post(f"2030-09-15-{name}", text.replace("channels:", "accounts:"))
    daemon = live.daemon()
    daemon.rescan(force=True)
    start_job_store(daemon)
    meeting = threading.Barrier(2, timeout=BOUND)
    broken: list[str] = []

    def meet(text: str) -> None:
        try:
            meeting.wait()
        except threading.BrokenBarrierError:
            broken.append(f"{text} was not in flight together with the other Page's post")

    live.facebook.watched.gate = meet
    live.library.watched.gate = meet

    clock.now = at("2030-09-15 09:00")
    due_now(daemon, "2030-09-15-kommun", "facebook")
    due_now(daemon, "2030-09-15-bibliotek", LIBRARY)
    assert daemon.lanes.wait_idle(BOUND * 2), "the publications never finished"

    assert broken == []
    assert live.facebook.watched.order == [caption("kommun")]
    assert live.library.watched.order == [caption("bibliotek")]
    for post_id, account in (("2030-09-15-kommun", "facebook"), ("2030-09-15-bibliotek", LIBRARY)):
        row = daemon.store.get(post_id, account, Mode.LIVE)
        assert row is not None and (row.state, row.attempt_count) == (State.PUBLISHED, 1)


def test_a_stop_waits_for_the_publish_in_flight_and_what_waited_goes_out_after_a_restart(
    live: Live, clock: HandClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="campaign.daemon")
    setup = live.setup
    setup.post(
        "2030-09-15-forst", post_text("2030-09-15 09:00", "[facebook]", caption=caption("först"))
    )
    setup.post(
        "2030-09-15-sedan", post_text("2030-09-15 09:00", "[facebook]", caption=caption("sedan"))
    )
    daemon = live.daemon()
    daemon.rescan(force=True)
    start_job_store(daemon)
    arrived, release = threading.Event(), threading.Event()

    def hold(_text: str) -> None:
        arrived.set()
        assert release.wait(BOUND), "never released"

    live.facebook.watched.gate = hold
    clock.now = at("2030-09-15 09:00")
    due_now(daemon, "2030-09-15-forst", "facebook")
    due_now(daemon, "2030-09-15-sedan", "facebook")  # waits behind it in Facebook's lane
    assert arrived.wait(BOUND)
    assert daemon.lanes.waiting("facebook") == ["publish:2030-09-15-sedan:facebook"]

    daemon._on_stop_signal(signal.SIGTERM, None)  # what SIGTERM does: only flags
    stopper = threading.Thread(target=daemon._finish_in_flight)  # what run() does next
    stopper.start()
    try:
        until(lambda: not daemon.lanes.waiting("facebook"))  # stop() dropped what waited
        assert daemon.lanes.waiting("facebook") == []
        assert stopper.is_alive()  # it waits for the publish in flight
    finally:
        live.facebook.watched.gate = lambda _text: None
        release.set()
        stopper.join(BOUND)
    assert not stopper.is_alive()
    assert "waiting for the publish in flight" in caplog.text

    store = daemon.store
    first = store.get("2030-09-15-forst", "facebook", Mode.LIVE)
    assert first is not None and (first.state, first.attempt_count) == (State.PUBLISHED, 1)
    waited_row = store.get("2030-09-15-sedan", "facebook", Mode.LIVE)
    assert waited_row is not None and waited_row.id is not None
    assert (waited_row.state, waited_row.attempt_count) == (State.SCHEDULED, 0)
    assert store.attempts(waited_row.id) == []  # never started, never claimed
    assert live.facebook.watched.order == [caption("först")]

    # the next start schedules it again (late, within the grace) and it goes out once
    clock.advance(timedelta(minutes=2))
    restarted = live.daemon()
    restarted._recover()
    restarted.rescan(force=True)
    start_job_store(restarted)
    assert {job.id for job in restarted.scheduler.get_jobs()} == {
        "publish:2030-09-15-sedan:facebook"
    }
    due_now(restarted, "2030-09-15-sedan", "facebook")
    assert restarted.lanes.wait_idle(BOUND)
    row = restarted.store.get("2030-09-15-sedan", "facebook", Mode.LIVE)
    assert row is not None and (row.state, row.attempt_count) == (State.PUBLISHED, 1)
    assert live.facebook.watched.order == [caption("först"), caption("sedan")]
    assert len(live.facebook.posts) == 2


def test_a_due_post_never_waits_for_other_posts_images_being_drawn(
    live: Live, clock: HandClock, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A reload draws new posts' images (in a worker process) that cannot finish: the
    worker's drawing blocks on a named pipe nobody reads yet. A post due meanwhile, which
    needs no drawing of its own, is published all the same, while the reload waits."""
    setup = live.setup
    pipe = tmp_path / "render-trace"
    os.mkfifo(pipe)
    monkeypatch.setenv(RENDER_TRACE_ENV, str(pipe))  # each drawing opens it: blocks
    setup.post(
        "2030-09-15-i-tid", post_text("2030-09-15 09:00", "[facebook]", caption=caption("i tid"))
    )
    reader: int | None = None
    daemon = live.daemon()
    rescans: list[threading.Thread] = []
    try:
        reader = os.open(pipe, os.O_RDONLY | os.O_NONBLOCK)  # let the start's drawing pass
        daemon.rescan(force=True)
        start_job_store(daemon)
        os.close(reader)
        reader = None  # from here on, drawing blocks

        # a reload: a new post with a new image, and the due post's caption edited (its
        # images stay: nothing to draw for it, but it must be prepared again)
        Image.new("RGB", (400, 500), (200, 30, 30)).save(setup.campaign.posts / "ny.jpg", "JPEG")
        setup.post(
            "2030-09-15-ny",
            post_text("2030-09-15 10:00", "[facebook]").replace("bild.jpg", "ny.jpg"),
        )
        setup.post(
            "2030-09-15-i-tid",
            post_text("2030-09-15 09:00", "[facebook]", caption=caption("i tid, ändrad")),
        )
        reload = threading.Thread(target=daemon.rescan, daemon=True)
        rescans.append(reload)
        reload.start()
        # until the reload has made the new post's job (jobs come before images)
        until(lambda: daemon.scheduler.get_job("publish:2030-09-15-ny:facebook") is not None)

        clock.now = at("2030-09-15 09:00")
        publisher = threading.Thread(
            target=due_now, args=(daemon, "2030-09-15-i-tid", "facebook"), daemon=True
        )
        publisher.start()
        publisher.join(BOUND)
        assert not publisher.is_alive(), "the publish job waited for the reload"
        assert daemon.lanes.wait_idle(BOUND), "the due post waited for the other's images"

        row = daemon.store.get("2030-09-15-i-tid", "facebook", Mode.LIVE)
        assert row is not None and (row.state, row.attempt_count) == (State.PUBLISHED, 1)
        assert live.facebook.watched.order == [caption("i tid, ändrad")]
        assert reload.is_alive()  # still drawing the new post's image
    finally:
        if reader is None:
            reader = os.open(pipe, os.O_RDONLY | os.O_NONBLOCK)  # let the drawing finish
        for thread in rescans:
            thread.join(BOUND)
        os.close(reader)
    assert "2030-09-15-ny" in daemon.prepared
