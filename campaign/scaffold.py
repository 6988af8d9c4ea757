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
#: The text and alt text to replace, by the campaign's language (others get English).
#: `campaign check` finds each of them (campaign.rules.captions.PLACEHOLDERS: the Swedish
#: ones, and TODO), so that a post is never published with them.
PLACEHOLDER_TEXTS = {
    "sv": ("Skriv inläggets text här.", "Beskriv vad bilden visar, och texten på den."),
    "en": (
        "TODO: write the text of the post here.",
        "TODO: describe what the image shows, and the text on it.",
    ),
}


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
    language = config.campaign.language
    caption, alt = PLACEHOLDER_TEXTS.get(language.split("-")[0].lower(), PLACEHOLDER_TEXTS["en"])
    where_key, where, where_comment = _where(config)
    return template.substitute(
        schema=schema,
        post_path=os.path.relpath(path, Path.cwd()),
        timezone=config.campaign.timezone,
        publish_at=when.local.strftime("%Y-%m-%d %H:%M"),
        where_comment=where_comment,
        where_key=where_key,
        where=", ".join(where),
        language=language,
        caption=caption,
        hashtags=" ".join(config.campaign.hashtags),
        alt=alt,
        image=f"{path.stem}.jpg",
    )


def _where(config: Config) -> tuple[str, list[str], str]:
    """The key (channels or accounts), its names and the comment above it: `channels:`
    with the platforms when only the default accounts are switched on, else `accounts:`
    with every account switched on (the names in config.toml)."""
    enabled = config.enabled_accounts
    if any(not account.is_default for account in enabled):
        names = [account.name for account in enabled]
        comment = (
            f"the accounts switched on in config.toml: {', '.join(names)}. "
            "Leave out those it should not go to."
        )
        return "accounts", names, comment
    platforms = list(config.enabled_channels) or ["facebook", "instagram"]
    return "channels", platforms, f"{' or '.join(['facebook', 'instagram'])}, or both."


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
