"""Where the tool writes by default (campaign/outputs.py): one folder, ``output/``, that no
Python tool writes to, and every file the tool writes is git-ignored in this repository
as in a repository `campaign init` made."""

from __future__ import annotations

import fnmatch
import shutil
import subprocess
from datetime import date
from pathlib import Path, PurePosixPath

import pytest
from PIL import Image
from typer.testing import CliRunner

from campaign import outputs
from campaign.branding import render_all
from campaign.config import ConfigFile, parse_config
from campaign.init_files import InitValues, ignored_patterns, repository_files, sqlite_file
from campaign.outputs import (
    EXPORT_FOLDER,
    OUTBOX_FOLDER,
    OUTPUT_FOLDER,
    PACKAGING_FOLDERS,
    PREVIEW_FOLDER,
    REHEARSAL_FOLDER,
    STATS_CSV,
    STATS_HTML,
)
from campaign.preview import build as preview_build
from scheduler.cli import run as run_command
from scheduler.cli.app import app
from tests.conftest import GOOD_POST, Campaign
from tests.test_init import GIT, git, run_daemon_until_started_then_stop
from tests.test_init import campaign as run_campaign

REPO = Path(__file__).resolve().parent.parent
SAMPLE = parse_config((REPO / "config.toml").read_text("utf-8"), REPO / "config.toml").settings
#: Any day: `campaign init` makes the same folders whatever the day.
DAY = date(2030, 1, 1)


def init_settings() -> ConfigFile:
    """The settings of the config.toml `campaign init` writes."""
    files = repository_files(InitValues("x", "Europe/Stockholm", "sv"), DAY)
    path = PurePosixPath("config.toml")
    return parse_config(files[path].decode("utf-8"), Path("config.toml")).settings


def default_outputs(settings: ConfigFile) -> dict[str, str]:
    """Every place the tool writes by default, relative to the repository (config.toml's
    folder, where pip runs too), with what writes it."""
    build = settings.render.build.strip("/")
    database = sqlite_file(settings.database.url)
    assert database is not None
    return {
        "renditions": f"{build}/{outputs.RENDITIONS_FOLDER}",
        "preview": f"{build}/{PREVIEW_FOLDER}",
        "rehearsal": f"{build}/{REHEARSAL_FOLDER}",
        "outbox": settings.publishing.outbox.strip("/"),
        "export": EXPORT_FOLDER,
        "stats --csv": STATS_CSV,
        "stats --html": STATS_HTML,
        "database": str(database),
    }


# --- one place --------------------------------------------------------------------------


def test_every_default_output_comes_from_campaign_outputs() -> None:
    defaults = ConfigFile()
    assert defaults.render.build == OUTPUT_FOLDER
    assert defaults.publishing.outbox == OUTBOX_FOLDER
    assert defaults.database.url == outputs.DATABASE_URL == "sqlite:///campaign.db"  # never moves
    assert run_command.REHEARSAL_FOLDER == REHEARSAL_FOLDER
    assert preview_build.PREVIEW_FOLDER == PREVIEW_FOLDER
    assert render_all.RENDITIONS_FOLDER == outputs.RENDITIONS_FOLDER
    # The sample config.toml and init's write the defaults out.
    for settings in (SAMPLE, init_settings()):
        assert default_outputs(settings) == default_outputs(defaults)
    export = CliRunner().invoke(app, ["export", "--help"], env={"COLUMNS": "200"}).output
    assert EXPORT_FOLDER in export
    stats = " ".join(CliRunner().invoke(app, ["stats", "--help"]).output.split())
    assert STATS_CSV in stats and STATS_HTML in stats


def test_no_two_default_outputs_share_a_folder_but_the_build_folder() -> None:
    """Each output has a folder (or file) of its own: none is inside another's, except that
    renditions, preview and rehearsal are the build folder's parts, and the outbox, archive
    and reports sit beside them in it (where nothing deletes what it did not write)."""
    places = default_outputs(ConfigFile())
    for one, first in places.items():
        for other, second in places.items():
            if one != other:
                assert not PurePosixPath(first).is_relative_to(second), (one, other)
    assert all(
        PurePosixPath(path).parts[0] == OUTPUT_FOLDER
        for kind, path in places.items()
        if kind != "database"
    )


# --- not where Python's tools write -------------------------------------------------------


def packaging_folders_of_setuptools() -> list[str]:
    """Where `pip install .` (setuptools) builds in a checkout: build/, build/lib,
    build/bdist.*, dist/ (as setuptools itself works them out)."""
    setuptools = pytest.importorskip("setuptools.dist", reason="setuptools builds `pip install .`")
    dist = setuptools.Distribution({"name": "campaign-scheduler", "version": "0"})
    build = dist.get_command_obj("build")
    build.ensure_finalized()
    bdist = dist.get_command_obj("bdist")
    bdist.ensure_finalized()
    return [build.build_base, build.build_lib, build.build_temp, bdist.bdist_base, bdist.dist_dir]


def clashes(path: str, packaging: list[str]) -> list[str]:
    """The packaging folders that ``path`` is, is inside, or holds."""
    found = []
    ours = PurePosixPath(path)
    for folder in packaging:
        theirs = PurePosixPath(folder)
        if ours.is_relative_to(theirs) or theirs.is_relative_to(ours):
            found.append(folder)
    found += [
        pattern
        for pattern in PACKAGING_FOLDERS
        if any(fnmatch.fnmatch(part, pattern) for part in ours.parts)
    ]
    return found


@pytest.mark.parametrize("settings", ["defaults", "sample", "init"])
def test_pip_install_and_the_tool_never_write_to_the_same_folder(settings: str) -> None:
    chosen = {"defaults": ConfigFile(), "sample": SAMPLE, "init": init_settings()}[settings]
    packaging = packaging_folders_of_setuptools()
    for folder in packaging:  # PACKAGING_FOLDERS knows where setuptools builds
        top = PurePosixPath(folder).parts[0]
        assert any(fnmatch.fnmatch(top, pattern) for pattern in PACKAGING_FOLDERS), folder
    for kind, path in default_outputs(chosen).items():
        assert clashes(path, packaging) == [], (kind, path)


def test_an_explicit_build_folder_of_setuptools_keeps_working_and_its_files_are_kept(
    campaign: Campaign,
) -> None:
    """A checkout whose config.toml still says build = "build", after `pip install .`: render
    and preview write there as before, tidy their own stale renditions, and leave every file
    of setuptools alone, even one named like a rendition."""
    Image.new("RGBA", (64, 64), (27, 54, 93, 255)).save(campaign.root / "logo.png")
    campaign.config_text += (
        '\n[brand]\nlogo = "logo.png"\n\n[render]\nbuild = "build"\nwidth = 320\n'
    )
    campaign.post("2030-09-15-bra", GOOD_POST)
    campaign.config()
    build = campaign.root / "build"
    foreign = [
        build / "lib" / "campaign" / "__init__.py",
        build / "lib" / "renditions" / "x" / "facebook-1-0123456789abcdef0123.jpg",
        build / "bdist.linux-x86_64" / "wheel" / "facebook-1-0123456789abcdef0123.jpg",
        build / "temp.linux-x86_64-cpython-311" / "x.o",
    ]
    for path in foreign:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"setuptools")
    stale = build / "renditions" / "2029-01-01-gone" / "facebook-1-0123456789abcdef0123.jpg"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"an old rendition")
    for command in (["render"], ["preview"]):
        result = CliRunner().invoke(app, ["--config", str(campaign.config_path), *command])
        assert result.exit_code == 0, result.output
    assert all(path.read_bytes() == b"setuptools" for path in foreign)
    assert not stale.parent.exists()
    assert list((build / "renditions" / "2030-09-15-bra").glob("*.jpg"))
    assert (build / PREVIEW_FOLDER / "index.html").is_file()
    assert not (campaign.root / OUTPUT_FOLDER / outputs.RENDITIONS_FOLDER).exists()


# --- git-ignored --------------------------------------------------------------------------


def gitignore_lines() -> set[str]:
    lines = (REPO / ".gitignore").read_text("utf-8").splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


@pytest.mark.parametrize("settings", ["defaults", "sample"])
def test_this_repositorys_gitignore_has_every_line_init_writes(settings: str) -> None:
    chosen = ConfigFile() if settings == "defaults" else SAMPLE
    missing = [
        pattern
        for patterns in ignored_patterns(chosen).values()
        for pattern in patterns
        if pattern not in gitignore_lines()
    ]
    assert missing == []


def test_init_writes_the_same_gitignore_lines() -> None:
    files = repository_files(InitValues("x", "Europe/Stockholm", "sv"), DAY)
    written = files[PurePosixPath(".gitignore")].decode("utf-8").splitlines()
    for patterns in ignored_patterns(ConfigFile()).values():
        assert set(patterns) <= set(written)
    assert f"/{OUTPUT_FOLDER}/" in written and "/build/" not in written


SAMPLE_FILES = ("config.toml", "posts", "assets", "docs")


def sample_repository(folder: Path) -> Path:
    """A copy of this repository's sample campaign and .gitignore, committed in a new git
    repository."""
    folder.mkdir()
    for name in SAMPLE_FILES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, folder / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, folder / name)
    shutil.copy2(REPO / ".gitignore", folder / ".gitignore")
    config = folder / "config.toml"  # small renditions: the same files, made sooner
    text = config.read_text("utf-8")
    assert text.count("\nwidth = 1080\n") == 1
    config.write_text(text.replace("\nwidth = 1080\n", "\nwidth = 320\n"), "utf-8")
    git("init", "-q", cwd=folder)
    git("add", "-A", cwd=folder)
    git("commit", "-q", "-m", "the sample", cwd=folder)
    return folder


def ignored(folder: Path, name: str) -> bool:
    check = subprocess.run([*GIT, "check-ignore", "-q", "--no-index", name], cwd=folder)
    return check.returncode == 0


def test_this_repositorys_gitignore_covers_everything_the_tool_writes(tmp_path: Path) -> None:
    """On a copy of the sample: check, render, preview, a rehearsal, the dry-run daemon,
    export and stats leave git with nothing new to show."""
    folder = sample_repository(tmp_path / "sample")
    for command in (
        ["check"],
        ["render"],
        ["preview"],
        ["run", "--rehearse", "100000000"],  # the sample's weeks in well under a second
        ["export"],
        ["stats", "--csv", STATS_CSV, "--html", STATS_HTML],
    ):
        result = run_campaign(*command, cwd=folder)
        assert result.returncode in (0, 1), (command, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr, (command, result.stderr)
    run_daemon_until_started_then_stop(folder)
    export = run_campaign("export", cwd=folder)  # now that the daemon made the database
    assert export.returncode == 0, export.stdout + export.stderr

    made = [
        f"{OUTPUT_FOLDER}/{outputs.RENDITIONS_FOLDER}",
        f"{OUTPUT_FOLDER}/{PREVIEW_FOLDER}/index.html",
        f"{OUTPUT_FOLDER}/{REHEARSAL_FOLDER}/rehearsal.db",
        f"{EXPORT_FOLDER}/archive.json",
        "campaign.db",
    ]
    assert [path for path in made if not (folder / path).exists()] == []
    assert git("status", "--porcelain", "--untracked-files=all", cwd=folder) == ""
    assert not (folder / "build").exists() and not (folder / "outbox").exists()
    # Files made only now and then: SQLite's companions while the database is open, the
    # daemon's lock, a stale lock's takeover, the copy before a schema upgrade, reports.
    for name in (
        "campaign.db-wal",
        "campaign.db-shm",
        "campaign.db-journal",
        "campaign.db.lock",
        ".campaign.db.lock.12345.new",
        "campaign.db.schema-v1.bak",
        f"{OUTBOX_FOLDER}/facebook/2021-09-01-demokratimanaden/post.json",
        f"{OUTPUT_FOLDER}/{REHEARSAL_FOLDER}/outbox/facebook/x/post.json",
        STATS_CSV,
        f"{STATS_HTML}/index.html",
    ):
        assert ignored(folder, name), f"{name} is not ignored"
    for kept in ("config.toml", "posts/2030-01-01-x.yaml", "posts/2030-01-01-x.jpg"):
        assert not ignored(folder, kept), kept
