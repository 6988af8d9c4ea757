"""Names for renditions: a hash of everything that decides their pixels.

A rendition's file name carries the hash of its inputs, so a changed image,
headline, brand setting, or drawing code gives a new name: a stale rendition is
never found, and so never published. File digests are remembered
by size and modification time, so an unchanged campaign is not read again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import PIL

from campaign.safe_output import UnsafeOutput, read_regular, real_folder, write_file

if TYPE_CHECKING:
    from campaign.branding.spec import RenditionSpec

DIGESTS_FILE = ".digests.json"
# The code that draws a rendition: any change to it redoes every rendition.
_DRAWING_CODE = ("colour.py", "fonts.py", "geometry.py", "rendition.py", "templates.py")


def _drawing_code_digest() -> str:
    folder = Path(__file__).parent
    digest = hashlib.sha256()
    for name in _DRAWING_CODE:
        digest.update((folder / name).read_bytes())
    return digest.hexdigest()


DRAWING_CODE_DIGEST = _drawing_code_digest()


class FileDigests:
    """SHA-256 of files, remembered in the build folder by (size, mtime).

    Each file's path is resolved once per instance (one planning of renditions), though
    the logo and fonts are asked about by every rendition.
    """

    def __init__(self, build_dir: Path) -> None:
        self.path = build_dir / DIGESTS_FILE
        try:
            self.known: dict[str, list] = json.loads(read_regular(self.path).decode("utf-8"))
        except (OSError, ValueError, UnsafeOutput):
            self.known = {}
        self.changed = False
        self._keys: dict[Path, str] = {}

    def of(self, file: Path) -> str:
        """The SHA-256 (hex) of ``file``'s bytes."""
        status = file.stat()
        key = self._keys.get(file)
        if key is None:
            key = self._keys[file] = str(file.resolve())
        remembered = self.known.get(key)
        if remembered and remembered[:2] == [status.st_size, status.st_mtime_ns]:
            return remembered[2]
        with file.open("rb") as stream:
            digest = hashlib.file_digest(stream, "sha256").hexdigest()
        self.known[key] = [status.st_size, status.st_mtime_ns, digest]
        self.changed = True
        return digest

    def save(self) -> None:
        """Write the digests (atomically, through no symbolic link) if any changed."""
        if self.changed:
            real_folder(self.path.parent)
            write_file(self.path, json.dumps(self.known, sort_keys=True))
            self.changed = False


# What each template draws with: other brand settings do not change its renditions.
_STYLE_USED = {
    "band": ("font", "rtl_font", "logo", "band_colour", "text_colour", "accent_colour", "hashtag"),
    "corner": ("logo",),
    "none": (),
}
_FILES = ("font", "rtl_font", "logo")


def rendition_key(spec: RenditionSpec, digests: FileDigests) -> str:
    """The hash of every input that shapes a rendition (file contents, not their paths)."""
    fields = asdict(spec)
    fields["source"] = digests.of(spec.source)
    style = fields.pop("style")
    used = _STYLE_USED[spec.template]
    fields["style"] = {
        name: digests.of(Path(value)) if name in _FILES else value
        for name, value in style.items()
        if name in used
    }
    if spec.template != "band":
        fields.pop("headline")
    if spec.template == "none":
        fields.pop("language")  # the corner mark's side depends on the language
    fields["drawing_code"] = DRAWING_CODE_DIGEST
    fields["pillow"] = PIL.__version__
    encoded = json.dumps(fields, sort_keys=True, default=str).encode("utf-8")
    return hashlib.sha256(encoded).hexdigest()
