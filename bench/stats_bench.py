"""How fast is `campaign stats` on a big engagement table, compared with the raw SQL?

The script writes a SQLite database into a temporary folder, with the project's own schema
(``Store.open``, so exactly the tables and indexes of ``scheduler/store/models.py``): about
10,000 live published publications (posts on Facebook and Instagram over two years, with
language, tags and a Swedish caption), a few hundred dry-run and scheduled ones that the
statistics must leave out, and 1,000,000 engagement samples (100 ages per publication,
counts that grow with age, None where a platform gives none), stored in the order they
were taken, as the sampler stores them. Rows are bulk-inserted with ``sqlite3``'s
``executemany`` from a seeded random generator, so every run builds the same database. No
``ANALYZE`` is run: the tool never runs it either.

Three things are then timed, best of R runs after one untimed warm-up each:

``data layer + CSV``
    What `campaign stats --csv FILE` does in the library: ``latest_rows`` with the default
    sort (newest first), then ``write_csv`` of those rows. Each half is also timed alone,
    and the SQL that ``latest_rows`` sends is timed through ``sqlite3`` without SQLAlchemy.

``the whole command``
    The real command line as a subprocess, start-up included: ``campaign --config …
    stats`` (imports, the query, the table of the first 200 rows on standard output, a
    pipe, and the totals of all), and ``stats --csv FILE`` (the same and every row as CSV).
    These take turns with the raw SQL below, in-process and as a process of its own
    (``python -c``: start-up, ``import sqlite3``, the query), median of R rounds, so that
    a busy moment of the machine hits all of them alike (item 7 of issue 14: the whole
    command at most 3× its query, start-up included).

``raw SQL``
    The same answer written by hand: one query, sent with the ``sqlite3`` module, that
    finds each live published publication's labels (post, channel, language, tags, time,
    the start of its caption) and its latest and previous sample through the
    (publication_id, taken_at) index, newest first. No SQLAlchemy, no objects, no CSV.
    Beside it, for scale, the counts alone with no labels and no order: less than any
    answer needs.

It prints the times, the ratios (goals: the stats query — ``latest_rows``, what ``campaign
stats`` asks the database for, rows built — at most 2× the raw SQL; the whole ``campaign
stats`` command at most 3× it; the CSV export's time is printed beside them, and its ratio
too, but writing 10,000 CSV lines is work the raw query does not do at all), the
``EXPLAIN QUERY PLAN`` of the query the data layer sends (every access to ``samples`` must
be an index SEARCH, never a SCAN of the table), and PASS or FAIL. For comparison it also
times the textbook window-function query (``ROW_NUMBER() OVER (PARTITION BY …)``), which
has to read every sample.

Usage, from the project root with the project's virtual environment active::

    python bench/stats_bench.py                       # 10,000 publications × 100 samples
    python bench/stats_bench.py --publications 2000 --samples-per 50 --repeat 5
    python bench/stats_bench.py --keep /tmp/sbench    # keep the generated database

The exit status is always 0: this is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import random
import re
import sqlite3
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bench_common import (
    CAMPAIGN_TABLE,
    SLUGS,
    ProcessRun,
    add_repeat_and_keep,
    best_of,
    campaign_command,
    print_rows,
    run_in_folder,
    time_process,
    timed,
    verdict,
)
from sqlalchemy.dialects import sqlite as sqlite_dialect

from scheduler.engagement.csv_export import write_csv
from scheduler.engagement.stats_query import StatsFilter, latest_rows, stats_query
from scheduler.store.store import Store

GOAL_RATIO = 2.0
#: The whole `campaign stats` command, start-up included, against the raw SQL.
COMMAND_GOAL_RATIO = 3.0
ZONE = ZoneInfo("Europe/Stockholm")
# SQLAlchemy's storage format for DateTime on SQLite: what the store writes and reads.
SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"
TAGS = ["val2022", "val", "demokrati100", "ungdom", "rösträtt", "dialog", "kultur"]
LANGUAGES = ["sv"] * 8 + ["en", "ar", "fi"]
CAPTION_LINES = [
    "Idag är det den internationella demokratidagen.",
    "Välkommen på dialogträff om framtidens Södertälje!",
    "Vem får rösta? Så här går det till när du röstar för första gången.",
    "Hundra år sedan kvinnor röstade för första gången i ett riksdagsval.",
    "Rösträtt för alla – en deklaration för en stark demokrati.",
]

# The same answer by hand: each live published publication's labels (what the table and
# the CSV show) and its latest and previous sample, newest first.
RAW_QUERY = """
SELECT p.id, p.post_id, p.channel, p.language, p.tags, p.published_at,
       substr(p.caption, 1, 300),
       l.age_seconds, l.reactions, l.comments, l.shares, l.saves, l.views, l.reach, l.clicks,
       pr.reactions, pr.comments, pr.shares, pr.saves, pr.views, pr.reach, pr.clicks,
       p.account
FROM publications AS p
LEFT JOIN samples AS l ON l.id = (
    SELECT id FROM samples WHERE publication_id = p.id ORDER BY taken_at DESC LIMIT 1)
LEFT JOIN samples AS pr ON pr.id = (
    SELECT id FROM samples WHERE publication_id = p.id ORDER BY taken_at DESC LIMIT 1 OFFSET 1)
WHERE p.state = 'published' AND p.mode = 'live' AND p.published_at IS NOT NULL
ORDER BY p.published_at DESC, p.id DESC
"""

# Less than any answer needs: the counts alone, no labels, no order (a floor, for scale).
COUNTS_ONLY_QUERY = """
SELECT p.id,
       l.age_seconds, l.reactions, l.comments, l.shares, l.saves, l.views, l.reach, l.clicks,
       pr.reactions, pr.comments, pr.shares, pr.saves, pr.views, pr.reach, pr.clicks
FROM publications AS p
LEFT JOIN samples AS l ON l.id = (
    SELECT id FROM samples WHERE publication_id = p.id ORDER BY taken_at DESC LIMIT 1)
LEFT JOIN samples AS pr ON pr.id = (
    SELECT id FROM samples WHERE publication_id = p.id ORDER BY taken_at DESC LIMIT 1 OFFSET 1)
WHERE p.state = 'published' AND p.mode = 'live'
"""

# The textbook alternative, for comparison only: it numbers every sample of every
# publication to keep two of each.
WINDOW_QUERY = """
SELECT publication_id,
       MAX(CASE WHEN rank = 1 THEN age_seconds END),
       MAX(CASE WHEN rank = 1 THEN reactions END), MAX(CASE WHEN rank = 1 THEN comments END),
       MAX(CASE WHEN rank = 1 THEN shares END), MAX(CASE WHEN rank = 1 THEN saves END),
       MAX(CASE WHEN rank = 1 THEN views END), MAX(CASE WHEN rank = 1 THEN reach END),
       MAX(CASE WHEN rank = 1 THEN clicks END),
       MAX(CASE WHEN rank = 2 THEN reactions END), MAX(CASE WHEN rank = 2 THEN comments END),
       MAX(CASE WHEN rank = 2 THEN shares END), MAX(CASE WHEN rank = 2 THEN saves END),
       MAX(CASE WHEN rank = 2 THEN views END), MAX(CASE WHEN rank = 2 THEN reach END),
       MAX(CASE WHEN rank = 2 THEN clicks END)
FROM (
    SELECT s.*, ROW_NUMBER() OVER (
        PARTITION BY s.publication_id ORDER BY s.taken_at DESC) AS rank
    FROM samples AS s JOIN publications AS p ON p.id = s.publication_id
    WHERE p.state = 'published' AND p.mode = 'live')
WHERE rank <= 2
GROUP BY publication_id
"""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--publications", type=int, default=10_000, help="live published publications"
    )
    parser.add_argument("--samples-per", type=int, default=100, help="samples per publication")
    parser.add_argument("--seed", type=int, default=2021, help="random seed")
    add_repeat_and_keep(parser)
    return parser.parse_args(argv)


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(SQLITE_TIME)


def write_database(root: Path, publications: int, per: int, seed: int) -> Path:
    """config.toml and campaign.db in ``root``; the path of config.toml."""
    database = root / "campaign.db"
    config = root / "config.toml"
    (root / "posts").mkdir(exist_ok=True)
    config.write_text(
        CAMPAIGN_TABLE + f'\n[database]\nurl = "sqlite:///{database.as_posix()}"\n',
        encoding="utf-8",
    )
    Store.open(f"sqlite:///{database.as_posix()}").close()  # the project's schema
    rng = random.Random(seed)
    start = datetime(2020, 1, 1, 6, 0, tzinfo=UTC)
    hours = [1 + index * 7 for index in range(per)]  # 1 h, 8 h, … about 29 days at 100
    publication_rows = []
    sample_rows = []
    posts = (publications + 1) // 2
    for index in range(posts):
        published = start + timedelta(minutes=index * 2 * 365 * 24 * 60 // posts)
        post_id = f"{published.astimezone(ZONE):%Y-%m-%d}-{rng.choice(SLUGS)}-{index:05d}"
        tags = "," + ",".join(rng.sample(TAGS, rng.randint(1, 3))) + ","
        language = rng.choice(LANGUAGES)
        caption = f"{rng.choice(CAPTION_LINES)}\nLäs mer på sodertalje.se.\n#demokrati100"
        for channel in ("facebook", "instagram")[: 2 if index * 2 + 1 < publications else 1]:
            publication_id = len(publication_rows) + 1
            publication_rows.append(
                (publication_id, post_id, channel, "live", language, tags, "published",
                 stamp(published), caption, f"{channel}-{publication_id}", stamp(published))
            )  # fmt: skip
            base = rng.randint(5, 400)
            for number, age in enumerate(hours):
                grown = base * (1 + number) // 4
                taken = published + timedelta(hours=age, seconds=rng.randint(0, 300))
                sample_rows.append(
                    (publication_id, stamp(taken), age * 3600 + rng.randint(0, 300), age * 3600,
                     grown, grown // 9, grown // 20,
                     grown // 15 if channel == "instagram" else None,
                     grown * 12, None if number % 10 == 3 else grown * 8,
                     grown // 5 if channel == "facebook" else None)
                )  # fmt: skip
    for extra in range(max(1, publications // 20)):  # rows that `campaign stats` leaves out
        publication_id = len(publication_rows) + 1
        state, mode = ("published", "dry_run") if extra % 2 else ("scheduled", "live")
        publication_rows.append(
            (publication_id, f"2030-01-01-extra-{extra:05d}", "facebook", mode, "sv", ",val,",
             state, stamp(start), "Extra", None, stamp(start) if state == "published" else None)
        )  # fmt: skip
    sample_rows.sort(key=lambda row: row[1])  # taken in time order, as the sampler stores them
    connection = sqlite3.connect(database)
    with connection:
        connection.executemany(  # each on its platform's default account (named like it)
            "INSERT INTO publications (id, post_id, channel, account, mode, language, tags, "
            "state, due_at, caption, remote_id, published_at, attempt_count) "
            "VALUES (?1, ?2, ?3, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 1)",
            publication_rows,
        )
        connection.executemany(
            "INSERT INTO samples (publication_id, taken_at, age_seconds, target_age_seconds, "
            "reactions, comments, shares, saves, views, reach, clicks) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            sample_rows,
        )
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    return config


def raw_query(database: Path, sql: str) -> int:
    connection = sqlite3.connect(database)
    try:
        return len(connection.execute(sql).fetchall())
    finally:
        connection.close()


def data_layer_sql() -> str:
    """The SQL text of the data layer's default query (no parameters left to bind)."""
    query = stats_query("sqlite", StatsFilter(zone=ZONE))
    compiled = query.compile(
        dialect=sqlite_dialect.dialect(), compile_kwargs={"literal_binds": True}
    )
    return str(compiled)


def query_plan(database: Path) -> list[str]:
    """EXPLAIN QUERY PLAN of the data layer's default query, one line per step."""
    connection = sqlite3.connect(database)
    try:
        steps = connection.execute("EXPLAIN QUERY PLAN " + data_layer_sql()).fetchall()
    finally:
        connection.close()
    depth: dict[int, int] = {0: -1}
    lines = []
    for node, parent, _unused, detail in steps:
        depth[node] = depth.get(parent, -1) + 1
        lines.append("  " * depth[node] + detail)
    return lines


def scans_samples(plan: list[str]) -> list[str]:
    """The plan lines that read the samples table without an index."""
    aliases = r"(samples|latest|previous|pick\d)"
    return [
        line
        for line in plan
        if re.search(rf"\bSCAN {aliases}\b", line) and "INDEX" not in line.upper()
    ]


def measure(root: Path, config: Path, repeat: int, publications: int, samples: int) -> None:
    database = root / "campaign.db"
    csv_path = root / "stats.csv"
    cli_csv = root / "stats-cli.csv"
    store = Store.open(f"sqlite:///{database.as_posix()}")
    try:
        rows = latest_rows(store, StatsFilter(zone=ZONE))
        print(f"the data layer returns {len(rows):,} rows")

        def library() -> None:
            write_csv(latest_rows(store, StatsFilter(zone=ZONE)), csv_path, False, ZONE)

        query_only = best_of(lambda: latest_rows(store, StatsFilter(zone=ZONE)), repeat)
        csv_only = best_of(lambda: write_csv(rows, csv_path, False, ZONE), repeat)
        library_time = best_of(library, repeat)
    finally:
        store.close()
    plan = query_plan(database)
    own_sql = data_layer_sql()
    own_sql_time = best_of(lambda: raw_query(database, own_sql), repeat)
    raw_time = best_of(lambda: raw_query(database, RAW_QUERY), repeat)
    counts_only_time = best_of(lambda: raw_query(database, COUNTS_ONLY_QUERY), repeat)
    window_time = best_of(lambda: raw_query(database, WINDOW_QUERY), max(1, repeat // 3))
    turns = side_by_side(root, config, cli_csv, max(3, repeat))
    raw_turns = statistics.median(turns.pop(RAW_IN_PROCESS))
    runs = {name: [run.wall for run in items] for name, items in turns.items()}
    stats_time = statistics.median(runs["stats"])
    csv_time = statistics.median(runs["stats --csv"])
    process_time = statistics.median(runs["raw SQL process"])
    status = max(run.status for items in turns.values() for run in items)
    last = turns["stats --csv"][-1].last_line
    ratio = query_only / raw_time
    command_ratio = stats_time / raw_turns
    print(f"\n{publications:,} publications, {samples:,} samples; best of {repeat}:")
    print_rows(
        [
            ("(a) data layer + CSV", f"{library_time * 1000:.1f} ms"),
            ("    latest_rows only", f"{query_only * 1000:.1f} ms"),
            ("    write_csv only", f"{csv_only * 1000:.1f} ms"),
            ("    its SQL alone (sqlite3)", f"{own_sql_time * 1000:.1f} ms"),
            ("(c) raw SQL (sqlite3)", f"{raw_time * 1000:.1f} ms"),
            ("    counts only, no labels", f"{counts_only_time * 1000:.1f} ms"),
            ("    window-function SQL", f"{window_time * 1000:.1f} ms"),
            ("ratio latest_rows/(c)", f"{ratio:.2f}"),
            ("ratio (a)/(c)", f"{library_time / raw_time:.2f}"),
            ("ratio latest_rows/counts only", f"{query_only / counts_only_time:.2f}"),
            ("window/(c)", f"{window_time / raw_time:.2f}"),
        ]
    )
    rounds = len(runs["stats"])
    print(f"\nThe whole command, start-up included, taking turns; median of {rounds} rounds:")
    print_rows(
        [
            ("(b) campaign stats", f"{stats_time * 1000:.1f} ms"),
            ("    campaign stats --csv", f"{csv_time * 1000:.1f} ms"),
            ("(c) raw SQL, in-process", f"{raw_turns * 1000:.1f} ms"),
            ("(d) raw SQL as a process", f"{process_time * 1000:.1f} ms"),
            ("ratio (b)/(c)", f"{command_ratio:.2f}"),
            ("ratio stats --csv/(c)", f"{csv_time / raw_turns:.2f}"),
            ("ratio (b)/(d)", f"{stats_time / process_time:.2f}"),
        ]
    )
    print(f"CLI exit status {status}; its last line: {last}")
    print("\nEXPLAIN QUERY PLAN of the data layer's query:")
    for line in plan:
        print(f"  {line}")
    full_scans = scans_samples(plan)
    for line in full_scans:
        print(f"  full scan of samples: {line.strip()}")
    passed = (
        ratio <= GOAL_RATIO
        and command_ratio <= COMMAND_GOAL_RATIO
        and not full_scans
        and status == 0
    )
    print(
        f"\n{verdict(passed)}: the stats query is {ratio:.2f}× the raw SQL (goal ≤ "
        f"{GOAL_RATIO:g}×; with the CSV written too, {library_time / raw_time:.2f}×); the "
        f"whole `campaign stats` command, start-up included, {command_ratio:.2f}× (goal ≤ "
        f"{COMMAND_GOAL_RATIO:g}×); samples are read "
        + ("through the index only." if not full_scans else "with a full scan.")
    )


RAW_IN_PROCESS = "raw SQL in-process"


def side_by_side(root: Path, config: Path, cli_csv: Path, rounds: int) -> dict[str, list]:
    """`campaign stats`, `stats --csv`, the raw SQL as a process and in this process, in
    turn for ``rounds`` rounds after one untimed round; each one's runs (seconds for the
    in-process query, :class:`ProcessRun` for the others)."""
    database = root / "campaign.db"
    cli = [*campaign_command(), "--config", str(config), "stats"]
    floor = (
        "import sqlite3, sys\n"
        "connection = sqlite3.connect(sys.argv[1])\n"
        "print(len(connection.execute(sys.argv[2]).fetchall()), 'rows')\n"
    )
    commands = {
        "stats": cli,
        "stats --csv": [*cli, "--csv", str(cli_csv)],
        "raw SQL process": [sys.executable, "-c", floor, str(database), RAW_QUERY],
    }
    runs: dict[str, list] = {name: [] for name in (*commands, RAW_IN_PROCESS)}
    for round_number in range(rounds + 1):
        for name, command in commands.items():
            run: ProcessRun = time_process(command, cwd=root)
            if round_number:
                runs[name].append(run)
        query = timed(lambda: raw_query(database, RAW_QUERY)).wall
        if round_number:
            runs[RAW_IN_PROCESS].append(query)
    return runs


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    publications = max(1, args.publications)
    per = max(1, args.samples_per)

    def run(root: Path) -> None:
        started = time.perf_counter()
        config = write_database(root, publications, per, args.seed)
        print(
            f"wrote {publications:,} publications and {publications * per:,} samples to "
            f"{root / 'campaign.db'} in {time.perf_counter() - started:.1f} s"
        )
        measure(root, config, max(1, args.repeat), publications, publications * per)

    run_in_folder(args.keep, "campaign-stats-bench-", run)
    return 0


if __name__ == "__main__":
    sys.exit(main())
