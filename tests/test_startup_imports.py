"""What an everyday command loads: only what it uses (start-up is most of its time).

Each test runs the command line in a fresh interpreter, which then names the modules it
loaded. They assert which modules are there, never how long anything took (the timings
are in bench/startup_bench.py).
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import GOOD_POST, Campaign, write_image
from tests.test_command_startup import run

#: Pillow's readers beyond the five it loads first and the WebP one: loading them all
#: (Image.init) costs tens of milliseconds.
OTHER_PIL_READERS = ("PIL.AvifImagePlugin", "PIL.DdsImagePlugin", "PIL.TiffImagePlugin")


def loaded(*arguments: str, cwd: Path) -> tuple[int, set[str]]:
    """The exit code of `campaign ARGUMENTS` and the modules it loaded."""
    code, _output, modules = run(cwd, *arguments)
    return code, modules


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
