"""config.toml: the campaign's non-secret settings, loaded into typed objects.

Secrets never live here: the file only names the environment variables or
files that hold them. Every problem is reported with the key and its line.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictStr,
    ValidationError,
    create_model,
    field_validator,
)

from campaign.config_messages import explain, explain_config_errors
from campaign.diagnostics import Diagnostic, DiagnosticSink, Position
from campaign.outputs import DATABASE_URL, OUTBOX_FOLDER, OUTPUT_FOLDER
from campaign.post_reader import PostFileProblem, read_settings_text
from campaign.setting_checks import (
    database_url_has_password,
    database_url_problem,
    env_name_problem,
    folder_inside_problem,
    is_loopback_host,
    secure_url_problem,
)
from campaign.validation_messages import did_you_mean

if TYPE_CHECKING:
    from campaign.accounts import Account

CONFIG_ENV = "CAMPAIGN_CONFIG"
#: The longest duration any key takes, in each unit: a year.
YEAR_SECONDS, YEAR_MINUTES, YEAR_HOURS = 365 * 24 * 3600, 365 * 24 * 60, 365 * 24
DEFAULT_CONFIG = Path("config.toml")
ChannelName = Literal["facebook", "instagram"]
CHANNELS: tuple[ChannelName, ...] = ("facebook", "instagram")
#: Zone names that are no place: "localtime" is whatever zone each machine (a laptop, the
#: server, GitHub) is set to, and tzdata's "Factory" is -00.
NOT_A_PLACE = frozenset({"localtime", "posixrules", "Factory"})


def _env_name(name: str) -> str:
    if problem := env_name_problem(name):
        raise ValueError(problem)
    return name


#: The name of an environment variable that holds a secret (never the secret itself).
EnvName = Annotated[str, AfterValidator(_env_name)]
#: Lists in TOML; every item of the stated type, nothing converted.
Texts = Annotated[tuple[StrictStr, ...], Field(strict=False)]
Numbers = Annotated[tuple[StrictFloat, ...], Field(strict=False)]


class _Section(BaseModel):
    # strict: "45" is not 45 and "yes" is not true; a wrong type is reported, never guessed.
    # No inf or nan, and every duration at most a year: a longer one is a typing mistake, and
    # once turned into a timedelta or a timer it would end a command in an OverflowError.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class CampaignSection(_Section):
    """[campaign]: what the campaign is and where its posts live."""

    name: str = "Campaign"
    timezone: str = "Europe/Stockholm"
    posts: str = "posts"
    language: str = "sv"
    hashtags: Texts = ()
    # The release of the tool this campaign was set up for ("" = not said).
    tool_version: str = Field(
        "",
        pattern=r"^(\d+\.\d+\.\d+)?$",
        description='Write the version as three numbers with dots, like "0.1.0" '
        "(what `campaign --version` prints).",
    )


class CheckSection(_Section):
    """[check]: thresholds of `campaign check`."""

    max_lix: float = Field(45, ge=10, le=100)
    min_gap_minutes: int = Field(30, ge=0, le=YEAR_MINUTES)
    # Above campaign.image_probe.MAX_IMAGE_MEGAPIXELS (89.48, what branding opens) counts as it.
    max_image_megapixels: float = Field(89, gt=0, le=178)
    max_image_megabytes: float = Field(50, gt=0)
    # A post is a few kilobytes; Facebook's longest caption in any script fits in 256 KiB.
    max_post_bytes: int = Field(256 * 1024, ge=1024, le=16 * 1024 * 1024)


HexColour = Annotated[
    str,
    Field(
        pattern=r"^#[0-9A-Fa-f]{6}$",
        description='Write a colour as # and six hexadecimal digits, like "#1B365D".',
    ),
]
Ratio = Literal["4:5", "1:1", "1.91:1"]
_IG_USER_ID_HINT = (
    'The Instagram account\'s id is a number, like "17841400000000000" (see the README: '
    "how to find the ig_user_id)."
)


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

    build: str = OUTPUT_FOLDER
    width: int = Field(1080, ge=320, le=1440)
    jpeg_quality: int = Field(88, ge=60, le=95)
    instagram_ratio: Ratio = "4:5"
    facebook_ratio: Literal["4:5", "1:1", "1.91:1", "original"] = "4:5"


class FacebookSection(_Section):
    """[channels.facebook]: the Facebook Page; the token comes from the environment."""

    enabled: bool = True
    page_id: str = ""
    api_version: str = Field(
        "v24.0",
        pattern=r"^v\d+\.\d+$",
        description='Write the Graph API version as v, a number, a dot and a number: "v24.0".',
    )
    # The Page token is sent here with every request: https only (http to loopback for tests).
    graph_url: str = "https://graph.facebook.com"
    token_env: EnvName = "CAMPAIGN_FACEBOOK_TOKEN"

    @field_validator("graph_url")
    @classmethod
    def _secure(cls, url: str) -> str:
        if problem := secure_url_problem(url):
            raise ValueError(f"the Page token is sent to this address, and {problem}.")
        return url


InstagramBackend = Literal["graph", "instagrapi"]
#: Keys only the official API (graph) uses, and keys only instagrapi uses.
GRAPH_KEYS = ("ig_user_id", "token_env", "graph_url", "api_version")
INSTAGRAPI_KEYS = ("username", "session_file", "password_env")


class InstagramSection(_Section):
    """[channels.instagram]: the account, through Meta's official API (graph, the default)
    or instagrapi (the private API); token, password and session stay outside git."""

    enabled: bool = True
    # None: not written. An older config.toml that sets instagrapi's keys then means
    # instagrapi; any other means graph (see Config.instagram_backend).
    backend: InstagramBackend | None = None
    # graph: the Instagram professional account's id and the token's variable.
    ig_user_id: str = Field("", pattern=r"^[0-9]*$", description=_IG_USER_ID_HINT)
    token_env: EnvName = "CAMPAIGN_INSTAGRAM_TOKEN"
    # "" = the same as [channels.facebook].
    graph_url: str = ""
    api_version: str = Field(
        "",
        pattern=r"^(v\d+\.\d+)?$",
        description='Write the Graph API version as v, a number, a dot and a number: "v24.0", '
        'or "" for the one in [channels.facebook].',
    )
    # instagrapi
    username: str = ""
    session_file: str = "~/.config/campaign/instagram-session.json"
    password_env: EnvName = "CAMPAIGN_INSTAGRAM_PASSWORD"

    @field_validator("graph_url")
    @classmethod
    def _secure(cls, url: str) -> str:
        if url and (problem := secure_url_problem(url)):
            raise ValueError(f"the Instagram token is sent to this address, and {problem}.")
        return url


class MediaHostSection(_Section):
    """[media_host]: where Instagram's official API fetches the images from."""

    kind: Literal["s3", "folder"] = "s3"
    # s3: "" = AWS itself; an S3-compatible store's https address otherwise.
    endpoint_url: str = ""
    region: str = ""
    bucket: str = ""
    prefix: str = "campaign/"
    addressing_style: Literal["auto", "path", "virtual"] = "auto"
    access_key_id_env: EnvName = "CAMPAIGN_S3_ACCESS_KEY_ID"
    secret_access_key_env: EnvName = "CAMPAIGN_S3_SECRET_ACCESS_KEY"
    # How long an image's link works (S3: presigned links live at most 7 days). Meta fetches
    # it while publishing, so a few minutes would do; the margin covers a slow Meta.
    url_expires_minutes: float = Field(60, ge=5, le=7 * 24 * 60)
    # folder: a folder a web server already serves, and its public https address.
    folder: str = ""
    base_url: str = ""
    remove_after_publish: bool = True

    @field_validator("endpoint_url", "base_url")
    @classmethod
    def _public_https(cls, url: str) -> str:
        if url and (problem := secure_url_problem(url)):
            raise ValueError(f"Meta fetches the images from this address, and {problem}.")
        return url


class ChannelsSection(_Section):
    """[channels.*]: the default account of each platform (named like the platform)."""

    facebook: FacebookSection = FacebookSection()
    instagram: InstagramSection = InstagramSection()


_INHERITED_VERSION = Field(
    "",
    pattern=r"^(v\d+\.\d+)?$",
    description='Write the Graph API version as v, a number, a dot and a number: "v24.0", '
    'or "" for the one in [channels.facebook].',
)


class FacebookAccountSection(FacebookSection):
    """[accounts.NAME] with platform = "facebook": one more Facebook Page.

    ``graph_url`` and ``api_version`` left empty are those of [channels.facebook];
    ``token_env`` must be written (each Page has its own token).
    """

    platform: Literal["facebook"]
    # How previews and reports name the account ("" = its name).
    display_name: str = Field("", max_length=200)
    api_version: str = _INHERITED_VERSION
    graph_url: str = ""

    @field_validator("graph_url")
    @classmethod
    def _secure(cls, url: str) -> str:  # replaces FacebookSection's: "" means inherited
        if url and (problem := secure_url_problem(url)):
            raise ValueError(f"the Page token is sent to this address, and {problem}.")
        return url


class InstagramAccountSection(InstagramSection):
    """[accounts.NAME] with platform = "instagram": one more Instagram account.

    Unset keys are those of [channels.instagram] (``graph_url`` and ``api_version``
    then of [channels.facebook]); ``session_file`` left empty is one of its own.
    """

    platform: Literal["instagram"]
    display_name: str = Field("", max_length=200)
    # "" = ~/.config/campaign/instagram-session-NAME.json
    session_file: str = ""


AccountSection = Annotated[
    FacebookAccountSection | InstagramAccountSection, Field(discriminator="platform")
]


class DatabaseSection(_Section):
    """[database]: where publications, attempts and engagement are kept."""

    # SQLAlchemy URL; a relative SQLite path is relative to the config file.
    url: str = DATABASE_URL
    # An environment variable that, when set, replaces `url` (a URL with a password).
    url_env: EnvName = "CAMPAIGN_DATABASE_URL"

    @field_validator("url")
    @classmethod
    def _well_formed_without_password(cls, url: str) -> str:
        if problem := database_url_problem(url):
            raise ValueError(f"this is not a well-formed database URL: {problem}.")
        if database_url_has_password(url):
            raise ValueError(
                "this URL holds a password, and config.toml is in git. Remove the password "
                "and put the full URL in the environment variable named by `url_env`."
            )
        return url


class PublishingSection(_Section):
    """[publishing]: how publishing behaves when a platform is slow or refuses."""

    outbox: str = OUTBOX_FOLDER
    request_timeout_seconds: float = Field(60, gt=0, le=600)
    max_attempts: int = Field(5, ge=1, le=20)
    retry_after_seconds: float = Field(60, ge=1, le=YEAR_SECONDS)
    retry_max_seconds: float = Field(3600, ge=1, le=YEAR_SECONDS)
    rate_limit_cooldown_minutes: float = Field(60, ge=1, le=YEAR_MINUTES)
    reconcile_after_seconds: float = Field(30, ge=0, le=YEAR_SECONDS)
    auth_check_minutes: float = Field(15, ge=1, le=YEAR_MINUTES)
    # Publications in flight at once, across accounts (one at a time per account).
    parallel: int = Field(8, ge=1, le=64)


class SchedulerSection(_Section):
    """[scheduler]: the daemon (`campaign run`)."""

    misfire_grace_minutes: float = Field(30, ge=0, le=YEAR_MINUTES)
    rescan_seconds: float = Field(10, ge=1, le=YEAR_SECONDS)
    git_pull: bool = False
    git_pull_minutes: float = Field(5, ge=1, le=YEAR_MINUTES)
    heartbeat_seconds: float = Field(30, ge=1, le=YEAR_SECONDS)
    # Up to 10,000,000 hours (over a thousand years: every post, for tests and rehearsals);
    # beyond that, now + this would pass the year 9999 that dates end at.
    prepare_hours_ahead: float = Field(48, gt=0, le=10_000_000)
    # The longest a standby (`campaign run --standby`) waits after the active one died.
    takeover_seconds: float = Field(30, ge=3, le=3600)


class NotifySection(_Section):
    """[notify]: who hears about failures, missed posts, paused channels, unknowns."""

    email_to: Texts = ()
    email_from: str = ""
    smtp_host: str = ""
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_security: Literal["starttls", "ssl", "none"] = "starttls"
    smtp_user: str = ""
    smtp_password_env: EnvName = "CAMPAIGN_SMTP_PASSWORD"
    webhook_url_env: EnvName = "CAMPAIGN_ALERT_WEBHOOK"
    webhook_format: Literal["slack", "teams", "json"] = "json"
    max_per_hour: int = Field(20, ge=1)
    timeout_seconds: float = Field(20, gt=0, le=300)


class EngagementSection(_Section):
    """[engagement]: when published posts are sampled for their counts."""

    # Ages after publishing, in hours: 1 h, 6 h, 24 h, 3 days, 7 days, 30 days.
    ages_hours: Numbers = Field((1, 6, 24, 72, 168, 720), min_length=1)
    check_minutes: float = Field(5, ge=0.1, le=YEAR_MINUTES)

    @field_validator("ages_hours")
    @classmethod
    def _increasing(cls, ages: tuple[float, ...]) -> tuple[float, ...]:
        if any(age <= 0 for age in ages) or list(ages) != sorted(set(ages)):
            raise ValueError("ages_hours must be positive and increasing, like [1, 6, 24].")
        if ages[-1] > 10 * YEAR_HOURS:
            raise ValueError(f"ages_hours go up to {10 * YEAR_HOURS} hours (ten years) at most.")
        return ages


class ConfigFile(_Section):
    """The whole of config.toml."""

    campaign: CampaignSection = CampaignSection()
    check: CheckSection = CheckSection()
    brand: BrandSection = BrandSection()
    render: RenderSection = RenderSection()
    channels: ChannelsSection = ChannelsSection()
    # More accounts, by name, in the order written.
    accounts: dict[str, AccountSection] = Field(default_factory=dict)
    media_host: MediaHostSection = MediaHostSection()
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


class ConfigMissing(ConfigError):
    """No config file where one was looked for: ``message`` says where, and what to do
    (a file that does not exist has no line to point at)."""

    def __init__(self, path: Path, message: str) -> None:
        sink = DiagnosticSink(path)
        sink.error(Position(1, 1), "config-missing", message)
        super().__init__(sink.items)
        self.message = message


@dataclass(frozen=True)
class Config:
    """Settings ready to use: paths resolved against the config file's folder."""

    settings: ConfigFile
    base_dir: Path
    source: Path | None
    #: Where each table and key is written in the file (empty for the built-in defaults).
    key_positions: Mapping[tuple[str, ...], Position] = field(default_factory=dict, compare=False)

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
    def media_host(self) -> MediaHostSection:
        return self.settings.media_host

    @property
    def instagram_backend(self) -> InstagramBackend:
        """graph or instagrapi: as written, else instagrapi for an older config.toml that
        sets instagrapi's keys, else graph (the default)."""
        return instagram_backend(self.settings.channels.instagram)[0]

    @property
    def instagram_backend_note(self) -> str:
        """How the backend was chosen, for `campaign status` ("" when written)."""
        return instagram_backend(self.settings.channels.instagram)[1]

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
        from_env = os.environ.get(self.settings.database.url_env, "").strip()
        url = from_env or self.settings.database.url
        prefix = "sqlite:///"
        if url.startswith(prefix) and url[len(prefix) :] not in ("", ":memory:"):
            file = Path(url[len(prefix) :]).expanduser()
            if not file.is_absolute():
                return prefix + str((self.base_dir / file).resolve())
        return url

    @property
    def outbox_dir(self) -> Path:
        """Absolute, but links not resolved: campaign.safe_output must see (and refuse) them."""
        return Path(
            os.path.abspath(self.base_dir / Path(self.settings.publishing.outbox).expanduser())
        )

    @property
    def build_dir(self) -> Path:
        """Absolute, but links not resolved: campaign.safe_output must see (and refuse) them."""
        return Path(os.path.abspath(self.base_dir / self.settings.render.build))

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
        """The platforms whose default account is switched on."""
        return tuple(c for c in CHANNELS if getattr(self.channels, c).enabled)

    @cached_property
    def accounts(self) -> dict[str, Account]:
        """Every account by name: the default ``facebook`` and ``instagram`` first, then
        [accounts.*] in the order written; switched-off ones included."""
        from campaign.accounts import resolve_accounts

        return resolve_accounts(self.settings)

    @property
    def enabled_accounts(self) -> tuple[Account, ...]:
        """The accounts switched on, in the order of :attr:`accounts`."""
        return tuple(account for account in self.accounts.values() if account.enabled)

    def account(self, name: str) -> Account:
        """The account called ``name``; a KeyError naming the known ones if there is none."""
        try:
            return self.accounts[name]
        except KeyError:
            known = ", ".join(self.accounts)
            raise KeyError(f"there is no account {name!r} (the accounts: {known})") from None

    def default_account(self, platform: ChannelName) -> Account:
        """The account of [channels.<platform>] (named like the platform), on or off."""
        return self.accounts[platform]


def instagram_backend(section: InstagramSection) -> tuple[InstagramBackend, str]:
    """The backend and, when it was not written, why it was chosen."""
    if section.backend is not None:
        return section.backend, ""
    for key in INSTAGRAPI_KEYS:
        if key in section.model_fields_set:
            return "instagrapi", f'from `{key}`; write backend = "instagrapi" to say so'
    return "graph", 'the default; write backend = "graph" to say so'


def config_path_from(option: Path | None) -> tuple[Path, bool]:
    """The config file to read, and whether the user named it (option or environment)."""
    if option is not None:
        return option, True
    if env := os.environ.get(CONFIG_ENV):
        return Path(env), True
    return DEFAULT_CONFIG, False


def load_config(path: Path | None = None) -> Config:
    """Load config.toml: the file named (``path``, else $CAMPAIGN_CONFIG), else the one in
    the working folder. ConfigMissing when there is none: every command needs a campaign."""
    option = path
    path, _ = config_path_from(option)
    if not path.exists():
        raise ConfigMissing(path, _missing_config_message(path, option))
    try:  # config.toml can come from a pull request: a regular file, bounded, UTF-8
        text = read_settings_text(path)
    except PostFileProblem as problem:
        sink = DiagnosticSink(path)
        sink.error(Position(1, 1), problem.code, str(problem))
        raise ConfigError(sink.items) from None
    return parse_config(text, path)


def _missing_config_message(path: Path, option: Path | None) -> str:
    if option is not None:
        return (
            f"{path}: no such file (given with --config). Check the name and the folder, or "
            "create a campaign with `campaign init`."
        )
    if os.environ.get(CONFIG_ENV):
        return (
            f"{path}: no such file (named by ${CONFIG_ENV}). Correct or unset {CONFIG_ENV}, "
            "or pass --config FILE."
        )
    return (
        f"No {DEFAULT_CONFIG} here ({Path.cwd()}). Run this in your campaign's folder, pass "
        "--config FILE, or create one with `campaign init`."
    )


def parse_config(text: str, path: Path) -> Config:
    """Parse and check the text of a config file (``path`` names it in messages)."""
    sink = DiagnosticSink(path)
    try:
        raw = tomllib.loads(text)
    except ValueError as exc:  # TOMLDecodeError, or a number too long to read (4,300 digits)
        line, column = _toml_error_position(str(exc))
        what = exc if isinstance(exc, tomllib.TOMLDecodeError) else "a number is far too long"
        sink.error(Position(line, column), "toml-syntax", f"this is not valid TOML: {what}.")
        raise ConfigError(sink.items) from None
    positions = toml_key_positions(text)
    try:
        settings = ConfigFile.model_validate(raw)
    except ValidationError as exc:
        for loc, message in _explained(exc):
            keys = tuple(str(part) for part in loc if isinstance(part, str))
            position = positions.get(keys) or positions.get(keys[:-1]) or Position(1, 1)
            sink.error(position, "config-invalid", message)
        raise ConfigError(sink.items) from None
    return _checked(settings, path.parent.resolve(), path, sink, positions)


def _explained(exc: ValidationError) -> list[tuple[tuple[str | int, ...], str]]:
    """Each key's first problem in plain words; [accounts.NAME] named as written."""
    others = [e for e in exc.errors() if e["loc"][:1] != ("accounts",) or len(e["loc"]) < 2]
    explained = explain_config_errors(others, ConfigFile)
    seen: set[tuple[str | int, ...]] = set()
    for error in exc.errors():
        loc = tuple(error["loc"])
        if loc[:1] != ("accounts",) or len(loc) < 2:
            continue
        name = str(loc[1])
        table = f"[accounts.{name}]"
        if error["type"] == "union_tag_not_found":
            loc, message = (
                loc[:2],
                (
                    f'{table} needs `platform`: write platform = "facebook" or '
                    'platform = "instagram" under it.'
                ),
            )
        elif error["type"] == "union_tag_invalid":
            given = error.get("ctx", {}).get("tag", "")
            loc, message = (
                (*loc[:2], "platform"),
                (f'`platform` in {table} is "{given}", but must be "facebook" or "instagram".'),
            )
        elif error["type"] in ("model_attributes_type", "dict_type") and len(loc) == 2:
            message = (
                f"{table} must be a table: a line {table} with its keys below it "
                '(platform = "facebook" …), not a single value.'
            )
        else:  # ("accounts", NAME, platform, key…): the platform is not part of the place
            section = FacebookAccountSection if loc[2] == "facebook" else InstagramAccountSection
            loc = (*loc[:2], *loc[3:])
            root = create_model(
                "Root", accounts=(create_model("Accounts", **{name: (section, None)}), None)
            )
            message = explain({**error, "loc": loc}, root)
        key = tuple(part for part in loc if isinstance(part, str))
        if key not in seen:
            seen.add(key)
            explained.append((loc, message))
    return explained


def _checked(
    settings: ConfigFile,
    base_dir: Path,
    source: Path | None,
    sink: DiagnosticSink,
    positions: dict[tuple[str, ...], Position],
) -> Config:
    from campaign.accounts import check_accounts

    _check_secrets_paths(settings, sink, positions)
    check_backend_keys(settings.channels.instagram, ("channels", "instagram"), sink, positions)
    check_accounts(settings, base_dir, sink, positions)
    _check_media_host_keys(settings, sink, positions)
    where = positions.get(("campaign", "timezone"), Position(1, 1))
    try:
        if settings.campaign.timezone in NOT_A_PLACE:
            raise ValueError(settings.campaign.timezone)
        ZoneInfo(settings.campaign.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        hint = did_you_mean(settings.campaign.timezone, available_timezones() - NOT_A_PLACE)
        sink.error(
            where,
            "config-timezone",
            f'[campaign] timezone "{settings.campaign.timezone}" is not a known time zone.'
            f"{hint or ' Use a name such as Europe/Stockholm.'}",
        )
    config = Config(settings, base_dir, source, positions)
    if problem := folder_inside_problem(base_dir, settings.campaign.posts):
        sink.error(
            positions.get(("campaign", "posts"), Position(1, 1)),
            "config-posts-folder",
            f'[campaign] posts = "{settings.campaign.posts}": {problem}',
        )
    elif not config.posts_dir.is_dir():
        sink.error(
            positions.get(("campaign", "posts"), Position(1, 1)),
            "config-posts-folder",
            f'[campaign] posts = "{settings.campaign.posts}": there is no such folder '
            f"({config.posts_dir}). Create it or correct the path (relative to the config file).",
        )
    if sink.items:
        raise ConfigError(sink.items)
    return config


def _check_secrets_paths(
    settings: ConfigFile, sink: DiagnosticSink, positions: dict[tuple[str, ...], Position]
) -> None:
    """Where secrets would go: the database URL in the environment, the SMTP password."""
    database = settings.database
    value = os.environ.get(database.url_env, "").strip()
    if value and (problem := database_url_problem(value)):
        sink.error(
            positions.get(("database", "url_env")) or positions.get(("database",), Position(1, 1)),
            "config-database-url",
            f"the environment variable {database.url_env} (named by `url_env` in [database]) "
            f"does not hold a well-formed database URL: {problem}.",
        )
    notify = settings.notify
    if (
        notify.smtp_user
        and notify.smtp_security == "none"
        and not is_loopback_host(notify.smtp_host)
    ):
        sink.error(
            positions.get(("notify", "smtp_security"))
            or positions.get(("notify",), Position(1, 1)),
            "config-smtp-clear",
            '`smtp_security` in [notify] is "none" while `smtp_user` is set: the SMTP password '
            f"would cross the network to {notify.smtp_host or 'the mail server'} unencrypted. "
            'Use "starttls" (port 587) or "ssl" (port 465); "none" is only for a mail server on '
            "this machine (127.0.0.1 or localhost).",
        )


def check_backend_keys(
    section: InstagramSection,
    table: tuple[str, ...],
    sink: DiagnosticSink,
    positions: Mapping[tuple[str, ...], Position],
) -> None:
    """A key of the other backend is a mistake: it would be silently ignored.

    ``table`` is where the section is written: ``("channels", "instagram")``,
    ``("accounts", NAME)``.
    """
    name = ".".join(table)
    where = positions.get(table, Position(1, 1))
    written = section.model_fields_set
    if section.backend is None:
        if written & set(GRAPH_KEYS) and written & set(INSTAGRAPI_KEYS):
            key = next(k for k in GRAPH_KEYS if k in written)
            other = next(k for k in INSTAGRAPI_KEYS if k in written)
            sink.error(
                positions.get((*table, key)) or where,
                "config-instagram-backend",
                f"[{name}] sets both `{key}` (Meta's official API) and `{other}` "
                '(instagrapi). Write backend = "graph" or backend = "instagrapi" and remove '
                "the other backend's keys.",
            )
        return
    chosen = section.backend
    others = INSTAGRAPI_KEYS if chosen == "graph" else GRAPH_KEYS
    for key in others:
        if key in written:
            used_by = "instagrapi" if chosen == "graph" else "Meta's official API"
            sink.error(
                positions.get((*table, key)) or where,
                "config-instagram-backend",
                f"`{key}` in [{name}] is only used by {used_by}, and backend is "
                f'"{chosen}". Remove `{key}`, or set backend = '
                f'"{"instagrapi" if chosen == "graph" else "graph"}".',
            )


_S3_KEYS = (
    "endpoint_url",
    "region",
    "bucket",
    "prefix",
    "addressing_style",
    "access_key_id_env",
    "secret_access_key_env",
)
_FOLDER_KEYS = ("folder", "base_url")


def _check_media_host_keys(
    settings: ConfigFile, sink: DiagnosticSink, positions: dict[tuple[str, ...], Position]
) -> None:
    """A key of the other kind of media host is a mistake: it would be silently ignored."""
    host = settings.media_host
    others = _FOLDER_KEYS if host.kind == "s3" else _S3_KEYS
    for key in others:
        if key in host.model_fields_set:
            sink.error(
                positions.get(("media_host", key))
                or positions.get(("media_host",), Position(1, 1)),
                "config-media-host-kind",
                f'`{key}` in [media_host] is not used when kind is "{host.kind}". Remove it, '
                f'or set kind = "{"folder" if host.kind == "s3" else "s3"}".',
            )


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
