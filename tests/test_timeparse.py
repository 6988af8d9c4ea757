"""Publishing times: local wall time, offsets, and Stockholm's DST changes."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from campaign.timeparse import TimeProblem, parse_publish_time

STOCKHOLM = ZoneInfo("Europe/Stockholm")


@pytest.mark.parametrize(
    ("written", "utc"),
    [
        ("2021-09-15 09:00", datetime(2021, 9, 15, 7, 0, tzinfo=UTC)),  # CEST, +02:00
        ("2021-12-15 09:00", datetime(2021, 12, 15, 8, 0, tzinfo=UTC)),  # CET, +01:00
        ("2021-09-15T09:00:30", datetime(2021, 9, 15, 7, 0, 30, tzinfo=UTC)),
        ("2021-09-15T09:00+00:00", datetime(2021, 9, 15, 9, 0, tzinfo=UTC)),
        ("2021-09-15T09:00Z", datetime(2021, 9, 15, 9, 0, tzinfo=UTC)),
        ("2021-09-15 09:00 +02:00", datetime(2021, 9, 15, 7, 0, tzinfo=UTC)),
        ("2027-03-28 01:59", datetime(2027, 3, 28, 0, 59, tzinfo=UTC)),
        ("2027-03-28 03:00", datetime(2027, 3, 28, 1, 0, tzinfo=UTC)),
        ("2027-10-31T02:30+02:00", datetime(2027, 10, 31, 0, 30, tzinfo=UTC)),
        ("2027-10-31T02:30+01:00", datetime(2027, 10, 31, 1, 30, tzinfo=UTC)),
    ],
)
def test_times_resolve_to_utc(written: str, utc: datetime) -> None:
    assert parse_publish_time(written, STOCKHOLM).utc == utc


def test_local_reading_and_display() -> None:
    when = parse_publish_time("2021-09-15 09:00", STOCKHOLM)
    assert when.local.hour == 9
    assert str(when) == "2021-09-15 09:00 CEST"


def test_spring_forward_gap_names_both_candidates() -> None:
    with pytest.raises(TimeProblem) as caught:
        parse_publish_time("2027-03-28 02:30", STOCKHOLM)
    message = str(caught.value)
    assert "does not exist" in message
    assert "2027-03-28 01:30 CET" in message and "2027-03-28 03:30 CEST" in message


def test_fall_back_ambiguity_names_both_candidates_with_offsets() -> None:
    with pytest.raises(TimeProblem) as caught:
        parse_publish_time("2027-10-31 02:30", STOCKHOLM)
    message = str(caught.value)
    assert "happens twice" in message
    assert "2027-10-31T02:30+02:00" in message and "2027-10-31T02:30+01:00" in message


@pytest.mark.parametrize(
    "written", ["15 september", "2021-09-15", "09:00", "2021/09/15 09:00", "2021-09-15 9"]
)
def test_unreadable_times_show_the_expected_form(written: str) -> None:
    with pytest.raises(TimeProblem, match="2021-09-15 09:00"):
        parse_publish_time(written, STOCKHOLM)


def test_impossible_date_is_refused() -> None:
    with pytest.raises(TimeProblem, match="not a real date"):
        parse_publish_time("2021-02-30 09:00", STOCKHOLM)
