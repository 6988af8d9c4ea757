"""The floor of ``check_bench.py``: the least work any checker of a posts folder must do.

Read every post file (``*.yaml``, sorted), parse it with PyYAML's libyaml loader, and open
every image it names with ``PIL.Image.open`` to read its size and format (the header
only). It imports nothing but PyYAML and Pillow, so that run as a process
(``python bench/check_floor.py POSTS_DIR``) its start-up is the least a checker written
in Python with these parsers can have. It prints the number of posts and images read.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import yaml
from PIL import Image


def run_floor(posts_dir: Path) -> int:
    """Parse every post file with libyaml and read the header of every image it names."""
    images = 0
    names = sorted(entry.name for entry in os.scandir(posts_dir) if entry.name.endswith(".yaml"))
    for name in names:
        text = (posts_dir / name).read_text(encoding="utf-8")
        data = yaml.load(text, Loader=yaml.CSafeLoader)
        for entry in data.get("images") or ():
            with Image.open(posts_dir / entry["file"]) as image:
                _ = image.size, image.format
            images += 1
    return images


if __name__ == "__main__":
    folder = Path(sys.argv[1])
    count = run_floor(folder)
    print(f"{len([n for n in os.listdir(folder) if n.endswith('.yaml')])} posts, {count} images")
