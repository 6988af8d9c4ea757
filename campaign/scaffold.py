"""`campaign new`: a post file a communicator can fill in, with every key explained."""

from __future__ import annotations

import os
import re
from importlib.resources import files
from pathlib import Path
from string import Template

from campaign.config import Config
from campaign.safe_output import UnsafeOutput, create_new, lexical, real_folder
from campaign.timeparse import PublishTime, parse_publish_time

SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
SCHEMA_FILE = Path("docs") / "post.schema.json"


class ScaffoldProblem(ValueError):
    """The slug or time given to `campaign new` cannot be used."""


def new_post_path(config: Config, slug: str, when: PublishTime) -> Path:
    """``posts/YYYY-MM-DD-slug.yaml`` for the post's local date."""
    if not SLUG.fullmatch(slug):
        raise ScaffoldProblem(
            f'"{slug}" cannot be used in a file name. Use lower-case a–z, 0–9 and "-", '
            'like "demokratidagen" or "ett-ar-kvar" (write å, ä, ö as a, a, o).'
        )
    date = when.local.strftime("%Y-%m-%d")
    name = slug if slug.startswith(f"{date}-") else f"{date}-{slug}"
    return config.posts_dir / f"{name}.yaml"


def render_new_post(config: Config, path: Path, when: PublishTime) -> str:
    """The text of a new draft post at ``path``."""
    template = Template(files("campaign").joinpath("templates/new_post.yaml").read_text("utf-8"))
    schema = Path(os.path.relpath(config.base_dir / SCHEMA_FILE, path.parent)).as_posix()
    channels = config.enabled_channels
    return template.substitute(
        schema=schema,
        post_path=os.path.relpath(path, Path.cwd()),
        timezone=config.campaign.timezone,
        publish_at=when.local.strftime("%Y-%m-%d %H:%M"),
        channel_choices=", ".join(channels) or "facebook, instagram",
        channels=", ".join(channels),
        language=config.campaign.language,
        hashtags=" ".join(config.campaign.hashtags),
        image=f"{path.stem}.jpg",
    )


def create_post(config: Config, slug: str, at: str) -> Path:
    """Write a new draft post file; refuses to overwrite an existing one, and to write
    into a posts folder that is a symbolic link or through a link at the file's name."""
    when = parse_publish_time(at, config.zone)
    path = new_post_path(config, slug, when)
    try:
        folder = real_folder(lexical(config.base_dir / config.campaign.posts), config.base_dir)
        path = folder / path.name
        create_new(path, render_new_post(config, path, when))
    except UnsafeOutput as problem:
        raise ScaffoldProblem(str(problem)) from None
    except FileExistsError:
        raise ScaffoldProblem(
            f"{path} already exists. Choose another name, or edit that file."
        ) from None
    return path
