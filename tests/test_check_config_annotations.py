"""`campaign check --format github`: a config.toml that cannot be used is annotated on its line
of the pull request too, not only told on stderr where no reviewer looks."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scheduler.cli.app import app

REPO = Path(__file__).resolve().parent.parent
ANNOTATION = re.compile(r"^::error file=config\.toml,line=(\d+),col=(\d+),title=[^:]*::(.+)$")


@pytest.fixture
def campaign_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copy(REPO / "config.toml", tmp_path / "config.toml")
    (tmp_path / "posts").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CAMPAIGN_CONFIG", raising=False)
    return tmp_path


def _break(config: Path, old: str, new: str) -> int:
    """Replace ``old`` with ``new`` in the file; the number of the line it is on."""
    text = config.read_text("utf-8")
    assert old in text
    config.write_text(text.replace(old, new, 1), "utf-8")
    return text[: text.index(old)].count("\n") + 1


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        ('timezone = "Europe/Stockholm"', 'timezone = "Europe/Stokholm"', "Europe/Stockholm"),
        ("max_lix = 45", 'max_lix = "45"', "max_lix"),
        ('language = "sv"', 'language = "sv', "TOML"),
    ],
)
def test_an_unusable_config_is_an_annotation_on_its_line(
    campaign_dir: Path, old: str, new: str, words: str
) -> None:
    line = _break(campaign_dir / "config.toml", old, new)
    result = CliRunner().invoke(app, ["check", "--format", "github"])
    assert result.exit_code == 2
    annotations = [m for m in map(ANNOTATION.match, result.stdout.splitlines()) if m]
    assert annotations, result.stdout
    assert int(annotations[0][1]) == line
    assert words in annotations[0][3]


def test_text_format_still_tells_it_on_stderr(campaign_dir: Path) -> None:
    _break(campaign_dir / "config.toml", 'timezone = "Europe/Stockholm"', 'timezone = "Mars"')
    result = CliRunner().invoke(app, ["check"])
    assert result.exit_code == 2
    assert "::error" not in result.output
    assert "config error" in result.stderr
