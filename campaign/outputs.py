"""Where the tool writes by default, in one place: the command line and `campaign init`'s
.gitignore both read these, so whatever the tool writes is ignored by git."""

EXPORT_FOLDER = "archive"
"""`campaign export`'s default folder (archive.json and archive.csv)."""
