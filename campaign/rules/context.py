"""What every per-post rule gets to look at."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from campaign.config import ChannelName, Config
from campaign.diagnostics import DiagnosticSink, Position
from campaign.yaml_source import FieldPath, SourceMap


@dataclass
class PostCheck:
    """One post file being checked: its valid fields, where they stand, where to report.

    ``fields`` holds only the top-level fields that passed type validation; a
    rule whose field is absent from it has nothing to check (its type error was
    already reported).
    """

    path: Path
    root: Path
    config: Config
    source: SourceMap
    sink: DiagnosticSink
    fields: dict[str, Any] = field(default_factory=dict)
    #: The folder of the post file, where its images are named from.
    folder: Path = field(init=False)

    def __post_init__(self) -> None:
        self.folder = self.path.parent

    def at(self, *path: str | int) -> Position:
        """Where the value at ``path`` is written (or the nearest thing around it)."""
        return self.source.of(tuple(path))

    def at_key(self, *path: str | int) -> Position:
        return self.source.of_key(tuple(path))

    @cached_property
    def accounts(self) -> tuple[str, ...]:
        """The known accounts this post goes to: `accounts:` as written (unknown ones left
        out: they are reported), else the default accounts of `channels:` (named like the
        platforms), else every switched-on default account.

        Read after ``fields`` is set; rules ask for it many times.
        """
        given = self.fields.get("accounts")
        if given is None:
            return self._default_accounts
        known = self.config.accounts
        return tuple(name for name in dict.fromkeys(given) if name in known)

    @cached_property
    def _default_accounts(self) -> tuple[str, ...]:
        given = self.fields.get("channels")
        if given is None:
            return self.config.enabled_channels
        return tuple(dict.fromkeys(given))

    @cached_property
    def channels(self) -> tuple[ChannelName, ...]:
        """The platforms of the post's accounts, each once, in the order of the accounts."""
        return tuple(dict.fromkeys(self.account_platform(name) for name in self.accounts))

    def account_platform(self, account: str) -> ChannelName:
        return self.config.accounts[account].platform

    @property
    def is_ready(self) -> bool:
        return self.fields.get("status") == "ready"

    def caption_for(self, channel: ChannelName) -> tuple[str | None, FieldPath]:
        """The caption going to ``channel`` and the place it was written."""
        block = self.fields.get(channel)
        if block is not None and block.caption is not None:
            return block.caption, (channel, "caption")
        return self.fields.get("caption"), ("caption",)

    def caption_for_account(self, account: str) -> tuple[str | None, FieldPath]:
        """The caption going to ``account`` (its `per_account:` one first) and its place."""
        block = (self.fields.get("per_account") or {}).get(account)
        if block is not None and block.caption is not None:
            return block.caption, ("per_account", account, "caption")
        return self.caption_for(self.account_platform(account))

    @property
    def names_accounts(self) -> bool:
        """The post writes `accounts:` (messages then speak of accounts, not channels)."""
        return self.fields.get("accounts") is not None
