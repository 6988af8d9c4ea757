"""config.toml: the campaign's non-secret settings, loaded into typed objects.

Secrets never live here: the file only names the environment variables or
files that hold them. Every problem is reported with the key and its line.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from campaign.diagnostics import Diagnostic, DiagnosticSink, Position
from campaign.validation_messages import did_you_mean, explain_errors

CONFIG_ENV = "CAMPAIGN_CONFIG"
DEFAULT_CONFIG = Path("config.toml")
ChannelName = Literal["facebook", "instagram"]
CHANNELS: tuple[ChannelName, ...] = ("facebook", "instagram")
_SECRET_WORDS = ("token", "password", "secret", "sessionid", "cookie")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CampaignSection(_Section):
    """[campaign]: what the campaign is and where its posts live."""

    name: str = "Campaign"
    timezone: str = "Europe/Stockholm"
    posts: str = "posts"
    language: str = "sv"
    hashtags: tuple[str, ...] = ()


class CheckSection(_Section):
    """[check]: thresholds of `campaign check`."""

    max_lix: float = Field(45, ge=10, le=100)
    min_gap_minutes: int = Field(30, ge=0)
    # Above campaign.image_probe.MAX_IMAGE_MEGAPIXELS (89.48, what branding opens) counts as it.
    max_image_megapixels: float = Field(89, gt=0, le=178)
    max_image_megabytes: float = Field(50, gt=0)
    # A post is a few kilobytes; Facebook's longest caption in any script fits in 256 KiB.
    max_post_bytes: int = Field(256 * 1024, ge=1024, le=16 * 1024 * 1024)


HexColour = Annotated[str, Field(pattern=r"^#[0-9A-Fa-f]{6}$")]
Ratio = Literal["4:5", "1:1", "1.91:1"]


class BrandSection(_Section):
    """[brand]: how images are branded: mark, font, colours, default template."""

    logo: str = "assets/demokratin-100-mark.png"
    font: str = "fontpkg:noto-sans"
    rtl_font: str = "fontpkg:noto-sans-arabic"
    band_colour: HexColour = "#1B365D"
    text_colour: HexColour = "#F7F4EC"
    accent_colour: HexColour = "#F2C14E"
    background: HexColour = "#F7F4EC"
    hashtag: str = "#demokrati100"
    template: Literal["band", "corner", "none"] = "corner"


class RenderSection(_Section):
    """[render]: the renditions made for each channel."""

    build: str = "build"
    width: int = Field(1080, ge=320, le=1440)
    jpeg_quality: int = Field(88, ge=60, le=95)
    instagram_ratio: Ratio = "4:5"
    facebook_ratio: Ratio | Literal["original"] = "4:5"


class FacebookSection(_Section):
    """[channels.facebook]: the Facebook Page; the token comes from the environment."""

    enabled: bool = True
    page_id: str = ""
    api_version: str = Field("v24.0", pattern=r"^v\d+\.\d+$")
    graph_url: str = Field("https://graph.facebook.com", pattern=r"^https?://")
    token_env: str = "CAMPAIGN_FACEBOOK_TOKEN"


class InstagramSection(_Section):
    """[channels.instagram]: the account; password and session stay outside git."""

    enabled: bool = True
    username: str = ""
    session_file: str = "~/.config/campaign/instagram-session.json"
    password_env: str = "CAMPAIGN_INSTAGRAM_PASSWORD"


class ChannelsSection(_Section):
    """[channels.*]"""

    facebook: FacebookSection = FacebookSection()
    instagram: InstagramSection = InstagramSection()


class DatabaseSection(_Section):
    """[database]: where publications, attempts and engagement are kept."""

    # SQLAlchemy URL; a relative SQLite path is relative to the config file.
    url: str = Field("sqlite:///campaign.db", pattern=r"^(sqlite|postgresql(\+psycopg)?)://")
    # An environment variable that, when set, replaces `url` (a URL with a password).
    url_env: str = "CAMPAIGN_DATABASE_URL"

    @field_validator("url")
    @classmethod
    def _no_password(cls, url: str) -> str:
        if re.match(r"^[a-z+]+://[^/@]*:[^/@]*@", url):
            raise ValueError(
                "this URL holds a password, and config.toml is in git. Remove the password "
                "and put the full URL in the environment variable named by `url_env`."
            )
        return url


class PublishingSection(_Section):
    """[publishing]: how publishing behaves when a platform is slow or refuses."""

    outbox: str = "outbox"
    request_timeout_seconds: float = Field(60, gt=0, le=600)
    max_attempts: int = Field(5, ge=1, le=20)
    retry_after_seconds: float = Field(60, ge=1)
    retry_max_seconds: float = Field(3600, ge=1)
    rate_limit_cooldown_minutes: float = Field(60, ge=1)
    reconcile_after_seconds: float = Field(30, ge=0)
    auth_check_minutes: float = Field(15, ge=1)


class SchedulerSection(_Section):
    """[scheduler]: the daemon (`campaign run`)."""

    misfire_grace_minutes: float = Field(30, ge=0)
    rescan_seconds: float = Field(10, ge=1)
    git_pull: bool = False
    git_pull_minutes: float = Field(5, ge=1)
    heartbeat_seconds: float = Field(30, ge=1)
    prepare_hours_ahead: float = Field(48, gt=0)


class NotifySection(_Section):
    """[notify]: who hears about failures, missed posts, paused channels, unknowns."""

    email_to: tuple[str, ...] = ()
    email_from: str = ""
    smtp_host: str = ""
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_security: Literal["starttls", "ssl", "none"] = "starttls"
    smtp_user: str = ""
    smtp_password_env: str = "CAMPAIGN_SMTP_PASSWORD"
    webhook_url_env: str = "CAMPAIGN_ALERT_WEBHOOK"
    webhook_format: Literal["slack", "teams", "json"] = "json"
    max_per_hour: int = Field(20, ge=1)
    timeout_seconds: float = Field(20, gt=0, le=300)


class EngagementSection(_Section):
    """[engagement]: when published posts are sampled for their counts."""

    # Ages after publishing, in hours: 1 h, 6 h, 24 h, 3 days, 7 days, 30 days.
    ages_hours: tuple[float, ...] = Field((1, 6, 24, 72, 168, 720), min_length=1)
    check_minutes: float = Field(5, ge=0.1)

    @field_validator("ages_hours")
    @classmethod
    def _increasing(cls, ages: tuple[float, ...]) -> tuple[float, ...]:
        if any(age <= 0 for age in ages) or list(ages) != sorted(set(ages)):
            raise ValueError("ages_hours must be positive and increasing, like [1, 6, 24].")
        return ages


class ConfigFile(_Section):
    """The whole of config.toml."""

    campaign: CampaignSection = CampaignSection()
    check: CheckSection = CheckSection()
    brand: BrandSection = BrandSection()
    render: RenderSection = RenderSection()
    channels: ChannelsSection = ChannelsSection()
    database: DatabaseSection = DatabaseSection()
    publishing: PublishingSection = PublishingSection()
    scheduler: SchedulerSection = SchedulerSection()
    notify: NotifySection = NotifySection()
    engagement: EngagementSection = EngagementSection()


class ConfigError(Exception):
    """config.toml could not be used; ``diagnostics`` say where and why."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__("\n".join(str(d) for d in diagnostics))
        self.diagnostics = diagnostics


@dataclass(frozen=True)
class Config:
    """Settings ready to use: paths resolved against the config file's folder."""

    settings: ConfigFile
    base_dir: Path
    source: Path | None

    @property
    def campaign(self) -> CampaignSection:
        return self.settings.campaign

    @property
    def check(self) -> CheckSection:
        return self.settings.check

    @property
    def channels(self) -> ChannelsSection:
        return self.settings.channels

    @property
    def brand(self) -> BrandSection:
        return self.settings.brand

    @property
    def render(self) -> RenderSection:
        return self.settings.render

    @property
    def database(self) -> DatabaseSection:
        return self.settings.database

    @property
    def publishing(self) -> PublishingSection:
        return self.settings.publishing

    @property
    def scheduler(self) -> SchedulerSection:
        return self.settings.scheduler

    @property
    def engagement(self) -> EngagementSection:
        return self.settings.engagement

    @property
    def notify(self) -> NotifySection:
        return self.settings.notify

    @property
    def database_url(self) -> str:
        """[database] url, a relative SQLite file made relative to the config file."""
        url = os.environ.get(self.settings.database.url_env) or self.settings.database.url
        prefix = "sqlite:///"
        if url.startswith(prefix) and url[len(prefix) :] not in ("", ":memory:"):
            file = Path(url[len(prefix) :]).expanduser()
            if not file.is_absolute():
                return prefix + str((self.base_dir / file).resolve())
        return url

    @property
    def outbox_dir(self) -> Path:
        return self.path(self.settings.publishing.outbox)

    @property
    def build_dir(self) -> Path:
        return (self.base_dir / self.settings.render.build).resolve()

    def path(self, relative: str) -> Path:
        """A path from the config file, relative to the config file's folder."""
        return (self.base_dir / Path(relative).expanduser()).resolve()

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.settings.campaign.timezone)

    @property
    def posts_dir(self) -> Path:
        return (self.base_dir / self.settings.campaign.posts).resolve()

    @property
    def enabled_channels(self) -> tuple[ChannelName, ...]:
        return tuple(c for c in CHANNELS if getattr(self.channels, c).enabled)


def config_path_from(option: Path | None) -> tuple[Path, bool]:
    """The config file to read, and whether the user named it (option or environment)."""
    if option is not None:
        return option, True
    if env := os.environ.get(CONFIG_ENV):
        return Path(env), True
    return DEFAULT_CONFIG, False


def load_config(path: Path | None = None) -> Config:
    """Load config.toml, or the built-in defaults when no file was named and none exists."""
    path, named = config_path_from(path)
    if not path.exists():
        if named:
            sink = DiagnosticSink(path)
            sink.error(Position(1, 1), "config-missing", "this config file does not exist.")
            raise ConfigError(sink.items)
        return _checked(ConfigFile(), Path.cwd(), None, DiagnosticSink(path), {})
    text = path.read_text(encoding="utf-8")
    return parse_config(text, path)


def parse_config(text: str, path: Path) -> Config:
    """Parse and check the text of a config file (``path`` names it in messages)."""
    sink = DiagnosticSink(path)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line, column = _toml_error_position(str(exc))
        sink.error(Position(line, column), "toml-syntax", f"this is not valid TOML: {exc}.")
        raise ConfigError(sink.items) from None
    positions = toml_key_positions(text)
    try:
        settings = ConfigFile.model_validate(raw)
    except ValidationError as exc:
        for problem in explain_errors(exc.errors(), ConfigFile, _dotted):
            keys = tuple(str(part) for part in problem.loc)
            position = positions.get(keys) or positions.get(keys[:-1]) or Position(1, 1)
            sink.error(position, "config-invalid", _secret_hint(keys) or problem.message)
        raise ConfigError(sink.items) from None
    return _checked(settings, path.parent.resolve(), path, sink, positions)


def _checked(
    settings: ConfigFile,
    base_dir: Path,
    source: Path | None,
    sink: DiagnosticSink,
    positions: dict[tuple[str, ...], Position],
) -> Config:
    where = positions.get(("campaign", "timezone"), Position(1, 1))
    try:
        ZoneInfo(settings.campaign.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        hint = did_you_mean(settings.campaign.timezone, available_timezones())
        sink.error(
            where,
            "config-timezone",
            f'[campaign] timezone "{settings.campaign.timezone}" is not a known time zone.'
            f"{hint or ' Use a name such as Europe/Stockholm.'}",
        )
    config = Config(settings, base_dir, source)
    if not config.posts_dir.is_dir():
        sink.error(
            positions.get(("campaign", "posts"), Position(1, 1)),
            "config-posts-folder",
            f'[campaign] posts = "{settings.campaign.posts}": there is no such folder '
            f"({config.posts_dir}). Create it or correct the path (relative to the config file).",
        )
    if sink.items:
        raise ConfigError(sink.items)
    return config


def _dotted(loc: tuple[str | int, ...]) -> str:
    return f"`{'.'.join(str(part) for part in loc)}`"


def _secret_hint(loc: tuple[str, ...]) -> str | None:
    key = loc[-1].lower() if loc else ""
    if any(word in key for word in _SECRET_WORDS) and not key.endswith(("_env", "_file")):
        return (
            f"`{loc[-1]}` looks like a secret. Secrets never go in config.toml (it is in git): "
            "put the secret in an environment variable and name that variable with the "
            "`token_env` or `password_env` key."
        )
    return None


def _toml_error_position(message: str) -> tuple[int, int]:
    match = re.search(r"line (\d+), column (\d+)", message)
    return (int(match[1]), int(match[2])) if match else (1, 1)


_HEADER = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-\"]+(?:\s*\.\s*[A-Za-z0-9_\-\"]+)*)\s*=")


def toml_key_positions(text: str) -> dict[tuple[str, ...], Position]:
    """Where each table and key of a TOML text is written: ``("campaign", "timezone")`` → line.

    tomllib keeps no positions; this line scan covers config files as people write them.
    """
    positions: dict[tuple[str, ...], Position] = {}
    table: tuple[str, ...] = ()
    in_multiline = False
    for number, line in enumerate(text.splitlines(), start=1):
        opens_or_closes = line.count('"""') % 2 == 1 or line.count("'''") % 2 == 1
        if in_multiline:
            in_multiline = not opens_or_closes
            continue
        if header := _HEADER.match(line):
            table = tuple(part.strip().strip('"') for part in header[1].split("."))
            positions.setdefault(table, Position(number, 1))
        elif key := _KEY.match(line):
            parts = tuple(part.strip().strip('"') for part in key[1].split("."))
            column = len(line) - len(line.lstrip()) + 1
            positions.setdefault((*table, *parts), Position(number, column))
        in_multiline = opens_or_closes
    return positions
