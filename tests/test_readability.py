"""LIX, and the readability rule that warns about hard Swedish captions."""

from __future__ import annotations

import textwrap

import pytest

from campaign.diagnostics import Position, Severity
from campaign.readability import _WORD, _count_words, lix, lix_band

# 4 sentences, 20 words; long words (more than 6 letters): Välkommen, vallokalen,
# legitimation, eftermiddagen, demokratin = 5.  LIX = 20/4 + 100·5/20 = 5 + 25 = 30.
PLAIN = (
    "Välkommen till vallokalen på söndag. Ta med dig din legitimation. "
    "Du kan rösta hela eftermiddagen. Varje röst räknas i demokratin."
)
PLAIN_LIX = 20 / 4 + 100 * 5 / 20

# 1 sentence, 20 words; all but att, innan, vid, och are long (16).  LIX = 20 + 80 = 100.
HARD = (
    "Kommunfullmäktiges demokratiberedning rekommenderar samtliga röstberättigade medborgare "
    "att noggrant kontrollera röstkortets uppgifter innan förtidsröstningen påbörjas vid "
    "kommunens ordinarie röstmottagningsställen och biblioteksfilialer."
)
HARD_LIX = 20 / 1 + 100 * 16 / 20


def test_lix_of_a_plain_text() -> None:
    assert PLAIN_LIX == 30
    assert lix(PLAIN) == pytest.approx(PLAIN_LIX)


def test_lix_of_a_hard_text() -> None:
    assert HARD_LIX == 100
    assert lix(HARD) == pytest.approx(HARD_LIX)


@pytest.mark.parametrize(
    "extra",
    [
        "\n#demokrativeckan #rösträtt100 #södertälje",
        "\n@valmyndigheten @sodertaljekommun",
        "\nhttps://www.val.se/forhandsrostning www.sodertalje.se sodertalje.se/valet",
        "\n#förtidsröstning @valmyndigheten https://www.val.se/rosta",
    ],
)
def test_lix_leaves_out_hashtags_mentions_and_links(extra: str) -> None:
    assert lix(PLAIN + extra) == pytest.approx(PLAIN_LIX)


def test_lix_leaves_out_hashtags_inside_a_sentence() -> None:
    text = PLAIN.replace("i demokratin.", "i #demokratin #förtidsröstningen.")
    # demokratin is gone: 19 words, 4 sentences, 4 long words
    assert lix(text) == pytest.approx(19 / 4 + 100 * 4 / 19)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Rösta. " * 14, None),
        ("Rösta. " * 15, 15 / 15 + 0),
        ("Rösta. " * 14 + "#rösta #val @kommun val.se", None),  # those are no words
        ("Rösta 2030 i 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15.", None),  # nor are numbers
        ("", None),
    ],
)
def test_lix_needs_15_words(text: str, expected: float | None) -> None:
    assert lix(text) == expected


def test_a_line_break_ends_a_sentence() -> None:
    words = "Kom till torget och prata med oss om valet och demokratin i dag eller i morgon"
    assert len(words.split()) == 16
    one_line = lix(words)
    two_lines = lix(words.replace(" om valet", "\nom valet"))
    long_words = 100 * 1 / 16  # demokratin
    assert one_line == pytest.approx(16 / 1 + long_words)
    assert two_lines == pytest.approx(16 / 2 + long_words)


@pytest.mark.parametrize(
    ("last", "long_words"),
    [("EU-val.", 0), ("EU-valet.", 1), ("riks-dag.", 1), ("röst-\nkort.", 0)],
)
def test_hyphenated_word_is_one_word_measured_without_hyphen(last: str, long_words: int) -> None:
    # 17 words in 4 sentences, then one hyphenated word: EUval 5 letters, EUvalet and riksdag 7
    text = "Nu är det val. Kom och rösta. Det är lätt att göra. Vi ses där på dagen " + last
    if "\n" in last:  # broken over a line: two words, and the line break ends a sentence
        assert lix(text) == pytest.approx(19 / 5)
    else:
        assert lix(text) == pytest.approx(18 / 4 + 100 * long_words / 18)


@pytest.mark.parametrize(
    ("score", "band"),
    [
        (10, "very easy"),
        (29.9, "very easy"),
        (30, "easy"),
        (39.9, "easy"),
        (40, "medium"),
        (50, "hard"),
        (59.9, "hard"),
        (60, "very hard"),
        (100, "very hard"),
    ],
)
def test_lix_band(score: float, band: str) -> None:
    assert lix_band(score) == band


# --- the rule ------------------------------------------------------------------------------


def post(caption: str, language: str | None = "sv", channels: str = "[facebook, instagram]"):
    head = "publish_at: 2030-09-15 09:00\nstatus: ready\n"
    head += f"channels: {channels}\n"
    if language:
        head += f"language: {language}\n"
    head += "images:\n  - file: bild.jpg\n    alt: Tre personer framför en vallokal.\n"
    return head + "caption: |\n" + textwrap.indent(caption, "  ") + "\n"


def caption_position(path) -> Position:
    lines = path.read_text(encoding="utf-8").splitlines()
    number = next(i for i, line in enumerate(lines, start=1) if line.startswith("caption:"))
    return Position(number, len("caption: ") + 1)


NAME = "2030-09-15-valet"


def test_hard_swedish_caption_is_a_warning(campaign) -> None:
    path = campaign.post(NAME, post(HARD))
    posts, diagnostics = campaign.load()
    [warning] = diagnostics  # one, although the caption goes to two channels
    assert (warning.code, warning.severity) == ("readability", Severity.WARNING)
    assert warning.position == caption_position(path) == Position(8, 10)
    assert "LIX 100 (very hard), above the limit of 45." in warning.message
    assert "Write shorter sentences and prefer short, everyday words." in warning.message
    assert len(posts) == 1


def test_plain_swedish_caption_is_fine(campaign, codes) -> None:
    campaign.post(NAME, post(PLAIN))
    assert codes(campaign.load()[1]) == []


@pytest.mark.parametrize(("max_lix", "warned"), [(20, True), (29, True), (30, False), (31, False)])
def test_configured_max_lix(campaign, codes, max_lix, warned) -> None:
    campaign.post(NAME, post(PLAIN))
    diagnostics = campaign.load(f"[check]\nmax_lix = {max_lix}\n")[1]
    assert codes(diagnostics) == (["readability"] if warned else [])
    if warned:
        assert f"LIX 30 (easy), above the limit of {max_lix}." in diagnostics[0].message


@pytest.mark.parametrize(
    ("post_language", "config", "warned"),
    [
        ("en", "", False),
        ("fi", "", False),
        (None, "", True),  # the campaign's default language is sv
        (None, '[campaign]\nlanguage = "en"\n', False),
        ("sv", '[campaign]\nlanguage = "en"\n', True),
    ],
)
def test_only_swedish_is_lix_checked(campaign, codes, post_language, config, warned) -> None:
    campaign.post(NAME, post(HARD, language=post_language))
    if config:  # BASE_CONFIG already has a [campaign] table: replace its language
        campaign.config_text = campaign.config_text.replace("[campaign]\n", config, 1)
    assert codes(campaign.load()[1]) == (["readability"] if warned else [])


def test_each_distinct_caption_is_checked(campaign) -> None:
    text = post(HARD) + "instagram:\n  caption: |\n    " + HARD.replace("samtliga", "alla") + "\n"
    path = campaign.post(NAME, text)
    diagnostics = campaign.load()[1]
    assert [d.code for d in diagnostics] == ["readability", "readability"]
    lines = path.read_text(encoding="utf-8").splitlines()
    instagram_caption = lines.index("  caption: |") + 1
    assert [d.position for d in diagnostics] == [
        caption_position(path),
        Position(instagram_caption, 12),
    ]


def test_hard_hashtags_and_links_do_not_make_a_caption_hard(campaign, codes) -> None:
    noise = " #förtidsröstningsveckan #demokratiåret2030 https://www.sodertalje.se/demokrativeckan"
    campaign.post(NAME, post(PLAIN + noise * 5, channels="[facebook]"))
    assert codes(campaign.load()[1]) == []
    assert codes(campaign.load("[check]\nmax_lix = 29\n")[1]) == ["readability"]


@pytest.mark.parametrize(
    "text",
    [
        PLAIN,
        HARD,
        "Röst-\nräkning, kvinno-rörelsens 1921-års val: o'Brien’s Ⅻ-klass x²y under_streck",
        "e-post--adress -ledig- 'citat' ’tecken’ ½tid a1b2c3 ÅÄÖåäö ﬁnal Ⅷ²",
        "",
    ],
)
def test_words_are_counted_as_the_word_pattern_finds_them(text: str) -> None:
    # Pieces of letters only are counted without the pattern; the rest with it.
    words = _WORD.findall(text)
    long_words = sum(len(word) - word.count("-") > 6 for word in words)

    assert _count_words(text) == (len(words), long_words)
