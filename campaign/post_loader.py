"""Read post files into :class:`Post` objects, reporting every problem at once.

A broken file never stops the others: each file yields a post or diagnostics,
and campaign-wide rules (gaps between posts, duplicate ids) run on those that loaded.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import TypeAdapter, ValidationError

from campaign.config import Config
from campaign.diagnostics import Diagnostic, DiagnosticSink, Position, Severity
from campaign.post import Post
from campaign.post_format import AccountBlock, BrandBlock, FacebookBlock, InstagramBlock, PostFile
from campaign.post_reader import PostFileProblem, read_post_file
from campaign.rules.brand import check_headline_fits
from campaign.rules.captions import check_captions, check_readability
from campaign.rules.characters import check_characters
from campaign.rules.context import PostCheck
from campaign.rules.images import check_images
from campaign.rules.naming import check_accounts_known, check_channels_enabled, check_file_name
from campaign.rules.schedule import check_schedule
from campaign.rules.tags import check_tags
from campaign.timeparse import PublishTime, TimeProblem, parse_publish_time
from campaign.validation_messages import did_you_mean, explain_errors
from campaign.yaml_source import parse_yaml

POST_SUFFIXES = (".yaml", ".yml")
_FIELDS = tuple(PostFile.model_fields)
_REQUIRED = [name for name, info in PostFile.model_fields.items() if info.is_required()]
# Default factories of the optional fields, looked up once (pydantic's get_default inspects
# the factory's signature on every call).
_DEFAULTS: dict[str, Callable[[], Any]] = {
    name: info.default_factory or (lambda value=info.default: value)  # type: ignore[misc]
    for name, info in PostFile.model_fields.items()
    if not info.is_required()
}


@cache
def _adapters() -> dict[str, TypeAdapter[Any]]:
    """A validator per post field, for files with problems (built on the first one: a
    campaign without problems never needs them)."""
    return {
        name: TypeAdapter(Annotated[info.annotation, info])
        for name, info in PostFile.model_fields.items()
    }


@cache
def _default_blocks() -> dict[str, Any]:
    """The blocks of a post that does not write them (frozen, so one of each is shared)."""
    return {
        "brand": BrandBlock(),
        "none": BrandBlock(template="none"),
        "facebook": FacebookBlock(),
        "instagram": InstagramBlock(),
    }


@dataclass
class LoadResult:
    """The posts that loaded and everything found wrong, sorted by file and line."""

    posts: list[Post] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    files: int = 0

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity is Severity.WARNING]


def find_post_files(paths: Iterable[Path]) -> list[tuple[Path, Path]]:
    """(post file, root of its images) for each file given or found in each folder given.

    Folders whose names start with ``.`` or ``_`` are skipped (``_archive``, ``.git``).
    Links to folders are never followed; a link named like a post is listed, for
    :func:`load_post` to refuse.
    """
    found: list[tuple[Path, Path]] = []
    for path in paths:
        if not path.is_dir():
            found.append((path, path.parent))
            continue
        for folder, subfolders, names in os.walk(path):
            subfolders[:] = sorted(d for d in subfolders if not d.startswith((".", "_")))
            found.extend(
                (Path(folder, name), path)
                for name in sorted(names)
                if name.endswith(POST_SUFFIXES) and not name.startswith((".", "_"))
            )
    return found


def load_campaign(
    config: Config, paths: Iterable[Path] | None = None, now: datetime | None = None
) -> LoadResult:
    """Load and check every post under ``paths`` (default: the configured posts folder).

    ``now`` is the clock for "in the past" warnings (default: the real time).
    """
    result = LoadResult()
    files = find_post_files(paths if paths is not None else [config.posts_dir])
    resolved_roots: dict[Path, Path] = {}
    with _cyclic_gc_paused():
        for file, root in files:
            if root not in resolved_roots:
                resolved_roots[root] = root.resolve()
            post, diagnostics = load_post(file, resolved_roots[root], config)
            result.files += 1
            result.diagnostics.extend(diagnostics)
            if post is not None:
                result.posts.append(post)
    result.diagnostics.extend(check_schedule(result.posts, config, now or datetime.now(UTC)))
    result.posts.sort(key=lambda p: (p.publish_at.utc, p.id))
    result.diagnostics.sort(key=lambda d: d.sort_key)
    return result


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Keep the cyclic garbage collector off the loaded posts.

    A load allocates many small objects that stay alive (the posts and their YAML
    nodes) and makes no reference cycles, so the collector's repeated scans of them
    are wasted work: about 20 % of `campaign check` on 1,000 posts. The survivors
    are frozen afterwards (still freed by reference counting when dropped).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


def load_post(path: Path, root: Path, config: Config) -> tuple[Post | None, list[Diagnostic]]:
    """Load one post file; the post is None when the file has any error.

    ``root`` is the resolved folder its images must stay inside.
    """
    sink = DiagnosticSink(path)
    text = _read_text(path, sink, config.check.max_post_bytes)
    if text is None:
        return None, sink.items
    parsed = parse_yaml(text, sink)
    if parsed is None:
        return None, sink.items
    raw, source = parsed
    check = PostCheck(path, root, config, source, sink)
    check_characters(check, text)
    if not isinstance(raw, dict):
        sink.error(
            Position(1, 1),
            "post-shape",
            "a post file must be a list of keys such as `publish_at:`, `status:` and "
            "`caption:`, each at the start of a line. Run `campaign new` for an example.",
        )
        return None, sink.items
    check.fields = _validate_fields(raw, check)
    when = _check_time(check)
    check_file_name(check, path.stem, when)
    check_channels_enabled(check)
    check_accounts_known(check)
    check_captions(check)
    check_readability(check)
    check_tags(check)
    images = check_images(check)
    if images is not None:
        check_headline_fits(check, images)
    if sink.has_errors or when is None or images is None:
        return None, sink.items
    return _build_post(check, path, when, images), sink.items


def _read_text(path: Path, sink: DiagnosticSink, max_bytes: int) -> str | None:
    try:
        data = read_post_file(path, max_bytes)
    except PostFileProblem as problem:
        sink.error(Position(1, 1), problem.code, str(problem))
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        sink.error(
            Position(line, 1),
            "encoding",
            "the file is not saved as UTF-8, so å, ä and ö would come out wrong. Save it "
            "again with the encoding UTF-8 (in most editors: File → Save with encoding).",
        )
        return None


def _validate_fields(raw: dict[str, Any], check: PostCheck) -> dict[str, Any]:
    """Type-check the fields: the valid ones, every problem reported.

    A valid file (the usual case) is checked in one call; a file with problems is
    checked field by field, so that one bad field hides no others.
    """
    try:
        post_file = PostFile.model_validate(raw)
    except ValidationError:
        return _validate_each_field(raw, check)
    return {name: getattr(post_file, name) for name in _FIELDS}


def _validate_each_field(raw: dict[str, Any], check: PostCheck) -> dict[str, Any]:
    valid: dict[str, Any] = {}
    adapters = _adapters()
    for key, value in raw.items():
        adapter = adapters.get(key)
        if adapter is None:
            if check.sink.full:  # only counted from here on: no message, no "did you mean"
                check.sink.error(check.at_key(key), "unknown-key", "")
                continue
            hint = did_you_mean(key, adapters) or " Allowed keys: " + ", ".join(adapters) + "."
            check.sink.error(check.at_key(key), "unknown-key", f"unknown key `{key}`.{hint}")
            continue
        try:
            valid[key] = adapter.validate_python(value)
        except ValidationError as exc:
            for problem in explain_errors(_prefixed(exc, key), PostFile):
                if problem.kind == "extra_forbidden":
                    message = _unknown_account_key(problem.loc) or problem.message
                    check.sink.error(check.at_key(*problem.loc), "unknown-key", message)
                else:
                    check.sink.error(check.at(*problem.loc), "invalid-value", problem.message)
    for key, make_default in _DEFAULTS.items():
        if key not in raw:
            valid[key] = make_default()
    for key in _REQUIRED:
        if key not in raw:
            check.sink.error(
                check.at(),
                "missing-key",
                f"`{key}` is missing. {PostFile.model_fields[key].description}",
            )
    return valid


def _unknown_account_key(loc: tuple[str | int, ...]) -> str | None:
    """A key under `per_account:` → NAME: the keys of an account block, for "did you mean"
    (the generic message cannot look through a block named by the user)."""
    if len(loc) != 3 or loc[0] != "per_account":
        return None
    key, known = str(loc[2]), list(AccountBlock.model_fields)
    hint = did_you_mean(key, known) or " Allowed here: " + ", ".join(f"`{k}`" for k in known) + "."
    return f"unknown key `{key}` under `per_account:` → `{loc[1]}:`.{hint}"


def _prefixed(exc: ValidationError, key: str) -> list[Any]:
    return [{**error, "loc": (key, *error["loc"])} for error in exc.errors()]


def _check_time(check: PostCheck) -> PublishTime | None:
    written = check.fields.get("publish_at")
    if written is None:
        return None
    try:
        return parse_publish_time(written, check.config.zone)
    except TimeProblem as problem:
        check.sink.error(check.at("publish_at"), "publish-time", f"`publish_at`: {problem}")
        return None


def _build_post(check: PostCheck, path: Path, when: PublishTime, images: tuple) -> Post:
    fields = check.fields
    brand = fields.get("brand")
    defaults = _default_blocks()
    return Post(
        id=path.stem,
        path=path,
        publish_at=when,
        status=fields["status"],
        channels=check.channels,
        caption=fields.get("caption"),
        images=images,
        brand=defaults["none"] if brand == "none" else brand or defaults["brand"],
        language=fields.get("language") or check.config.campaign.language,
        tags=tuple(fields.get("tags") or ()),
        facebook=fields.get("facebook") or defaults["facebook"],
        instagram=fields.get("instagram") or defaults["instagram"],
        source=check.source,
        accounts=check.accounts,
        account_platform={name: check.account_platform(name) for name in check.accounts},
        per_account=dict(fields.get("per_account") or {}),
    )
