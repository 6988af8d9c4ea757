"""YAML to values with positions: YAML 1.2 scalars, duplicate keys, syntax errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from campaign.diagnostics import DiagnosticSink, Position
from campaign.yaml_source import parse_yaml


def parse(text: str):
    sink = DiagnosticSink(Path("post.yaml"))
    return parse_yaml(text, sink), sink


@pytest.mark.parametrize(
    ("written", "value"),
    [
        ("no", "no"),  # a language code, not false (YAML 1.1's "Norway problem")
        ("09:00", "09:00"),  # not the sexagesimal number 540
        ("2021-09-15 09:00", "2021-09-15 09:00"),  # text for the time rules to read
        ("2021-09-15", "2021-09-15"),
        ("true", True),
        ("False", False),
        ("~", None),
        ("", None),
        ("42", 42),
        ("-1.5", -1.5),
        ('"42"', "42"),
        ("'true'", "true"),
    ],
)
def test_plain_scalars_follow_yaml_1_2_core_schema(written: str, value: object) -> None:
    (data, _), sink = parse(f"key: {written}\n")
    assert data == {"key": value}
    assert type(data["key"]) is type(value)
    assert sink.items == []


def test_positions_of_keys_and_values_are_one_based() -> None:
    (data, source), _ = parse("a: 1\nimages:\n  - file: x.jpg\n    alt: Bild\n")
    assert data["images"][0]["alt"] == "Bild"
    assert source.of(("images", 0, "alt")) == Position(4, 10)
    assert source.of_key(("images",)) == Position(2, 1)
    assert source.of(("images", 0, "missing")) == Position(3, 5)  # nearest enclosing value


def test_offset_inside_literal_block_maps_to_file_line_and_column() -> None:
    text = "caption: |\n  Hej alla.\n  Läs mer på https://x.se\n"
    (data, source), _ = parse(text)
    caption = data["caption"]
    position = source.in_text(("caption",), caption, caption.index("https"))
    assert position == Position(3, 14)
    assert text.splitlines()[2][position.column - 1 :].startswith("https")


def test_offset_in_folded_text_falls_back_to_value_start() -> None:
    (data, source), _ = parse("caption: >\n  Hej alla.\n  Mer text\n")
    assert source.in_text(("caption",), data["caption"], 8) == Position(1, 10)


def test_duplicate_key_is_an_error_naming_both_lines() -> None:
    (data, _), sink = parse("status: draft\ncaption: x\nstatus: ready\n")
    assert data["status"] == "draft"
    [error] = sink.items
    assert error.code == "duplicate-key"
    assert error.position == Position(3, 1)
    assert "first on line 1" in error.message


def test_a_key_given_three_times_names_the_first_line_each_time() -> None:
    text = "images:\n  - file: a.jpg\n    ? [x]\n    : 1\n    file: b.jpg\n    file: c.jpg\n"
    (data, _), sink = parse(text)
    assert data == {"images": [{"file": "a.jpg"}]}
    assert [(d.code, d.position.line) for d in sink.items] == [
        ("yaml-key", 3),
        ("duplicate-key", 5),
        ("duplicate-key", 6),
    ]
    assert ["first on line 2" in d.message for d in sink.items] == [False, True, True]


def test_syntax_error_points_at_the_line_and_suggests_quotes() -> None:
    result, sink = parse("caption: Hej\n  tabs: [\n")
    assert result is None
    [error] = sink.items
    assert error.code == "yaml-syntax"
    assert error.position.line >= 2
    assert "quotes" in error.message


def test_empty_document_is_none_without_errors() -> None:
    (data, _), sink = parse("# only a comment\n")
    assert data is None
    assert sink.items == []
