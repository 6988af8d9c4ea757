"""`campaign init`: a repository of a team's own, checked, previewed and committed for real.

Every test runs the real command (``python -m scheduler.cli init``) in a folder of its own, and
the commands a team runs next (check, render, preview, a rehearsal, the dry-run daemon,
export, stats) on what it wrote. Nothing depends on the time of day: the example post's
date is compared with the local date read before and after the command ran.
"""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
import tomllib
import typing
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from PIL import Image
from pydantic import BaseModel

from campaign import __version__
from campaign.config import ConfigFile, parse_config
from campaign.init_files import EXAMPLE_DAYS_AHEAD
from campaign.outputs import (
    EXPORT_FOLDER,
    OUTBOX_FOLDER,
    OUTPUT_FOLDER,
    PREVIEW_FOLDER,
    REHEARSAL_FOLDER,
    STATS_CSV,
    STATS_HTML,
)
from campaign.release import action_reference, repository_url, version_tag

#: What the example post is named after: the local date in the campaign's zone, then a slug.
EXAMPLE = re.compile(r"(\d{4}-\d{2}-\d{2})-[a-z0-9]+(?:-[a-z0-9]+)*\.yaml")
GIT = ("git", "-c", "user.name=t", "-c", "user.email=t@example.org", "-c", "commit.gpgsign=false")


def environment(**extra: str) -> dict[str, str]:
    """This process's environment without the tool's or git's variables (a test run inside
    a git hook or with $CAMPAIGN_CONFIG set must not reach them)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CAMPAIGN_", "GIT_")) and k != "PYTHONWARNINGS"
    }
    return {**env, "PYTHONUNBUFFERED": "1", "COLUMNS": "200", **extra}


def campaign(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """The real command, with no terminal: stdin is /dev/null, output captured."""
    return subprocess.run(
        [sys.executable, "-m", "scheduler.cli", *args],
        cwd=cwd,
        env=env or environment(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def init(folder: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    result = campaign("init", str(folder), *args, cwd=cwd or folder.parent)
    assert "Traceback" not in result.stderr, result.stderr
    return result


def git(*args: str, cwd: Path) -> str:
    done = subprocess.run(
        [*GIT, *args], cwd=cwd, env=environment(), capture_output=True, text=True, check=True
    )
    return done.stdout


def tree(folder: Path) -> dict[str, bytes | str]:
    """Every file and link under ``folder`` (not .git): its bytes, or a link's target."""
    found: dict[str, bytes | str] = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        if relative == ".git" or relative.startswith(".git/"):
            continue
        if path.is_symlink():
            found[relative] = f"-> {os.readlink(path)}"
        elif path.is_file():
            found[relative] = path.read_bytes()
    return found


def example_post(folder: Path) -> Path:
    [post] = sorted((folder / "posts").glob("*.yaml"))
    return post


def local_today(zone: str) -> date:
    return datetime.now(ZoneInfo(zone)).date()


@pytest.fixture(scope="module")
def repository(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str, str]]:
    """One repository made with the defaults, for the tests that only read it; with the
    local dates (Stockholm) before and after the command ran."""
    folder = tmp_path_factory.mktemp("init") / "vaccin-hosten_2030"
    before = local_today("Europe/Stockholm")
    result = init(folder)
    after = local_today("Europe/Stockholm")
    assert result.returncode == 0, result.stdout + result.stderr
    yield folder, before.isoformat(), after.isoformat()


# --- what is written --------------------------------------------------------------------


def test_the_new_repository_checks_clean_and_previews(
    repository: tuple[Path, str, str],
) -> None:
    folder, _, _ = repository
    assert sorted(tree(folder)) == sorted(
        [
            ".github/workflows/check-posts.yml",
            ".gitignore",
            ".pre-commit-config.yaml",
            "README.md",
            "assets/README.md",
            "assets/mark.png",
            "config.toml",
            "docs/post.schema.json",
            f"posts/{example_post(folder).stem}.jpg",
            f"posts/{example_post(folder).name}",
        ]
    )
    check = campaign("check", cwd=folder)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "1 post file: 0 errors, 0 warnings" in check.stdout
    preview = campaign("preview", cwd=folder)
    assert preview.returncode == 0, preview.stdout + preview.stderr
    page = (folder / OUTPUT_FOLDER / PREVIEW_FOLDER / "index.html").read_text(encoding="utf-8")
    assert "Vaccin hosten 2030" in page and example_post(folder).stem in page


def test_what_init_prints_tree_version_and_next_steps(tmp_path: Path) -> None:
    folder = tmp_path / "kampanj"
    result = init(folder, "--no-git")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    for relative in tree(folder):
        assert f"  {relative}" in lines, relative
    assert f"campaign {__version__}" in result.stdout and action_reference() in result.stdout
    assert "0 errors" in result.stdout
    assert "  cd kampanj" in lines
    assert "  campaign check" in lines and "  campaign preview --open" in lines
    assert "git push -u origin main" in result.stdout


def test_config_explains_every_setting_and_pins_the_values(
    repository: tuple[Path, str, str],
) -> None:
    folder, _, _ = repository
    path = folder / "config.toml"
    text = path.read_text(encoding="utf-8")
    config = parse_config(text, path)  # raises on any problem
    assert config.campaign.name == "Vaccin hosten 2030"
    assert config.campaign.timezone == "Europe/Stockholm" and config.campaign.language == "sv"
    assert config.campaign.tool_version == __version__
    assert config.brand.logo == "assets/mark.png" and config.path(config.brand.logo).is_file()
    assert config.channels.facebook.page_id == "" and config.channels.instagram.ig_user_id == ""
    assert config.media_host.bucket == ""  # every channel a dry run until filled in

    written = keys_by_table(text)
    missing = [".".join(key) for key in model_keys(ConfigFile) if not mentioned(key, written)]
    assert not missing, f"config.toml does not mention {missing}"
    # Each key given as `# key = value` shows its default: removing the # changes nothing.
    for table, keys in written.items():
        if table[:1] in NAMED_TABLES:
            continue  # [accounts.NAME]-like tables are examples: they have no defaults
        for key, (value, commented) in keys.items():
            if commented:
                default = default_at(ConfigFile(), (*table, key))
                assert tomllib.loads(f"k = {value}")["k"] == _plain(default), (table, key)
    # Each key has a comment right above it (or shares the comment of the key above it).
    lines = text.splitlines()
    for number, line in enumerate(lines):
        if KEY.match(line) and not line.startswith("#"):
            assert lines[number - 1].startswith("#") or KEY.match(lines[number - 1]), line


KEY = re.compile(r"^(#\s*)?([a-z_]+)\s*=\s*(.+)$")


HEADER = re.compile(r"^(#\s*)?\[([A-Za-z0-9_.-]+)\]$")
#: Settings that are tables of named sections, like [accounts.NAME]: shown by example.
NAMED_TABLES = {
    (name,)
    for name, field in ConfigFile.model_fields.items()
    if typing.get_origin(field.annotation) is dict
}


def keys_by_table(text: str) -> dict[tuple[str, ...], dict[str, tuple[str, bool]]]:
    """``{("channels", "facebook"): {"page_id": ('""', False)}}``: every table and every key
    written or shown commented out as ``# key = value``, by its table."""
    table: tuple[str, ...] = ()
    found: dict[tuple[str, ...], dict[str, tuple[str, bool]]] = {}
    for line in text.splitlines():
        if header := HEADER.match(line):
            table = tuple(header[2].split("."))
            found.setdefault(table, {})
        elif key := KEY.match(line):
            found.setdefault(table, {})[key[2]] = (key[3], key[1] is not None)
    return found


def model_keys(model: type[BaseModel], table: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every setting of ``model``, through every section and subsection; a table of named
    sections (``dict[str, Section]``) as ``(name, "*")``."""
    for name, field in model.model_fields.items():
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            yield from model_keys(field.annotation, (*table, name))
        elif typing.get_origin(field.annotation) is dict:
            yield (*table, name, "*")
        else:
            yield (*table, name)


def mentioned(key: tuple[str, ...], written: dict[tuple[str, ...], dict[str, Any]]) -> bool:
    """A key is written (or shown commented out) in its table; a table of named sections
    has at least one example, like ``# [accounts.NAME]``."""
    if key[-1] == "*":
        return any(
            len(table) > len(key) - 1 and table[: len(key) - 1] == key[:-1] for table in written
        )
    return key[-1] in written.get(key[:-1], {})


def default_at(settings: Any, key: tuple[str, ...]) -> Any:
    for part in key:
        settings = getattr(settings, part)
    return settings


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def test_the_example_account_uncommented_is_a_config_the_tool_takes(
    repository: tuple[Path, str, str],
) -> None:
    folder, _, _ = repository
    path = folder / "config.toml"
    text = path.read_text(encoding="utf-8")
    start = text.index("\n# [accounts.") + 1
    end = text.index("\n\n", start)
    example = re.sub(r"(?m)^# ", "", text[start:end])
    config = parse_config(text[:start] + example + text[end:], path)
    [added] = [account for account in config.accounts.values() if not account.is_default]
    assert added.platform == "facebook" and added.enabled


def test_model_keys_reach_subsections() -> None:
    """The check above would pass vacuously if nested sections were skipped."""
    keys = set(model_keys(ConfigFile))
    assert ("channels", "instagram", "ig_user_id") in keys
    assert ("media_host", "addressing_style") in keys and ("engagement", "ages_hours") in keys
    assert not keys_by_table("[a]\nx = 1\n# y = 2\n")[("a",)]["x"][1]
    shown = keys_by_table("[a]\nx = 1\n# [b.one]\n# y = 2\n")
    assert mentioned(("b", "*"), shown) and not mentioned(("c", "*"), shown)
    assert mentioned(("b", "one", "y"), shown) and not mentioned(("a", "y"), shown)


def test_a_name_with_quotes_backslashes_and_letters_outside_ascii(tmp_path: Path) -> None:
    name = 'Kampanj "Vår stad" \\ 2030 – Ål'
    result = init(tmp_path / "repo", "--no-git", "--name", name)
    assert result.returncode == 0, result.stderr
    path = tmp_path / "repo" / "config.toml"
    assert parse_config(path.read_text(encoding="utf-8"), path).campaign.name == name
    assert (tmp_path / "repo" / "README.md").read_text(encoding="utf-8").startswith(f"# {name}\n")


def test_the_three_pinned_versions_are_the_running_version(
    repository: tuple[Path, str, str],
) -> None:
    folder, _, _ = repository
    version = campaign("--version", cwd=folder).stdout.split()[-1]
    assert version == __version__
    config = tomllib.loads((folder / "config.toml").read_text(encoding="utf-8"))
    assert config["campaign"]["tool_version"] == version
    workflow = yaml.safe_load((folder / ".github/workflows/check-posts.yml").read_text("utf-8"))
    [uses] = [
        step["uses"] for step in workflow["jobs"]["check"]["steps"] if "campaign" in step["uses"]
    ]
    assert uses.rsplit("@", 1)[1] == f"v{version}"
    hooks = yaml.safe_load((folder / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    [repo] = hooks["repos"]
    assert repo["rev"] == f"v{version}" == version_tag()
    assert repo["repo"] == repository_url() and repo["hooks"] == [{"id": "campaign-check"}]
    guide = (folder / "README.md").read_text(encoding="utf-8")
    assert f"campaign {version}" in guide and uses in guide and f"rev: v{version}" in guide


def test_the_workflow_checks_pull_requests_and_main_with_the_pinned_action(
    repository: tuple[Path, str, str],
) -> None:
    folder, _, _ = repository
    workflow = yaml.safe_load((folder / ".github/workflows/check-posts.yml").read_text("utf-8"))
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert "pull_request" in triggers and triggers["push"] == {"branches": ["main"]}
    assert workflow["permissions"] == {"contents": "read"}
    checkout, check = workflow["jobs"]["check"]["steps"]
    assert checkout == {"uses": "actions/checkout@v4", "with": {"persist-credentials": False}}
    assert check["uses"] == action_reference()
    assert check["with"] == {"config": "config.toml", "strict": "false"}
    action = yaml.safe_load((Path(__file__).parent.parent / "action.yml").read_text("utf-8"))
    assert set(check["with"]) <= set(action["inputs"])  # inputs the action has


def test_the_example_post_is_a_draft_two_weeks_ahead_with_its_picture(
    repository: tuple[Path, str, str],
) -> None:
    folder, before, after = repository
    post = example_post(folder)
    text = post.read_text(encoding="utf-8")
    assert text.splitlines()[0] == "# yaml-language-server: $schema=../docs/post.schema.json"
    assert (folder / "docs" / "post.schema.json").is_file()
    day = EXAMPLE.fullmatch(post.name)[1]  # type: ignore[index]
    expected = {
        (date.fromisoformat(when) + timedelta(days=EXAMPLE_DAYS_AHEAD)).isoformat()
        for when in (before, after)
    }
    assert day in expected
    fields = yaml.safe_load(text)
    assert fields["status"] == "draft" and fields["publish_at"] == f"{day} 10:00"
    assert fields["language"] == "sv" and "exempel" in fields["caption"]
    assert fields["tags"] and len(fields["images"][0]["alt"].split()) > 5
    with Image.open(post.parent / fields["images"][0]["file"]) as picture:
        assert picture.format == "JPEG" and picture.size == (1080, 1350)
        assert len(set(picture.convert("L").resize((16, 20)).tobytes())) > 8  # not flat
    with Image.open(folder / "assets" / "mark.png") as mark:
        assert mark.format == "PNG" and mark.mode == "RGBA"
        assert mark.getpixel((0, 0))[3] == 0  # transparent corner
        assert mark.getpixel((mark.width // 2, mark.height // 2))[3] == 255
    assets = (folder / "assets" / "README.md").read_text(encoding="utf-8")
    assert "genomskinlig" in assets and "logo" in assets and "[brand]" in assets


@pytest.mark.parametrize(
    ("language", "post_language", "word"),
    [("en", "en", "example"), ("fi", "en", "example"), ("ar", "en", "example")],
)
def test_other_languages_get_an_english_example(
    tmp_path: Path, language: str, post_language: str, word: str
) -> None:
    folder = tmp_path / "repo"
    result = init(folder, "--no-git", "--language", language, "--timezone", "Europe/Helsinki")
    assert result.returncode == 0, result.stderr
    fields = yaml.safe_load(example_post(folder).read_text(encoding="utf-8"))
    assert fields["language"] == post_language and word in fields["caption"]
    config = tomllib.loads((folder / "config.toml").read_text(encoding="utf-8"))
    assert config["campaign"]["language"] == language
    assert config["campaign"]["timezone"] == "Europe/Helsinki"
    check = campaign("check", cwd=folder)
    assert check.returncode == 0 and "0 errors, 0 warnings" in check.stdout, check.stdout


@pytest.mark.parametrize("language", ["sv-SE", "sv-FI"])
def test_swedish_with_a_region_gets_the_swedish_example(tmp_path: Path, language: str) -> None:
    """A post's language is Swedish by its first part (LIX is measured on sv-SE too)."""
    folder = tmp_path / "repo"
    result = init(folder, "--no-git", "--language", language)
    assert result.returncode == 0, result.stderr
    post = example_post(folder)
    assert post.name.endswith("-exempel.yaml")
    fields = yaml.safe_load(post.read_text(encoding="utf-8"))
    assert fields["language"] == "sv" and "exempel" in fields["caption"]
    check = campaign("check", cwd=folder)
    assert check.returncode == 0 and "0 errors, 0 warnings" in check.stdout, check.stdout


@pytest.mark.parametrize(
    ("language", "heading", "slug"),
    [
        ("sv", "## Skriv ett inlägg", "sommarfest"),
        ("sv-SE", "## Skriv ett inlägg", "sommarfest"),
        ("en", "## Write a post", "summer-festival"),
        ("fi", "## Write a post", "summer-festival"),
    ],
)
def test_the_guide_is_in_the_campaigns_language_and_its_commands_work(
    tmp_path: Path, language: str, heading: str, slug: str
) -> None:
    """README.md and assets/README.md for communicators: Swedish for a Swedish campaign,
    else English; `campaign new` as the guide writes it makes the file the guide names."""
    folder = tmp_path / "repo"
    assert init(folder, "--no-git", "--language", language).returncode == 0
    guide = (folder / "README.md").read_text(encoding="utf-8")
    assets = (folder / "assets" / "README.md").read_text(encoding="utf-8")
    assert heading in guide
    assert ("platshållare" in assets) == language.startswith("sv")
    assert "${" not in guide + assets and "$$" not in guide + assets
    [command] = re.findall(r"^campaign new .*$", guide, re.MULTILINE)
    made = subprocess.run(
        ["bash", "-c", command.replace("campaign", f"{sys.executable} -m scheduler.cli", 1)],
        cwd=folder,
        env=environment(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    [named] = re.findall(rf"`(posts/\d{{4}}-\d{{2}}-\d{{2}}-{slug}\.yaml)`", guide)
    assert (folder / named).is_file()


# --- what init prints next, run as written ----------------------------------------------


def next_commands(output: str) -> list[str]:
    return [line.strip() for line in output.split("\nNext:\n", 1)[1].splitlines() if line]


@pytest.mark.parametrize(
    ("name", "options"),
    [("kampanj", ()), ("-kampanj med mellanslag", ()), ("utan-git", ("--no-git",))],
)
def test_the_next_commands_work_as_printed(
    tmp_path: Path, name: str, options: tuple[str, ...]
) -> None:
    """Every line under "Next:" run in bash as printed, from where init ran: the last one
    pushes to a bare repository standing in for the team's."""
    remote = tmp_path / "remote.git"
    git("init", "-q", "--bare", str(remote), cwd=tmp_path)
    result = campaign("init", *options, "--", name, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    commands = next_commands(result.stdout)
    assert commands[-1].endswith("git push -u origin main")
    script = " && ".join(commands).replace("URL-OF-YOUR-REPOSITORY", str(remote))
    person = {
        f"GIT_{who}_{what}": value
        for who in ("AUTHOR", "COMMITTER")
        for what, value in (("NAME", "t"), ("EMAIL", "t@example.org"))
    }
    bin_folder = str(Path(sys.executable).parent)
    env = environment(
        **person, BROWSER="true", PATH=f"{bin_folder}{os.pathsep}{os.environ['PATH']}"
    )
    ran = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert ran.returncode == 0, (script, ran.stdout, ran.stderr)
    pushed = git("ls-tree", "-r", "--name-only", "main", cwd=remote).split()
    assert "config.toml" in pushed and ".github/workflows/check-posts.yml" in pushed


def test_inside_a_repository_but_not_at_its_root_says_what_github_will_not_read(
    tmp_path: Path,
) -> None:
    outer = tmp_path / "outer"
    outer.mkdir()
    git("init", "-q", str(outer), cwd=tmp_path)
    result = init(outer / "campaigns" / "host", cwd=outer)
    assert result.returncode == 0, result.stderr
    note = " ".join(result.stdout.split())
    assert "work only at the root of the git repository" in note
    assert "config: campaigns/host/config.toml" in note
    at_root = init(outer / "root-campaign", cwd=tmp_path)
    assert at_root.returncode == 0
    assert "at the root of the git repository" in " ".join(at_root.stdout.split())
    alone = tmp_path / "alone"
    git("init", "-q", str(alone), cwd=tmp_path)
    assert "work only at the root" not in init(alone, cwd=alone).stdout


# --- what init refuses ------------------------------------------------------------------


def test_files_that_exist_are_named_and_nothing_is_written(tmp_path: Path) -> None:
    folder = tmp_path / "repo"
    assert init(folder, "--no-git").returncode == 0
    (folder / "README.md").write_text("Our own words.\n", encoding="utf-8")
    (folder / "config.toml").unlink()
    before = tree(folder)
    again = init(folder, "--no-git")
    assert again.returncode == 2
    assert tree(folder) == before
    for relative in before:
        assert f"exists: repo/{relative}" in again.stderr, relative
    assert "exists: repo/config.toml" not in again.stderr
    assert "--force" in again.stderr


def test_one_existing_file_stops_everything(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("*.log\n", encoding="utf-8")
    result = init(tmp_path, "--no-git", cwd=tmp_path)
    assert result.returncode == 2
    assert "exists: .gitignore" in result.stderr
    assert tree(tmp_path) == {".gitignore": b"*.log\n"}


def test_force_overwrites_what_exists(tmp_path: Path) -> None:
    folder = tmp_path / "repo"
    assert init(folder, "--no-git").returncode == 0
    fresh = tree(folder)
    (folder / "README.md").write_text("Our own words.\n", encoding="utf-8")
    (folder / "config.toml").write_text("[campaign]\nname = 1\n", encoding="utf-8")
    result = init(folder, "--no-git", "--force")
    assert result.returncode == 0, result.stderr
    assert tree(folder)["README.md"] == fresh["README.md"]
    assert tree(folder)["config.toml"] == fresh["config.toml"]


def test_a_linked_folder_is_refused(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "repo").symlink_to(real)
    for extra in ((), ("--force",)):
        result = init(tmp_path / "repo", "--no-git", *extra)
        assert result.returncode == 2
        assert "repo is a symbolic link" in result.stderr
        assert list(real.iterdir()) == []


@pytest.mark.parametrize("name", ["config.toml", ".github/workflows/check-posts.yml"])
def test_a_link_at_a_file_name_is_refused_and_its_target_untouched(
    tmp_path: Path, name: str
) -> None:
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("precious\n", encoding="utf-8")
    folder = tmp_path / "repo"
    (folder / name).parent.mkdir(parents=True)
    (folder / name).symlink_to(elsewhere)
    for extra in ((), ("--force",)):
        result = init(folder, "--no-git", *extra)
        assert result.returncode == 2
        assert f"repo/{name} is a symbolic link" in result.stderr
        assert elsewhere.read_text(encoding="utf-8") == "precious\n"
        assert tree(folder) == {name: f"-> {elsewhere}"}


def test_a_linked_folder_inside_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    folder = tmp_path / "repo"
    folder.mkdir()
    (folder / "posts").symlink_to(outside)
    result = init(folder, "--no-git", "--force")
    assert result.returncode == 2
    assert "repo/posts is a symbolic link" in result.stderr
    assert list(outside.iterdir()) == [] and tree(folder) == {"posts": f"-> {outside}"}


def test_a_folder_at_a_file_name_or_a_file_in_the_way_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "repo"
    (folder / "config.toml").mkdir(parents=True)
    (folder / "assets").write_text("not a folder\n", encoding="utf-8")
    result = init(folder, "--no-git", "--force")
    assert result.returncode == 2
    assert "repo/config.toml is a folder" in result.stderr
    assert "repo/assets is a file, not a folder" in result.stderr
    assert tree(folder) == {"assets": b"not a folder\n"}


def test_a_file_system_error_is_a_message(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x\n", encoding="utf-8")
    result = init(tmp_path / "file" / "repo", "--no-git", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and "Not a directory" in result.stderr


def limited_file_size(limit: int) -> None:
    """For a child process: no file it writes may grow past ``limit`` bytes (EFBIG)."""
    import resource

    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


@pytest.mark.parametrize("force", [False, True])
def test_an_error_while_writing_leaves_the_folder_as_it_was(tmp_path: Path, force: bool) -> None:
    """A real write that fails part-way (a file may not grow past 30 kB, and the mark is
    larger): what was written is removed, what was overwritten is back, and running init
    again is the way on, as it says."""
    folder = tmp_path / ("repo" if force else "new/repo")
    if force:
        folder.mkdir()
        (folder / "README.md").write_text("Our own words.\n", encoding="utf-8")
        (folder / "posts").mkdir()
    before = tree(tmp_path)
    command = [sys.executable, "-m", "scheduler.cli", "init", str(folder), "--no-git"]
    result = subprocess.run(
        [*command, *(["--force"] if force else [])],
        cwd=tmp_path,
        env=environment(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
        preexec_fn=lambda: limited_file_size(30_000),
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert "assets/mark.png: File too large" in result.stderr
    assert "Nothing was written" in result.stderr and "run campaign init again" in result.stderr
    assert tree(tmp_path) == before
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == (
        ["repo", "repo/README.md", "repo/posts"] if force else []
    )
    again = init(folder, "--no-git", *(["--force"] if force else []), cwd=tmp_path)
    assert again.returncode == 0, again.stderr


@pytest.mark.parametrize(
    ("option", "value", "says"),
    [
        ("--timezone", "Europe/Stokholm", "Did you mean `Europe/Stockholm`?"),
        ("--timezone", "europe/stockholm", "Did you mean `Europe/Stockholm`?"),
        ("--timezone", "../../etc/passwd", "like Europe/Stockholm"),
        ("--timezone", "localtime", "not a place's time zone"),
        ("--timezone", "Factory", "not a place's time zone"),
        ("--language", "svenska", "like sv, en, fi or ar"),
        ("--language", "SV", "Did you mean `sv`?"),
        ("--name", "", "is empty"),
        ("--name", "Val\x1b[31m2030", "control or invisible character"),
        ("--name", "Val\u202e2030", "control or invisible character"),
    ],
)
def test_a_bad_value_writes_nothing(tmp_path: Path, option: str, value: str, says: str) -> None:
    result = init(tmp_path / "repo", option, value)
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {option} ")
    assert says in result.stderr and "Nothing was written" in result.stderr
    assert "\x1b" not in result.stderr and "\u202e" not in result.stderr
    assert not (tmp_path / "repo").exists()


# --- values: options, defaults, questions -----------------------------------------------


def test_without_a_terminal_nothing_is_asked_and_the_defaults_are_used(tmp_path: Path) -> None:
    folder = tmp_path / "ung-i-stan"
    result = subprocess.run(  # stdin closed, not merely empty
        [sys.executable, "-m", "scheduler.cli", "init", str(folder), "--no-git"],
        env=environment(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
        preexec_fn=lambda: os.close(0),
    )
    assert result.returncode == 0, result.stderr
    assert "Campaign name" not in result.stdout + result.stderr
    config = tomllib.loads((folder / "config.toml").read_text(encoding="utf-8"))["campaign"]
    assert config["name"] == "Ung i stan"
    assert config["timezone"] == "Europe/Stockholm" and config["language"] == "sv"


def test_at_a_terminal_each_missing_value_is_asked_for(tmp_path: Path) -> None:
    folder = tmp_path / "repo"
    screen = Terminal(
        [sys.executable, "-m", "scheduler.cli", "init", str(folder), "--no-git", "--language", "en"]
    )
    screen.answer("Campaign name [Repo]:", "Höstens kampanj")
    screen.answer("Time zone [Europe/Stockholm]:", "Europe/Stokholm")
    screen.expect("Did you mean `Europe/Stockholm`?")
    screen.answer("Time zone [Europe/Stockholm]:", "Europe/Helsinki")
    assert screen.finish() == 0, screen.text
    assert "Language" not in screen.text  # given as an option: not asked
    config = tomllib.loads((folder / "config.toml").read_text(encoding="utf-8"))["campaign"]
    assert (config["name"], config["timezone"], config["language"]) == (
        "Höstens kampanj",
        "Europe/Helsinki",
        "en",
    )


class Terminal:
    """A command on a pseudo-terminal (stdin and stdout are a terminal), answered line by
    line. Each wait is for text to appear, bounded generously."""

    def __init__(self, command: list[str]) -> None:
        self.master, replica = pty.openpty()
        self.process = subprocess.Popen(
            command,
            stdin=replica,
            stdout=replica,
            stderr=replica,
            env=environment(),
            close_fds=True,
        )
        os.close(replica)
        self.text = ""
        self._seen = 0

    def _read(self, deadline: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            return False
        try:
            chunk = os.read(self.master, 4096)
        except OSError:  # the other end closed (Linux: EIO)
            return False
        self.text += chunk.decode("utf-8", "replace").replace("\r\n", "\n")
        return bool(chunk)

    def expect(self, wanted: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while (found := self.text.find(wanted, self._seen)) == -1:
            if not self._read(deadline) and (
                time.monotonic() > deadline or self.process.poll() is not None
            ):
                raise AssertionError(f"{wanted!r} did not appear in {self.text!r}")
        self._seen = found + len(wanted)

    def answer(self, prompt: str, line: str) -> None:
        self.expect(prompt)
        os.write(self.master, line.encode("utf-8") + b"\n")

    def finish(self, timeout: float = 120) -> int:
        deadline = time.monotonic() + timeout
        while self._read(deadline):
            pass
        try:
            return self.process.wait(timeout=max(1.0, deadline - time.monotonic()))
        finally:
            os.close(self.master)


# --- git --------------------------------------------------------------------------------


def test_git_init_on_main_with_nothing_committed(tmp_path: Path) -> None:
    folder = tmp_path / "repo"
    assert init(folder).returncode == 0
    assert git("symbolic-ref", "HEAD", cwd=folder).strip() == "refs/heads/main"
    assert subprocess.run([*GIT, "rev-parse", "--verify", "-q", "HEAD"], cwd=folder).returncode != 0


def test_no_new_repository_inside_one_and_none_with_no_git(tmp_path: Path) -> None:
    outer = tmp_path / "outer"
    outer.mkdir()
    git("init", "-q", str(outer), cwd=tmp_path)
    result = init(outer / "inner")
    assert result.returncode == 0, result.stderr
    assert not (outer / "inner" / ".git").exists()
    assert "inside the git repository" in result.stdout
    alone = tmp_path / "alone"
    assert init(alone, "--no-git").returncode == 0
    assert not (alone / ".git").exists()


def test_without_git_installed_it_says_so_and_goes_on(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    result = campaign("init", "repo", cwd=tmp_path, env=environment(PATH=str(empty)))
    assert result.returncode == 0, result.stderr
    assert "git is not installed" in result.stderr
    assert (tmp_path / "repo" / "config.toml").is_file() and not (
        tmp_path / "repo" / ".git"
    ).exists()


# --- .gitignore -------------------------------------------------------------------------


def test_gitignore_covers_every_file_the_tool_writes(tmp_path: Path) -> None:
    """Commit what init wrote, make the example ready, run every command that writes, and
    nothing is left untracked: git sees only the one edited post."""
    folder = tmp_path / "repo"
    assert init(folder).returncode == 0
    git("add", "-A", cwd=folder)
    git("commit", "-q", "-m", "A campaign repository", cwd=folder)
    post = example_post(folder)
    post.write_text(post.read_text("utf-8").replace("status: draft", "status: ready"), "utf-8")

    for command in (
        ["check"],
        ["render"],
        ["preview"],
        ["run", "--rehearse", "1000000"],  # ends by itself once the post went out
        ["publish", post.stem, "--dry-run"],
        ["export"],
        ["stats", "--csv", STATS_CSV, "--html", STATS_HTML],
    ):
        result = campaign(*command, cwd=folder)
        assert result.returncode == 0, (command, result.stdout, result.stderr)
    run_daemon_until_started_then_stop(folder)

    written = git("status", "--porcelain", "--ignored", "--untracked-files=all", cwd=folder)
    ignored = {line[3:] for line in written.splitlines() if line.startswith("!! ")}
    for made in (
        f"{OUTPUT_FOLDER}/{PREVIEW_FOLDER}/index.html",
        f"{OUTPUT_FOLDER}/{REHEARSAL_FOLDER}/rehearsal.db",
        f"{OUTBOX_FOLDER}/",
        "campaign.db",
        "campaign.db.lock",
        f"{EXPORT_FOLDER}/archive.json",
        STATS_CSV,
    ):
        assert any(path.startswith(made) for path in ignored), (made, sorted(ignored))
    assert git("status", "--porcelain", cwd=folder).splitlines() == [f" M posts/{post.name}"]
    # Files made only now and then: SQLite's companions while a database is open, a stale
    # lock's takeover, an HTML report (only when something was published for real).
    for name in (
        "campaign.db-wal",
        "campaign.db-shm",
        "campaign.db-journal",
        ".campaign.db.lock.12345.new",
        f"{STATS_HTML}/index.html",
        f"{OUTPUT_FOLDER}/{REHEARSAL_FOLDER}/outbox/facebook/post.json",
        ".env",
        "instagram-session.json",
        "__pycache__/x.pyc",
        ".venv/bin/python",
    ):
        check = subprocess.run(
            [*GIT, "check-ignore", "-q", "--no-index", name], cwd=folder, check=False
        )
        assert check.returncode == 0, f"{name} is not ignored"
    for kept in (
        "posts/2030-01-01-x.yaml",
        "posts/2030-01-01-x.jpg",
        "assets/logo.png",
        "config.toml",
    ):
        assert (
            subprocess.run([*GIT, "check-ignore", "-q", "--no-index", kept], cwd=folder).returncode
            == 1
        )


def run_daemon_until_started_then_stop(folder: Path) -> None:
    """`campaign run --dry-run` (the daemon): wait until it says it started, then SIGTERM,
    which it answers by stopping with exit code 0."""
    log = folder.parent / "daemon.log"
    with log.open("wb") as output:
        daemon = subprocess.Popen(
            [sys.executable, "-m", "scheduler.cli", "run", "--dry-run"],
            cwd=folder,
            env=environment(),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 120
        while "scheduler started" not in log.read_text("utf-8", "replace"):
            assert daemon.poll() is None, log.read_text("utf-8", "replace")
            assert time.monotonic() < deadline, log.read_text("utf-8", "replace")
            time.sleep(0.1)
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=120) == 0, log.read_text("utf-8", "replace")
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()
