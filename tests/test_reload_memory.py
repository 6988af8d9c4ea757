"""The daemon draws no image in its own process: posts that arrive by hot reload, and a
post due before it was prepared, are drawn in worker processes that end afterwards, so
the daemon's memory stays flat over any number of reloads (bench/publish_latency.py
measures it).

Each drawing process writes its pid to the file named by ``CAMPAIGN_RENDER_TRACE``, the
instrumentation render_all.py has for this: a real worker, no patched code. The real
daemon in this process, as in tests/test_daemon.py (a clock set by hand, outbox channels).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image

from campaign.branding.render_all import RENDER_TRACE_ENV
from scheduler.store.models import Mode, State
from tests.conftest import HandClock
from tests.test_daemon import Setup, at, post_text, start_job_store
from tests.test_daemon import clock as clock
from tests.test_daemon import setup as setup


def drawn_by(trace: Path) -> list[int]:
    """The pids that drew a rendition, one per rendition drawn."""
    if not trace.exists():
        return []
    return [int(line) for line in trace.read_text(encoding="utf-8").split()]


def new_post(setup: Setup, post_id: str, when: str, colour: tuple[int, int, int]) -> None:
    """A post with an image of its own (so its renditions must be drawn)."""
    image = f"{post_id}.jpg"
    Image.new("RGB", (400, 500), colour).save(setup.campaign.posts / image, "JPEG")
    setup.post(post_id, post_text(when).replace("bild.jpg", image))


@pytest.fixture
def trace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "drawn-by.txt"
    monkeypatch.setenv(RENDER_TRACE_ENV, str(path))
    return path


def test_posts_added_by_a_hot_reload_are_drawn_in_worker_processes(
    setup: Setup, trace: Path
) -> None:
    setup.post("2030-09-15-forsta", post_text("2030-09-15 09:00"))
    daemon = setup.daemon()
    daemon.rescan(force=True, workers=None)  # the start
    start_job_store(daemon)
    assert "2030-09-15-forsta" in daemon.prepared
    at_start = drawn_by(trace)
    assert at_start and os.getpid() not in at_start

    for number in range(3):  # three reloads, each adding a post with an image of its own
        post_id = f"2030-09-15-ny-{number}"
        new_post(setup, post_id, f"2030-09-15 1{number}:00", (40 * number, 90, 160))
        daemon.rescan()  # what the interval's rescan and SIGHUP run

        assert post_id in daemon.prepared  # prepared ahead, its images drawn
        assert daemon.prepared[post_id].requests["facebook"].media[0].path.is_file()
    after = drawn_by(trace)[len(at_start) :]
    assert len(after) >= 3  # at least one rendition per post added
    assert os.getpid() not in after, "the daemon drew images in its own process"


def test_a_post_due_before_it_was_prepared_is_drawn_in_a_worker_process(
    setup: Setup, clock: HandClock, trace: Path
) -> None:
    post_id = "2030-09-20-langt-fram"  # beyond the 48 hours prepared ahead
    new_post(setup, post_id, "2030-09-20 09:00", (10, 120, 60))
    daemon = setup.daemon()
    daemon.rescan(force=True)
    start_job_store(daemon)
    assert post_id not in daemon.prepared and drawn_by(trace) == []

    clock.now = at("2030-09-20 09:00")
    daemon.publish_job(post_id, "facebook")

    row = daemon.store.get(post_id, "facebook", Mode.DRY_RUN)
    assert row is not None and row.state == State.PUBLISHED
    assert drawn_by(trace) and os.getpid() not in drawn_by(trace)
    assert setup.outbox(post_id).is_file()
