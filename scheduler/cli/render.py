"""`campaign render`: renditions for every valid post, with a progress bar."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from campaign.branding.cache import FileDigests
from campaign.branding.instagram_limits import rendition_too_large
from campaign.branding.render_all import (
    BrandSetupProblem,
    plan_renditions,
    prune_stale,
    render_campaign,
)
from campaign.config import Config
from campaign.post_loader import load_campaign
from campaign.safe_output import UnsafeOutput
from scheduler.cli.check_output import display_path, literal


def run_render(
    config: Config, paths: list[Path] | None, workers: int | None, out: Console, err: Console
) -> int:
    """Render what changed; the exit code: 0 all rendered, 1 some posts failed, 2 set-up
    (including a build folder that is a symbolic link: nothing is written through it)."""
    try:
        return _render(config, paths, workers, out, err)
    except UnsafeOutput as problem:
        err.print(f"[red]error[/]: {escape(str(problem))}")
        return 2


def _render(
    config: Config, paths: list[Path] | None, workers: int | None, out: Console, err: Console
) -> int:
    result = load_campaign(config, paths)
    broken = sorted({d.path for d in result.errors})
    for path in broken:
        err.print(
            f"[yellow]skipped[/] {escape(display_path(path))}: it has errors "
            "(run `campaign check` to see them)."
        )
    digests = FileDigests(config.build_dir)
    try:
        jobs = plan_renditions(result.posts, config, digests)
    except BrandSetupProblem as problem:
        err.print(f"[red]error[/]: {escape(str(problem))}")
        return 2
    digests.save()
    with Progress(
        TextColumn("rendering"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=out,
        transient=not out.is_terminal,
    ) as progress:
        task = progress.add_task("render", total=len(jobs))
        report = render_campaign(jobs, workers, on_done=lambda _: progress.advance(task))
    for job, reason in report.failed:
        image = job.post.images[job.index].file
        err.print(
            f"[red]error[/]: {escape(display_path(job.post.path))}: image `{escape(image)}` "
            f"for {job.channel}: {escape(reason)}"
        )
    too_large = 0
    failed = {id(job) for job, _ in report.failed}
    for job in jobs:
        if id(job) in failed or not (
            reason := rendition_too_large(config, job.channel, job.output)
        ):
            continue
        too_large += 1
        image = job.post.images[job.index].file
        err.print(
            f"[red]error[/]: {escape(display_path(job.post.path))}: image `{escape(image)}` "
            f"for {job.channel}: {escape(reason)}"
        )
    for job in report.upscaled:
        image = job.post.images[job.index].file
        err.print(
            f"[yellow]warning[/]: {escape(display_path(job.post.path))}: image "
            f"`{escape(image)}` was enlarged for {job.channel}; it may look blurry."
        )
    pruned = prune_stale(jobs, config.build_dir, whole_campaign=paths is None)
    out.print(
        f"{len(report.made)} made, {len(report.cached)} unchanged, {len(report.failed)} failed, "
        f"{pruned} out of date removed → {literal(display_path(config.build_dir))}"
    )
    return 1 if report.failed or too_large or broken else 0
