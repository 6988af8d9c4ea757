"""The post file format: what keys a post YAML file may have and of what type.

These pydantic models are the single definition of the format: the loader
validates against them and ``campaign schema`` exports them as JSON Schema
for editors. Rules that need more than types (files, times, limits) live in
``campaign.rules``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from campaign.config import ChannelName, Ratio

# Everything a post can hold is bounded, so that no file costs more to check than its
# size: far above what any platform takes (Facebook: 63,206 characters), far below harm.
MAX_TEXT = 70_000
MAX_SHORT_TEXT = 2_000
MAX_TAGS = 30
MAX_TAG_LENGTH = 50
MAX_IMAGES = 30
MAX_ACCOUNTS = 20


def _text(max_length: int, min_length: int = 0) -> Any:
    return StringConstraints(
        strip_whitespace=bool(min_length), min_length=min_length or None, max_length=max_length
    )


NonEmptyText = Annotated[str, _text(MAX_SHORT_TEXT, 1)]
Text = Annotated[str, _text(MAX_TEXT)]
ShortText = Annotated[str, _text(MAX_SHORT_TEXT)]
Tag = Annotated[str, _text(MAX_TAG_LENGTH, 1)]
#: An account's name as config.toml has it; an unknown one is reported with "did you mean".
AccountName = Annotated[str, _text(100, 1)]
FocusWord = Literal["center", "top", "bottom", "left", "right"]
Fraction = Annotated[float, Field(ge=0, le=1)]
BrandTemplate = Literal["band", "corner", "none"]


class _Block(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ImageEntry(_Block):
    """One image of the post; several make a carousel (Instagram) or album (Facebook)."""

    file: Annotated[str, _text(255, 1)] = Field(
        description="Image file name, relative to the post file (JPEG, PNG or WebP).",
        examples=["2021-09-15-demokratidagen.jpg"],
    )
    alt: NonEmptyText = Field(
        description="Alt text: what the image shows, for people who cannot see it. Required.",
    )
    focus: tuple[Fraction, Fraction] | FocusWord | None = Field(
        None,
        description="What to keep when the image is cropped: [x, y] as fractions of width "
        "and height (0 to 1), or center, top, bottom, left, right. Default: center.",
    )


class BrandBlock(_Block):
    """How the image is branded."""

    template: BrandTemplate | None = Field(
        None,
        description="band: colour band with headline and logo; corner: logo mark only; "
        "none: the image as it is. Default: [brand] template in config.toml.",
    )
    headline: str | None = Field(
        None, max_length=80, description="Short headline for the band template."
    )
    fit: Literal["crop", "pad"] = Field(
        "crop",
        description="crop: fill the frame, cutting what does not fit (keeping `focus`); "
        "pad: show the whole picture, with the brand background around it.",
    )


class FacebookBlock(_Block):
    """Settings for Facebook only."""

    caption: Text | None = Field(None, description="Replaces `caption` on Facebook.")
    ratio: Ratio | Literal["original"] | None = Field(
        None, description="Shape of the images on Facebook. Default: [render] in config.toml."
    )
    link: ShortText | None = Field(
        None,
        description="A link shown with the post (http or https).",
        examples=["https://www.sodertalje.se/"],
    )


class InstagramBlock(_Block):
    """Settings for Instagram only."""

    caption: Text | None = Field(None, description="Replaces `caption` on Instagram.")
    ratio: Ratio | None = Field(
        None,
        description="Shape of the images on Instagram: 4:5 (portrait), 1:1 or 1.91:1 "
        "(landscape). Default: [render] instagram_ratio in config.toml.",
    )
    first_comment: Text | None = Field(
        None, description="Posted as the first comment right after the post."
    )


class AccountBlock(_Block):
    """Text for one account only (its images are those of its platform)."""

    caption: Text | None = Field(
        None, description="Replaces `caption` (and the `facebook:`/`instagram:` one) here."
    )
    link: ShortText | None = Field(
        None,
        description="Facebook accounts only: a link shown with the post (http or https).",
        examples=["https://www.sodertalje.se/bibliotek"],
    )
    first_comment: Text | None = Field(
        None, description="Instagram accounts only: posted as the first comment."
    )


class PostFile(_Block):
    """One post: ``posts/YYYY-MM-DD-slug.yaml``, its images beside it."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        title="Campaign post",
    )

    publish_at: Annotated[str, _text(100, 1)] = Field(
        description="When to publish: local time in the campaign's time zone "
        "(2021-09-15 09:00) or ISO 8601 with an offset (2021-09-15T09:00+02:00).",
        examples=["2021-09-15 09:00"],
    )
    status: Literal["draft", "ready"] = Field(description="Only `ready` posts are ever published.")
    channels: list[ChannelName] | None = Field(
        None,
        min_length=1,
        max_length=10,
        description="Where to publish. Default: every channel enabled in config.toml.",
    )
    accounts: list[AccountName] | None = Field(
        None,
        min_length=1,
        max_length=MAX_ACCOUNTS,
        description="Where to publish, by account: facebook and instagram are the default "
        "ones, others are [accounts.NAME] in config.toml. Write `accounts:` or `channels:`, "
        "not both. Default: every channel enabled in config.toml.",
        examples=[["facebook", "bibliotek-fb"]],
    )
    caption: Text | None = Field(
        None,
        description="The text of the post. Required unless each channel block has its own.",
    )
    images: list[ImageEntry] = Field(
        default_factory=list,
        max_length=MAX_IMAGES,
        description="One or more images. Only a Facebook-only post may have none.",
    )
    brand: BrandBlock | Literal["none"] | None = Field(
        None,
        description="Write `brand: none` for no branding, or a block with `template:` "
        "(band, corner or none) and `headline:`.",
    )
    language: str | None = Field(
        None,
        pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$",
        description="Language of the post (sv, en, ar, fi …). Default: config.toml's language.",
    )
    tags: list[Tag] = Field(
        default_factory=list,
        max_length=MAX_TAGS,
        description="Words for grouping posts in reports.",
    )
    facebook: FacebookBlock | None = None
    instagram: InstagramBlock | None = None
    per_account: dict[AccountName, AccountBlock] | None = Field(
        None,
        max_length=MAX_ACCOUNTS,
        description="Text for one account only, under its name: `caption`, `link` (Facebook "
        "accounts) and `first_comment` (Instagram accounts). It comes before the "
        "`facebook:`/`instagram:` blocks, which come before `caption`.",
    )


def post_json_schema() -> dict[str, Any]:
    """The JSON Schema of a post file, for editors (``# yaml-language-server: $schema=…``)."""
    schema = PostFile.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
