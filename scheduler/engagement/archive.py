"""The archive: the public record of everything sent or tried, exactly as it was sent.

One record per live publication (a post on one account) that was ever claimed — published,
failed, unknown or missed after a try alike — or settled by a human (`campaign settle`: done,
it went out another way; skipped, it is not to go out: with the reason, who and when), with
its platform and account, the caption,
link and first comment as sent, each image's file name, alt text and SHA-256, the remote id
and URL, the scheduled, claimed and published times, and every attempt. Dry runs and
publications never tried are not in it.

:func:`archive_records` reads the store (times stay aware UTC datetimes);
:func:`write_archive` writes them as ``archive.json`` and ``archive.csv``, each time both in
UTC (ISO 8601 with ``Z``) and in the campaign's zone. The files hold no export time, so the
same database always gives the same bytes.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

from campaign.safe_output import real_folder, replacing, write_file
from scheduler.engagement.csv_export import spreadsheet_safe
from scheduler.store.models import Attempt, Mode, Publication
from scheduler.store.store import Store

JSON_NAME = "archive.json"
CSV_NAME = "archive.csv"
#: The time fields of a record and of an attempt; each is written in UTC and local time.
RECORD_TIMES = ("due_at", "claimed_at", "published_at", "settled_at")
ATTEMPT_TIMES = ("started_at", "finished_at")
CSV_COLUMNS = (
    "post_id",
    "channel",
    "account",
    "state",
    "due_at",
    "due_at_local",
    "claimed_at",
    "claimed_at_local",
    "published_at",
    "published_at_local",
    "remote_id",
    "url",
    "caption",
    "link",
    "first_comment",
    "images",
    "fingerprint",
    "attempt_count",
    "attempts",
    "last_error",
    "warnings",
    "settled_at",
    "settled_at_local",
    "settled_by",
    "settled_reason",
)


def archive_records(store: Store) -> list[dict[str, Any]]:
    """Every live publication that was ever claimed, oldest due first, with its attempts.

    Times are aware UTC datetimes (or None); :func:`write_archive` formats them.
    """
    records = []
    for row in store.publications():
        if row.mode != Mode.LIVE.value:
            continue
        assert row.id is not None
        attempts = store.attempts(row.id)
        if row.claimed_at is None and not attempts:
            continue  # never tried: nothing was sent
        records.append(_record(row, attempts))
    records.sort(key=lambda r: (r["due_at"], r["post_id"], r["channel"], r["account"]))
    return records


def write_archive(
    records: Iterable[Mapping[str, Any]], folder: Path, zone: tzinfo
) -> tuple[Path, Path]:
    """Write ``archive.json`` and ``archive.csv`` (UTF-8 with BOM, for Excel) in ``folder``."""
    rendered = [_rendered(record, zone) for record in records]
    real_folder(folder)  # the command checked the folders above it inside the repository
    json_path, csv_path = folder / JSON_NAME, folder / CSV_NAME
    document = {
        "time_zone": str(getattr(zone, "key", zone)),
        "count": len(rendered),
        "publications": rendered,
    }
    write_file(json_path, json.dumps(document, ensure_ascii=False, indent=2) + "\n")
    with replacing(csv_path, "w", encoding="utf-8-sig", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(CSV_COLUMNS)
        for record in rendered:
            writer.writerow([_cell(record, column) for column in CSV_COLUMNS])
    return json_path, csv_path


def utc_text(moment: datetime | None) -> str | None:
    """``2021-09-15T07:00:00Z``, to the second."""
    if moment is None:
        return None
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def local_text(moment: datetime | None, zone: tzinfo) -> str | None:
    """``2021-09-15T09:00:00+02:00``: the moment in ``zone``, to the second, with its offset."""
    if moment is None:
        return None
    return moment.astimezone(zone).isoformat(timespec="seconds")


def _record(row: Publication, attempts: list[Attempt]) -> dict[str, Any]:
    settled = next((a for a in reversed(attempts) if a.kind == "settle"), None)
    return {
        "post_id": row.post_id,
        "channel": row.channel,
        "account": row.account,
        "state": row.state,
        "caption": row.caption,
        "link": row.link,
        "first_comment": row.first_comment,
        "images": _images(row.media_json),
        "fingerprint": row.fingerprint,
        "remote_id": row.remote_id,
        "url": row.url,
        "due_at": row.due_at,
        "claimed_at": row.claimed_at,
        "published_at": row.published_at,
        "attempt_count": len(attempts),
        "attempts": [
            {
                "kind": attempt.kind,
                "started_at": attempt.started_at,
                "finished_at": attempt.finished_at,
                "outcome": attempt.outcome,
                "error_class": attempt.error_class,
                "platform_code": attempt.platform_code,
                "platform_subcode": attempt.platform_subcode,
                "message": attempt.message,
            }
            for attempt in attempts
        ],
        "last_error": row.last_error,
        "warnings": row.warnings,
        # A human's decision (`campaign settle --done / --skip`): when, who and why.
        "settled_at": settled.finished_at if settled else None,
        "settled_by": settled.claimed_by if settled else None,
        "settled_reason": settled.message if settled else None,
    }


def _images(media_json: str | None) -> list[dict[str, str | None]]:
    """The images as stored at the claim: file name, alt text, SHA-256."""
    if not media_json:
        return []
    try:
        items = json.loads(media_json)
    except ValueError:
        return []
    if not isinstance(items, list):
        return []
    return [
        {"file": item.get("file"), "alt": item.get("alt"), "sha256": item.get("sha256")}
        for item in items
        if isinstance(item, dict)
    ]


def _with_times(values: Mapping[str, Any], fields: tuple[str, ...], zone: tzinfo) -> dict[str, Any]:
    """``values`` with each time field as UTC text, followed by ``<field>_local``."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key in fields:
            out[key] = utc_text(value)
            out[f"{key}_local"] = local_text(value, zone)
        else:
            out[key] = value
    return out


def _rendered(record: Mapping[str, Any], zone: tzinfo) -> dict[str, Any]:
    out = _with_times(record, RECORD_TIMES, zone)
    out["attempts"] = [_with_times(a, ATTEMPT_TIMES, zone) for a in record.get("attempts", [])]
    return out


def _cell(record: Mapping[str, Any], column: str) -> Any:
    if column == "images":
        return spreadsheet_safe(
            " | ".join(
                f"{image.get('file')} ({image.get('sha256')}) — {image.get('alt')}"
                for image in record["images"]
            )
        )
    if column == "attempts":
        return "\n".join(_attempt_line(attempt) for attempt in record["attempts"])
    value = record.get(column)
    if isinstance(value, str):
        return spreadsheet_safe(value)  # archive.json keeps the exact text
    return "" if value is None else value


def _attempt_line(attempt: Mapping[str, Any]) -> str:
    """``2021-09-15T09:00:00+02:00 publish: retry (transient, code 2) — message``."""
    outcome = attempt.get("outcome") or "no answer yet"
    line = f"{attempt.get('started_at_local')} {attempt.get('kind')}: {outcome}"
    detail = [str(attempt["error_class"])] if attempt.get("error_class") else []
    if attempt.get("platform_code"):
        code = str(attempt["platform_code"])
        if attempt.get("platform_subcode"):
            code += f"/{attempt['platform_subcode']}"
        detail.append(f"code {code}")
    if detail:
        line += f" ({', '.join(detail)})"
    if attempt.get("message"):
        line += f" — {attempt['message']}"
    return line
