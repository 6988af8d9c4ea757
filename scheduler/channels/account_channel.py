"""A live channel for an account of [accounts.NAME]: its advice names that account.

The Facebook and Instagram channels tell people what to fix in the words of the default
accounts: "check graph_url in [channels.facebook]", "log in again with `campaign login
instagram`". For another account that advice would send them to the wrong table or the
wrong login. :class:`AccountChannel` passes every call through to the channel it wraps and
says the same things about the account's own table and login (``[accounts.NAME]``,
``campaign login instagram --account NAME``). Nothing else changes: the error's class,
codes and the platform's own words are kept, so the publisher decides exactly as before.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from campaign.accounts import Account
from scheduler.channels.base import (
    Channel,
    CredentialCheck,
    Metrics,
    PublishRequest,
    PublishResult,
    RemotePost,
)
from scheduler.channels.errors import ChannelError

_T = TypeVar("_T")


class AccountChannel(Channel):
    """``inner`` publishing to ``account``; its messages name the account's table and login."""

    def __init__(self, inner: Channel, account: Account) -> None:
        self.inner = inner
        self.name = inner.name
        self.kind = inner.kind
        self.account = account.name
        self._rewrites = account_rewrites(account)

    def __repr__(self) -> str:
        return f"AccountChannel({self.account!r}, {self.inner!r})"

    def publish(self, request: PublishRequest) -> PublishResult:
        result = self._call(lambda: self.inner.publish(request))
        if not result.warnings:
            return result
        return PublishResult(
            remote_id=result.remote_id,
            url=result.url,
            warnings=tuple(self.say(warning) for warning in result.warnings),
            rest_seconds=result.rest_seconds,
        )

    def find_published(self, request: PublishRequest, since: datetime) -> RemotePost | None:
        return self._call(lambda: self.inner.find_published(request, since))

    def read_metrics(self, remote_id: str) -> Metrics:
        return self._call(lambda: self.inner.read_metrics(remote_id))

    def check_credentials(self) -> CredentialCheck:
        check = self._call(self.inner.check_credentials)
        return CredentialCheck(check.ok, self.say(check.detail))

    def say(self, text: str) -> str:
        """``text`` about this account instead of the platform's default one."""
        for old, new in self._rewrites:
            text = text.replace(old, new)
        return text

    def _call(self, call: Callable[[], _T]) -> _T:
        try:
            return call()
        except ChannelError as error:
            raise self._reworded(error) from None

    def _reworded(self, error: ChannelError) -> ChannelError:
        return ChannelError(
            error.error_class,
            self.say(error.message),
            code=error.code,
            subcode=error.subcode,
            platform_message=error.platform_message,
            retry_after=error.retry_after,
        )


def account_rewrites(account: Account) -> tuple[tuple[str, str], ...]:
    """What the default account's advice says, and what it says for ``account``, in the
    order they are replaced (the longest first)."""
    table = f"[{account.table}]"
    if account.platform == "facebook":
        return (("[channels.facebook]", table),)
    return (
        (
            "[channels.instagram] (or [channels.facebook])",
            f"{table} (or [channels.instagram], then [channels.facebook])",
        ),
        ("[channels.instagram]", table),
        ("`campaign login instagram`", f"`campaign login instagram --account {account.name}`"),
    )
