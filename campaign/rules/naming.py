"""File names: a post's id is its file name, so it must be safe and say its date."""

from __future__ import annotations

import re

from campaign.accounts import ACCOUNT_NAME
from campaign.rules.context import PostCheck
from campaign.timeparse import PublishTime
from campaign.validation_messages import did_you_mean

SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
#: A post's id is kept with each publication: at most this long.
MAX_ID_LENGTH = 120
DATED_ID = re.compile(r"(\d{4}-\d{2}-\d{2})-[A-Za-z0-9_-]+")


def check_file_name(check: PostCheck, post_id: str, when: PublishTime | None) -> None:
    """The id is plain ASCII, and starts with the date the post goes out."""
    if not SAFE_ID.fullmatch(post_id):
        check.sink.error(
            check.at(),
            "file-name",
            f'the file name "{post_id}.yaml" has characters that cause trouble in links and '
            "on other computers. Use only a–z, 0–9 and '-' (write å, ä, ö as a, a, o), like "
            "2021-09-15-demokratidagen.yaml.",
        )
        return
    if len(post_id) > MAX_ID_LENGTH:
        check.sink.error(
            check.at(),
            "file-name",
            f"the file name is {len(post_id)} characters long; at most {MAX_ID_LENGTH} are "
            "kept with each publication. Use a shorter name, like 2021-09-15-demokratidagen.yaml.",
        )
        return
    dated = DATED_ID.fullmatch(post_id)
    if not dated:
        check.sink.warning(
            check.at(),
            "file-name",
            f"name the file after its date and topic, like 2021-09-15-{post_id}.yaml, so that "
            "posts sort by date in the folder.",
        )
    elif when is not None and dated[1] != _local_date(when):
        check.sink.warning(
            check.at("publish_at"),
            "file-name-date",
            f"the file name says {dated[1]} but `publish_at` is {when}. Rename the file "
            "or correct the time, so that nobody is misled.",
        )


def _local_date(when: PublishTime) -> str:
    """The local date as ``strftime("%Y-%m-%d")`` writes it (its year unpadded before 1000),
    from ``date.isoformat``, which is quicker."""
    local = when.local
    return local.date().isoformat() if local.year >= 1000 else local.strftime("%Y-%m-%d")


def check_channels_enabled(check: PostCheck) -> None:
    """Each channel named in the post is switched on in config.toml."""
    given = check.fields.get("channels") or []
    enabled = check.config.enabled_channels
    for index, channel in enumerate(given):
        if channel not in enabled:
            check.sink.error(
                check.at("channels", index),
                "channel-disabled",
                f"{channel} is switched off for this campaign ([channels.{channel}] enabled = "
                f"false in config.toml). Remove it from `channels`, or switch it on.",
            )
    if not given and not enabled and not check.names_accounts:
        check.sink.error(
            check.at(),
            "channel-none",
            "no channel is switched on in config.toml, so this post cannot go anywhere.",
        )


def check_accounts_known(check: PostCheck) -> None:
    """`accounts:` and `per_account:` name accounts of config.toml that are switched on;
    `accounts:` and `channels:` are not both written."""
    accounts = check.fields.get("accounts")
    known = check.config.accounts
    if accounts is not None and check.fields.get("channels") is not None:
        check.sink.error(
            check.at_key("accounts"),
            "accounts-and-channels",
            "write `accounts:` or `channels:`, not both: `channels: [facebook, instagram]` "
            "means `accounts: [facebook, instagram]`. Put every account under `accounts:` "
            "and remove `channels:`.",
        )
    for index, name in enumerate(accounts or []):
        account = known.get(name)
        if account is None:
            check.sink.error(check.at("accounts", index), "account-unknown", _unknown(check, name))
        elif not account.enabled:
            check.sink.error(
                check.at("accounts", index),
                "account-disabled",
                f"{name} is switched off for this campaign ([{account.table}] enabled = false "
                "in config.toml). Remove it from `accounts`, or switch it on.",
            )
    for name in check.fields.get("per_account") or {}:
        if name not in known:
            check.sink.error(
                check.at_key("per_account", name),
                "account-unknown",
                f"`per_account:` → `{name}:`: {_unknown(check, name)}",
            )


def _unknown(check: PostCheck, name: str) -> str:
    known = check.config.accounts
    hint = did_you_mean(name, known) or " The accounts are " + ", ".join(known) + "."
    add = f" as [accounts.{name}]" if ACCOUNT_NAME.fullmatch(name) else ""
    return (
        f'there is no account "{name}" in config.toml.{hint} Correct the name, or add the '
        f"account to config.toml{add}."
    )
