"""What an everyday command loads: only what it uses (start-up is most of its time).

Each test runs the command line in a fresh interpreter, which then names the modules it
loaded. They assert which modules are there, never how long anything took (the timings
are in bench/startup_bench.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import GOOD_POST, Campaign, write_image

# Runs `campaign ARGS…` as `python -m scheduler.cli` does, then prints the loaded modules.
RUN_AND_LIST = """
import contextlib, io, json, runpy, sys
sys.argv = ["campaign", *sys.argv[1:]]
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    try:
        runpy.run_module("scheduler.cli", run_name="__main__")
    except SystemExit as stop:
        code = stop.code
print(json.dumps({"exit": code, "modules": sorted(sys.modules)}))
"""
#: Pillow's readers beyond the five it loads first and the WebP one: loading them all
#: (Image.init) costs tens of milliseconds.
OTHER_PIL_READERS = ("PIL.AvifImagePlugin", "PIL.DdsImagePlugin", "PIL.TiffImagePlugin")


def loaded(*arguments: str, cwd: Path) -> tuple[int, set[str]]:
    done = subprocess.run(
        [sys.executable, "-c", RUN_AND_LIST, *arguments],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=True,
    )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return report["exit"], set(report["modules"])


def test_check_of_a_webp_image_loads_only_the_webp_reader(campaign: Campaign) -> None:
    campaign.config()
    campaign.post("2030-09-15-bild", GOOD_POST.replace("bild.jpg", "bild.webp"), image=None)
    write_image(campaign.posts / "bild.webp", fmt="WEBP")

    status, modules = loaded("check", cwd=campaign.root)

    assert status == 0
    assert "PIL.WebPImagePlugin" in modules
    assert not modules & set(OTHER_PIL_READERS)


def test_render_with_nothing_to_draw_starts_no_worker_machinery(campaign: Campaign) -> None:
    campaign.config()
    campaign.post("2030-09-15-bild", GOOD_POST)
    assert loaded("render", cwd=campaign.root)[0] == 0  # draws both renditions

    status, modules = loaded("render", cwd=campaign.root)

    assert status == 0
    assert not modules & {"multiprocessing", "concurrent.futures.process"}
