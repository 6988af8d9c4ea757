"""pip with no network, for the tests that install the tool the way a team's CI does.

The tests may not reach past loopback, so pip gets a wheelhouse (a folder of wheels for
the tool's dependencies and its build backend) and no index. `.ci/run` builds one and
names it in ``CAMPAIGN_TEST_WHEELHOUSE``; on a developer's machine:

    pip wheel -w /tmp/wheelhouse . 'setuptools>=77'
    CAMPAIGN_TEST_WHEELHOUSE=/tmp/wheelhouse python -m pytest tests/test_action_workflow.py
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

WHEELHOUSE_ENV = "CAMPAIGN_TEST_WHEELHOUSE"
REPO = Path(__file__).resolve().parent.parent
#: What building the tool needs from a checkout (what action.yml copies before installing).
TOOL_SOURCE = ("pyproject.toml", "README.md", "campaign", "scheduler")


def wheelhouse() -> Path:
    """The wheelhouse folder; skips the test without one, but fails it in CI."""
    folder = os.environ.get(WHEELHOUSE_ENV, "")
    if folder and Path(folder).is_dir():
        return Path(folder)
    message = (
        f"{WHEELHOUSE_ENV} names no folder of wheels: build one with "
        "`pip wheel -w DIR . 'setuptools>=77'` (.ci/run does)."
    )
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def offline_pip_env(wheels: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    """An environment in which every pip (also pre-commit's) installs from ``wheels`` only."""
    env = {k: v for k, v in (base or os.environ).items() if not k.startswith("PIP_")}
    env.update(
        PIP_NO_INDEX="1",
        PIP_FIND_LINKS=str(wheels),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PIP_CONFIG_FILE=os.devnull,  # no machine-wide index or constraints
        PIP_NO_INPUT="1",
    )
    return env


def copy_tool_source(destination: Path, extra: tuple[str, ...] = ()) -> Path:
    """The files the tool is built from, copied out of this checkout (no caches)."""
    destination.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in (*TOOL_SOURCE, *extra):
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, destination / name, ignore=ignore)
        else:
            shutil.copy2(source, destination / name)
    return destination
