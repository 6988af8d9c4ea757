"""What `campaign init` writes: every file of a new campaign repository, made in memory.

Nothing here touches the disk; :mod:`scheduler.cli.init` decides whether and how the
files are written. The folder and file names the tool writes to (build, outbox, the
database) come from the defaults in :class:`campaign.config.ConfigFile` (which come from
:mod:`campaign.outputs`), and config.toml and .gitignore are both made from them, so the
two cannot disagree.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from importlib.resources import files
from pathlib import PurePosixPath
from string import Template
from zoneinfo import ZoneInfo

from campaign import __version__
from campaign.config import ConfigFile
from campaign.init_images import example_picture, placeholder_mark
from campaign.outputs import EXPORT_FOLDER, STATS_CSV, STATS_HTML
from campaign.post_format import post_json_schema
from campaign.release import action_reference, pip_requirement, repository_url, version_tag
from campaign.scaffold import SCHEMA_FILE
from campaign.timeparse import TimeProblem, parse_publish_time

#: Where the placeholder brand mark goes (config.toml's [brand] logo names it).
LOGO = PurePosixPath("assets/mark.png")
#: The example post goes out this many days after the day `campaign init` runs, at this hour.
EXAMPLE_DAYS_AHEAD = 14
EXAMPLE_HOUR = 10
#: The example post's slug and template, by language; other languages get the English one.
EXAMPLE_SLUGS = {"sv": "exempel", "en": "example"}
#: Languages the guides (README.md, assets/README.md) are written in besides English.
GUIDE_LANGUAGES = ("sv",)
WORKFLOW = PurePosixPath(".github/workflows/check-posts.yml")
PRE_COMMIT_CONFIG = PurePosixPath(".pre-commit-config.yaml")
CONFIG = PurePosixPath("config.toml")
SCHEMA_FILE_POSIX = PurePosixPath(SCHEMA_FILE.as_posix())


@dataclass(frozen=True)
class InitValues:
    """What the person setting up the repository chose."""

    name: str
    timezone: str
    language: str


def toml_string(text: str) -> str:
    """``text`` as a TOML basic string: quotes, backslashes and control characters escaped."""
    escaped = []
    for character in text:
        if character in '"\\':
            escaped.append("\\" + character)
        elif ord(character) < 0x20 or 0x7F <= ord(character) <= 0x9F:
            escaped.append(f"\\u{ord(character):04X}")
        else:
            escaped.append(character)
    return '"' + "".join(escaped) + '"'


def primary_language(code: str) -> str:
    """``sv-SE`` → ``sv``: the language without its region or script, as the checks and
    branding read a post's ``language`` (LIX for Swedish, right to left for Arabic)."""
    return code.split("-")[0].lower()


def _template(name: str) -> Template:
    return Template(files("campaign").joinpath("templates", "init", name).read_text("utf-8"))


def example_post_time(zone: ZoneInfo, today: date) -> datetime:
    """The example post's time: ``EXAMPLE_DAYS_AHEAD`` days after ``today``, at 10:00 local."""
    day = today + timedelta(days=EXAMPLE_DAYS_AHEAD)
    for hour in range(EXAMPLE_HOUR, 24):  # the first hour that exists once, as check wants it
        when = datetime(day.year, day.month, day.day, hour, tzinfo=zone)
        try:
            parse_publish_time(f"{when:%Y-%m-%d %H:%M}", zone)
        except TimeProblem:
            continue
        return when
    return datetime(day.year, day.month, day.day, EXAMPLE_HOUR, tzinfo=zone)


def example_post_name(language: str, when: datetime) -> PurePosixPath:
    """``posts/YYYY-MM-DD-<slug>.yaml``, named as `campaign new` names a post."""
    slug = EXAMPLE_SLUGS.get(primary_language(language), EXAMPLE_SLUGS["en"])
    return PurePosixPath(ConfigFile().campaign.posts) / f"{when:%Y-%m-%d}-{slug}.yaml"


def export_folder() -> str:
    """`campaign export`'s default folder, as the command line defines it."""
    return EXPORT_FOLDER


def stats_outputs() -> list[str]:
    """What the help and README suggest `campaign stats --csv` and `--html` write: the
    CSV file's name with anything before its suffix (engagement-2026.csv too), the folder."""
    csv = PurePosixPath(STATS_CSV)
    return [str(csv.with_name(f"{csv.stem}*{csv.suffix}")), f"{STATS_HTML.strip('/')}/"]


def sqlite_file(url: str) -> PurePosixPath | None:
    """The file of a relative ``sqlite:///`` URL (None for anything else)."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url[len(prefix) :] in ("", ":memory:"):
        return None
    path = PurePosixPath(url[len(prefix) :])
    return None if path.is_absolute() else path


def ignored_patterns(settings: ConfigFile) -> dict[str, list[str]]:
    """What .gitignore lists, by kind, from the settings config.toml is written with."""
    database: list[str] = []
    if file := sqlite_file(settings.database.url):
        # The database, SQLite's companions, the daemon's lock file beside it, the
        # temporary file a takeover of a stale lock renames over it
        # (scheduler/daemon_lock.py: ".NAME.lock.PID.new") and the copy kept before a
        # schema migration (scheduler/store/schema.py: "NAME.schema-vN.bak").
        folder = "" if file.parent == PurePosixPath(".") else f"{file.parent}/"
        database = [
            f"/{file}",
            *(f"/{file}-{suffix}" for suffix in ("wal", "shm", "journal")),
            f"/{file}.lock",
            f"/{folder}.{file.name}.lock.*.new",
            f"/{file}.schema-v*.bak",
        ]
    return {
        "build": [f"/{settings.render.build.strip('/')}/"],
        "outbox": [f"/{settings.publishing.outbox.strip('/')}/"],
        "database": database,
        "exports": [f"/{export_folder()}/", *(f"/{name}" for name in stats_outputs())],
    }


def repository_files(values: InitValues, today: date) -> dict[PurePosixPath, bytes]:
    """Every file of the new repository, by its path relative to the repository's root."""
    defaults = ConfigFile()
    zone = ZoneInfo(values.timezone)
    when = example_post_time(zone, today)
    post = example_post_name(values.language, when)
    image = post.with_suffix(".jpg")
    new_at = when.replace(hour=9)
    rev = version_tag()
    text: dict[PurePosixPath, str] = {
        CONFIG: _template("config.toml").substitute(
            name=toml_string(values.name),
            tool_version=toml_string(__version__),
            timezone=toml_string(values.timezone),
            posts=toml_string(defaults.campaign.posts),
            language=toml_string(values.language),
            logo=toml_string(str(LOGO)),
            build=toml_string(defaults.render.build),
            database_url=toml_string(defaults.database.url),
            outbox=toml_string(defaults.publishing.outbox),
        ),
        post: _example_post(values.language, post, image, when),
        SCHEMA_FILE_POSIX: json.dumps(post_json_schema(), ensure_ascii=False, indent=2) + "\n",
        PurePosixPath("assets/README.md"): _template(
            _in_language("assets-README.md", values.language)
        ).substitute(logo=str(LOGO)),
        PurePosixPath(".gitignore"): _template("gitignore").substitute(
            {kind: "\n".join(lines) for kind, lines in ignored_patterns(defaults).items()},
            stats_csv=STATS_CSV,
            stats_html=STATS_HTML,
        ),
        WORKFLOW: _template("check-posts.yml").substitute(action=action_reference()),
        PRE_COMMIT_CONFIG: _template("pre-commit-config.yaml").substitute(
            repository=repository_url(), rev=rev
        ),
        PurePosixPath("README.md"): _template(
            _in_language("README.md", values.language)
        ).substitute(
            name=values.name,
            version=__version__,
            requirement=pip_requirement(),
            posts=defaults.campaign.posts,
            build=defaults.render.build,
            outbox=defaults.publishing.outbox,
            timezone=values.timezone,
            example_post=str(post),
            new_example_at=f"{new_at:%Y-%m-%d %H:%M}",
            new_example_date=f"{new_at:%Y-%m-%d}",
            repository=repository_url(),
            action=action_reference(),
            rev=rev,
        ),
    }
    written: dict[PurePosixPath, bytes] = {
        path: data.encode("utf-8") for path, data in text.items()
    }
    written[image] = example_picture()
    written[LOGO] = placeholder_mark()
    return dict(sorted(written.items()))


def _in_language(template: str, language: str) -> str:
    """The guide for communicators in the campaign's language: Swedish or English."""
    if primary_language(language) in GUIDE_LANGUAGES:
        stem, suffix = template.rsplit(".", 1)
        return f"{stem}.{primary_language(language)}.{suffix}"
    return template


def _example_post(language: str, post: PurePosixPath, image: PurePosixPath, when: datetime) -> str:
    template = "sv" if primary_language(language) == "sv" else "en"
    return _template(f"posts/example.{template}.yaml").substitute(
        schema=_relative(SCHEMA_FILE_POSIX, post.parent),
        timezone=str(when.tzinfo),
        publish_at=f"{when:%Y-%m-%d %H:%M}",
        image=image.name,
    )


def _relative(path: PurePosixPath, start: PurePosixPath) -> str:
    """``path`` from the folder ``start`` (both relative to the repository's root)."""
    return str(PurePosixPath(*[".."] * len(start.parts), path))
