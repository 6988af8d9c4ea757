"""HASHTAG, MENTION and URL: what counts as a hashtag, a mention or a link in a caption."""

from __future__ import annotations

import pytest

from campaign.text_patterns import HASHTAG, MENTION, URL, find_urls, without_urls


def found(pattern, text: str) -> list[str]:
    return [match.group() for match in pattern.finditer(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Välkommen! #södertälje #ÅÄÖ", ["#södertälje", "#ÅÄÖ"]),
        ("#demokrati100, #val2030.", ["#demokrati100", "#val2030"]),
        ("Rad ett\n#val", ["#val"]),
        ("Klockan &#123; och &#x7B;", []),  # HTML entities
        ("Val#2030 och A#B", []),  # inside a word
        ("##dubbel", []),
        ("# rubrik", []),
    ],
)
def test_hashtags(text: str, expected: list[str]) -> None:
    assert found(HASHTAG, text) == expected


def test_hashtag_group_is_the_word_without_the_sign() -> None:
    assert [m[1] for m in HASHTAG.finditer("#södertälje #rösta")] == ["södertälje", "rösta"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Tack @sodertaljekommun!", ["@sodertaljekommun"]),
        ("@valmyndigheten, @skatteverket.", ["@valmyndigheten", "@skatteverket"]),
        ("Följ @anna.svensson.", ["@anna.svensson"]),  # trailing dot is not part of the name
        ("@_x_ och @a", ["@_x_", "@a"]),
        ("Mejla info@sodertalje.se eller anna.s@val.se", []),  # e-mail addresses
        ("@@dubbel och @ ensam", []),
    ],
)
def test_mentions(text: str, expected: list[str]) -> None:
    assert found(MENTION, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Läs mer: https://www.sodertalje.se/val.", ["https://www.sodertalje.se/val"]),
        ("Se http://val.se/rosta!", ["http://val.se/rosta"]),
        ("(https://val.se/rosta), sedan", ["https://val.se/rosta"]),
        ("https://val.se/a?b=1&c=2!", ["https://val.se/a?b=1&c=2"]),
        ("Gå till www.val.se!", ["www.val.se"]),
        ("Mer på sodertalje.se/val och val.se", ["sodertalje.se/val", "val.se"]),
        ("sodertalje.se, val.se och x.nu!", ["sodertalje.se", "val.se", "x.nu"]),
        ("SODERTALJE.SE/Val", ["SODERTALJE.SE/Val"]),
        ("Frågor? sodertalje.se?", ["sodertalje.se"]),
        ("t.ex. kl. 9, bl.a. på torget", []),
        ("filen val.sex och ord.senare", []),
    ],
)
def test_urls(text: str, expected: list[str]) -> None:
    assert found(URL, text) == expected


@pytest.mark.parametrize("end", [".", ",", "!", "?", ":"])
def test_url_without_scheme_drops_trailing_punctuation(end: str) -> None:
    assert found(URL, f"Läs mer på sodertalje.se/val{end} Tack") == ["sodertalje.se/val"]


def test_bare_domain_at_end_of_sentence_is_a_url() -> None:
    assert found(URL, "Läs mer på sodertalje.se. Välkommen!") == ["sodertalje.se"]


def test_email_address_is_not_a_url() -> None:
    assert found(URL, "Mejla info@sodertalje.se om du har frågor") == []


@pytest.mark.parametrize(
    "text",
    [
        "HTTPS://VAL.SE/rosta",
        "Se Www.Val.Se!",
        "hTtP://x.org",
        "Mer på VAL.SE",
        "sodertalje.INFO/val",
        "HTTPS://localhost/val",
        "Se WWW.exempel.de",
    ],
)
def test_links_in_any_case_pass_the_quick_look_for_links(text: str) -> None:
    # find_urls and without_urls first look for a link's telltale part (".se", "https://",
    # "www."), whatever its case, and run URL only if there is one.
    assert [match.group() for match in find_urls(text)] == found(URL, text) != []
    assert without_urls(text, "<>") == URL.sub("<>", text) != text


@pytest.mark.parametrize(
    ("text", "tags", "mentions"),
    [
        ("#a @b", ["#a"], ["@b"]),  # at the very start: nothing before the sign
        ("x\n#a\n@b", ["#a"], ["@b"]),
        ("x#a y@b &#a ##a @@b", [], []),
        ("(#a) [@b]", ["#a"], ["@b"]),
    ],
)
def test_what_comes_before_the_sign(text: str, tags: list[str], mentions: list[str]) -> None:
    assert found(HASHTAG, text) == tags
    assert found(MENTION, text) == mentions
