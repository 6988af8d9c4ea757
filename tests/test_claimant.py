"""Who holds a claim, and whether that process has certainly ended."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys

import pytest

from scheduler.claimant import is_gone, this_process

HOST = socket.gethostname()


def token() -> str:
    return this_process().rsplit(":", 1)[1]


def test_this_process_is_host_pid_and_token() -> None:
    claimed_by = this_process()
    host, pid, tok = claimed_by.rsplit(":", 2)
    assert host == HOST
    assert pid == str(os.getpid())
    assert re.fullmatch(r"[0-9a-f]{8}", tok)
    assert this_process() == claimed_by  # stable within one process


def test_another_process_gets_another_token() -> None:
    code = "from scheduler.claimant import this_process; print(this_process())"
    other = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=30
    ).stdout.strip()
    host, pid, tok = other.rsplit(":", 2)
    assert host == HOST and pid != str(os.getpid())
    assert tok != token()


def test_this_process_is_not_gone() -> None:
    assert is_gone(this_process()) is False


def test_this_pid_with_another_token_is_gone() -> None:
    """A process that died and whose pid this process reused: its claim is abandoned."""
    other = "0" * 8 if token() != "0" * 8 else "1" * 8
    assert is_gone(f"{HOST}:{os.getpid()}:{other}") is True


def test_a_process_that_has_ended_is_gone() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(timeout=30)
    assert is_gone(f"{HOST}:{child.pid}:abcdef12") is True


def test_a_running_process_is_not_gone() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert is_gone(f"{HOST}:{child.pid}:abcdef12") is False
    finally:
        child.kill()
        child.wait(timeout=30)
    assert is_gone(f"{HOST}:{child.pid}:abcdef12") is True


def test_the_parent_process_is_not_gone() -> None:
    assert is_gone(f"{HOST}:{os.getppid()}:abcdef12") is False


def test_a_process_on_another_host_cannot_be_checked() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(timeout=30)
    other_host = f"not-{HOST}"
    assert is_gone(f"{other_host}:{child.pid}:abcdef12") is False
    assert is_gone(f"{other_host}:{os.getpid()}:{token()}") is False


@pytest.mark.parametrize("claimed_by", [None, ""])
def test_no_claimant_is_gone(claimed_by: str | None) -> None:
    assert is_gone(claimed_by) is True


@pytest.mark.parametrize("pid", ["abc", "", "-5", "1.5"])
def test_an_unreadable_pid_is_not_taken_for_gone(pid: str) -> None:
    assert is_gone(f"{HOST}:{pid}:abcdef12") is False
