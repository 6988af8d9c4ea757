"""Which release of the tool is running, and where a team's repository gets it from.

A team's campaign repository pins one release in three places that `campaign init`
writes together: ``tool_version`` in config.toml, the action's tag in the GitHub
workflow, and ``rev`` of the pre-commit hook.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from campaign import __version__

if TYPE_CHECKING:
    from campaign.config import Config
    from campaign.diagnostics import Diagnostic

#: This tool's repository on GitHub (owner/name): the action and the pre-commit hook.
TOOL_REPOSITORY = "sodertalje-kommun/campaign-scheduler"
#: A release number as config.toml's ``tool_version`` writes it.
VERSION_PATTERN = r"^\d+\.\d+\.\d+$"
_VERSION = re.compile(VERSION_PATTERN)


def version_tag(version: str = __version__) -> str:
    """The git tag of a release: ``v0.1.0``."""
    return f"v{version}"


def action_reference(version: str = __version__) -> str:
    """What a workflow's ``uses:`` names: ``owner/name@v0.1.0``."""
    return f"{TOOL_REPOSITORY}@{version_tag(version)}"


def repository_url() -> str:
    return f"https://github.com/{TOOL_REPOSITORY}"


def pip_requirement(version: str = __version__) -> str:
    """The argument of `pip install` for this release, from its tag."""
    return f"campaign-scheduler @ git+{repository_url()}@{version_tag(version)}"


def version_key(version: str) -> tuple[int, int, int] | None:
    """``"1.2.3"`` → ``(1, 2, 3)``, or None when it is not such a version."""
    if not _VERSION.match(version):
        return None
    major, minor, patch = (int(part) for part in version.split("."))
    return major, minor, patch


def newer_than_running(version: str) -> bool:
    """Whether a config written for ``version`` needs a newer tool than this one."""
    wanted, running = version_key(version), version_key(__version__)
    return wanted is not None and running is not None and wanted > running


_TOOL_VERSION_LINE = re.compile(r'^[ \t]*tool_version[ \t]*=[ \t]*"(\d+\.\d+\.\d+)"', re.M)


def unusable_config_version_warning(path: Path) -> Diagnostic | None:
    """For a config.toml that cannot be loaded: the same warning, read from its
    ``tool_version`` line, since a key that a newer release added is often why."""
    from campaign.diagnostics import Diagnostic, Position, Severity
    from campaign.post_reader import PostFileProblem, read_settings_text

    try:
        text = read_settings_text(path)
    except (PostFileProblem, OSError):
        return None
    match = _TOOL_VERSION_LINE.search(text)
    if match is None or not newer_than_running(match[1]):
        return None
    line = text.count("\n", 0, match.start()) + 1
    column = len(match[0]) - len(match[0].lstrip()) + 1
    return Diagnostic(
        path, Position(line, column), Severity.WARNING, "tool-version", _newer_message(match[1])
    )


def config_version_warning(config: Config) -> Diagnostic | None:
    """A warning on config.toml's ``tool_version`` when it names a newer release than this."""
    wanted = config.campaign.tool_version
    if config.source is None or not newer_than_running(wanted):
        return None
    from campaign.diagnostics import Diagnostic, Position, Severity

    return Diagnostic(
        config.source,
        config.key_positions.get(("campaign", "tool_version"), Position(1, 1)),
        Severity.WARNING,
        "tool-version",
        _newer_message(wanted),
    )


def _newer_message(wanted: str) -> str:
    return (
        f'this campaign was set up for campaign {wanted} (tool_version = "{wanted}"), but the '
        f"one running is {__version__}: newer keys and rules may be missing or misread. "
        f'Install that release: pip install "{pip_requirement(wanted)}"'
    )
