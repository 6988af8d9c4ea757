"""Everyday commands with output to a pipe start without what they do not use.

Each test runs the command line in a fresh interpreter, its output going to a pipe (as in
scripts, CI logs and bench/startup_bench.py), which then names the modules it loaded.
They assert which heavy modules are not there, never how long anything took (the timings
are in bench/startup_bench.py, bench/stats_bench.py and bench/render_bench.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from scheduler.store.store import Store
from tests.conftest import GOOD_POST, Campaign

# Runs `campaign ARGS…` as `python -m scheduler.cli` does, its output to a pipe; then
# prints what it wrote and the modules it loaded.
RUN_AND_LIST = """
import contextlib, io, json, runpy, sys
sys.argv = ["campaign", *sys.argv[1:]]
output = io.StringIO()
with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
    try:
        runpy.run_module("scheduler.cli", run_name="__main__")
    except SystemExit as stop:
        code = stop.code
print(json.dumps({"exit": code, "output": output.getvalue(), "modules": sorted(sys.modules)}))
"""
#: The store's libraries: 250 ms of start-up before anything is read.
STORE = {"sqlalchemy", "sqlmodel", "scheduler.store.store"}
#: rich's console: 15–30 ms, for colours and a terminal's width that a pipe has not.
RICH_CONSOLE = {"rich.console", "rich.progress"}
#: What draws a rendition (not what finds one up to date).
DRAWING = {
    "campaign.branding.rendition",
    "campaign.branding.templates",
    "PIL.ImageFont",
    "PIL.ImageDraw",
    "PIL.ImageCms",
}


def run(cwd: Path, *arguments: str) -> tuple[int, str, set[str]]:
    done = subprocess.run(
        [sys.executable, "-c", RUN_AND_LIST, *arguments],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=True,
    )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return report["exit"], report["output"], set(report["modules"])


@pytest.fixture
def local_database(campaign: Campaign, monkeypatch: pytest.MonkeyPatch) -> Path:
    """config.toml's database: a SQLite file in the campaign folder, not made yet."""
    monkeypatch.delenv("CAMPAIGN_DATABASE_URL", raising=False)
    database = campaign.root / "campaign.db"
    campaign.config(f'[database]\nurl = "sqlite:///{database}"\n')
    return database


@pytest.mark.parametrize("command", ["status", "export", "stats"])
def test_without_a_database_nothing_of_the_store_nor_rich(
    campaign: Campaign, local_database: Path, command: str
) -> None:
    status, output, modules = run(campaign.root, command)

    assert status == 0, output
    assert "No database yet" in output
    assert not modules & (STORE | RICH_CONSOLE)
    assert not local_database.exists()


def test_stats_of_a_database_prints_its_table_without_rich(
    campaign: Campaign, local_database: Path
) -> None:
    Store.open(f"sqlite:///{local_database}").close()

    status, output, modules = run(campaign.root, "stats")

    assert status == 0, output
    assert "No live published posts match" in output
    assert not modules & (STORE | RICH_CONSOLE)


def test_render_with_nothing_to_draw_imports_no_drawing_code_nor_rich(
    campaign: Campaign,
) -> None:
    campaign.config()
    campaign.post("2030-09-15-bild", GOOD_POST)
    first = run(campaign.root, "render")
    assert first[0] == 0 and "2 made" in first[1]
    assert first[2] & DRAWING  # it drew: the set names what drawing loads

    status, output, modules = run(campaign.root, "render")

    assert status == 0, output
    assert "0 made, 2 unchanged, 0 failed" in output
    assert not modules & (DRAWING | RICH_CONSOLE)


@pytest.mark.parametrize("command", ["preview", "schema"])
def test_preview_and_schema_to_a_pipe_use_no_rich_console(campaign: Campaign, command: str) -> None:
    campaign.config()

    status, output, modules = run(campaign.root, command)

    assert status == 0, output
    assert ("Open it in a browser" if command == "preview" else '"properties"') in output
    assert not modules & RICH_CONSOLE


def test_the_command_line_leaves_its_objects_to_the_operating_system(tmp_path: Path) -> None:
    """The interpreter's last collections at exit skip what the command made (frozen)."""
    probe = (
        "import atexit, gc, sys\n"
        "atexit.register(lambda: print('frozen', gc.get_freeze_count() > 0))\n"
        "sys.argv = ['campaign', '--version']\n"
        "from scheduler.cli.app import main\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path, check=False
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "frozen True"
