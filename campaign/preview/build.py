"""`campaign preview`: a static HTML folder that shows the campaign as people will see it.

The folder stands on its own (a CI artifact, a zip in an e-mail): ``index.html``
opens from disk, every link is relative, the renditions are copied into ``img/``,
and nothing is fetched from the network.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from PIL import Image

from campaign.branding.cache import FileDigests
from campaign.branding.render_all import (
    RENDITION_NAME,
    RenderReport,
    RenditionJob,
    plan_renditions,
    render_campaign,
)
from campaign.config import Config
from campaign.diagnostics import Diagnostic, Severity
from campaign.post import Post
from campaign.post_loader import load_campaign
from campaign.preview.calendar_view import Month, month_calendars
from campaign.preview.view import (
    BrokenFile,
    ImageView,
    LocalTime,
    PathTidier,
    PostView,
    channel_view,
    direction,
    language_name,
    problems_of,
    slug_of,
    unique_anchors,
)
from campaign.safe_output import (
    copy_file,
    is_regular_file,
    real_folder,
    real_subfolders,
    remove_generated,
    remove_if_empty,
    replacing,
    subfolder,
    write_file,
)

PREVIEW_FOLDER = "preview"
IMAGES_FOLDER = "img"
STYLESHEET = "preview.css"
AVATAR = "avatar.png"
#: What a build leaves at the top of ``img/`` besides the posts' folders.
_TOP_IMAGES = re.compile(re.escape(AVATAR))
TEMPLATES = Path(__file__).parent.parent / "templates" / "preview"


@dataclass
class PreviewResult:
    """What a preview build made, and what it found wrong."""

    output_dir: Path
    index: Path
    posts: list[Post]
    diagnostics: list[Diagnostic]
    broken_files: list[Path]
    report: RenderReport
    images: int = 0
    removed: int = 0
    months: list[Month] = field(default_factory=list)

    @property
    def ready(self) -> int:
        return sum(post.is_ready for post in self.posts)

    @property
    def drafts(self) -> int:
        return len(self.posts) - self.ready

    @property
    def ok(self) -> bool:
        """No post file has errors and every rendition was made."""
        return not self.broken_files and not self.report.failed


def default_output_dir(config: Config) -> Path:
    """``preview/`` in the build folder (``output/preview/`` by default, as
    :data:`campaign.outputs.PREVIEW_FOLDER` says): beside the renditions, git-ignored."""
    return config.build_dir / PREVIEW_FOLDER


def build_preview(
    config: Config,
    output_dir: Path | None = None,
    paths: list[Path] | None = None,
    workers: int | None = None,
    now: datetime | None = None,
) -> PreviewResult:
    """Check and render the campaign, then write the preview folder; returns what it did.

    ``output_dir`` defaults to :func:`default_output_dir`; ``paths`` to the posts folder.
    Renditions are made (or found) in the build folder as ``campaign render`` does, and
    copied. Raises :class:`~campaign.branding.render_all.BrandSetupProblem` when the
    brand settings cannot be used, and :class:`~campaign.safe_output.UnsafeOutput` when
    the output folder (or a folder on the way to it, inside the repository) is a
    symbolic link: nothing is written or deleted through a link.
    """
    output_dir = real_folder(output_dir or default_output_dir(config), root=config.base_dir)
    now = now or datetime.now(UTC)
    loaded = load_campaign(config, paths, now=now)
    digests = FileDigests(config.build_dir)
    jobs = plan_renditions(loaded.posts, config, digests)
    digests.save()
    report = render_campaign(jobs, workers)
    failed = {_key(job): reason for job, reason in report.failed}
    images, removed = _copy_images(config, jobs, failed, output_dir)

    tidy = PathTidier(config)
    by_file: dict[Path, list[Diagnostic]] = defaultdict(list)
    for diagnostic in loaded.diagnostics:
        by_file[diagnostic.path].append(diagnostic)
    anchors = unique_anchors([post.id for post in loaded.posts])
    views = [
        _post_view(config, post, anchor, by_file[post.path], images, failed, tidy)
        for post, anchor in zip(loaded.posts, anchors, strict=True)
    ]
    anchor_of = {post.path: anchor for post, anchor in zip(loaded.posts, anchors, strict=True)}
    broken_paths = sorted({d.path for d in loaded.errors}, key=str)
    broken = [
        BrokenFile(tidy.file(path), anchor_of.get(path), problems_of(by_file[path], tidy))
        for path in broken_paths
    ]
    months = month_calendars(
        (post.publish_at.local.date(), view) for post, view in zip(loaded.posts, views, strict=True)
    )
    html = (
        _environment()
        .get_template("index.html.j2")
        .render(
            campaign_name=config.campaign.name,
            timezone=config.campaign.timezone,
            built=LocalTime.of(now.astimezone(config.zone)),
            posts=views,
            months=months,
            broken=broken,
            files=loaded.files,
            ready=sum(view.is_ready for view in views),
            drafts=sum(not view.is_ready for view in views),
            per_channel=_per_account(config, loaded.posts),
            render_failures=len(report.failed),
            stylesheet=STYLESHEET,
            avatar=f"{IMAGES_FOLDER}/{AVATAR}",
        )
    )
    index = write_file(output_dir / "index.html", html)
    write_file(output_dir / STYLESHEET, (TEMPLATES / STYLESHEET).read_bytes())
    return PreviewResult(
        output_dir=output_dir,
        index=index,
        posts=loaded.posts,
        diagnostics=loaded.diagnostics,
        broken_files=broken_paths,
        report=report,
        images=len(images),
        removed=removed,
        months=months,
    )


_Key = tuple[Path, str, int]


def _key(job: RenditionJob) -> _Key:
    return (job.post.path, job.channel, job.index)


def _copy_images(
    config: Config, jobs: list[RenditionJob], failed: dict[_Key, str], output_dir: Path
) -> tuple[dict[_Key, ImageView], int]:
    """Copy the renditions into ``img/``, drop those of earlier builds; what the page shows."""
    images_dir = subfolder(output_dir, IMAGES_FOLDER)
    views: dict[_Key, ImageView] = {}
    keep: dict[Path, set[str]] = {images_dir: {AVATAR}}
    for job in jobs:
        if _key(job) in failed:
            continue
        folder = subfolder(images_dir, job.post.id)
        target = folder / job.output.name
        keep.setdefault(folder, set()).add(target.name)
        _copy_if_changed(job.output, target)
        views[_key(job)] = _image_view(job, target, output_dir)
    _write_avatar(config.path(config.brand.logo), images_dir / AVATAR)
    return views, _remove_unused(images_dir, keep)


def _per_account(config: Config, posts: list[Post]) -> dict[str, int]:
    """How many posts go to each account, by the name the page gives it: both default
    accounts always (as before accounts existed), then the others switched on or used."""
    counts = {}
    for account in config.accounts.values():
        count = sum(account.name in post.accounts for post in posts)
        if account.is_default or account.enabled or count:
            counts[account.label] = count
    return counts


def _post_view(
    config: Config,
    post: Post,
    anchor: str,
    diagnostics: list[Diagnostic],
    copied: dict[_Key, ImageView],
    failed: dict[_Key, str],
    tidy: PathTidier,
) -> PostView:
    channels = []
    for account in post.accounts:
        # Renditions are made per platform: every account of a platform shows the same.
        channel = post.account_platform[account]
        keys = [(post.path, channel, index) for index in range(len(post.images))]
        channels.append(
            channel_view(
                post,
                config.accounts[account],
                tuple(copied[key] for key in keys if key in copied),
                tuple(
                    f"`{post.images[key[2]].file}` could not be rendered: {tidy.text(failed[key])}"
                    for key in keys
                    if key in failed
                ),
            )
        )
    return PostView(
        anchor=anchor,
        id=post.id,
        slug=slug_of(post.id),
        file=tidy.file(post.path),
        time=LocalTime.of(post.publish_at.local),
        is_ready=post.is_ready,
        language=post.language,
        language_name=language_name(post.language),
        direction=direction(post.language),
        tags=post.tags,
        channels=tuple(channels),
        problems=problems_of(
            sorted(diagnostics, key=lambda d: (d.severity is not Severity.ERROR, d.sort_key)),
            tidy,
        ),
    )


def _image_view(job: RenditionJob, target: Path, output_dir: Path) -> ImageView:
    with Image.open(target) as image:  # reads the header only
        width, height = image.size
    return ImageView(
        src=quote(target.relative_to(output_dir).as_posix()),
        alt=job.post.images[job.index].alt,
        width=width,
        height=height,
    )


def _copy_if_changed(source: Path, target: Path) -> None:
    """Renditions are named by the hash of their inputs: same name, same bytes."""
    if is_regular_file(target) and target.stat().st_size == source.stat().st_size:
        return
    copy_file(source, target)


def _write_avatar(logo: Path, target: Path) -> None:
    """The campaign mark, small: the profile picture of the page in the mock-ups."""
    with Image.open(logo) as image, replacing(target) as stream:
        image.thumbnail((160, 160))
        image.convert("RGBA").save(stream, "PNG")


def _remove_unused(images_dir: Path, keep: dict[Path, set[str]]) -> int:
    """Delete images of earlier builds that this one does not show; how many.

    Only regular files with the names a build gives are deleted, in real folders.
    """
    removed = remove_generated(images_dir, _TOP_IMAGES, keep[images_dir])
    for folder in real_subfolders(images_dir):
        removed += remove_generated(folder, RENDITION_NAME, keep.get(folder, set()))
        remove_if_empty(folder)
    return removed


def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,  # every template here is HTML: nothing reaches the page unescaped
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
