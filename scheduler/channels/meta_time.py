"""Times as Meta's Graph APIs write them (``2021-09-15T07:00:00+0000``), read as UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

META_TIME = "%Y-%m-%dT%H:%M:%S%z"


def parse_meta_time(text: Any) -> datetime | None:
    """Meta's ``2021-09-15T07:00:00+0000`` (or ISO 8601) as an aware UTC datetime, or None."""
    if not isinstance(text, str):
        return None
    try:
        return datetime.strptime(text, META_TIME).astimezone(UTC)
    except ValueError:
        try:
            return as_utc(datetime.fromisoformat(text))
        except ValueError:
            return None


def as_utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive one is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
