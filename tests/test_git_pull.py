"""`git pull --ff-only` before a rescan: merged posts arrive, a failed pull is a message."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from scheduler.daemon import git_pull

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git(folder: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(folder), *args], capture_output=True, text=True, check=True
    )
    return done.stdout


@pytest.fixture
def clones(tmp_path: Path) -> tuple[Path, Path]:
    """An upstream repository with one commit and a clone of it (the scheduler's checkout)."""
    upstream = tmp_path / "upstream"
    upstream.mkdir()
    git(upstream, "init", "-q", "-b", "main")
    git(upstream, "config", "user.email", "test@example.se")
    git(upstream, "config", "user.name", "Test")
    (upstream / "posts").mkdir()
    (upstream / "posts" / "a.yaml").write_text("status: draft\n", encoding="utf-8")
    git(upstream, "add", ".")
    git(upstream, "commit", "-q", "-m", "first")
    checkout = tmp_path / "checkout"
    subprocess.run(["git", "clone", "-q", str(upstream), str(checkout)], check=True)
    return upstream, checkout


def test_a_merged_post_arrives_in_the_checkout(clones: tuple[Path, Path]) -> None:
    upstream, checkout = clones
    (upstream / "posts" / "b.yaml").write_text("status: ready\n", encoding="utf-8")
    git(upstream, "add", ".")
    git(upstream, "commit", "-q", "-m", "second")
    assert git_pull(checkout) is None
    assert (checkout / "posts" / "b.yaml").read_text(encoding="utf-8") == "status: ready\n"


def test_a_diverged_checkout_is_reported_not_merged(clones: tuple[Path, Path]) -> None:
    upstream, checkout = clones
    for folder, text in ((upstream, "upstream\n"), (checkout, "local\n")):
        git(folder, "config", "user.email", "test@example.se")
        git(folder, "config", "user.name", "Test")
        (folder / "posts" / "a.yaml").write_text(text, encoding="utf-8")
        git(folder, "commit", "-q", "-am", text.strip())
    problem = git_pull(checkout)
    assert problem is not None and problem.strip()
    assert (checkout / "posts" / "a.yaml").read_text(encoding="utf-8") == "local\n"


def test_a_folder_that_is_not_a_checkout_is_reported(tmp_path: Path) -> None:
    problem = git_pull(tmp_path)
    assert problem is not None and "not a git repository" in problem.lower()
