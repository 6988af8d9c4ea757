"""The outbox channel: what a dry run writes, and how reconciling finds it again."""

from __future__ import annotations

import hashlib
import json
import os
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from scheduler.channels.base import MediaItem, PublishRequest
from scheduler.channels.errors import ChannelError, ErrorClass
from scheduler.channels.outbox import POST_FILE, OutboxChannel

T0 = datetime(2030, 9, 15, 7, 0, tzinfo=UTC)
CAPTION = (
    "Idag är det demokratins dag. Kom och prata med oss på torget i Södertälje!\n\n"
    "اليوم هو يوم الديمقراطية. تعال وتحدث معنا.\n#demokrati100 #södertälje"
)
POST_ID = "2030-09-15-demokratidagen"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def rendition(path: Path, colour: tuple[int, int, int]) -> MediaItem:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (64, 80), colour).save(path, "JPEG")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return MediaItem(path=path, alt=f"Bild i färgen {colour} – röstning på torget.", sha256=digest)


@pytest.fixture
def media(tmp_path: Path) -> tuple[MediaItem, ...]:
    build = tmp_path / "build" / "renditions" / POST_ID
    return (
        rendition(build / "instagram-1-aaaa.jpg", (200, 30, 10)),
        rendition(build / "instagram-2-bbbb.jpg", (10, 30, 200)),
    )


def request(
    media: tuple[MediaItem, ...] = (),
    caption: str = CAPTION,
    channel: str = "instagram",
    post_id: str = POST_ID,
) -> PublishRequest:
    return PublishRequest(
        post_id=post_id,
        channel=channel,  # type: ignore[arg-type]
        caption=caption,
        media=media,
        fingerprint="f" * 64,
        link="https://www.sodertalje.se/demokrati" if channel == "facebook" else None,
        first_comment="#val2022 #röstaidag" if channel == "instagram" else None,
    )


def read_record(folder: Path) -> dict:
    return json.loads((folder / POST_FILE).read_text(encoding="utf-8"))


def test_publish_writes_post_json_and_copies(tmp_path: Path, media: tuple[MediaItem, ...]) -> None:
    outbox = OutboxChannel("instagram", tmp_path / "outbox", Clock())
    result = outbox.publish(request(media))

    folder = tmp_path / "outbox" / "instagram" / POST_ID
    assert outbox.post_folder(POST_ID) == folder
    assert result.remote_id == f"outbox:instagram:{POST_ID}"
    assert result.url == folder.as_uri()
    assert result.warnings == ()
    raw = (folder / POST_FILE).read_text(encoding="utf-8")
    assert "Södertälje" in raw and "الديمقراطية" in raw  # written as text, not \u escapes
    record = json.loads(raw)
    assert record["caption"] == CAPTION
    assert record["channel"] == "instagram"
    assert record["post_id"] == POST_ID
    assert record["link"] is None
    assert record["first_comment"] == "#val2022 #röstaidag"
    assert record["fingerprint"] == "f" * 64
    assert datetime.fromisoformat(record["published_at"]) == T0
    assert [item["file"] for item in record["media"]] == ["1.jpg", "2.jpg"]
    for written, item in zip(record["media"], media, strict=True):
        assert written["alt"] == item.alt
        assert written["sha256"] == item.sha256
        copy = folder / written["file"]
        assert copy.read_bytes() == item.path.read_bytes()
        assert hashlib.sha256(copy.read_bytes()).hexdigest() == item.sha256
    assert sorted(p.name for p in folder.iterdir()) == ["1.jpg", "2.jpg", POST_FILE]


def test_facebook_link_is_kept(tmp_path: Path, media: tuple[MediaItem, ...]) -> None:
    outbox = OutboxChannel("facebook", tmp_path / "outbox", Clock())
    outbox.publish(request((), channel="facebook"))
    record = read_record(outbox.post_folder(POST_ID))
    assert record["link"] == "https://www.sodertalje.se/demokrati"
    assert record["first_comment"] is None
    assert record["media"] == []


def test_republish_replaces_the_folder_and_leaves_no_temporary_folders(
    tmp_path: Path, media: tuple[MediaItem, ...]
) -> None:
    clock = Clock()
    outbox = OutboxChannel("instagram", tmp_path / "outbox", clock)
    outbox.publish(request(media))
    clock.now = T0 + timedelta(hours=1)
    outbox.publish(request(media[:1], caption="Ny text."))

    folder = outbox.post_folder(POST_ID)
    record = read_record(folder)
    assert record["caption"] == "Ny text."
    assert datetime.fromisoformat(record["published_at"]) == T0 + timedelta(hours=1)
    assert sorted(p.name for p in folder.iterdir()) == ["1.jpg", POST_FILE]  # 2.jpg is gone
    assert [p.name for p in folder.parent.iterdir()] == [POST_ID]  # no .POST_ID-xxxx left


def test_posts_and_channels_have_folders_of_their_own(
    tmp_path: Path, media: tuple[MediaItem, ...]
) -> None:
    instagram = OutboxChannel("instagram", tmp_path / "outbox", Clock())
    facebook = OutboxChannel("facebook", tmp_path / "outbox", Clock())
    instagram.publish(request(media))
    instagram.publish(request(media, caption="Annan post.", post_id="2030-09-16-annan"))
    facebook.publish(request((), channel="facebook"))
    assert read_record(instagram.post_folder(POST_ID))["caption"] == CAPTION
    assert read_record(instagram.post_folder("2030-09-16-annan"))["caption"] == "Annan post."
    assert read_record(facebook.post_folder(POST_ID))["channel"] == "facebook"


def test_a_failed_replace_keeps_the_previous_post(
    tmp_path: Path, media: tuple[MediaItem, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    outbox = OutboxChannel("instagram", tmp_path / "outbox", clock)
    outbox.publish(request(media))

    def refuse(source: object, target: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    clock.now = T0 + timedelta(hours=1)
    with pytest.raises(ChannelError):
        outbox.publish(request(media, caption="Ny text."))
    monkeypatch.undo()
    assert read_record(outbox.post_folder(POST_ID))["caption"] == CAPTION


def test_a_failed_publish_leaves_no_temporary_folder(
    tmp_path: Path, media: tuple[MediaItem, ...]
) -> None:
    outbox = OutboxChannel("instagram", tmp_path / "outbox", Clock())
    media[1].path.unlink()
    with pytest.raises(ChannelError):
        outbox.publish(request(media))
    assert list(outbox.post_folder(POST_ID).parent.iterdir()) == []


def test_find_published_finds_the_post_by_its_caption(
    tmp_path: Path, media: tuple[MediaItem, ...]
) -> None:
    outbox = OutboxChannel("instagram", tmp_path / "outbox", Clock())
    outbox.publish(request(media))

    found = outbox.find_published(request(media), T0 - timedelta(minutes=10))
    assert found is not None
    assert found.remote_id == f"outbox:instagram:{POST_ID}"
    assert found.url == outbox.post_folder(POST_ID).as_uri()
    assert found.created_at == T0
    assert found.caption == CAPTION
    assert outbox.find_published(request(media), T0) is not None  # `since` is inclusive


def test_find_published_ignores_white_space_and_unicode_normal_form(
    tmp_path: Path, media: tuple[MediaItem, ...]
) -> None:
    outbox = OutboxChannel("instagram", tmp_path / "outbox", Clock())
    outbox.publish(request(media, caption=unicodedata.normalize("NFC", CAPTION)))
    decomposed = unicodedata.normalize("NFD", CAPTION)
    assert decomposed != CAPTION
    respaced = "  " + CAPTION.replace("\n\n", "\n").replace(" ", "  \t") + "\n"
    for caption in (decomposed, respaced):
        assert outbox.find_published(request(media, caption=caption), T0) is not None


def test_find_published_misses_another_caption_or_an_older_post(
    tmp_path: Path, media: tuple[MediaItem, ...]
) -> None:
    outbox = OutboxChannel("instagram", tmp_path / "outbox", Clock())
    assert outbox.find_published(request(media), T0 - timedelta(days=1)) is None  # nothing yet
    outbox.publish(request(media))
    other = request(media, caption=CAPTION.replace("torget", "biblioteket"))
    assert outbox.find_published(other, T0 - timedelta(days=1)) is None
    assert outbox.find_published(request(media), T0 + timedelta(seconds=1)) is None
    elsewhere = OutboxChannel("facebook", tmp_path / "outbox", Clock())
    assert elsewhere.find_published(request(media), T0 - timedelta(days=1)) is None


def test_find_published_tolerates_a_damaged_record(
    tmp_path: Path, media: tuple[MediaItem, ...]
) -> None:
    outbox = OutboxChannel("instagram", tmp_path / "outbox", Clock())
    outbox.publish(request(media))
    (outbox.post_folder(POST_ID) / POST_FILE).write_text("{not json", encoding="utf-8")
    assert outbox.find_published(request(media), T0 - timedelta(days=1)) is None


def test_an_unwritable_outbox_is_a_transient_error_naming_the_folder(
    tmp_path: Path, media: tuple[MediaItem, ...]
) -> None:
    blocked = tmp_path / "outbox"
    blocked.write_text("a file where the folder should be", encoding="utf-8")
    outbox = OutboxChannel("instagram", blocked, Clock())
    with pytest.raises(ChannelError) as caught:
        outbox.publish(request(media))
    assert caught.value.error_class is ErrorClass.TRANSIENT
    assert str(blocked) in caught.value.message
    assert "writable" in caught.value.message


def test_check_credentials_is_ok_and_names_the_folder(tmp_path: Path) -> None:
    outbox = OutboxChannel("facebook", tmp_path / "outbox")
    check = outbox.check_credentials()
    assert check.ok is True
    assert "dry run" in check.detail and str(tmp_path / "outbox") in check.detail
    assert outbox.kind == "outbox" and outbox.name == "facebook"


def test_read_metrics_has_no_counts(tmp_path: Path) -> None:
    metrics = OutboxChannel("facebook", tmp_path / "outbox").read_metrics("outbox:facebook:x")
    assert metrics.reactions is None and metrics.reach is None
    assert metrics.raw == {"outbox": True}
