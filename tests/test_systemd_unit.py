"""The systemd unit in scheduler/: runs `campaign run`, restarts on failure, secrets from an
EnvironmentFile, and the hardening README promises."""

from __future__ import annotations

import configparser
from pathlib import Path

UNIT = Path(__file__).resolve().parent.parent / "scheduler" / "campaign-scheduler.service"


def unit() -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(UNIT.read_text(encoding="utf-8"))
    return parser


def test_the_service_runs_the_daemon_and_restarts_on_failure() -> None:
    service = unit()["Service"]
    assert service["ExecStart"].endswith("/campaign run")
    assert service["Restart"] == "on-failure"
    assert service["ExecReload"] == "/bin/kill -HUP $MAINPID"  # SIGHUP rescans
    assert service["KillSignal"] == "SIGTERM"  # the first one finishes the publish in flight
    assert int(service["TimeoutStopSec"]) >= 60
    assert service["WorkingDirectory"].startswith("/")


def test_secrets_come_from_an_environment_file_never_the_unit() -> None:
    service = unit()["Service"]
    assert service["EnvironmentFile"].startswith("/etc/")
    assert "Environment" not in service
    assert "TOKEN=" not in UNIT.read_text(encoding="utf-8").replace("CAMPAIGN_FACEBOOK_TOKEN=…", "")


def test_the_service_is_hardened_with_the_write_paths_it_needs() -> None:
    service = unit()["Service"]
    assert service["NoNewPrivileges"] == "yes"
    assert service["ProtectSystem"] == "strict"
    write_paths = service["ReadWritePaths"].split()
    assert service["WorkingDirectory"] in write_paths  # database, renditions, outbox, git pull
    assert any(path.endswith("/.config/campaign") for path in write_paths)  # Instagram session
    assert unit()["Install"]["WantedBy"] == "multi-user.target"
