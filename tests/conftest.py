"""Shared fixtures: a campaign folder on disk with a config, posts and real image files."""

from __future__ import annotations

import io
import re
import textwrap
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests_mock
from PIL import Image

from campaign.config import Config, parse_config
from campaign.diagnostics import Diagnostic
from campaign.post import Post
from campaign.post_loader import load_campaign
from scheduler.store.store import Store
from tests.fakes.graph_api import FakeGraphAPI
from tests.fakes.graph_api import fake_graph as fake_graph
from tests.fakes.instagram_api import FakeInstagram
from tests.fakes.instagram_api import fake_instagram as fake_instagram

# A clock after the sample campaign and before the DST tests' dates.
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)

BASE_CONFIG = """\
[campaign]
name = "Test campaign"
timezone = "Europe/Stockholm"
posts = "posts"
"""

GOOD_POST = """\
publish_at: 2030-09-15 09:00
channels: [facebook, instagram]
status: ready
caption: |
  Idag är det demokratins dag. Kom och prata med oss.
  #demokrati100
images:
  - file: bild.jpg
    alt: Tre personer framför en vallokal med skylten Röstning.
"""


def write_image(path: Path, size: tuple[int, int] = (1600, 2000), fmt: str = "JPEG") -> Path:
    """A small real image file of the given pixel size and format."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (27, 54, 93)).save(path, fmt)
    return path


def undecodable_jpeg(path: Path) -> Path:
    """A JPEG whose header reads and which ends in EOI, but whose scan data is broken:
    it passes `campaign check`'s header checks and fails only when decoded."""
    buffer = io.BytesIO()
    Image.new("RGB", (400, 300), (1, 2, 3)).save(buffer, "JPEG")
    data = buffer.getvalue()
    scan = data.index(b"\xff\xda")
    scan_data = scan + 2 + int.from_bytes(data[scan + 2 : scan + 4], "big")
    path.write_bytes(data[:scan_data] + b"\x12" * 20 + b"\xff\xd8" + b"\x12" * 20 + b"\xff\xd9")
    return path


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A real SQLite store in the test's folder (tests/database.py has one for PostgreSQL too)."""
    opened = Store.open(f"sqlite:///{tmp_path / 'campaign.db'}")
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def graph_through(fake_instagram: FakeInstagram, fake_graph: FakeGraphAPI) -> FakeGraphAPI:
    """The fake Graph API reachable over HTTP while requests-mock answers for Instagram."""
    assert fake_instagram.mocker is not None
    fake_instagram.mocker.register_uri(
        requests_mock.ANY, re.compile(re.escape(fake_graph.url)), real_http=True
    )
    return fake_graph


class HandClock:
    """A clock that moves only when the test says so (pass it where code takes ``clock=``)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> datetime:
        self.now += delta
        return self.now


class Campaign:
    """A campaign folder in a temporary directory: config.toml, posts/, images."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.posts = root / "posts"
        self.posts.mkdir(parents=True, exist_ok=True)
        self.config_text = BASE_CONFIG
        # The default [brand] logo, which `campaign check` requires to be an image.
        write_image(root / "assets" / "demokratin-100-mark.png", (200, 200), "PNG")

    @property
    def config_path(self) -> Path:
        return self.root / "config.toml"

    def config(self, extra: str = "") -> Config:
        self.config_path.write_text(self.config_text + textwrap.dedent(extra), encoding="utf-8")
        return parse_config(self.config_path.read_text(encoding="utf-8"), self.config_path)

    def post(self, name: str, text: str, image: str | None = "bild.jpg") -> Path:
        """Write ``posts/<name>.yaml`` (dedented) and, if named, a valid image beside it."""
        path = self.posts / f"{name}.yaml"
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        if image and not (self.posts / image).exists():
            write_image(self.posts / image)
        return path

    def load(self, extra_config: str = "") -> tuple[list[Post], list[Diagnostic]]:
        result = load_campaign(self.config(extra_config), now=NOW)
        return result.posts, result.diagnostics


@pytest.fixture
def campaign(tmp_path: Path) -> Campaign:
    return Campaign(tmp_path)


@pytest.fixture
def codes() -> Callable[[list[Diagnostic]], list[str]]:
    """The diagnostic codes, in order, for compact assertions."""
    return lambda diagnostics: [d.code for d in diagnostics]
