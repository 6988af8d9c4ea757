"""The pre-commit hook of a repository `campaign init` made, run by the real pre-commit.

The hook's repository is this checkout's tool source (with .pre-commit-hooks.yaml) made a
local git repository tagged with this release, so the only change to what init wrote is
the `repo:` address (the `rev:` stays). pre-commit builds the hook's environment with pip
from a wheelhouse and no network (tests/offline_pip.py), once for the module: that costs
about 20 seconds; every test after it reuses the environment.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from campaign import __version__
from campaign.release import version_tag
from tests.offline_pip import copy_tool_source, offline_pip_env, wheelhouse

GIT = ("git", "-c", "user.name=t", "-c", "user.email=t@example.org", "-c", "commit.gpgsign=false")


@dataclass
class Hooked:
    """A repository made by `campaign init`, its hook pointed at a local copy of the tool."""

    root: Path
    env: dict[str, str]

    def run(self, *command: str, check: bool = False) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            command,
            cwd=self.root,
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if check:
            assert result.returncode == 0, result.stdout + result.stderr
        return result

    def pre_commit(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run(sys.executable, "-m", "pre_commit", *args)

    def git(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run(*GIT, *args, check=check)

    @property
    def example(self) -> Path:
        """The example post init wrote (the only post committed)."""
        committed = self.git("ls-tree", "--name-only", "HEAD", "posts/").stdout.split()
        [name] = [path for path in committed if path.endswith(".yaml")]
        return self.root / name

    def head(self) -> str:
        return self.git("rev-parse", "HEAD").stdout.strip()


def _environment(base: Path, wheels: Path) -> dict[str, str]:
    own = {
        k: v for k, v in os.environ.items() if not k.startswith(("CAMPAIGN_", "GIT_", "PRE_COMMIT"))
    }
    return {
        **offline_pip_env(wheels, own),
        "PRE_COMMIT_HOME": str(base / "pre-commit-home"),
        "PYTHONUNBUFFERED": "1",
        "COLUMNS": "200",
    }


@pytest.fixture(scope="module")
def hooked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hooked]:
    wheels = wheelhouse()
    base = tmp_path_factory.mktemp("pre-commit")
    env = _environment(base, wheels)

    tool = copy_tool_source(base / "tool", extra=(".pre-commit-hooks.yaml",))
    for command in (
        ("init", "-q"),
        ("add", "-A"),
        ("commit", "-q", "-m", "The tool"),
        ("tag", version_tag()),
    ):
        subprocess.run([*GIT, *command], cwd=tool, env=env, check=True, capture_output=True)

    root = base / "campaign"
    made = subprocess.run(
        [sys.executable, "-m", "scheduler.cli", "init", str(root)],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    assert made.returncode == 0, made.stdout + made.stderr
    hooked = Hooked(root, env)
    settings_file = root / ".pre-commit-config.yaml"
    settings = yaml.safe_load(settings_file.read_text(encoding="utf-8"))
    [repository] = settings["repos"]
    assert repository["rev"] == f"v{__version__}"
    repository["repo"] = str(tool)  # only the address changes: the same rev, the same hook
    settings_file.write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
    hooked.git("add", "-A")
    hooked.git("commit", "-q", "-m", "A campaign repository")
    # The one install of the hook's environment (pip from the wheelhouse only).
    installed = hooked.pre_commit("install-hooks")
    assert installed.returncode == 0, installed.stdout + installed.stderr
    yield hooked


@pytest.fixture
def repository(hooked: Hooked) -> Iterator[Hooked]:
    """The shared repository, left as committed after each test: nothing staged, no new
    files, the hook not installed."""
    start = hooked.head()
    yield hooked
    assert hooked.head() == start, "a test committed"
    hooked.git("read-tree", start)  # unstage everything
    hooked.git("checkout-index", "-a", "-f")  # committed files as committed
    hooked.git("clean", "-q", "-f", "-d", "-x")
    (hooked.root / ".git" / "hooks" / "pre-commit").unlink(missing_ok=True)


def broken_post(repository: Hooked) -> tuple[Path, int]:
    """A copy of the example whose `publish_at` is not a time; the path and that line."""
    text = repository.example.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    [line] = [n for n, content in enumerate(lines, 1) if content.startswith("publish_at:")]
    lines[line - 1] = "publish_at: next tuesday, after lunch\n"
    path = repository.example.with_name(f"{repository.example.stem}-trasig.yaml")
    path.write_text("".join(lines), encoding="utf-8")
    return path, line


def test_the_fresh_repository_passes(repository: Hooked) -> None:
    result = repository.pre_commit("run", "--all-files")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "campaign check (post files)" in result.stdout and "Passed" in result.stdout


def test_a_broken_post_fails_naming_its_file_and_line(repository: Hooked) -> None:
    path, line = broken_post(repository)
    repository.git("add", str(path.relative_to(repository.root)))
    result = repository.pre_commit("run")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Failed" in result.stdout
    assert f"posts/{path.name}:{line}:" in result.stdout, result.stdout
    assert "publish_at" in result.stdout


def test_a_change_to_config_toml_alone_runs_the_check(repository: Hooked) -> None:
    """Switching Instagram off breaks the example post (it names instagram) although no
    post was touched: the hook runs for config.toml too, not only for posts/."""
    config = repository.root / "config.toml"
    text = config.read_text(encoding="utf-8")
    section = text.index("[channels.instagram]")
    text = text[:section] + text[section:].replace("enabled = true", "enabled = false", 1)
    config.write_text(text, encoding="utf-8")
    repository.git("add", "config.toml")
    result = repository.pre_commit("run")
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"posts/{repository.example.name}:" in result.stdout
    assert "instagram is switched off" in result.stdout


def test_the_installed_hook_refuses_the_commit_of_a_broken_post(repository: Hooked) -> None:
    installed = repository.pre_commit("install")
    assert installed.returncode == 0, installed.stdout + installed.stderr
    start = repository.head()
    path, line = broken_post(repository)
    relative = str(path.relative_to(repository.root))
    repository.git("add", relative)
    refused = repository.git("commit", "-q", "-m", "A broken post", check=False)
    assert refused.returncode != 0
    assert f"posts/{path.name}:{line}:" in refused.stdout + refused.stderr
    assert repository.head() == start
    # The same post with a real time is let through: the hook refuses errors, not commits.
    fixed = path.read_text(encoding="utf-8").replace(
        "next tuesday, after lunch",
        yaml.safe_load(repository.example.read_text("utf-8"))["publish_at"],
    )
    path.write_text(fixed, encoding="utf-8")
    repository.git("add", relative)
    repository.git("commit", "-q", "-m", "A post", check=True)
    assert repository.head() != start
    repository.git("update-ref", "HEAD", start)  # back to where the module's tests start
