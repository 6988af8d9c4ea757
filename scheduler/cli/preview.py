"""`campaign preview`: build the preview folder and say where it is and what needs fixing."""

from __future__ import annotations

import webbrowser
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from campaign.branding.render_all import BrandSetupProblem
from campaign.config import Config
from campaign.preview.build import build_preview
from campaign.safe_output import UnsafeOutput
from scheduler.cli.check_output import display_path


def run_preview(
    config: Config,
    paths: list[Path] | None,
    output: Path | None,
    workers: int | None,
    out: Console,
    err: Console,
    open_browser: bool = False,
) -> int:
    """Write the preview; the exit code: 0 all good, 1 posts with errors, 2 set-up problem
    (the command has refused paths that do not exist)."""
    try:
        with out.status("Rendering images and writing the preview…"):
            result = build_preview(config, output, paths, workers)
    except (BrandSetupProblem, UnsafeOutput) as problem:
        err.print(f"[red]error[/]: {escape(str(problem))}")
        return 2
    except OSError as problem:
        err.print(f"[red]error[/]: the preview cannot be written: {escape(str(problem))}")
        return 2
    for path in result.broken_files:
        err.print(
            f"[yellow]needs fixing[/] {escape(display_path(path))}: it has errors "
            "(listed at the top of the preview; `campaign check` shows them too)."
        )
    for job, reason in result.report.failed:
        image = job.post.images[job.index].file
        err.print(
            f"[red]error[/]: {escape(display_path(job.post.path))}: image `{escape(image)}` "
            f"for {job.channel}: {escape(reason)}"
        )
    drafts = f"{result.drafts} draft{'' if result.drafts == 1 else 's'}"
    posts = f"{len(result.posts)} post{'' if len(result.posts) == 1 else 's'}"
    out.print(
        f"Preview of {posts} ({result.ready} ready, {drafts}) "
        f"→ {escape(display_path(result.index))}"
    )
    out.print(f"Open it in a browser: {result.index.as_uri()}", soft_wrap=True)
    if open_browser:
        webbrowser.open(result.index.as_uri())
    return 0 if result.ok else 1
