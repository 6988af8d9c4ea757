"""Accounts: where a publication goes.

A *channel* is a platform (facebook, instagram); an *account* is one Page or one
Instagram account on it. The default account of each platform is written as
[channels.facebook] / [channels.instagram] and named like the platform, so every
older config and database keeps its meaning; more are written as [accounts.NAME].
Here they are resolved (unset keys inherited) and checked (names, shared secrets,
the same Page twice), every problem with its key and line.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from campaign.config import (
    CHANNELS,
    GRAPH_KEYS,
    INSTAGRAPI_KEYS,
    ChannelName,
    ConfigFile,
    FacebookAccountSection,
    FacebookSection,
    InstagramAccountSection,
    InstagramBackend,
    InstagramSection,
    check_backend_keys,
    instagram_backend,
)
from campaign.diagnostics import DiagnosticSink, Position

#: What posts write under `accounts:`; no ":" (job ids are "publish:{post}:{account}").
ACCOUNT_NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?")
MAX_ACCOUNT_NAME = 40
AccountBackend = Literal["facebook", "graph", "instagrapi"]
PLATFORM_NAMES: dict[str, str] = {"facebook": "Facebook", "instagram": "Instagram"}
_Positions = Mapping[tuple[str, ...], Position]


@dataclass(frozen=True)
class Account:
    """One place a post is published: its platform, backend and resolved settings.

    ``facebook`` is set for a Facebook account, ``instagram`` for an Instagram one;
    their unset keys are filled in (graph_url, api_version, session_file …).
    """

    name: str
    platform: ChannelName
    backend: AccountBackend
    is_default: bool
    enabled: bool
    display_name: str
    facebook: FacebookSection | None = None
    instagram: InstagramSection | None = None

    @property
    def table(self) -> str:
        """Where config.toml holds it: ``channels.facebook`` or ``accounts.NAME``."""
        return f"channels.{self.platform}" if self.is_default else f"accounts.{self.name}"

    @property
    def label(self) -> str:
        """How people are shown it: "Facebook" for a default account, else its
        display name (or name) with the platform: "Stadsbiblioteket (Facebook)"."""
        platform = PLATFORM_NAMES[self.platform]
        return platform if self.is_default else f"{self.display_name} ({platform})"


def default_session_file(name: str) -> str:
    """Where an instagrapi account keeps its login when config.toml does not say."""
    return f"~/.config/campaign/instagram-session-{name}.json"


def resolve_accounts(settings: ConfigFile) -> dict[str, Account]:
    """Every account, the default ones first (``facebook``, ``instagram``), then
    [accounts.*] in the order written."""
    facebook = settings.channels.facebook
    instagram = settings.channels.instagram
    default_backend = instagram_backend(instagram)[0]
    accounts = {
        "facebook": Account(
            name="facebook",
            platform="facebook",
            backend="facebook",
            is_default=True,
            enabled=facebook.enabled,
            display_name=settings.campaign.name,
            facebook=facebook,
        ),
        "instagram": Account(
            name="instagram",
            platform="instagram",
            backend=default_backend,
            is_default=True,
            enabled=instagram.enabled,
            display_name=instagram.username or settings.campaign.name,
            instagram=_instagram(instagram, default_backend, instagram.session_file, facebook),
        ),
    }
    for name, section in settings.accounts.items():
        display = section.display_name or name
        if isinstance(section, FacebookAccountSection):
            resolved = FacebookSection.model_construct(
                enabled=section.enabled,
                page_id=section.page_id,
                api_version=section.api_version or facebook.api_version,
                graph_url=section.graph_url or facebook.graph_url,
                token_env=section.token_env,
            )
            accounts[name] = Account(
                name, "facebook", "facebook", False, section.enabled, display, facebook=resolved
            )
            continue
        backend = account_backend(section, default_backend)
        inherited = InstagramSection.model_construct(
            **{
                **section.model_dump(exclude={"platform", "display_name"}),
                "graph_url": section.graph_url or instagram.graph_url,
                "api_version": section.api_version or instagram.api_version,
            }
        )
        session = section.session_file or default_session_file(name)
        ig = _instagram(inherited, backend, session, facebook)
        accounts[name] = Account(
            name, "instagram", backend, False, section.enabled, display, instagram=ig
        )
    return accounts


def account_backend(section: InstagramSection, default: InstagramBackend) -> InstagramBackend:
    """An [accounts.NAME] Instagram account's backend: as written; else the one whose
    keys it writes; else that of [channels.instagram]."""
    if section.backend is not None:
        return section.backend
    written = section.model_fields_set
    if written & set(INSTAGRAPI_KEYS):
        return "instagrapi"
    if written & set(GRAPH_KEYS):
        return "graph"
    return default


def _instagram(
    section: InstagramSection,
    backend: InstagramBackend,
    session_file: str,
    facebook: FacebookSection,
) -> InstagramSection:
    """``section`` with its backend said, and graph_url/api_version filled in."""
    return InstagramSection.model_construct(
        **{
            **section.model_dump(),
            "backend": backend,
            "graph_url": section.graph_url or facebook.graph_url,
            "api_version": section.api_version or facebook.api_version,
            "session_file": session_file,
        }
    )


# --- checks -----------------------------------------------------------------------------------


def check_accounts(
    settings: ConfigFile, base_dir: Path, sink: DiagnosticSink, positions: _Positions
) -> None:
    """Every problem of [accounts.*], each at its key's line."""
    good = True
    for name, section in settings.accounts.items():
        good = _check_name(name, sink, positions) and good
        if isinstance(section, InstagramAccountSection):
            check_backend_keys(section, ("accounts", name), sink, positions)
    if not good:
        return
    accounts = resolve_accounts(settings)
    unsaid = {
        a.name for a in accounts.values() if not _check_token_written(a, settings, sink, positions)
    }
    enabled = [a for a in accounts.values() if a.enabled]
    _check_unshared(enabled, sink, positions, base_dir, unsaid)


def _at(account: Account, key: str, positions: _Positions) -> Position:
    table = tuple(account.table.split(".", 1))
    return positions.get((*table, key)) or positions.get(table) or Position(1, 1)


def _check_name(name: str, sink: DiagnosticSink, positions: _Positions) -> bool:
    where = positions.get(("accounts", name)) or positions.get(("accounts",)) or Position(1, 1)
    if name in CHANNELS:
        sink.error(
            where,
            "config-account-name",
            f"[accounts.{name}]: the default {PLATFORM_NAMES[name]} account is called "
            f"{name} and is written as [channels.{name}]. Move these keys there, or give "
            f"this account a name of its own, like [accounts.{name}-2].",
        )
        return False
    if ACCOUNT_NAME.fullmatch(name):
        return True
    tidy = tidy_account_name(name)
    if tidy in CHANNELS:  # the default account's own name: suggest one of its own
        tidy = f"{tidy}-2"
    hint = f" Did you mean [accounts.{tidy}]?" if tidy else ""
    sink.error(
        where,
        "config-account-name",
        f'[accounts."{name}"]: an account\'s name is what posts write under `accounts:`, '
        "so it may have only a–z, 0–9 and '-' (not first or last), at most "
        f"{MAX_ACCOUNT_NAME} characters; write å, ä, ö as a, a, o.{hint}",
    )
    return False


def tidy_account_name(name: str) -> str:
    """The nearest good name: "Bibliotek_FB" → "bibliotek-fb" ("" if nothing is left)."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    dashed = re.sub(r"[^a-z0-9]+", "-", plain).strip("-")
    return dashed[:MAX_ACCOUNT_NAME].strip("-")


def _token_account(account: Account) -> FacebookSection | InstagramSection | None:
    """The section whose token_env is used (None: the account uses no token)."""
    if account.backend == "instagrapi":
        return None
    return account.facebook if account.platform == "facebook" else account.instagram


def _check_token_written(
    account: Account, settings: ConfigFile, sink: DiagnosticSink, positions: _Positions
) -> bool:
    """A named account that uses a token says which variable holds it: the default
    account's variable would hold another Page's token. False when it does not."""
    if account.is_default or _token_account(account) is None:
        return True
    if "token_env" in settings.accounts[account.name].model_fields_set:
        return True
    variable = "CAMPAIGN_TOKEN_" + account.name.upper().replace("-", "_")
    sink.error(
        _at(account, "token_env", positions),
        "config-account-token",
        f"[accounts.{account.name}] needs `token_env`: the name of the environment variable "
        f'that holds this account\'s own token, like token_env = "{variable}".',
    )
    return False


def _check_unshared(
    accounts: list[Account],
    sink: DiagnosticSink,
    positions: _Positions,
    base_dir: Path,
    token_unsaid: set[str],
) -> None:
    """What must differ between two switched-on accounts of one platform: their token,
    password and session variables or files, and the Page or account they reach.
    ``token_unsaid``: accounts already told to write their token_env."""
    checks: list[tuple[str, Callable[[Account], str | None], str]] = [
        ("token_env", lambda a: _env(a, "token_env"), "token_env"),
        ("password_env", lambda a: _instagrapi(a, "password_env"), "password_env"),
        ("session_file", lambda a: _session(a, base_dir), "session_file"),
        ("page_id", lambda a: _id(a, "facebook", "page_id"), "page_id"),
        ("ig_user_id", lambda a: _id(a, "graph", "ig_user_id"), "ig_user_id"),
        ("username", lambda a: _id(a, "instagrapi", "username"), "username"),
    ]
    for key, value_of, code in checks:
        first: dict[tuple[str, str], Account] = {}
        for account in accounts:
            value = value_of(account)
            if not value or (key == "token_env" and account.name in token_unsaid):
                continue
            earlier = first.setdefault((account.platform, value), account)
            if earlier is not account:
                sink.error(
                    _at(account, key, positions),
                    f"config-account-shared-{code.replace('_', '-')}",
                    _shared_message(key, account, earlier),
                )


def _env(account: Account, key: str) -> str | None:
    section = _token_account(account)
    return getattr(section, key) if section is not None else None


def _instagrapi(account: Account, key: str) -> str | None:
    if account.backend != "instagrapi" or account.instagram is None:
        return None
    return str(getattr(account.instagram, key))


def _session(account: Account, base_dir: Path) -> str | None:
    file = _instagrapi(account, "session_file")
    return str((base_dir / Path(file).expanduser()).resolve()) if file else None


def _id(account: Account, backend: str, key: str) -> str | None:
    if account.backend != backend:
        return None
    section = account.facebook if account.platform == "facebook" else account.instagram
    value = str(getattr(section, key)).strip()
    if key == "username":  # Instagram's user names know no case, and are written with an @
        value = value.removeprefix("@").strip().lower()
    return value or None


def _shared_message(key: str, account: Account, earlier: Account) -> str:
    here, there = f"[{account.table}]", f"[{earlier.table}]"
    same = f"`{key}` in {here} is the same as in {there}"
    if key == "token_env":
        return (
            f"{same}: each account needs its own token, in its own environment variable "
            "(a Page token reaches one Page only). Write another variable's name here."
        )
    if key == "password_env":
        return (
            f"{same}: each Instagram account logs in with its own password. Write another "
            "variable's name here."
        )
    if key == "session_file":
        return (
            f"{same}: two accounts would overwrite each other's login. Write another file, "
            f"or leave `session_file` out ({here} then keeps its own)."
        )
    what = "Page" if key == "page_id" else "Instagram account"
    return (
        f"{same}: both reach the same {what}, so a post for both would be published there "
        "twice. Correct the id, or remove one of the two accounts."
    )
