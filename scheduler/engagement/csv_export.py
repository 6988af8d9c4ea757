"""`campaign stats --csv`: the statistics as a CSV file that Excel opens as it should.

The file is UTF-8 with a byte order mark, so that Excel reads å, ä and ö right; lines end
in CRLF; a missing number is an empty cell. The default is the international form (``,``
between columns, ``.`` in decimals); ``excel_sv`` writes what Swedish Excel expects when a
file is double-clicked: ``;`` between columns and decimal commas.

A rehearsal's simulated audience (``simulated``) gets one more column, the first: its
header is ``audience`` and every row says :data:`SIMULATED_CELL`, so that no row copied
or filtered elsewhere in Excel passes for real engagement. The other columns stay as they
are, and the real CSV has no such column.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import tzinfo
from pathlib import Path

from campaign.safe_output import replacing
from scheduler.engagement.stats_rows import COUNTS, StatsRow

#: The header row: the labels, then each count and its growth since the previous sample,
#: the account (a default one is named like its platform) and the caption.
HEADER: tuple[str, ...] = (
    "post",
    "channel",
    "language",
    "tags",
    "published",
    "age_hours",
    *(name for count in COUNTS for name in (count, f"{count}_growth")),
    "account",
    "caption",
)


#: The first column of a simulated audience's CSV: its header and every row's cell.
SIMULATED_HEADER = "audience"
SIMULATED_CELL = "SIMULATED (rehearsal, not real)"

#: The byte order mark that tells Excel the file is UTF-8.
BOM = "\ufeff"

#: A cell starting with one of these is a formula to Excel (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(text: str | None) -> str | None:
    """Text that Excel shows as text: a leading ``'`` when it would start a formula (a
    caption such as "=HYPERLINK(…)" or "-50 %" must not run or turn into a number)."""
    if text and text.startswith(_FORMULA_STARTS):
        return "'" + text
    return text


def write_csv(
    rows: Iterable[StatsRow], path: Path, excel_sv: bool, zone: tzinfo, *, simulated: bool = False
) -> None:
    """Write ``rows`` to ``path``: published times in ``zone`` as ``2021-09-15 09:00``;
    ``simulated``: with the first column that says so on every row.

    Written whole or not at all, never through a symbolic link at ``path``.
    """
    decimal = "," if excel_sv else "."
    with replacing(path, "w", encoding="utf-8", newline="") as file:
        file.write(BOM)  # what utf-8-sig writes, without its per-write Python encoder
        writer = csv.writer(file, delimiter=";" if excel_sv else ",", lineterminator="\r\n")
        mark = (SIMULATED_CELL,) if simulated else ()
        writer.writerow(((SIMULATED_HEADER,) if simulated else ()) + HEADER)
        # csv writes None as an empty cell; a StatsRow holds each count beside its growth.
        writer.writerows(
            (
                *mark,
                spreadsheet_safe(row.post_id),
                row.channel,
                row.language,
                spreadsheet_safe(", ".join(row.tags)),
                str(row.published_at.astimezone(zone))[:16],
                _hours(row.age_seconds, decimal),
                *row.numbers,
                row.account_name,
                spreadsheet_safe(row.caption),
            )
            for row in rows
        )


def _hours(seconds: int | None, decimal: str) -> str | None:
    """Hours with up to two decimals and no trailing zeros: 1.5, 24, 0.25."""
    if seconds is None:
        return None
    text = f"{seconds / 3600:.2f}".rstrip("0").rstrip(".")
    return text.replace(".", decimal)
