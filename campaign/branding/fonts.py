"""Brand fonts: from a font package on PyPI ("fontpkg:noto-sans") or a file path."""

from __future__ import annotations

import importlib
from contextlib import suppress
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import ImageFont

FONT_SUFFIXES = (".ttf", ".otf")


class FontProblem(ValueError):
    """The configured font cannot be found or read."""


def resolve_font(spec: str, base_dir: Path, key: str = "font") -> Path:
    """The font file for ``spec``: ``fontpkg:NAME`` or a path relative to ``base_dir``.

    ``key`` is the config key that named it, for the message when it cannot be used.
    """
    if spec.startswith("fontpkg:"):
        name = spec.removeprefix("fontpkg:")
        module_name = "fontpkg_" + name.replace("-", "_")
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            raise FontProblem(
                f'the font package "{name}" is not installed (pip install fontpkg-{name}), '
                f"or give [brand] {key} as a path to a .ttf file."
            ) from None
        files = sorted(
            p
            for p in (Path(module.__file__).parent / "files").iterdir()
            if p.suffix in FONT_SUFFIXES and "Italic" not in p.name
        )
        if not files:
            raise FontProblem(f'[brand] {key}: the font package "{name}" holds no font file.')
        return files[0]
    path = (base_dir / spec).expanduser()
    if not path.is_file():
        raise FontProblem(f"the font file {path} does not exist ([brand] {key} in config.toml).")
    return path


def load_font(path: Path, size: int, weight: str = "Bold") -> ImageFont.FreeTypeFont:
    """A FreeType font at ``size`` px with raqm layout; variable fonts set to ``weight``.

    Cached, and keyed by the file's modification time too, so a replaced file is read again.
    """
    return _load_font(path, path.stat().st_mtime_ns, size, weight)


@lru_cache(maxsize=64)
def _load_font(path: Path, _mtime: int, size: int, weight: str) -> ImageFont.FreeTypeFont:
    from PIL import ImageFont  # here: finding a font file (resolve_font) needs none of it

    try:
        font = ImageFont.truetype(str(path), size, layout_engine=ImageFont.Layout.RAQM)
    except OSError as exc:
        raise FontProblem(f"the font file {path} cannot be read ({exc}).") from None
    # Not a variable font, or no such named instance: use it as it is.
    with suppress(OSError, ValueError):
        font.set_variation_by_name(weight)
    return font
