"""`campaign run --rehearse`: the real daemon replays a campaign time-compressed, into a
rehearsal database and outbox of its own, and exits with a summary."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from campaign.config import load_config
from scheduler.store.models import Mode, State
from scheduler.store.store import Store
from tests.conftest import GOOD_POST, Campaign

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def rehearsal(campaign: Campaign) -> Campaign:
    """Three ready posts two days apart, one draft; logo, live database path, no secrets."""
    Image.new("RGBA", (100, 50), (230, 0, 0, 255)).save(campaign.root / "logo.png")
    campaign.config_text += f"""
[brand]
logo = "logo.png"

[render]
width = 320

[database]
url = "sqlite:///{campaign.root / "live.db"}"
"""
    for day, slug in ((15, "forsta"), (17, "andra"), (19, "tredje")):
        text = GOOD_POST.replace("2030-09-15 09:00", f"2030-09-{day} 09:00")
        text = text.replace("Idag är det", f"Dag {day}: idag är det")
        campaign.post(f"2030-09-{day}-{slug}", text)
    draft = GOOD_POST.replace("status: ready", "status: draft")
    campaign.post("2030-09-16-utkast", draft.replace("2030-09-15", "2030-09-16"))
    campaign.config_path.write_text(campaign.config_text, encoding="utf-8")
    return campaign


def rehearsal_folder(campaign: Campaign) -> Path:
    """Where a rehearsal keeps its database and outbox: inside the build folder."""
    return load_config(campaign.config_path).build_dir / "rehearsal"


def rehearse(campaign: Campaign, speed: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(campaign.root), "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "scheduler.cli", "--config", str(campaign.config_path), "run",
         "--rehearse", speed],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=campaign.root,
    )  # fmt: skip


def test_a_rehearsal_replays_every_ready_post_in_order_and_exits(rehearsal: Campaign) -> None:
    # Four days of campaign at 200,000× is under two seconds.
    done = rehearse(rehearsal, "200000")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "6 of 6 publications went out" in done.stdout
    folder = rehearsal_folder(rehearsal)
    sent = {
        (record["post_id"], record["channel"]): record
        for record in (
            json.loads(path.read_text("utf-8")) for path in folder.glob("outbox/*/*/post.json")
        )
    }
    assert set(sent) == {
        (f"2030-09-{day}-{slug}", channel)
        for day, slug in ((15, "forsta"), (17, "andra"), (19, "tredje"))
        for channel in ("facebook", "instagram")
    }
    assert sent[("2030-09-17-andra", "facebook")]["caption"].startswith("Dag 17: idag är det")
    times = sorted((record["published_at"], post) for (post, _), record in sent.items())
    assert [post for _, post in times][::2] == [
        "2030-09-15-forsta",
        "2030-09-17-andra",
        "2030-09-19-tredje",
    ]
    store = Store.open(f"sqlite:///{folder / 'rehearsal.db'}")
    try:
        rows = store.publications()
        assert {row.state for row in rows} == {State.PUBLISHED}
        assert {row.mode for row in rows} == {Mode.DRY_RUN}
        assert len(rows) == 6
    finally:
        store.close()
    assert not (rehearsal.root / "live.db").exists()  # the real database is never touched
    assert not (rehearsal.root / "outbox").exists()


def test_a_second_rehearsal_starts_afresh(rehearsal: Campaign) -> None:
    assert rehearse(rehearsal, "200000").returncode == 0
    again = rehearse(rehearsal, "200000")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "6 of 6 publications went out" in again.stdout  # not "already published"


def test_a_speed_of_zero_is_a_usage_error(rehearsal: Campaign) -> None:
    done = rehearse(rehearsal, "0")
    assert done.returncode == 2
    assert "--rehearse takes a speed above 0" in done.stderr
