"""`campaign render`: renditions for every valid post, with a progress bar.

With nothing to draw (everything is up to date) it shows no progress bar and writes its
one line without rich when that goes to a pipe or a file (:mod:`scheduler.cli.plain`):
then most of its time is start-up, which this keeps short.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from campaign.branding.cache import FileDigests
from campaign.branding.instagram_limits import rendition_too_large
from campaign.branding.render_all import (
    BrandSetupProblem,
    RenderReport,
    RenditionJob,
    plan_renditions,
    prune_stale,
    render_campaign,
)
from campaign.finding_groups import ShownPaths
from campaign.post_loader import load_campaign
from campaign.safe_output import UnsafeOutput, is_regular_file
from scheduler.cli.plain import say

if TYPE_CHECKING:
    from rich.console import Console

    from campaign.config import Config


def run_render(
    config: Config, paths: list[Path] | None, workers: int | None, out: Console, err: Console
) -> int:
    """Render what changed; the exit code: 0 all rendered, 1 some posts failed, 2 set-up
    (including a build folder that is a symbolic link: nothing is written through it)."""
    try:
        return _render(config, paths, workers, out, err)
    except UnsafeOutput as problem:
        from rich.markup import escape

        err.print(f"[red]error[/]: {escape(str(problem))}")
        return 2


def _render(
    config: Config, paths: list[Path] | None, workers: int | None, out: Console, err: Console
) -> int:
    result = load_campaign(config, paths)
    broken = sorted({d.path for d in result.errors})
    shown = ShownPaths()
    for path in broken:
        _problem(
            err,
            "[yellow]skipped[/] ",
            shown(path),
            "it has errors (run `campaign check` to see them).",
        )
    digests = FileDigests(config.build_dir)
    try:
        jobs = plan_renditions(result.posts, config, digests)
    except BrandSetupProblem as problem:
        _problem(err, "[red]error[/]: ", str(problem))
        return 2
    digests.save()
    if all(is_regular_file(job.output) for job in jobs):  # nothing to draw: no progress bar
        report = render_campaign(jobs, workers)
    else:
        report = _with_progress(jobs, workers, out)
    for job, reason in report.failed:
        _problem(err, "[red]error[/]: ", shown(job.post.path), _image(job, reason))
    failed = {id(job) for job, _ in report.failed}
    too_large = 0
    for job in jobs:
        if id(job) not in failed and (
            reason := rendition_too_large(config, job.channel, job.output)
        ):
            too_large += 1
            _problem(err, "[red]error[/]: ", shown(job.post.path), _image(job, reason))
    for job in report.upscaled:
        enlarged = f"image `{job.post.images[job.index].file}` was enlarged for {job.channel}"
        _problem(
            err, "[yellow]warning[/]: ", shown(job.post.path), f"{enlarged}; it may look blurry."
        )
    pruned = prune_stale(jobs, config.build_dir, whole_campaign=paths is None)
    say(
        out,
        f"{len(report.made)} made, {len(report.cached)} unchanged, {len(report.failed)} failed, "
        f"{pruned} out of date removed → {shown(config.build_dir)}",
    )
    return 1 if report.failed or too_large or broken else 0


def _with_progress(jobs: list[RenditionJob], workers: int | None, out: Console) -> RenderReport:
    """Render ``jobs`` with a progress bar (transient when not in a terminal)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    with Progress(
        TextColumn("rendering"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=out,
        transient=not out.is_terminal,
    ) as progress:
        task = progress.add_task("render", total=len(jobs))
        return render_campaign(jobs, workers, on_done=lambda _: progress.advance(task))


def _image(job: RenditionJob, reason: str) -> str:
    return f"image `{job.post.images[job.index].file}` for {job.channel}: {reason}"


def _problem(err: Console, label: str, *parts: str) -> None:
    """``label`` then the parts, ``: `` between them, on the error console; the parts (file
    names, messages) are shown as written, never as markup."""
    from rich.markup import escape

    err.print(label + ": ".join(escape(part) for part in parts))
