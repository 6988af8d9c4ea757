"""Caption rules: present per channel, Instagram and Facebook limits, links, placeholders."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from campaign.diagnostics import Diagnostic, Position, Severity

NAME = "2030-09-15-valet"


def post(body: str, channels: str = "[facebook, instagram]", status: str = "ready") -> str:
    """A post with the given caption part; the head is 6 lines, so `body` starts on line 7."""
    return (
        "publish_at: 2030-09-15 09:00\n"
        f"channels: {channels}\n"
        f"status: {status}\n"
        "images:\n"
        "  - file: bild.jpg\n"
        "    alt: Tre personer framför en vallokal.\n"
    ) + body


def block(key: str, text: str, indent: int = 2, chomp: str = "|") -> str:
    """``key: |`` followed by ``text`` indented as a literal block."""
    return f"{key}: {chomp}\n" + textwrap.indent(text, " " * indent, lambda _: True) + "\n"


def locate(path: Path, needle: str) -> Position:
    """Line and column (1-based) of the first ``needle`` in the file, found independently."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return Position(number, line.index(needle) + 1)
    raise AssertionError(f"{needle!r} not in {path}")


def of(diagnostics: list[Diagnostic], code: str) -> list[Diagnostic]:
    return [d for d in diagnostics if d.code == code]


def tags(count: int, sign: str = "#", word: str = "t") -> str:
    return " ".join(f"{sign}{word}{n}" for n in range(1, count + 1))


def test_good_post_has_no_caption_diagnostics(campaign, codes) -> None:
    campaign.post(NAME, post(block("caption", "Kom och rösta på söndag.\n#val2030")))
    posts, diagnostics = campaign.load()
    assert codes(diagnostics) == []
    assert [p.id for p in posts] == [NAME]


# --- caption present -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "missing", "at_key"),
    [
        ("", ["facebook", "instagram"], False),
        ('caption: ""\n', ["facebook", "instagram"], True),
        ('caption: "   "\n', ["facebook", "instagram"], True),
        ("facebook:\n  caption: Bara för Facebook.\n", ["instagram"], False),
        ('caption: ""\ninstagram:\n  caption: Egen text.\n', ["facebook"], True),
    ],
)
def test_missing_caption_is_an_error_per_channel(campaign, body, missing, at_key) -> None:
    path = campaign.post(NAME, post(body))
    posts, diagnostics = campaign.load()
    found = of(diagnostics, "caption-missing")
    assert [d.severity for d in found] == [Severity.ERROR] * len(missing)
    where = locate(path, "caption:") if at_key else Position(1, 1)
    assert {d.position for d in found} == {where}
    for d, channel in zip(found, missing, strict=True):
        assert f"there is no caption for {channel}" in d.message
        assert "Write the text under `caption: |`" in d.message
    assert posts == []


def test_own_caption_per_channel_needs_no_common_caption(campaign, codes) -> None:
    campaign.post(
        NAME,
        post("facebook:\n  caption: Text för Facebook.\ninstagram:\n  caption: Text för Insta.\n"),
    )
    assert codes(campaign.load()[1]) == []


def test_missing_caption_only_for_the_channels_of_the_post(campaign) -> None:
    campaign.post(NAME, post("", channels="[facebook]"))
    found = of(campaign.load()[1], "caption-missing")
    assert [d.message.split(".")[0] for d in found] == ["there is no caption for facebook"]


# --- Instagram length ----------------------------------------------------------------------


def caption_of_length(length: int) -> str:
    """Lines of 99 digits (100 characters with the line break), cut to ``length``.

    Digits are no words, so the readability rule stays out of the way.
    """
    text = (("0" * 99 + "\n") * (length // 100 + 1))[:length]
    return text[:-1] + "9"


@pytest.mark.parametrize("length", [1, 99, 100, 2199, 2200, 2201, 2300])
def test_caption_of_length_helper(length: int) -> None:
    assert len(caption_of_length(length)) == length


@pytest.mark.parametrize("length", [2199, 2200])
def test_instagram_caption_up_to_2200_characters_is_ok(campaign, codes, length) -> None:
    campaign.post(NAME, post(block("caption", caption_of_length(length), chomp="|-")))
    assert codes(campaign.load()[1]) == []


def test_instagram_caption_of_2201_characters_is_an_error_at_the_2201st(campaign) -> None:
    text = "x" * 99 + "\n" + "a" * 2100 + "Z"  # "Z" is the 2,201st character
    assert len(text) == 2201
    path = campaign.post(NAME, post(block("caption", text, chomp="|-")))
    posts, diagnostics = campaign.load()
    [error] = of(diagnostics, "instagram-caption-length")
    assert error.severity is Severity.ERROR
    assert error.position == locate(path, "Z")
    assert error.position == Position(9, 2 + 1 + 2100)
    assert "has 2,201 characters" in error.message
    assert "cuts it off after 2,200" in error.message
    assert "give Instagram its own shorter text under `instagram:` → `caption:`" in error.message
    assert of(diagnostics, "facebook-caption-length") == []
    assert posts == []


def test_instagram_caption_of_2200_characters_in_a_plain_literal_block_is_ok(
    campaign, codes
) -> None:
    campaign.post(NAME, post(block("caption", "x" * 2200)))
    assert codes(campaign.load()[1]) == []


def test_instagram_override_is_measured_instead_of_the_common_caption(campaign) -> None:
    long_text = caption_of_length(2300)
    path = campaign.post(
        NAME,
        post(
            "caption: Kort text för alla.\ninstagram:\n"
            + block("  caption", long_text, indent=4, chomp="|-")
        ),
    )
    [error] = of(campaign.load()[1], "instagram-caption-length")
    assert error.message.startswith("the Instagram caption has 2,300 characters")
    # the 2,201st character starts the 23rd text line (22 lines of 100 before it)
    assert error.position == Position(locate(path, "  caption: |-").line + 23, 4 + 1)


def test_long_common_caption_is_fine_when_instagram_has_its_own(campaign, codes) -> None:
    campaign.post(
        NAME,
        post(
            block("caption", caption_of_length(5000), chomp="|-")
            + "instagram:\n  caption: Kort text för Instagram.\n"
        ),
    )
    assert codes(campaign.load()[1]) == []


# --- Facebook length -----------------------------------------------------------------------


@pytest.mark.parametrize(("length", "error"), [(63206, False), (63207, True)])
def test_facebook_caption_limit(campaign, codes, length, error) -> None:
    path = campaign.post(
        NAME, post(block("caption", caption_of_length(length), chomp="|-"), channels="[facebook]")
    )
    diagnostics = campaign.load()[1]
    if not error:
        assert codes(diagnostics) == []
        return
    [found] = diagnostics
    assert (found.code, found.severity) == ("facebook-caption-length", Severity.ERROR)
    assert found.position == locate(path, "|-")
    assert "has 63,207 characters; Facebook takes at most 63,206. Shorten it." in found.message


def test_facebook_override_is_measured(campaign) -> None:
    path = campaign.post(
        NAME,
        post(
            "caption: Kort text.\nfacebook:\n  caption: "
            + caption_of_length(63207).replace("\n", " ")
            + "\n"
        ),
    )
    [found] = of(campaign.load()[1], "facebook-caption-length")
    assert found.position == Position(locate(path, "facebook:").line + 1, 12)


# --- hashtags and mentions -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("sign", "code", "limit", "phrase"),
    [
        ("#", "instagram-hashtags", 30, "has {n} hashtags; Instagram allows at most 30"),
        ("@", "instagram-mentions", 20, "mentions {n} accounts; Instagram allows at most 20"),
    ],
)
@pytest.mark.parametrize("extra", [0, 1, 3])
def test_instagram_hashtag_and_mention_limits(campaign, sign, code, limit, phrase, extra) -> None:
    count = limit + extra
    text = "Kom och rösta på söndag.\n" + tags(count, sign)
    path = campaign.post(NAME, post(block("caption", text)))
    found = of(campaign.load()[1], code)
    if not extra:
        assert found == []
        return
    [error] = found
    assert error.severity is Severity.ERROR
    assert error.position == locate(path, f"{sign}t{limit + 1}")  # the first one too many
    assert phrase.format(n=count) in error.message
    assert f"Remove {extra}." in error.message


def test_hashtags_are_counted_over_several_lines(campaign) -> None:
    text = "Rösta!\n" + tags(15) + "\n\n" + " ".join(f"#u{n}" for n in range(1, 17))
    path = campaign.post(NAME, post(block("caption", text)))
    [error] = of(campaign.load()[1], "instagram-hashtags")
    assert error.position == locate(path, "#u16")
    assert error.position.line == 11


def test_hashtag_limit_is_instagram_only(campaign) -> None:
    campaign.post(NAME, post(block("caption", tags(40)), channels="[facebook]"))
    assert of(campaign.load()[1], "instagram-hashtags") == []


# --- links on Instagram --------------------------------------------------------------------


def test_url_in_instagram_caption_is_a_warning_at_the_url(campaign) -> None:
    text = "Kom och rösta på söndag.\nLäs mer:   https://www.sodertalje.se/val.\n#val2030"
    path = campaign.post(NAME, post(block("caption", text)))
    posts, diagnostics = campaign.load()
    [warning] = diagnostics
    assert (warning.code, warning.severity) == ("instagram-link", Severity.WARNING)
    assert warning.position == locate(path, "https://")
    assert warning.position == Position(9, 14)
    assert "`https://www.sodertalje.se/val` in the Instagram caption" in warning.message
    assert 'Write "link in bio"' in warning.message
    assert [p.id for p in posts] == [NAME]  # only a warning


def test_each_url_is_reported_at_its_own_place(campaign) -> None:
    text = "Se sodertalje.se/val\noch www.val.se idag"
    path = campaign.post(NAME, post(block("caption", text)))
    found = of(campaign.load()[1], "instagram-link")
    assert [d.position for d in found] == [locate(path, "sodertalje"), locate(path, "www.")]


@pytest.mark.parametrize(
    ("body", "channels"),
    [
        (block("caption", "Läs mer på https://www.val.se/rosta"), "[facebook]"),
        (
            "caption: Läs mer på https://www.val.se/rosta\ninstagram:\n  caption: Länk i bio.\n",
            "[facebook, instagram]",
        ),
    ],
)
def test_url_only_warned_where_it_goes_to_instagram(campaign, codes, body, channels) -> None:
    campaign.post(NAME, post(body, channels=channels))
    assert codes(campaign.load()[1]) == []


def test_url_in_instagram_override_points_inside_the_nested_block(campaign) -> None:
    path = campaign.post(
        NAME,
        post(
            "caption: Läs mer på https://www.val.se/rosta\ninstagram:\n"
            + block("  caption", "Hej!\nSe val.se/rosta", indent=4)
        ),
    )
    [warning] = of(campaign.load()[1], "instagram-link")
    assert warning.position == Position(11, locate(path, "Se val.se").column + 3) == Position(11, 8)
    assert "`val.se/rosta`" in warning.message


def test_bare_domain_ending_a_sentence_is_warned(campaign) -> None:
    campaign.post(NAME, post(block("caption", "Läs mer på sodertalje.se. Välkommen!")))
    assert len(of(campaign.load()[1], "instagram-link")) == 1


# --- placeholders --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "severity"), [("ready", Severity.ERROR), ("draft", Severity.WARNING)]
)
@pytest.mark.parametrize("placeholder", ["Skriv inläggets text här", "TODO"])
def test_placeholder_left_in_caption(campaign, status, severity, placeholder) -> None:
    text = f"Välkommen.\nHär:  {placeholder}.\n#val2030"
    path = campaign.post(NAME, post(block("caption", text), status=status))
    posts, diagnostics = campaign.load()
    [found] = of(diagnostics, "placeholder")  # once, although the caption goes to 2 channels
    assert found.severity is severity
    assert found.position == locate(path, placeholder) == Position(9, 9)
    assert f'"{placeholder}" is still in the text: replace it with the real text.' in found.message
    assert len(posts) == (status == "draft")


def test_placeholder_in_each_channel_caption(campaign) -> None:
    path = campaign.post(
        NAME,
        post("facebook:\n  caption: TODO fb\ninstagram:\n  caption: Text. TODO insta\n"),
    )
    found = of(campaign.load()[1], "placeholder")
    # plain (not `|`) scalars: the start of the value
    assert [d.position for d in found] == [
        locate(path, "TODO fb"),
        locate(path, "Text. TODO"),
    ]


# --- first comment -------------------------------------------------------------------------


@pytest.mark.parametrize(("count", "errors"), [(30, 0), (31, 1)])
def test_first_comment_hashtag_limit(campaign, count, errors) -> None:
    path = campaign.post(
        NAME,
        post(
            "caption: Kom och rösta.\ninstagram:\n"
            + block("  first_comment", tags(count), indent=4)
        ),
    )
    found = of(campaign.load()[1], "instagram-hashtags")
    assert len(found) == errors
    if errors:
        assert found[0].severity is Severity.ERROR
        assert found[0].position == locate(path, "#t31")
        assert "the Instagram first comment has 31 hashtags" in found[0].message


def test_first_comment_mentions_and_link(campaign) -> None:
    path = campaign.post(
        NAME,
        post(
            "caption: Kom och rösta.\ninstagram:\n"
            + block("  first_comment", tags(21, "@") + "\nMer: https://val.se/x", indent=4)
        ),
    )
    diagnostics = campaign.load()[1]
    [mentions] = of(diagnostics, "instagram-mentions")
    assert mentions.position == locate(path, "@t21")
    assert "the Instagram first comment mentions 21 accounts" in mentions.message
    [link] = of(diagnostics, "instagram-link")
    assert link.position == locate(path, "https://")
    assert "in the Instagram first comment" in link.message


def test_quoted_first_comment_points_at_its_start(campaign) -> None:
    path = campaign.post(
        NAME, post(f'caption: Rösta.\ninstagram:\n  first_comment: "{tags(31)}"\n')
    )
    [error] = of(campaign.load()[1], "instagram-hashtags")
    assert error.position == locate(path, '"#t1 ')


# --- facebook.link -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("link", "ok"),
    [
        ("https://www.sodertalje.se/", True),
        ("http://val.se/rosta", True),
        ("www.sodertalje.se", False),
        ("sodertalje.se/val", False),
        ("ftp://val.se/fil", False),
        ("https://localhost", False),
        ("mailto:info@val.se", False),
    ],
)
def test_facebook_link_must_be_a_web_address(campaign, link, ok) -> None:
    path = campaign.post(NAME, post(f"caption: Rösta.\nfacebook:\n  link: {link}\n"))
    found = of(campaign.load()[1], "facebook-link")
    if ok:
        assert found == []
        return
    [error] = found
    assert error.severity is Severity.ERROR
    assert error.position == locate(path, link) == Position(9, 9)
    assert f'`link` "{link}" is not a web address' in error.message
    assert "starting with https://" in error.message


# --- unused channel blocks -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("channels", "block_name", "warned"),
    [
        ("[facebook]", "instagram", True),
        ("[instagram]", "facebook", True),
        ("[facebook, instagram]", "instagram", False),
        ("[facebook, instagram]", "facebook", False),
    ],
)
def test_channel_block_for_a_channel_not_used(campaign, channels, block_name, warned) -> None:
    path = campaign.post(
        NAME, post(f"caption: Rösta.\n{block_name}:\n  caption: Egen text.\n", channels=channels)
    )
    found = of(campaign.load()[1], "unused-channel-block")
    if not warned:
        assert found == []
        return
    [warning] = found
    assert warning.severity is Severity.WARNING
    assert warning.position == locate(path, f"{block_name}:") == Position(8, 1)
    assert f"the `{block_name}:` block is not used" in warning.message
    assert f"Add {block_name} to `channels`, or remove the block." in warning.message
