"""Render a campaign: every image of every post for every channel it goes to.

Only renditions whose input hash has no file yet are made, in parallel
processes; a post whose image cannot be rendered is reported and skipped while
the others are still rendered. Renditions are written through
:mod:`campaign.safe_output`: a symbolic link in ``build/renditions`` is refused.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from PIL import ImageColor

from campaign.branding.cache import FileDigests, rendition_key
from campaign.branding.fonts import FontProblem, resolve_font
from campaign.branding.spec import RenditionSpec, Style
from campaign.config import ChannelName, Config
from campaign.post import Post
from campaign.safe_output import (
    copy_file,
    is_regular_file,
    real_folder,
    real_subfolders,
    refuse_link,
    remove_generated,
    remove_if_empty,
    write_file,
)

RENDITIONS_FOLDER = "renditions"
#: When set to a file, each rendition drawn appends the drawing process's id to it: how
#: the tests see that a daemon draws only in worker processes, never in its own.
RENDER_TRACE_ENV = "CAMPAIGN_RENDER_TRACE"
#: The names renditions get (``facebook-1-<hex digits>.jpg``): only these are ever tidied.
RENDITION_NAME = re.compile(r"(?:facebook|instagram)-[0-9]+-[0-9a-f]+\.jpg")


@dataclass(frozen=True)
class RenditionJob:
    """One rendition to have: which post, channel and image, how, and where it goes."""

    post: Post
    channel: ChannelName
    index: int
    spec: RenditionSpec
    output: Path


@dataclass
class RenderReport:
    """What a render did: made, already there, and failed (with the reason)."""

    made: list[RenditionJob] = field(default_factory=list)
    cached: list[RenditionJob] = field(default_factory=list)
    failed: list[tuple[RenditionJob, str]] = field(default_factory=list)
    upscaled: list[RenditionJob] = field(default_factory=list)

    @property
    def failed_posts(self) -> set[str]:
        return {job.post.id for job, _ in self.failed}


class BrandSetupProblem(ValueError):
    """The brand settings (font, logo) cannot be used: nothing can be rendered."""


def brand_style(config: Config) -> Style:
    """The template style from [brand], with font and logo files found."""
    brand = config.brand
    try:
        font = resolve_font(brand.font, config.base_dir, "font")
        rtl_font = resolve_font(brand.rtl_font, config.base_dir, "rtl_font")
    except FontProblem as problem:
        raise BrandSetupProblem(str(problem)) from None
    logo = config.path(brand.logo)
    if not logo.is_file():
        raise BrandSetupProblem(
            f"[brand] logo: the file {logo} does not exist. Correct the path in config.toml."
        )
    return Style(
        font,
        rtl_font,
        logo,
        brand.band_colour,
        brand.text_colour,
        brand.accent_colour,
        brand.hashtag,
    )


def plan_renditions(
    posts: Iterable[Post], config: Config, digests: FileDigests
) -> list[RenditionJob]:
    """The renditions the posts need, each named by the hash of its inputs.

    Raises :class:`~campaign.safe_output.UnsafeOutput` when the build folder or its
    ``renditions`` folder is a symbolic link (or a file).
    """
    style = brand_style(config)
    real_folder(config.build_dir / RENDITIONS_FOLDER, root=config.base_dir)
    background = ImageColor.getrgb(config.brand.background)[:3]
    jobs: list[RenditionJob] = []
    for post in posts:
        template = post.brand.template or config.brand.template
        for channel in post.channels:
            ratio = _ratio_for(post, channel, config)
            for index, image in enumerate(post.images):
                spec = RenditionSpec(
                    source=image.path,
                    ratio=ratio,
                    width=config.render.width,
                    focus=image.focus,
                    template=template,
                    headline=post.brand.headline,
                    fit=post.brand.fit,
                    language=post.language,
                    quality=config.render.jpeg_quality,
                    background=background,  # type: ignore[arg-type]
                    style=style,
                )
                key = rendition_key(spec, digests)
                name = f"{channel}-{index + 1}-{key[:20]}.jpg"
                output = config.build_dir / RENDITIONS_FOLDER / post.id / name
                jobs.append(RenditionJob(post, channel, index, spec, output))
    return jobs


def render_campaign(
    jobs: list[RenditionJob],
    workers: int | None = None,
    on_done: Callable[[RenditionJob], None] | None = None,
    *,
    isolate: bool = False,
) -> RenderReport:
    """Make the renditions that do not exist yet, ``workers`` processes at a time.

    Jobs with the same spec (Facebook and Instagram both at 4:5, say) are drawn once
    and the file copied. The worker processes die with this one (see
    :mod:`campaign.branding.workers`). A symbolic link where a rendition goes raises
    :class:`~campaign.safe_output.UnsafeOutput` before anything is drawn. With
    ``isolate``, even one worker is a process of its own, so nothing is drawn in this
    one (a long-running daemon keeps none of the images' memory); with nothing to draw,
    no process is started.
    """
    report = RenderReport()
    same_spec: dict[RenditionSpec, list[RenditionJob]] = {}
    for job in jobs:
        refuse_link(job.output.parent)
        refuse_link(job.output)
        if is_regular_file(job.output):
            report.cached.append(job)
            if on_done:
                on_done(job)
        else:
            same_spec.setdefault(job.spec, []).append(job)

    def finish(group: list[RenditionJob], outcome: bool | str) -> None:
        first, *copies = group
        for job in copies:
            if not isinstance(outcome, str):
                _copy_atomically(first.output, job.output)
        for job in group:
            _record(report, job, outcome)
            if on_done:
                on_done(job)

    groups = list(same_spec.values())
    workers = max(1, min(workers or os.cpu_count() or 1, len(groups) or 1))
    if not groups:
        return report
    if workers == 1 and not isolate:
        for group in groups:
            finish(group, _render_to_file(group[0].spec, group[0].output))
        return report
    # Imported here: a render with nothing to draw starts no processes, and needs neither.
    from concurrent.futures import as_completed

    from campaign.branding.workers import worker_pool

    with worker_pool(workers) as pool:
        futures = {
            pool.submit(_render_to_file, group[0].spec, group[0].output): group for group in groups
        }
        for future in as_completed(futures):
            finish(futures[future], future.result())
    return report


def _copy_atomically(source: Path, target: Path) -> None:
    _post_folder(target)
    copy_file(source, target)


def _post_folder(output: Path) -> None:
    """``build/renditions/POST/`` for ``output``, made if missing; a link there is refused."""
    real_folder(output.parent, root=output.parent.parent.parent)


def prune_stale(jobs: list[RenditionJob], build_dir: Path, whole_campaign: bool) -> int:
    """Delete renditions no job names any more (old versions); how many were deleted.

    Only the folders of the posts in ``jobs`` are tidied, and, when the whole
    campaign was rendered, the folders of posts that no longer exist. Only regular
    files named as renditions are deleted, in real folders: a symbolic link is never
    followed, and a post whose renditions all failed has no folder.
    """
    keep: dict[Path, set[str]] = {}
    for job in jobs:
        keep.setdefault(job.output.parent, set()).add(job.output.name)
    folders = set(keep)
    if whole_campaign:
        folders |= set(real_subfolders(build_dir / RENDITIONS_FOLDER))
    deleted = 0
    for folder in folders:
        deleted += remove_generated(folder, RENDITION_NAME, keep.get(folder, set()))
        if whole_campaign:
            remove_if_empty(folder)
    return deleted


def _ratio_for(post: Post, channel: ChannelName, config: Config) -> str:
    if channel == "instagram":
        return post.instagram.ratio or config.render.instagram_ratio
    return post.facebook.ratio or config.render.facebook_ratio


def _record(report: RenderReport, job: RenditionJob, outcome: bool | str) -> None:
    if isinstance(outcome, str):
        report.failed.append((job, outcome))
        return
    report.made.append(job)
    if outcome:
        report.upscaled.append(job)


def _render_to_file(spec: RenditionSpec, output: Path) -> bool | str:
    """Render and write atomically; whether it was enlarged, or the problem in words."""
    # The drawing code, imported where something is drawn (a worker process, mostly).
    from campaign.branding.rendition import RenderProblem, render
    from campaign.branding.templates import TextDoesNotFit

    if trace := os.environ.get(RENDER_TRACE_ENV):
        with open(trace, "a", encoding="utf-8") as file:
            file.write(f"{os.getpid()}\n")
    try:
        rendered = render(spec)
    except (RenderProblem, TextDoesNotFit, FontProblem) as problem:
        return str(problem)
    _post_folder(output)
    write_file(output, rendered.data)
    return rendered.upscaled
