"""Instagram's official API limit on an image's size, checked on the renditions.

Meta refuses an image of 8 MiB or more (error 2207004, "It should be less than 8 MiB").
A rendition's size is only known once it is made, so `campaign render` and the publish
preparation check it; `campaign check` does not guess from the source. With the bounds of
[render] (at most 1440 pixels wide, JPEG quality at most 95, 4:5 the tallest shape) even
pure noise comes to about 2.5 MiB, so this is a guard against future settings, not a limit
anyone meets today (tests/test_instagram_graph_limits.py renders that worst case).
"""

from __future__ import annotations

from pathlib import Path

from campaign.config import ChannelName, Config

#: Meta's limit for one image through the Instagram Graph API.
GRAPH_MAX_IMAGE_BYTES = 8 * 1024 * 1024


def rendition_too_large(config: Config, channel: ChannelName, path: Path) -> str | None:
    """Why the rendition at ``path`` cannot go to ``channel`` (None: it can): only Instagram
    through the official API has a size limit."""
    if channel != "instagram" or config.instagram_backend != "graph":
        return None
    size = path.stat().st_size
    if size < GRAPH_MAX_IMAGE_BYTES:
        return None
    return (
        f"the branded image is {size / 2**20:.1f} MiB, and Instagram's official API takes "
        f"images under {GRAPH_MAX_IMAGE_BYTES // 2**20} MiB. Lower [render] jpeg_quality or "
        "width in config.toml, then render again."
    )
