"""The brand's files named in config.toml: the mark and the fonts every rendition needs.

`campaign render` and `campaign preview` cannot start without them, so `campaign check`
says so first, at the key's line in config.toml, instead of "All good".
"""

from __future__ import annotations

import stat
from pathlib import Path

from campaign.config import Config
from campaign.diagnostics import Diagnostic, DiagnosticSink, Position


def check_brand_files(config: Config) -> list[Diagnostic]:
    """Errors for a [brand] logo that is not an image file, and fonts that cannot be found."""
    if config.source is None:
        return []  # the built-in defaults: no file of the user's to point at
    from campaign.branding.fonts import FontProblem, resolve_font

    sink = DiagnosticSink(config.source)
    brand = config.brand

    def where(key: str) -> Position:
        positions = config.key_positions
        return positions.get(("brand", key)) or positions.get(("brand",)) or Position(1, 1)

    for key in ("font", "rtl_font"):
        try:
            resolve_font(getattr(brand, key), config.base_dir, key)
        except FontProblem as problem:
            sink.error(where(key), "brand-font", str(problem))
    if problem := _logo_problem(config.base_dir / Path(brand.logo).expanduser(), config):
        sink.error(
            where("logo"),
            "brand-logo",
            f'[brand] logo = "{brand.logo}": {problem} Put the campaign\'s mark there (a PNG '
            "with a transparent background), or correct the path (relative to config.toml).",
        )
    return sink.items


def _logo_problem(path: Path, config: Config) -> str:
    from campaign.image_probe import ImageProblem, probe_image

    try:
        mode = path.stat().st_mode
    except OSError:
        return "there is no such file."
    if not stat.S_ISREG(mode):
        return "this is not a file."
    try:
        probe_image(path, config.check.max_image_megapixels)
    except ImageProblem as problem:
        return f"it cannot be used as an image: {problem}"
    return ""
