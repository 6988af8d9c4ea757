"""Images: present, inside the posts tree, readable, within limits, fit for each channel."""

from __future__ import annotations

import difflib
import os
import stat
from pathlib import Path

from campaign.image_probe import ImageHeader, ImageProblem, probe_image
from campaign.post import FOCUS_WORDS, PostImage
from campaign.post_format import ImageEntry
from campaign.rules.captions import check_placeholders
from campaign.rules.context import PostCheck

INSTAGRAM_RATIO_RANGE = (4 / 5, 1.91)
INSTAGRAM_MAX_IMAGES = 10
INSTAGRAM_MIN_WIDTH = 320
INSTAGRAM_SHARP_WIDTH = 1080
_IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}


def check_images(check: PostCheck) -> tuple[PostImage, ...] | None:
    """Check every image entry; the images when all are usable, else None."""
    entries: list[ImageEntry] | None = check.fields.get("images")
    if entries is None:
        return None
    channels = check.channels
    if not entries and "instagram" in channels:
        check.sink.error(
            check.at_key("images") if "images" in check.fields else check.at(),
            "images-required",
            "Instagram posts need at least one image: add `images:` with a `file` and an `alt`, "
            "or remove instagram from `channels`.",
        )
    if "instagram" in channels and len(entries) > INSTAGRAM_MAX_IMAGES:
        check.sink.error(
            check.at("images", INSTAGRAM_MAX_IMAGES),
            "instagram-carousel-size",
            f"an Instagram carousel takes at most {INSTAGRAM_MAX_IMAGES} images; this post has "
            f"{len(entries)}. Split it into two posts.",
        )
    images = [_check_entry(check, index, entry) for index, entry in enumerate(entries)]
    if any(image is None for image in images):
        return None
    return tuple(image for image in images if image is not None)


def _check_entry(check: PostCheck, index: int, entry: ImageEntry) -> PostImage | None:
    plain = _is_plain_name(entry.file)
    _check_alt(check, index, entry, plain)
    inside = _resolve_inside(check, index, entry.file, plain)
    if inside is None:
        return None
    path, status = inside
    try:
        status = status or path.stat()
    except FileNotFoundError:
        _file_error(
            check,
            index,
            "image-missing",
            f"the image `{entry.file}` is not there.{_nearby(path, check.path)}",
        )
        return None
    except OSError as exc:
        _file_error(
            check,
            index,
            "image-unreadable",
            f"`{entry.file}` cannot be read ({exc.strerror}).",
        )
        return None
    if not stat.S_ISREG(status.st_mode):
        _file_error(
            check,
            index,
            "image-not-file",
            f"`{entry.file}` is a folder, not an image. Write the name of the image file "
            "itself, or move the image beside the post file.",
        )
        return None
    megabytes = status.st_size / 1_000_000
    limit = check.config.check.max_image_megabytes
    if megabytes > limit:
        _file_error(
            check,
            index,
            "image-too-big",
            f"`{entry.file}` is {megabytes:.3g} MB; the limit is {limit:g} MB "
            "([check] max_image_megabytes). Export it at a lower quality or size.",
        )
        return None
    try:
        header = probe_image(path, check.config.check.max_image_megapixels)
    except ImageProblem as problem:
        _file_error(check, index, "image-unreadable", f"`{entry.file}`: {problem}")
        return None
    _check_fit(check, index, entry, header)
    focus = entry.focus if isinstance(entry.focus, tuple) else FOCUS_WORDS[entry.focus or "center"]
    return PostImage(path, entry.file, entry.alt, focus, header.width, header.height, header.format)


def _is_plain_name(file: str) -> bool:
    """Whether ``file`` is one name, as :class:`Path` reads it, that is not absolute and not
    ``~``, ``\\`` or ``:`` anything (a file beside the post): told from the text alone, as
    most images are named, without building a path (a path is built only when it is not)."""
    return (
        file not in ("", ".")
        and "/" not in file
        and "\\" not in file
        and ":" not in file
        and not file.startswith("~")
    )


def _resolve_inside(
    check: PostCheck, index: int, file: str, plain: bool
) -> tuple[Path, os.stat_result | None] | None:
    """The image's path if it stays inside the posts tree, symbolic links followed, and
    its status when looking gave it already (a plain name that is no link).

    ``check.root`` is already resolved, and post files are found without following
    links, so a plain name beside the post (``plain``: see :func:`_is_plain_name`) that
    is not itself a link is inside; only other paths need the full (slower) resolution.
    """
    if plain:
        return _beside_post(check, index, file, check.folder / file)
    written = Path(file)
    first = written.parts[0] if written.parts else ""  # "." and "./" have no parts
    if written.is_absolute() or file.startswith(("~", "\\")) or ":" in first:
        _file_error(
            check,
            index,
            "image-outside",
            f"`{file}` is an absolute path. Put the image in the posts folder beside the "
            "post file and write just its name.",
        )
        return None
    path = check.folder / written
    if len(written.parts) == 1:
        return _beside_post(check, index, file, path)
    return _resolved_inside(check, index, file, path, written)


def _beside_post(
    check: PostCheck, index: int, file: str, path: Path
) -> tuple[Path, os.stat_result | None] | None:
    """A name beside the post file: inside unless it is a link (then resolved)."""
    try:
        status = os.lstat(path)
    except (OSError, ValueError):
        return path, None  # missing or unreadable: said when it is looked at again
    if not stat.S_ISLNK(status.st_mode):
        return path, status  # not a link: what stat() would say
    return _resolved_inside(check, index, file, path, Path(file))


def _resolved_inside(
    check: PostCheck, index: int, file: str, path: Path, written: Path
) -> tuple[Path, os.stat_result | None] | None:
    """``path`` with every link followed, if that stays inside the posts tree."""
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError):  # a symbolic link that points to itself
        _file_error(
            check,
            index,
            "image-link-loop",
            f"`{file}` is a link that leads back to itself. Replace it with the image file.",
        )
        return None
    if not resolved.is_relative_to(check.root):
        how = "links to a file" if ".." not in written.parts else "is"
        _file_error(
            check,
            index,
            "image-outside",
            f"`{file}` {how} outside the posts folder ({check.root}). Images must be inside "
            "the posts folder, so that they are reviewed and kept in git with the post. "
            "Copy the image beside the post file and write just its name.",
        )
        return None
    return path, None


def _file_error(check: PostCheck, index: int, code: str, message: str) -> None:
    check.sink.error(check.at("images", index, "file"), code, message)


def _file_warning(check: PostCheck, index: int, code: str, message: str) -> None:
    check.sink.warning(check.at("images", index, "file"), code, message)


def _nearby(path: Path, post: Path) -> str:
    """A close name to suggest, never another post's image (named after its post file):
    a new post's image that is not there yet is not the one of the post beside it."""
    folder = path.parent
    if not folder.is_dir():
        return f" The folder {folder} does not exist either."
    listed = list(folder.iterdir())
    posts = {p.stem for p in listed if p.suffix.lower() in (".yaml", ".yml")}
    names = [
        p.name
        for p in listed
        if p.suffix.lower() in _IMAGE_SUFFIXES and _owner(p.stem, posts) in (None, post.stem)
    ]
    close = difflib.get_close_matches(path.name, names, n=1, cutoff=0.6)
    if close:
        return f" Did you mean `{close[0]}`?"
    return " Check the spelling, and that the image was added beside the post file."


def _owner(image_stem: str, posts: set[str]) -> str | None:
    """The post an image is named after (the longest post name it starts with), if any."""
    owners = [stem for stem in posts if image_stem == stem or image_stem.startswith(f"{stem}-")]
    return max(owners, key=len, default=None)


def _check_alt(check: PostCheck, index: int, entry: ImageEntry, plain: bool) -> None:
    alt = entry.alt.strip()
    check_placeholders(check, alt, ("images", index, "alt"))
    stem = _plain_stem(entry.file) if plain else Path(entry.file).stem
    if len(alt.split()) < 3 or alt.lower() == stem.lower():
        check.sink.warning(
            check.at("images", index, "alt"),
            "alt-too-short",
            f'the alt text "{alt}" says too little. Describe what the image shows and any '
            "text in it, in a sentence, for people who use a screen reader.",
        )


def _check_fit(check: PostCheck, index: int, entry: ImageEntry, header: ImageHeader) -> None:
    if "instagram" not in check.channels:
        return
    low, high = INSTAGRAM_RATIO_RANGE
    ratio = header.width / header.height
    kept = high / ratio if ratio > high else ratio / low if ratio < low else 1.0
    if kept < 0.5:
        shape = "wide" if ratio > high else "tall"
        _file_error(
            check,
            index,
            "instagram-ratio",
            f"`{entry.file}` ({header.width}×{header.height}) is too {shape} for Instagram, "
            f"which takes 4:5 (portrait) to 1.91:1 (landscape): {100 - kept * 100:.0f} % of it "
            "would be cut away. Crop it to a less extreme shape, or post it on Facebook only.",
        )
    if header.width < INSTAGRAM_MIN_WIDTH:
        _file_error(
            check,
            index,
            "instagram-too-small",
            f"`{entry.file}` is {header.width} pixels wide; Instagram needs at least "
            f"{INSTAGRAM_MIN_WIDTH}. Use a larger version of the image.",
        )
    elif header.width < INSTAGRAM_SHARP_WIDTH:
        _file_warning(
            check,
            index,
            "image-small",
            f"`{entry.file}` is only {header.width}×{header.height}: on Instagram (1080 pixels "
            "wide) it will be enlarged and look blurry. Use a larger version if there is one.",
        )


def _plain_stem(name: str) -> str:
    """``Path(name).stem`` of a plain name (:func:`_is_plain_name`): without its last suffix."""
    dot = name.rfind(".")
    return name[:dot] if 0 < dot < len(name) - 1 else name
