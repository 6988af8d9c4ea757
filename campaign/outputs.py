"""Where the tool writes by default, in one place.

Everything the tool makes goes into one folder, ``output/``, apart from the database
(``campaign.db`` stays where earlier releases put it: a database elsewhere would be a fresh
one, and a fresh database would publish everything again). config.toml's defaults, the
rehearsal folder, the command line's defaults, ``campaign init``'s .gitignore and this
repository's .gitignore all come from, or are tested against, the names here.

``output/`` is not ``build/``: that is where pip and setuptools build the package
(``build/lib``, ``build/bdist.*``), so the two would mix when the tool is installed from a
checkout of a campaign repository.

No imports: :mod:`campaign.config` reads its defaults from here on every start-up.
"""

OUTPUT_FOLDER = "output"
"""``[render] build``'s default: renditions/, preview/ and rehearsal/ are made in it."""

RENDITIONS_FOLDER = "renditions"
"""The branded images, one folder per post, inside the build folder."""

PREVIEW_FOLDER = "preview"
"""`campaign preview`'s default folder, inside the build folder."""

REHEARSAL_FOLDER = "rehearsal"
"""`campaign run --rehearse`'s folder (its database and outbox), inside the build folder."""

OUTBOX_FOLDER = f"{OUTPUT_FOLDER}/outbox"
"""``[publishing] outbox``'s default: what a dry run would have posted."""

EXPORT_FOLDER = f"{OUTPUT_FOLDER}/archive"
"""`campaign export`'s default folder (archive.json and archive.csv)."""

STATS_CSV = f"{OUTPUT_FOLDER}/engagement.csv"
"""The file `campaign stats --csv` is shown with in help and README (the user names it)."""

STATS_HTML = f"{OUTPUT_FOLDER}/report"
"""The folder `campaign stats --html` is shown with in help and README (the user names it)."""

DATABASE_URL = "sqlite:///campaign.db"
"""``[database] url``'s default. Never move it: see the module's docstring."""

PACKAGING_FOLDERS = (
    "build",
    "dist",
    "*.egg-info",
    ".eggs",
    "wheelhouse",
    ".venv",
    "venv",
    "__pycache__",
    ".tox",
    ".nox",
)
"""What Python's packaging and test tools write in a checkout: no default output is there."""
