"""Rendering a campaign: one job per post, channel and image, named by the hash of its inputs."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from campaign.branding import cache
from campaign.branding.cache import DIGESTS_FILE, FileDigests
from campaign.branding.render_all import (
    BrandSetupProblem,
    RenditionJob,
    brand_style,
    plan_renditions,
    render_campaign,
)
from campaign.config import Config
from campaign.post_loader import load_campaign
from scheduler.cli.app import app
from tests.conftest import NOW, Campaign, undecodable_jpeg


def settings(brand: str = "", render: str = "") -> str:
    """[brand] with a small logo and [render] at 320 wide, plus ``key = value`` lines."""
    if "logo =" not in brand:
        brand = 'logo = "logo.png"\n' + brand
    return f"\n[brand]\n{brand}\n[render]\nwidth = 320\n{render}"


BAND_POST = """\
publish_at: 2030-09-15 09:00
channels: [facebook, instagram]
status: ready
caption: Om ett år är det val. Vi ses där.
images:
  - file: band.jpg
    alt: Tre personer framför en vallokal med skylten Röstning.
brand:
  template: band
  headline: Vi ses i valet
"""

CORNER_POST = """\
publish_at: 2030-09-16 09:00
channels: [facebook, instagram]
status: ready
caption: Så röstar du. Tre steg, tre bilder.
images:
  - file: corner-1.jpg
    alt: En hand lägger ett kuvert i en valurna.
  - file: corner-2.jpg
    alt: En röstsedel i ett gult kuvert på ett bord.
brand:
  template: corner
instagram:
  ratio: "1:1"
"""

FACEBOOK_POST = """\
publish_at: 2030-09-17 09:00
channels: [facebook]
status: ready
caption: Välkommen till dialogträffen i kväll.
images:
  - file: fb.jpg
    alt: Ett tomt möteslokal med stolar i en ring.
brand: none
facebook:
  ratio: "1.91:1"
"""

BAND_ID, CORNER_ID, FACEBOOK_ID = "2030-09-15-band", "2030-09-16-corner", "2030-09-17-fb"
ALL_KEYS = {
    (BAND_ID, "facebook", 0),
    (BAND_ID, "instagram", 0),
    (CORNER_ID, "facebook", 0),
    (CORNER_ID, "facebook", 1),
    (CORNER_ID, "instagram", 0),
    (CORNER_ID, "instagram", 1),
    (FACEBOOK_ID, "facebook", 0),
}

runner = CliRunner()


def write_jpeg(path: Path, colour: tuple[int, int, int], size=(400, 300)) -> None:
    Image.new("RGB", size, colour).save(path, "JPEG")


def touch_later(path: Path) -> None:
    """Move the file's mtime on by a second: file systems with coarse timestamps see a change."""
    status = path.stat()
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns + 1_000_000_000))


@pytest.fixture
def sample(campaign: Campaign) -> Campaign:
    """Three posts: band (2 channels), corner (2 channels × 2 images), Facebook-only."""
    Image.new("RGBA", (100, 50), (230, 0, 0, 255)).save(campaign.root / "logo.png")
    campaign.post(BAND_ID, BAND_POST, image=None)
    campaign.post(CORNER_ID, CORNER_POST, image=None)
    campaign.post(FACEBOOK_ID, FACEBOOK_POST, image=None)
    write_jpeg(campaign.posts / "band.jpg", (10, 200, 30))
    write_jpeg(campaign.posts / "corner-1.jpg", (200, 30, 10))
    write_jpeg(campaign.posts / "corner-2.jpg", (30, 10, 200))
    write_jpeg(campaign.posts / "fb.jpg", (90, 90, 90))
    return campaign


def planned(campaign: Campaign, brand: str = "", render: str = "") -> tuple[Config, list]:
    config = campaign.config(settings(brand, render))
    result = load_campaign(config, now=NOW)
    assert not result.errors, result.errors
    digests = FileDigests(config.build_dir)
    jobs = plan_renditions(result.posts, config, digests)
    digests.save()
    return config, jobs


def names(jobs: list[RenditionJob]) -> dict[tuple[str, str, int], str]:
    return {(job.post.id, job.channel, job.index): job.output.name for job in jobs}


def keys(jobs: list[RenditionJob]) -> set[tuple[str, str, int]]:
    return {(job.post.id, job.channel, job.index) for job in jobs}


def files(config: Config) -> dict[str, bytes]:
    folder = config.build_dir / "renditions"
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*.jpg"))}


def test_plan_has_one_job_per_post_channel_and_image(sample: Campaign) -> None:
    config, jobs = planned(sample)
    assert len(jobs) == len(ALL_KEYS) == len(keys(jobs))
    assert keys(jobs) == ALL_KEYS
    assert len({job.output for job in jobs}) == len(jobs)
    for job in jobs:
        assert job.output.parent == config.build_dir / "renditions" / job.post.id
        assert job.output.name.startswith(f"{job.channel}-{job.index + 1}-")
        assert job.output.suffix == ".jpg"
        assert job.spec.source == job.post.images[job.index].path
        assert job.spec.width == 320
    by_key = {(job.post.id, job.channel, job.index): job.spec for job in jobs}
    assert by_key[(BAND_ID, "instagram", 0)].ratio == "4:5"  # [render] default
    assert by_key[(CORNER_ID, "instagram", 1)].ratio == "1:1"  # the post's own
    assert by_key[(FACEBOOK_ID, "facebook", 0)].ratio == "1.91:1"
    assert by_key[(BAND_ID, "facebook", 0)].template == "band"
    assert by_key[(BAND_ID, "facebook", 0)].headline == "Vi ses i valet"
    assert by_key[(CORNER_ID, "facebook", 0)].template == "corner"
    assert by_key[(FACEBOOK_ID, "facebook", 0)].template == "none"
    assert {spec.fit for spec in by_key.values()} == {"crop"}


def test_one_and_two_workers_make_identical_files_then_nothing_is_redone(
    sample: Campaign,
) -> None:
    config, jobs = planned(sample)
    done: list[RenditionJob] = []
    report = render_campaign(jobs, workers=1, on_done=done.append)
    assert len(report.made) == len(jobs) and not report.failed and not report.cached
    assert len(done) == len(jobs)
    first = files(config)
    assert len(first) == len(jobs)
    shutil.rmtree(config.build_dir / "renditions")
    report = render_campaign(jobs, workers=2)
    assert len(report.made) == len(jobs) and not report.failed
    assert files(config) == first
    again = render_campaign(planned(sample)[1], workers=2)
    assert not again.made and len(again.cached) == len(jobs) and not again.failed
    assert not list((config.build_dir / "renditions").rglob("*.tmp"))


def test_rendition_files_have_the_channel_shape(sample: Campaign) -> None:
    _, jobs = planned(sample)
    render_campaign(jobs, workers=1)
    sizes = {(job.post.id, job.channel, job.index): Image.open(job.output).size for job in jobs}
    assert sizes[(BAND_ID, "instagram", 0)] == (320, 400)
    assert sizes[(CORNER_ID, "instagram", 0)] == (320, 320)
    assert sizes[(FACEBOOK_ID, "facebook", 0)] == (320, 168)


def changed_names(before: list[RenditionJob], after: list[RenditionJob]) -> set:
    old, new = names(before), names(after)
    assert old.keys() == new.keys()
    return {key for key in old if old[key] != new[key]}


def rerender_makes_only(campaign: Campaign, affected: set, **settings: str) -> None:
    _, jobs = planned(campaign, **settings)
    report = render_campaign(jobs, workers=1)
    assert keys(report.made) == affected
    assert keys(report.cached) == ALL_KEYS - affected


def test_changed_image_bytes_redo_only_that_images_renditions(sample: Campaign) -> None:
    _, before = planned(sample)
    render_campaign(before, workers=1)
    image = sample.posts / "corner-1.jpg"
    write_jpeg(image, (30, 200, 200))
    touch_later(image)
    _, after = planned(sample)
    affected = {(CORNER_ID, "facebook", 0), (CORNER_ID, "instagram", 0)}
    assert changed_names(before, after) == affected
    rerender_makes_only(sample, affected)


def test_changed_headline_redoes_only_that_posts_renditions(sample: Campaign) -> None:
    _, before = planned(sample)
    render_campaign(before, workers=1)
    sample.post(BAND_ID, BAND_POST.replace("Vi ses i valet", "Vi ses i vallokalen"), image=None)
    _, after = planned(sample)
    affected = {(BAND_ID, "facebook", 0), (BAND_ID, "instagram", 0)}
    assert changed_names(before, after) == affected
    rerender_makes_only(sample, affected)


def test_changed_fit_redoes_only_that_posts_renditions(sample: Campaign) -> None:
    _, before = planned(sample)
    render_campaign(before, workers=1)
    padded = CORNER_POST.replace("template: corner", "template: corner\n  fit: pad")
    sample.post(CORNER_ID, padded, image=None)
    _, after = planned(sample)
    assert {job.spec.fit for job in after if job.post.id == CORNER_ID} == {"pad"}
    affected = {key for key in ALL_KEYS if key[0] == CORNER_ID}
    assert changed_names(before, after) == affected
    rerender_makes_only(sample, affected)


def test_changed_band_colour_redoes_the_band_renditions(sample: Campaign) -> None:
    _, before = planned(sample)
    _, after = planned(sample, brand='band_colour = "#5D1B36"\n')
    changed = changed_names(before, after)
    assert {(BAND_ID, "facebook", 0), (BAND_ID, "instagram", 0)} <= changed


def test_changed_band_colour_leaves_corner_and_unbranded_renditions_cached(
    sample: Campaign,
) -> None:
    _, before = planned(sample)
    _, after = planned(sample, brand='band_colour = "#5D1B36"\n')
    affected = {(BAND_ID, "facebook", 0), (BAND_ID, "instagram", 0)}
    assert changed_names(before, after) == affected


def test_changed_instagram_ratio_redoes_only_instagram_renditions_using_it(
    sample: Campaign,
) -> None:
    _, before = planned(sample)
    render_campaign(before, workers=1)
    extra = 'instagram_ratio = "1.91:1"\n'
    _, after = planned(sample, render=extra)
    # The corner post sets its own Instagram ratio, and Facebook has its own setting.
    affected = {(BAND_ID, "instagram", 0)}
    assert changed_names(before, after) == affected
    rerender_makes_only(sample, affected, render=extra)
    [job] = [j for j in after if (j.post.id, j.channel) == (BAND_ID, "instagram")]
    assert Image.open(job.output).size == (320, 168)


def test_changed_drawing_code_redoes_everything(
    sample: Campaign, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, before = planned(sample)
    monkeypatch.setattr(cache, "DRAWING_CODE_DIGEST", "0" * 64)
    _, after = planned(sample)
    assert changed_names(before, after) == ALL_KEYS


def test_drawing_code_digest_covers_the_drawing_modules() -> None:
    folder = Path(cache.__file__).parent
    digest = hashlib.sha256()
    for name in ("colour.py", "fonts.py", "geometry.py", "rendition.py", "templates.py"):
        digest.update((folder / name).read_bytes())
    assert digest.hexdigest() == cache.DRAWING_CODE_DIGEST


def test_file_digests_are_remembered_by_size_and_mtime(tmp_path: Path) -> None:
    file = tmp_path / "a.bin"
    file.write_bytes(b"first")
    digests = FileDigests(tmp_path / "build")
    assert digests.of(file) == hashlib.sha256(b"first").hexdigest()
    assert digests.changed
    digests.save()
    assert not digests.changed
    stored = json.loads((tmp_path / "build" / DIGESTS_FILE).read_text(encoding="utf-8"))
    assert stored[str(file.resolve())][2] == hashlib.sha256(b"first").hexdigest()
    # A new run reads the remembered digest instead of the file: prove it with a fake one.
    stored[str(file.resolve())][2] = "remembered"
    (tmp_path / "build" / DIGESTS_FILE).write_text(json.dumps(stored), encoding="utf-8")
    again = FileDigests(tmp_path / "build")
    assert again.of(file) == "remembered" and not again.changed
    # Same size, newer mtime: read again.
    file.write_bytes(b"secnd")
    touch_later(file)
    assert again.of(file) == hashlib.sha256(b"secnd").hexdigest() and again.changed
    # Another size (mtime kept as it was): read again.
    status = file.stat()
    file.write_bytes(b"third!")
    os.utime(file, ns=(status.st_atime_ns, status.st_mtime_ns))
    assert again.of(file) == hashlib.sha256(b"third!").hexdigest()


def test_an_unreadable_digests_file_is_started_afresh(tmp_path: Path) -> None:
    (tmp_path / DIGESTS_FILE).write_text("{not json", encoding="utf-8")
    file = tmp_path / "a.bin"
    file.write_bytes(b"x")
    digests = FileDigests(tmp_path)
    assert digests.known == {} and digests.of(file) == hashlib.sha256(b"x").hexdigest()


def test_a_post_whose_image_cannot_be_decoded_fails_alone(sample: Campaign) -> None:
    undecodable_jpeg(sample.posts / "fb.jpg")
    config, jobs = planned(sample)  # the loader accepts it: header and end marker are fine
    report = render_campaign(jobs, workers=1)
    assert report.failed_posts == {FACEBOOK_ID}
    [(job, reason)] = report.failed
    assert (job.post.id, job.channel) == (FACEBOOK_ID, "facebook")
    assert "cannot be opened" in reason
    assert keys(report.made) == ALL_KEYS - {(FACEBOOK_ID, "facebook", 0)}
    assert not job.output.exists()
    assert not (config.build_dir / "renditions" / FACEBOOK_ID).exists()


def test_upscaled_renditions_are_reported(sample: Campaign) -> None:
    write_jpeg(sample.posts / "fb.jpg", (90, 90, 90), size=(1200, 900))
    _, jobs = planned(sample)
    report = render_campaign(jobs, workers=1)
    # 400×300 sources are enlarged for 4:5 and 1:1 at 320; the 1200×900 one is not.
    assert keys(report.upscaled) == ALL_KEYS - {(FACEBOOK_ID, "facebook", 0)}


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ('logo = "missing.png"\n', ["[brand] logo", "missing.png"]),
        ('font = "fontpkg:no-such-font"\n', ["[brand]", "font", "fontpkg-no-such-font"]),
        ('font = "fonts/missing.ttf"\n', ["[brand] font", "missing.ttf"]),
    ],
)
def test_unusable_brand_setup_names_the_config_key(
    sample: Campaign, extra: str, words: list[str]
) -> None:
    with pytest.raises(BrandSetupProblem) as caught:
        brand_style(sample.config(settings(extra)))
    for word in words:
        assert word in str(caught.value)


@pytest.mark.parametrize("value", ["fontpkg:no-such-font", "fonts/missing.ttf"])
def test_unusable_rtl_font_names_rtl_font(sample: Campaign, value: str) -> None:
    with pytest.raises(BrandSetupProblem) as caught:
        brand_style(sample.config(settings(f'rtl_font = "{value}"\n')))
    message = str(caught.value).replace(str(sample.root), "<campaign>")  # the test's own name
    assert "rtl_font" in message, message


def cli(campaign: Campaign, *args: str):
    result = runner.invoke(app, ["--config", str(campaign.config_path), "render", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    return result


def test_cli_render_then_nothing_to_do_then_failure(sample: Campaign) -> None:
    sample.config(settings())
    first = cli(sample, "-j", "1")
    assert first.exit_code == 0, first.output
    assert "7 made, 0 unchanged, 0 failed" in first.output
    second = cli(sample, "-j", "1")
    assert second.exit_code == 0, second.output
    assert "0 made, 7 unchanged, 0 failed" in second.output
    undecodable_jpeg(sample.posts / "fb.jpg")
    third = cli(sample, "-j", "1")
    assert third.exit_code == 1, third.output
    assert "0 made, 6 unchanged, 1 failed" in third.output
    assert "fb.jpg" in third.output and "cannot be opened" in third.output


def test_cli_render_with_a_missing_logo_exits_2(sample: Campaign) -> None:
    sample.config(settings('logo = "missing.png"\n'))
    result = cli(sample, "-j", "1")
    assert result.exit_code == 2
    assert "[brand] logo" in result.output
