"""Charts of the engagement report: labels from post files are drawn as written."""

from __future__ import annotations

import base64

import pytest

from scheduler.engagement.charts import Bars, Chart, Line, bar_chart, timeline_chart

# Tags, languages and labels come from post files: matplotlib would read `$…$` as maths
# (and raise on an unknown command) unless told to draw text as it is.
WRITTEN_AS_IS = ["$\\undefined$", "50$ och 20$", "$x^2$", "a_b", "\\n"]


def svg_text(chart: Chart) -> str:
    return base64.b64decode(chart.src.split(",", 1)[1]).decode("utf-8")


def test_bar_labels_with_dollar_signs_are_text_not_maths() -> None:
    chart = bar_chart(WRITTEN_AS_IS, [Bars("reactions", "Reactions", [1, 2, 3, 4, 5])])

    svg = svg_text(chart)
    for label in ("$\\undefined$", "50$ och 20$", "$x^2$"):
        assert label in svg


@pytest.mark.parametrize("label", WRITTEN_AS_IS)
def test_timeline_legend_is_text_not_maths(label: str) -> None:
    chart = timeline_chart([Line("reactions", label, [(1.0, 3), (6.0, 5)])])

    assert label in svg_text(chart)
