"""`campaign stats` reads only what its table shows: the first rows and the totals of all.

The rows of the table and its totals must be exactly those of the whole query (every row,
as the CSV gets them), for every filter and sort, and the command must say so as before:
the first N of M rows, and the totals of all M.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scheduler.engagement.stats_rows import SORT_KEYS, StatsFilter, Totals
from tests.conftest import Campaign
from tests.test_stats import (
    STOCKHOLM,
    add_publication,
    add_sample,
    filled,
    run,
    varied_store,
)
from tests.test_stats import (
    cli_campaign as cli_campaign,
)

FILTERS = [
    {},
    {"channel": "instagram"},
    {"account": "facebook"},
    {"language": "en"},
    {"tag": "val"},
    {"since": "2021-09-17", "until": "2021-09-19"},
    {"rehearsal": True},
]


@pytest.mark.parametrize("where", FILTERS)
@pytest.mark.parametrize("limit", [0, 1, 3, 100])
def test_the_table_rows_and_totals_are_those_of_every_row(
    tmp_path: Path, where: dict[str, object], limit: int
) -> None:
    from scheduler.engagement.stats_sqlite import read_raw, read_table

    database = tmp_path / "k.db"
    varied_store(database).close()
    for sort in SORT_KEYS:
        wanted = StatsFilter.parse(zone=STOCKHOLM, **where)  # type: ignore[arg-type]
        every = read_raw(database, wanted, sort, labels=False)

        rows, totals = read_table(database, wanted, sort, limit=limit)

        assert rows == every[:limit], sort
        assert totals == Totals.of(every), sort
        assert totals.publications == len(every)


def test_totals_leave_out_a_count_no_row_has() -> None:
    assert Totals.of([]) == Totals(0, (None,) * 7)


def test_the_command_reads_the_first_rows_and_counts_every_row(
    cli_campaign: Campaign, monkeypatch: pytest.MonkeyPatch
) -> None:
    from scheduler.cli import stats as stats_command
    from scheduler.engagement import stats_sqlite

    def every_row(*_args: object, **_options: object) -> None:
        raise AssertionError("the table read every row")

    monkeypatch.setattr(stats_command, "TABLE_LIMIT", 1)
    monkeypatch.setattr(stats_sqlite, "read_raw", every_row)
    opened = filled(cli_campaign)
    third = add_publication(opened, "2021-09-14-tidigt", published_at=None)  # not published
    add_sample(opened, third, 1, reactions=1000)
    opened.close()

    result = run(cli_campaign)

    assert result.exit_code == 0, result.output
    assert "2021-09-16-rosta" in result.output and "demokratidagen" not in result.output
    assert "The first 1 of 2 rows" in result.output
    assert "Total, 2 publications: reactions 160, comments 3, saves 2" in result.output
