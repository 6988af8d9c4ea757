"""A media host for tests: a folder served over HTTP on 127.0.0.1, behind the MediaHost
interface. The fake Instagram Graph API really downloads from it, like Meta does."""

from __future__ import annotations

import secrets
import shutil
import threading
from collections.abc import Iterator
from datetime import timedelta
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from scheduler.media_host.base import HostedImage, MediaHost, MediaHostError


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read :attr:`LoopbackMediaHost.fetched` instead."""

    def do_GET(self) -> None:
        self.server.fetched.append(self.path)  # type: ignore[attr-defined]
        super().do_GET()


class LoopbackMediaHost(MediaHost):
    """Copies each rendition into ``folder`` under an unguessable name and serves it."""

    kind = "folder"

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.put_count = 0
        self.removed: list[str] = []
        #: Make the next put fail: a MediaHostError with this ``temporary``.
        self.fail_next_put: bool | None = None
        self._server = ThreadingHTTPServer(
            ("127.0.0.1", 0), partial(_QuietHandler, directory=str(folder))
        )
        self._server.daemon_threads = True
        self._server.fetched = []  # type: ignore[attr-defined]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def fetched(self) -> list[str]:
        """The paths downloaded so far, in order."""
        return list(self._server.fetched)  # type: ignore[attr-defined]

    def hosted_files(self) -> list[str]:
        return sorted(path.name for path in self.folder.iterdir())

    def put(self, path: Path, *, valid_for: timedelta) -> HostedImage:
        if self.fail_next_put is not None:
            temporary, self.fail_next_put = self.fail_next_put, None
            raise MediaHostError("the test host refused the upload", temporary=temporary)
        key = f"{secrets.token_urlsafe(16)}{path.suffix.lower()}"
        shutil.copyfile(path, self.folder / key)
        self.put_count += 1
        return HostedImage(url=f"{self.base_url}/{key}", key=key, expires_at=None)

    def remove(self, image: HostedImage) -> None:
        (self.folder / image.key).unlink(missing_ok=True)
        self.removed.append(image.key)

    def describe(self) -> str:
        return f"the test folder served at {self.base_url}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def media_host(tmp_path: Path) -> Iterator[LoopbackMediaHost]:
    """A started loopback media host, stopped after the test."""
    host = LoopbackMediaHost(tmp_path / "hosted")
    try:
        yield host
    finally:
        host.stop()
