"""The sample campaign in posts/ is what issue #2 asks for, and `campaign check` passes on it."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from campaign.config import load_config
from campaign.diagnostics import Severity
from campaign.post import Post
from campaign.post_loader import load_campaign
from tests.conftest import NOW

ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def sample() -> tuple[list[Post], list]:
    result = load_campaign(load_config(ROOT / "config.toml"), now=NOW)
    return result.posts, result.diagnostics


def test_sample_checks_without_errors_and_only_past_warnings(sample) -> None:
    posts, diagnostics = sample
    errors = [str(d) for d in diagnostics if d.severity is Severity.ERROR]
    assert errors == []
    assert {d.code for d in diagnostics} <= {"in-the-past"}
    assert len(posts) == len(list((ROOT / "posts").glob("*.yaml")))


def test_sample_covers_september_2021_on_both_channels(sample) -> None:
    posts, _ = sample
    assert len(posts) >= 15
    days = {p.publish_at.local.date() for p in posts}
    assert min(days) >= date(2021, 9, 1) and max(days) <= date(2021, 9, 30)
    assert all(7 <= p.publish_at.local.hour <= 20 for p in posts)
    channel_sets = Counter(p.channels for p in posts)
    assert channel_sets[("facebook",)] >= 1
    assert channel_sets[("instagram",)] >= 1
    assert channel_sets[("facebook", "instagram")] >= 1


def test_sample_has_drafts_a_carousel_and_several_languages(sample) -> None:
    posts, _ = sample
    assert sum(not p.is_ready for p in posts) >= 2
    assert any(len(p.images) > 1 and "instagram" in p.channels for p in posts)
    languages = Counter(p.language for p in posts)
    assert languages["sv"] >= 10 and languages["en"] >= 1 and languages["ar"] >= 1


def test_sample_images_are_full_size_with_real_alt_text(sample) -> None:
    posts, _ = sample
    images = [image for post in posts for image in post.images]
    assert images
    assert all(max(i.width, i.height) >= 3000 for i in images)
    assert {i.width > i.height for i in images} == {True, False}  # landscape and portrait
    assert all(len(i.alt.split()) >= 5 for i in images)
    assert {i.format for i in images} >= {"JPEG"}
