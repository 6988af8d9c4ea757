"""[accounts.NAME] in config.toml: resolved accounts, and every mistake at its key and line."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from campaign.accounts import Account
from campaign.config import ConfigError, load_config, parse_config
from scheduler.cli.app import app

LIBRARY_FB = """\
[accounts.bibliotek-fb]
platform = "facebook"
display_name = "Södertälje stadsbibliotek"
page_id = "1122334455"
token_env = "CAMPAIGN_TOKEN_BIBLIOTEK_FB"
"""


def write(folder: Path, text: str) -> Path:
    (folder / "posts").mkdir(exist_ok=True)
    path = folder / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(folder: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(write(folder, text))
    return [str(d) for d in sorted(caught.value.diagnostics, key=lambda d: d.position)]


def test_a_config_without_accounts_has_the_two_default_ones(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, '[campaign]\nname = "Kampanj"\n'))
    assert list(config.accounts) == ["facebook", "instagram"]
    facebook, instagram = config.accounts.values()
    assert (facebook.platform, facebook.backend) == ("facebook", "facebook")
    assert facebook.is_default and instagram.is_default
    assert facebook.facebook == config.channels.facebook and facebook.instagram is None
    assert instagram.backend == "graph" and instagram.display_name == "Kampanj"
    # resolved: the official API's address and version come from [channels.facebook]
    assert instagram.instagram is not None
    assert instagram.instagram.graph_url == "https://graph.facebook.com"
    assert instagram.instagram.api_version == "v24.0"
    assert config.enabled_accounts == (facebook, instagram)
    assert config.default_account("instagram") is instagram
    assert config.account("facebook") is facebook
    assert config.publishing.parallel == 8 and config.scheduler.takeover_seconds == 30


def test_an_older_instagrapi_config_keeps_its_backend_and_session(tmp_path: Path) -> None:
    text = '[channels.instagram]\nusername = "kommunen"\n\n[channels.facebook]\nenabled = false\n'
    config = load_config(write(tmp_path, text))
    instagram = config.account("instagram")
    assert instagram.backend == "instagrapi" and instagram.display_name == "kommunen"
    assert instagram.instagram is not None
    assert instagram.instagram.session_file == "~/.config/campaign/instagram-session.json"
    assert [a.name for a in config.enabled_accounts] == ["instagram"]
    assert config.enabled_channels == ("instagram",)


def test_named_accounts_inherit_unset_keys_and_follow_the_defaults(tmp_path: Path) -> None:
    text = (
        '[channels.facebook]\ngraph_url = "http://127.0.0.1:9999"\napi_version = "v23.0"\n\n'
        '[channels.instagram]\napi_version = "v22.0"\n\n'
        + LIBRARY_FB
        + '\n[accounts.bibliotek-ig]\nplatform = "instagram"\nig_user_id = "178414"\n'
        'token_env = "CAMPAIGN_TOKEN_BIBLIOTEK_IG"\nenabled = false\n'
        '\n[accounts.ungdom-ig]\nplatform = "instagram"\nusername = "ungdom"\n'
        'password_env = "CAMPAIGN_UNGDOM_PASSWORD"\n'
    )
    config = load_config(write(tmp_path, text))
    assert list(config.accounts) == [
        "facebook",
        "instagram",
        "bibliotek-fb",
        "bibliotek-ig",
        "ungdom-ig",
    ]
    library = config.account("bibliotek-fb")
    assert library.display_name == "Södertälje stadsbibliotek" and not library.is_default
    assert library.facebook is not None and library.instagram is None
    assert library.facebook.page_id == "1122334455"
    assert library.facebook.graph_url == "http://127.0.0.1:9999"
    assert library.facebook.api_version == "v23.0"
    assert library.table == "accounts.bibliotek-fb"
    assert library.label == "Södertälje stadsbibliotek (Facebook)"
    library_ig = config.account("bibliotek-ig")
    assert (library_ig.backend, library_ig.enabled, library_ig.display_name) == (
        "graph",
        False,
        "bibliotek-ig",
    )
    assert library_ig.instagram is not None
    assert library_ig.instagram.graph_url == "http://127.0.0.1:9999"
    assert library_ig.instagram.api_version == "v22.0"  # [channels.instagram] before facebook
    youth = config.account("ungdom-ig")
    assert youth.backend == "instagrapi"  # from the keys it writes
    assert youth.instagram is not None
    assert youth.instagram.session_file == "~/.config/campaign/instagram-session-ungdom-ig.json"
    assert [a.name for a in config.enabled_accounts] == [
        "facebook",
        "instagram",
        "bibliotek-fb",
        "ungdom-ig",
    ]
    assert config.enabled_channels == ("facebook", "instagram")
    with pytest.raises(KeyError, match="bibliotek-fb"):
        config.account("biblioteket")


def test_an_instagram_account_that_says_nothing_of_its_backend_uses_the_default_ones(
    tmp_path: Path,
) -> None:
    text = (
        '[channels.instagram]\nbackend = "instagrapi"\n\n'
        '[accounts.kultur-ig]\nplatform = "instagram"\ndisplay_name = "Kultur"\n'
        'password_env = "CAMPAIGN_KULTUR_PASSWORD"\n'
    )
    config = load_config(write(tmp_path, text))
    assert config.account("kultur-ig").backend == "instagrapi"


def test_the_default_names_are_refused_as_account_names(tmp_path: Path) -> None:
    text = '[campaign]\nname = "x"\n\n[accounts.facebook]\nplatform = "facebook"\n'
    [message] = problems(tmp_path, text)
    assert ":4:1: error:" in message
    assert "[channels.facebook]" in message and "[accounts.facebook-2]" in message


@pytest.mark.parametrize(
    ("header", "suggestion"),
    [
        ("[accounts.Bibliotek_FB]", "[accounts.bibliotek-fb]"),
        ('[accounts."kultur ig"]', "[accounts.kultur-ig]"),
        ("[accounts.-ungdom]", "[accounts.ungdom]"),
        ('[accounts."räddning"]', "[accounts.raddning]"),
        ("[accounts.Facebook]", "[accounts.facebook-2]"),  # facebook is the default one's
        ('[accounts." Instagram "]', "[accounts.instagram-2]"),
    ],
)
def test_a_bad_name_is_refused_with_the_nearest_good_one(
    tmp_path: Path, header: str, suggestion: str
) -> None:
    text = f'{header}\nplatform = "facebook"\ntoken_env = "CAMPAIGN_X"\n'
    [message] = problems(tmp_path, text)
    assert ":1:1: error:" in message and "only a–z, 0–9 and '-'" in message
    assert f"Did you mean {suggestion}?" in message


def test_a_missing_or_wrong_platform_is_named_plainly(tmp_path: Path) -> None:
    missing = problems(tmp_path, '[accounts.kultur]\npage_id = "1"\n')
    assert len(missing) == 1 and ":1:1:" in missing[0]
    assert '[accounts.kultur] needs `platform`: write platform = "facebook"' in missing[0]
    [wrong] = problems(tmp_path, '[accounts.kultur]\n\nplatform = "tiktok"\n')
    assert ":3:1:" in wrong and '`platform` in [accounts.kultur] is "tiktok"' in wrong
    [not_table] = problems(tmp_path, '[accounts]\nkultur = "facebook"\n')
    assert ":2:1:" in not_table and "[accounts.kultur] must be a table" in not_table


def test_a_wrong_key_in_an_account_is_named_with_its_table_and_line(tmp_path: Path) -> None:
    text = LIBRARY_FB + 'pageid = "1"\napi_version = "24"\n'
    unknown, version = problems(tmp_path, text)
    assert ":6:1:" in unknown and "unknown key `pageid` in [accounts.bibliotek-fb]" in unknown
    assert "Did you mean `page_id`?" in unknown
    assert ":7:1:" in version and "`api_version` in [accounts.bibliotek-fb]" in version
    assert '"v24.0"' in version


def test_a_secret_in_an_account_is_refused_without_echoing_it(tmp_path: Path) -> None:
    [message] = problems(tmp_path, LIBRARY_FB + 'token = "EAAsecretsecret"\n')
    assert ":6:1:" in message
    assert "`token` in [accounts.bibliotek-fb] looks like a secret" in message
    assert "EAAsecretsecret" not in message and "`token_env`" in message


def test_a_named_account_must_name_its_own_token_variable(tmp_path: Path) -> None:
    text = '[accounts.kultur-fb]\nplatform = "facebook"\npage_id = "5"\n'
    [message] = problems(tmp_path, text)
    assert ":1:1:" in message and "[accounts.kultur-fb] needs `token_env`" in message
    assert 'token_env = "CAMPAIGN_TOKEN_KULTUR_FB"' in message


def test_a_token_variable_shared_by_two_accounts_is_refused(tmp_path: Path) -> None:
    kultur = (
        '[accounts.kultur-fb]\nplatform = "facebook"\n\ntoken_env = "CAMPAIGN_TOKEN_BIBLIOTEK_FB"\n'
    )
    text = LIBRARY_FB + "\n" + kultur
    [message] = problems(tmp_path, text)
    assert ":10:1:" in message
    assert "`token_env` in [accounts.kultur-fb] is the same as in [accounts.bibliotek-fb]" in (
        message
    )


def test_sharing_with_a_switched_off_account_or_across_platforms_is_allowed(
    tmp_path: Path,
) -> None:
    # The default Page moved into a named account: the old one is off, its variable reused.
    # An Instagram account linked to the library's Page uses that Page's token.
    text = (
        "[channels.facebook]\nenabled = false\n\n"
        '[accounts.kommun-fb]\nplatform = "facebook"\ntoken_env = "CAMPAIGN_FACEBOOK_TOKEN"\n\n'
        + LIBRARY_FB
        + '\n[accounts.bibliotek-ig]\nplatform = "instagram"\n'
        'token_env = "CAMPAIGN_TOKEN_BIBLIOTEK_FB"\n'
    )
    config = load_config(write(tmp_path, text))
    assert [a.name for a in config.enabled_accounts] == [
        "instagram",
        "kommun-fb",
        "bibliotek-fb",
        "bibliotek-ig",
    ]


def test_one_session_file_or_password_for_two_instagrapi_accounts_is_refused(
    tmp_path: Path,
) -> None:
    text = (
        '[channels.instagram]\nbackend = "instagrapi"\nusername = "kommunen"\n'
        'session_file = "sessions/ig.json"\n\n'
        '[accounts.kultur-ig]\nplatform = "instagram"\nusername = "kultur"\n'
        'session_file = "./sessions/../sessions/ig.json"\n'
    )
    password, session = problems(tmp_path, text)
    assert ":9:1:" in session and "`session_file` in [accounts.kultur-ig]" in session
    assert "[channels.instagram]" in session and "overwrite each other's login" in session
    assert ":6:1:" in password and "`password_env` in [accounts.kultur-ig]" in password


def test_the_same_page_or_instagram_account_twice_is_refused(tmp_path: Path) -> None:
    text = (
        '[channels.facebook]\npage_id = "1122334455"\n\n'
        '[channels.instagram]\nig_user_id = "178"\n\n'
        + LIBRARY_FB
        + '\n[accounts.bibliotek-ig]\nplatform = "instagram"\nig_user_id = "178"\n'
        'token_env = "CAMPAIGN_TOKEN_BIBLIOTEK_IG"\n'
    )
    page, instagram = problems(tmp_path, text)
    assert ":10:1:" in page and "`page_id` in [accounts.bibliotek-fb]" in page
    assert "[channels.facebook]" in page and "published there twice" in page
    assert ":15:1:" in instagram and "same Instagram account" in instagram


@pytest.mark.parametrize("written", ["Sodertalje", "@sodertalje", " SODERTALJE "])
def test_one_instagram_user_name_written_two_ways_is_the_same_account(
    tmp_path: Path, written: str
) -> None:
    """Instagram user names know no case, and people write them with an @."""
    text = (
        '[channels.instagram]\nbackend = "instagrapi"\nusername = "sodertalje"\n\n'
        '[accounts.kommun-ig]\nplatform = "instagram"\nbackend = "instagrapi"\n'
        f'username = "{written}"\npassword_env = "CAMPAIGN_KOMMUN_IG_PASSWORD"\n'
    )
    [same] = problems(tmp_path, text)
    assert ":8:1:" in same and "`username` in [accounts.kommun-ig]" in same
    assert "same Instagram account" in same


def test_the_other_backends_keys_in_an_instagram_account_are_refused(tmp_path: Path) -> None:
    text = (
        '[accounts.kultur-ig]\nplatform = "instagram"\nbackend = "graph"\n'
        'token_env = "CAMPAIGN_TOKEN_KULTUR"\nusername = "kultur"\n'
        '\n[accounts.ungdom-ig]\nplatform = "instagram"\nig_user_id = "1"\nusername = "u"\n'
    )
    graph, mixed = problems(tmp_path, text)
    assert ":5:1:" in graph and "`username` in [accounts.kultur-ig] is only used by" in graph
    assert ":9:1:" in mixed and "[accounts.ungdom-ig] sets both `ig_user_id`" in mixed


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[publishing]\nparallel = 0\n", "`parallel` in [publishing] is 0, but must be at least 1"),
        ("[publishing]\nparallel = 65\n", "must be at most 64"),
        ("[scheduler]\ntakeover_seconds = 2\n", "must be at least 3"),
        ("[scheduler]\ntakeover_seconds = 7200\n", "must be at most 3,600"),
    ],
)
def test_parallel_and_takeover_are_bounded(tmp_path: Path, text: str, expected: str) -> None:
    [message] = problems(tmp_path, text)
    assert ":2:1:" in message and expected in message


def test_check_stops_on_an_account_mistake_and_names_it(tmp_path: Path) -> None:
    path = write(tmp_path, '[accounts.Kultur]\nplatform = "facebook"\n')
    result = CliRunner().invoke(app, ["--config", str(path), "check"])
    assert result.exit_code == 2
    assert "config.toml:1:1: error:" in result.output
    assert "Did you mean [accounts.kultur]?" in result.output
    assert "Traceback" not in result.output


def test_accounts_are_plain_frozen_values(tmp_path: Path) -> None:
    config = parse_config(LIBRARY_FB, write(tmp_path, LIBRARY_FB))
    account = config.account("bibliotek-fb")
    assert isinstance(account, Account)
    with pytest.raises(AttributeError):
        account.name = "x"  # type: ignore[misc]


def test_the_sample_config_has_the_librarys_page_as_a_second_facebook_account() -> None:
    config = load_config(Path(__file__).parent.parent / "config.toml")
    assert list(config.accounts) == ["facebook", "instagram", "bibliotek-fb"]
    library = config.account("bibliotek-fb")
    assert (library.platform, library.enabled, library.display_name) == (
        "facebook",
        True,
        "Södertälje stadsbibliotek",
    )
    assert library.facebook is not None and library.facebook.page_id == ""  # a dry run
    assert library.facebook.token_env == "CAMPAIGN_TOKEN_BIBLIOTEK_FB"
    assert config.enabled_channels == ("facebook", "instagram")
