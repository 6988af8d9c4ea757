"""Nothing the tool writes or tidies goes through a symbolic link (issue 10, item 5).

A pull request can commit a link where the tool writes (``output``, ``output/preview``,
``output/renditions``, a file at a name the tool writes, the rehearsal folder, the
outbox). Each command must refuse it with a message and exit 2 (or, for a channel, an
error that is recorded), and the folder the link points to must keep every file.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner, Result

from campaign.branding.cache import FileDigests
from campaign.branding.render_all import plan_renditions, prune_stale, render_campaign
from campaign.outputs import OUTPUT_FOLDER as BUILD
from campaign.post_loader import load_campaign
from scheduler.channels.base import MediaItem, PublishRequest
from scheduler.channels.errors import ChannelError
from scheduler.channels.outbox import OutboxChannel
from scheduler.cli.app import app
from scheduler.store.store import Store
from tests.conftest import GOOD_POST, NOW, Campaign, write_image

POST_ID = "2030-09-15-bra"
#: What a victim folder holds: a file named like a rendition, and one of the owner's own.
VICTIMS = ("facebook-1-0123456789abcdef0123.jpg", "thesis.docx", "index.html", "preview.css")


@pytest.fixture
def repo(campaign: Campaign) -> Campaign:
    Image.new("RGBA", (64, 64), (27, 54, 93, 255)).save(campaign.root / "logo.png")
    campaign.config_text += '\n[brand]\nlogo = "logo.png"\n\n[render]\nwidth = 320\n'
    campaign.post(POST_ID, GOOD_POST)
    campaign.config()
    return campaign


@pytest.fixture
def victim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder outside the repository that a link points to, with files in it."""
    folder = tmp_path_factory.mktemp("victim")
    for name in VICTIMS:
        (folder / name).write_bytes(b"precious " + name.encode())
    (folder / POST_ID).mkdir()
    (folder / POST_ID / VICTIMS[0]).write_bytes(b"precious too")
    return folder


def untouched(folder: Path) -> None:
    assert sorted(p.name for p in folder.iterdir()) == sorted([*VICTIMS, POST_ID])
    for name in VICTIMS:
        assert (folder / name).read_bytes() == b"precious " + name.encode()
    assert [p.name for p in (folder / POST_ID).iterdir()] == [VICTIMS[0]]


def run(campaign: Campaign, *args: str) -> Result:
    result = CliRunner().invoke(app, ["--config", str(campaign.config_path), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def refused(result: Result, link: str) -> None:
    text = " ".join(result.output.split())
    assert result.exit_code == 2, result.output
    assert "symbolic link" in text and link in text, result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("link", [BUILD, f"{BUILD}/renditions", f"{BUILD}/renditions/{POST_ID}"])
def test_render_refuses_a_symlinked_output_folder(repo: Campaign, victim: Path, link: str) -> None:
    (repo.root / link).parent.mkdir(parents=True, exist_ok=True)
    (repo.root / link).symlink_to(victim, target_is_directory=True)
    refused(run(repo, "render"), Path(link).name)
    untouched(victim)


@pytest.mark.parametrize("link", [BUILD, f"{BUILD}/preview", f"{BUILD}/preview/img"])
def test_preview_refuses_a_symlinked_output_folder(repo: Campaign, victim: Path, link: str) -> None:
    (repo.root / link).parent.mkdir(parents=True, exist_ok=True)
    (repo.root / link).symlink_to(victim, target_is_directory=True)
    refused(run(repo, "preview"), Path(link).name)
    untouched(victim)


def test_preview_refuses_a_symlinked_folder_given_with_o(repo: Campaign, victim: Path) -> None:
    (repo.root / "out").symlink_to(victim, target_is_directory=True)
    refused(run(repo, "preview", "-o", str(repo.root / "out")), "out")
    untouched(victim)


def test_preview_writes_no_file_through_a_link_at_its_name(repo: Campaign, victim: Path) -> None:
    preview = repo.root / BUILD / "preview"
    preview.mkdir(parents=True)
    (preview / "preview.css").symlink_to(victim / "preview.css")
    result = run(repo, "preview")
    refused(result, "preview.css")
    untouched(victim)


def test_preview_tidies_only_its_own_files_and_follows_no_link(
    repo: Campaign, victim: Path
) -> None:
    assert run(repo, "preview").exit_code == 0
    images = repo.root / BUILD / "preview" / "img"
    (images / "old-post").symlink_to(victim, target_is_directory=True)
    (images / "mine.txt").write_text("a note of my own", encoding="utf-8")
    (images / POST_ID / "linked.jpg").symlink_to(victim / VICTIMS[0])
    stale = images / POST_ID / "facebook-1-00aa.jpg"
    stale.write_bytes(b"an old rendition")

    again = run(repo, "preview")

    assert again.exit_code == 0, again.output
    assert not stale.exists()  # a file the tool made: tidied
    assert (images / "mine.txt").exists() and (images / POST_ID / "linked.jpg").is_symlink()
    untouched(victim)


def test_a_symlinked_rendition_is_never_taken_for_a_cached_one(
    repo: Campaign, victim: Path
) -> None:
    config = repo.config()
    posts = load_campaign(config, now=NOW).posts
    jobs = plan_renditions(posts, config, FileDigests(config.build_dir))
    jobs[0].output.parent.mkdir(parents=True)
    jobs[0].output.symlink_to(victim / VICTIMS[0])
    refused(run(repo, "render"), jobs[0].output.name)
    untouched(victim)


def test_render_survives_a_post_whose_every_rendition_fails(repo: Campaign) -> None:
    """Issue 10, item 13: a post whose every rendition failed left no folder to tidy, and
    the clean-up after it ended in FileNotFoundError. (`campaign check` now refuses the
    headline that did it, so the post is changed after loading, as a font or brand change
    between check and render could.)"""
    config = repo.config()
    [loaded] = load_campaign(config, now=NOW).posts
    brand = loaded.brand.model_copy(update={"template": "band", "headline": "A" * 80})
    jobs = plan_renditions([replace(loaded, brand=brand)], config, FileDigests(config.build_dir))

    report = render_campaign(jobs, workers=1)

    assert report.failed_posts == {POST_ID}
    assert len(report.failed) == len(jobs) == 2
    assert "does not fit" in report.failed[0][1]
    assert prune_stale(jobs, config.build_dir, whole_campaign=True) == 0


def test_rehearsal_refuses_a_symlinked_rehearsal_folder(repo: Campaign, victim: Path) -> None:
    (victim / "rehearsal.db").write_bytes(b"precious")
    (repo.root / BUILD).mkdir()
    (repo.root / BUILD / "rehearsal").symlink_to(victim, target_is_directory=True)
    refused(run(repo, "run", "--rehearse", "100000"), "rehearsal")
    assert (victim / "rehearsal.db").read_bytes() == b"precious"
    (victim / "rehearsal.db").unlink()
    untouched(victim)


def test_rehearsal_refuses_a_symlinked_outbox(repo: Campaign, victim: Path) -> None:
    rehearsal = repo.root / BUILD / "rehearsal"
    rehearsal.mkdir(parents=True)
    (rehearsal / "outbox").symlink_to(victim, target_is_directory=True)
    refused(run(repo, "run", "--rehearse", "100000"), "outbox")
    untouched(victim)


def request(tmp_path: Path) -> PublishRequest:
    image = write_image(tmp_path / "r.jpg", (100, 100))
    return PublishRequest(
        post_id=POST_ID,
        channel="facebook",
        caption="Hej",
        media=(MediaItem(path=image, alt="En bild.", sha256="0" * 64),),
        fingerprint="f",
    )


@pytest.mark.parametrize("link", ["outbox", "outbox/facebook", f"outbox/facebook/{POST_ID}"])
def test_the_outbox_writes_nothing_through_a_link(tmp_path: Path, victim: Path, link: str) -> None:
    (tmp_path / link).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / link).symlink_to(victim, target_is_directory=True)
    channel = OutboxChannel("facebook", tmp_path / "outbox", root=tmp_path)
    with pytest.raises(ChannelError) as problem:
        channel.publish(request(tmp_path))
    assert "symbolic link" in problem.value.message
    untouched(victim)


def test_campaign_new_writes_nothing_through_a_dangling_link(repo: Campaign, victim: Path) -> None:
    target = victim / "planted.yaml"
    (repo.posts / "2030-10-01-planted.yaml").symlink_to(target)
    result = run(repo, "new", "planted", "--at", "2030-10-01 09:00")
    assert result.exit_code == 2 and "already exists" in result.output, result.output
    assert not target.exists()


def test_campaign_schema_writes_nothing_through_a_link(repo: Campaign, victim: Path) -> None:
    (repo.root / "schema.json").symlink_to(victim / "thesis.docx")
    result = run(repo, "schema", "-o", str(repo.root / "schema.json"))
    refused(result, "schema.json")
    untouched(victim)


def with_database(repo: Campaign) -> None:
    repo.config_text += f'\n[database]\nurl = "sqlite:///{repo.root / "campaign.db"}"\n'
    repo.config()
    Store.open(f"sqlite:///{repo.root / 'campaign.db'}").close()


def test_stats_csv_and_html_write_nothing_through_a_link(repo: Campaign, victim: Path) -> None:
    with_database(repo)
    (repo.root / "engagement.csv").symlink_to(victim / "thesis.docx")
    refused(run(repo, "stats", "--csv", str(repo.root / "engagement.csv")), "engagement.csv")
    (repo.root / "report").symlink_to(victim, target_is_directory=True)
    refused(run(repo, "stats", "--html", str(repo.root / "report")), "report")
    untouched(victim)


def test_export_writes_nothing_through_a_link(repo: Campaign, victim: Path) -> None:
    with_database(repo)
    (repo.root / "archive").symlink_to(victim, target_is_directory=True)
    refused(run(repo, "export", "-o", str(repo.root / "archive")), "archive")
    (repo.root / "archive").unlink()
    (repo.root / "archive").mkdir()
    (repo.root / "archive" / "archive.json").symlink_to(victim / "thesis.docx")
    refused(run(repo, "export", "-o", str(repo.root / "archive")), "archive.json")
    untouched(victim)


def test_the_preview_names_a_linked_post_by_its_own_name_never_its_target(
    repo: Campaign, tmp_path_factory: pytest.TempPathFactory
) -> None:
    hidden = tmp_path_factory.mktemp("hemlig-mapp") / "privat-utkast.yaml"
    hidden.write_text(GOOD_POST, encoding="utf-8")
    (repo.posts / "2030-09-16-lank.yaml").symlink_to(hidden)

    result = run(repo, "preview")

    page = (repo.root / BUILD / "preview" / "index.html").read_text(encoding="utf-8")
    assert result.exit_code == 1, result.output
    assert "2030-09-16-lank.yaml" in page
    assert "privat-utkast" not in page and "hemlig-mapp" not in page
