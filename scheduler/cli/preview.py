"""`campaign preview`: build the preview folder and say where it is and what needs fixing.

Its lines go to a pipe or a file without rich (:mod:`scheduler.cli.plain`), and the
spinner shows only in a terminal.
"""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

from campaign.branding.render_all import BrandSetupProblem
from campaign.finding_groups import ShownPaths
from campaign.preview.build import build_preview
from campaign.safe_output import UnsafeOutput
from scheduler.cli.plain import plain_stream, say

if TYPE_CHECKING:
    from rich.console import Console

    from campaign.config import Config


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
    in_terminal = plain_stream(out) is None
    spinner = out.status("Rendering images and writing the preview…") if in_terminal else None
    try:
        with spinner or nullcontext():
            result = build_preview(config, output, paths, workers)
    except (BrandSetupProblem, UnsafeOutput) as problem:
        _problem(err, "[red]error[/]: ", str(problem))
        return 2
    except OSError as problem:
        _problem(err, "[red]error[/]: ", f"the preview cannot be written: {problem}")
        return 2
    shown = ShownPaths()
    for path in result.broken_files:
        _problem(
            err,
            "[yellow]needs fixing[/] ",
            shown(path),
            "it has errors (listed at the top of the preview; `campaign check` shows them too).",
        )
    for job, reason in result.report.failed:
        image = job.post.images[job.index].file
        failed = f"image `{image}` for {job.channel}: {reason}"
        _problem(err, "[red]error[/]: ", shown(job.post.path), failed)
    drafts = f"{result.drafts} draft{'' if result.drafts == 1 else 's'}"
    posts = f"{len(result.posts)} post{'' if len(result.posts) == 1 else 's'}"
    say(out, f"Preview of {posts} ({result.ready} ready, {drafts}) → {shown(result.index)}")
    say(out, f"Open it in a browser: {result.index.as_uri()}")
    if open_browser:
        import webbrowser

        webbrowser.open(result.index.as_uri())
    return 0 if result.ok else 1


def _problem(err: Console, label: str, *parts: str) -> None:
    """``label`` then the parts, ``: `` between them, on the error console; the parts (file
    names, messages) are shown as written, never as markup."""
    from rich.markup import escape

    err.print(label + ": ".join(escape(part) for part in parts))
