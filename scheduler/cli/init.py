"""`campaign init DIR`: a campaign repository of the team's own, ready to check and push.

The files themselves are made in :mod:`campaign.init_files`; here the values are asked
for (or taken from the options) and checked, the folder is looked at before anything is
written (files that exist, links, files where folders belong), the files are written
through :mod:`campaign.safe_output`, git is set up, and the new repository is checked.

Exit codes: 0 done; 1 the new repository does not pass `campaign check` (a bug, or a
post that was already there); 2 a bad value, something in the way, or a file-system error;
130 stopped with Ctrl-C. Files are written all or none: an error or Ctrl-C while writing
removes what this run wrote and puts back what it overwrote (--force), so that running it
again is the way on.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import typer
from click.exceptions import Abort
from pydantic import ValidationError
from rich.console import Console

from campaign import __version__
from campaign.config import ConfigError, ConfigFile, load_config
from campaign.init_files import (
    CONFIG,
    PRE_COMMIT_CONFIG,
    WORKFLOW,
    InitValues,
    repository_files,
)
from campaign.post_format import PostFile
from campaign.post_loader import load_campaign
from campaign.release import action_reference, version_tag
from campaign.safe_output import (
    UnsafeOutput,
    lexical,
    read_regular,
    real_folder,
    remove_if_empty,
    write_file,
)
from campaign.text_patterns import BIDI_CONTROL, CONTROL, ZERO_WIDTH
from campaign.validation_messages import did_you_mean
from scheduler.cli.check_output import display_path, literal, print_text, summary_line

MAX_NAME = 200
_GIT_ENV = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_PREFIX")


class _Stop(Exception):
    """End the command with ``code``; the message has been printed."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def run_init(
    folder: Path,
    *,
    name: str | None,
    timezone: str | None,
    language: str | None,
    force: bool,
    git: bool,
    out: Console,
    err: Console,
) -> int:
    """Set up ``folder`` as a campaign repository; the exit code."""
    written = False
    try:
        root = lexical(folder)
        values = _values(root, name, timezone, language, err)
        _refuse_unusable_folder(root, err)
        zone = ZoneInfo(values.timezone)
        planned = repository_files(values, datetime.now(zone).date())
        _look_before_writing(root, planned, force, err)
        _write(root, planned, err)
        written = True
        git_note = _set_up_git(root, err) if git else None
        checked = _check(root, err)
        _report(root, planned, checked, git_note, out)
        return 0
    except _Stop as stop:
        return stop.code
    except KeyboardInterrupt:  # Ctrl-C: say what is there, like any other way of stopping
        if written:
            err.print(
                "Stopped: every file was written, but git may not be set up (git init -b "
                "main) and nothing was checked (campaign check)."
            )
        else:
            err.print("Stopped: nothing was written.")
        return 130
    except OSError as problem:
        where = f"{display_path(Path(problem.filename))}: " if problem.filename else ""
        then = (
            "Every file was written: fix this, then run campaign check."
            if written
            else "Nothing was written. Check the folder and its permissions, then run "
            "campaign init again."
        )
        err.print(f"[red]error[/]: {literal(where + (problem.strerror or str(problem)))}. {then}")
        return 2


# --- the values -----------------------------------------------------------------------


def tidy_name(folder: Path) -> str:
    """A campaign name from a folder's name: ``vaccin-hosten_2025`` → ``Vaccin hosten 2025``."""
    words = re.sub(r"[-_.\s]+", " ", folder.name).strip()
    words = "".join(c for c in words if not _unsafe_in_name(c))
    return (words[:1].upper() + words[1:])[:MAX_NAME] if words else "Campaign"


def _unsafe_in_name(text: str) -> bool:
    return bool(
        CONTROL.search(text) or BIDI_CONTROL.search(text) or ZERO_WIDTH.search(text)
    ) or any(c in text for c in "\t\n\u2028\u2029")


def name_problem(name: str) -> str | None:
    if not name.strip():
        return 'is empty. Give the campaign a name, like --name "Autumn vaccination 2025".'
    if _unsafe_in_name(name):
        return (
            f'"{name}" holds a control or invisible character (such as a line break, an escape '
            "or a direction mark). Type the name again without it."
        )
    if len(name) > MAX_NAME:
        return f"is {len(name)} characters long. Use at most {MAX_NAME}."
    return None


#: Names in the zone database that are no place's time: this computer's own setting
#: (another computer, the server or GitHub, reads another), and tzdata's "Factory" (-00).
_NOT_A_PLACE = {"localtime", "posixrules", "Factory"}


def timezone_problem(zone: str) -> str | None:
    if zone in _NOT_A_PLACE:
        return (
            f'"{zone}" is not a place\'s time zone: it means something else on each computer '
            "(the server and GitHub read their own). Write the IANA name of the campaign's "
            "zone, like Europe/Stockholm, Europe/Helsinki or America/New_York."
        )
    known = available_timezones() - _NOT_A_PLACE
    if zone in known:
        return None
    try:
        if not known and ZoneInfo(zone):
            return None  # no list of zones on this system, yet the zone loads
    except (ZoneInfoNotFoundError, ValueError, OSError):
        pass
    hint = did_you_mean(zone, known)
    return (
        f'"{zone}" is not a known time zone.{hint} Write an IANA time zone name, like '
        "Europe/Stockholm, Europe/Helsinki or America/New_York."
    )


def _is_language_code(code: str) -> bool:
    """Whether a post's `language:` takes ``code`` (the post format is the one definition)."""
    try:
        PostFile.model_validate(
            {"publish_at": "2000-01-01 12:00", "status": "draft", "language": code}
        )
    except ValidationError as problem:
        return not any(error["loc"][:1] == ("language",) for error in problem.errors())
    return True


def language_problem(code: str) -> str | None:
    if _is_language_code(code):
        return None
    tidied = code.strip().lower().replace("_", "-")
    hint = f" Did you mean `{tidied}`?" if tidied != code and _is_language_code(tidied) else ""
    return (
        f'"{code}" is not a language code that posts accept.{hint} Write two or three '
        "lower-case letters, like sv, en, fi or ar (a region may follow: en-GB)."
    )


@dataclass(frozen=True)
class _Option:
    flag: str
    label: str
    default: str
    problem: Callable[[str], str | None]


def _values(
    root: Path, name: str | None, timezone: str | None, language: str | None, err: Console
) -> InitValues:
    defaults = ConfigFile().campaign
    options = (
        (_Option("--name", "Campaign name", tidy_name(root), name_problem), name),
        (_Option("--timezone", "Time zone", defaults.timezone, timezone_problem), timezone),
        (
            _Option("--language", "Language of most posts", defaults.language, language_problem),
            language,
        ),
    )
    problems = [
        f"{option.flag} {problem}"
        for option, given in options
        if given is not None and (problem := option.problem(_clean(option, given)))
    ]
    if problems:
        for problem in problems:
            err.print(f"[red]error[/]: {literal(problem)}")
        err.print("Nothing was written. Correct the option and run campaign init again.")
        raise _Stop(2)
    interactive = _interactive()
    chosen = []
    for option, given in options:
        if given is not None:
            chosen.append(_clean(option, given))
        elif interactive:
            chosen.append(_prompt(option, err))
        else:
            chosen.append(option.default)
    return InitValues(*chosen)


def _clean(option: _Option, value: str) -> str:
    return value.strip() if option.flag == "--name" else value


def _interactive() -> bool:
    """Whether a person is at a terminal to answer questions (stdin and stdout both)."""
    try:
        return bool(sys.stdin and sys.stdin.isatty() and sys.stdout and sys.stdout.isatty())
    except (ValueError, OSError):  # closed
        return False


def _prompt(option: _Option, err: Console) -> str:
    while True:
        try:
            answer = _clean(option, typer.prompt(option.label, default=option.default))
        except Abort:
            err.print("Stopped: nothing was written.")
            raise _Stop(1) from None
        problem = option.problem(answer)
        if problem is None:
            return answer
        err.print(f"[red]error[/]: {literal(problem)}")


# --- looking before writing -----------------------------------------------------------


def _refuse_unusable_folder(root: Path, err: Console) -> None:
    try:
        mode = os.lstat(root).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISLNK(mode):
        shown = literal(display_path(root))
        err.print(
            f"[red]error[/]: {shown} is a symbolic link. campaign init never writes through a "
            f"link: give the real folder ({literal(str(root.resolve()))}) instead, or remove "
            "the link. Nothing was written."
        )
        raise _Stop(2)
    if not stat.S_ISDIR(mode):
        err.print(
            f"[red]error[/]: {literal(display_path(root))} is a file, not a folder. Choose "
            "another folder. Nothing was written."
        )
        raise _Stop(2)


def _look_before_writing(
    root: Path, planned: dict[PurePosixPath, bytes], force: bool, err: Console
) -> None:
    """Stop before anything is written if a link or a non-file is in the way, or (without
    --force) if a file that would be written exists."""
    in_the_way: list[str] = []
    existing: list[Path] = []
    folders_seen: set[PurePosixPath] = set()
    for relative in planned:
        for depth in range(1, len(relative.parts)):
            folder = PurePosixPath(*relative.parts[:depth])
            if folder in folders_seen:
                continue
            folders_seen.add(folder)
            kind = _kind(root / folder)
            if kind == "link":
                in_the_way.append(f"{literal(display_path(root / folder))} is a symbolic link")
            elif kind not in (None, "folder"):
                in_the_way.append(f"{literal(display_path(root / folder))} is a file, not a folder")
        kind = _kind(root / relative)
        if kind == "link":
            target = literal(os.readlink(root / relative))
            shown = literal(display_path(root / relative))
            in_the_way.append(f"{shown} is a symbolic link (to {target})")
        elif kind == "folder":
            in_the_way.append(f"{literal(display_path(root / relative))} is a folder")
        elif kind is not None:
            existing.append(root / relative)
    if in_the_way:
        for problem in in_the_way:
            err.print(f"[red]error[/]: {problem}.")
        err.print(
            "campaign init never writes through a link or over a folder (a link could point "
            "anywhere on this computer), also not with --force. Remove or rename what is named "
            "above and run campaign init again. Nothing was written."
        )
        raise _Stop(2)
    if existing and not force:
        for path in existing:
            err.print(f"[red]exists[/]: {literal(display_path(path))}")
        err.print(
            f"Nothing was written: {len(existing)} of the files campaign init writes exist "
            "already. Move them away, choose another folder, or run campaign init again with "
            "--force to overwrite them."
        )
        raise _Stop(2)


def _kind(path: Path) -> str | None:
    try:
        mode = os.lstat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):  # a file in the way is named already
        return None
    if stat.S_ISLNK(mode):
        return "link"
    if stat.S_ISDIR(mode):
        return "folder"
    return "file" if stat.S_ISREG(mode) else "other"


def _write(root: Path, planned: dict[PurePosixPath, bytes], err: Console) -> None:
    """Write every planned file, or none: a failure or Ctrl-C part-way removes the files
    and folders this run made and puts back the ones it overwrote (--force), so that
    running campaign init again is the way on."""
    made_folders = _missing_folders(root, planned)
    before: dict[Path, bytes] = {}  # files that were there (--force), as they were
    done: list[Path] = []
    path = root
    try:
        real_folder(root)
        for relative, data in planned.items():
            path = root / relative  # named if writing it fails
            path = real_folder(root / relative.parent, root) / relative.name
            if _kind(path) == "file":
                before[path] = read_regular(path)
            write_file(path, data)
            done.append(path)
    except KeyboardInterrupt:
        _undo(done, before, made_folders)
        raise
    except (OSError, UnsafeOutput) as problem:  # a full disk, a permission, a race
        left = _undo(done, before, made_folders)
        if isinstance(problem, OSError):
            where = Path(problem.filename) if problem.filename else path
            told = f"{display_path(where)}: {problem.strerror or problem}"
        else:
            told = str(problem)
        err.print(f"[red]error[/]: {literal(told)}.")
        if left:
            err.print("These could not be put back as they were, and are left:")
            for leftover in left:
                err.print(f"  {literal(display_path(leftover))}")
        else:
            err.print("Nothing was written: what was written before this is removed again.")
        err.print(
            "Check the folder, its permissions and the free space, then run campaign init again."
        )
        raise _Stop(2) from None


def _missing_folders(root: Path, planned: dict[PurePosixPath, bytes]) -> list[Path]:
    """The folders that writing ``planned`` makes: ``root`` (and missing ones above it)
    and those inside it, deepest first."""
    missing: set[Path] = set()
    for path in (root, *root.parents):
        if os.path.lexists(path):
            break
        missing.add(path)
    for relative in planned:
        for depth in range(1, len(relative.parts)):
            folder = root / PurePosixPath(*relative.parts[:depth])
            if not os.path.lexists(folder):
                missing.add(folder)
    return sorted(missing, key=lambda path: len(path.parts), reverse=True)


def _undo(done: list[Path], before: dict[Path, bytes], made_folders: list[Path]) -> list[Path]:
    """Take back what :func:`_write` did; what could not be taken back."""
    left: list[Path] = []
    for path in reversed(done):
        try:
            if path in before:
                write_file(path, before[path])
            else:
                path.unlink(missing_ok=True)
        except (OSError, UnsafeOutput):
            left.append(path)
    for folder in made_folders:
        if os.path.lexists(folder) and not remove_if_empty(folder):
            left.append(folder)
    return left


# --- git ------------------------------------------------------------------------------


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in _GIT_ENV}
    return subprocess.run(
        ["git", *args],
        cwd=root,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )


def _set_up_git(root: Path, err: Console) -> str:
    """``git init`` unless ``root`` is in a work tree already; what was done, in words."""
    if shutil.which("git") is None:
        err.print(
            "[yellow]note[/]: git is not installed, so the folder is not a git repository yet. "
            "Install git, then run: git init -b main"
        )
        return "missing"
    inside = _git(root, "rev-parse", "--is-inside-work-tree")
    if inside.returncode == 0 and inside.stdout.strip() == "true":
        top = _git(root, "rev-parse", "--show-toplevel").stdout.strip()
        return f"inside:{top}"
    made = _git(root, "init", "-q", "-b", "main")
    if made.returncode != 0:  # git before 2.28 has no -b
        made = _git(root, "init", "-q")
        if made.returncode == 0:
            _git(root, "symbolic-ref", "HEAD", "refs/heads/main")
    if made.returncode != 0:
        err.print(
            f"[yellow]note[/]: git init did not work: {literal(made.stderr.strip())}. "
            "The files are written; make the repository yourself: git init -b main"
        )
        return "failed"
    return "made"


# --- checking and reporting -----------------------------------------------------------


def _check(root: Path, err: Console) -> str:
    """The new repository as `campaign check` sees it; its summary line."""
    try:
        config = load_config(root / CONFIG)
    except ConfigError as problem:
        for diagnostic in problem.diagnostics:
            err.print(f"[red]config error[/]: {literal(str(diagnostic))}")
        err.print("This is a bug in campaign init: please report it.")
        raise _Stop(1) from None
    result = load_campaign(config)
    if result.errors:
        print_text(err, result.diagnostics, result.files, strict=False)
        err.print(
            "The files are written, but the check above found errors: fix them (a post that "
            "was there before), or report a bug in campaign init if they are in its files."
        )
        raise _Stop(1)
    return summary_line(result.diagnostics, result.files, strict=False)


def _report(
    root: Path,
    planned: dict[PurePosixPath, bytes],
    checked: str,
    git_note: str | None,
    out: Console,
) -> None:
    shown = literal(display_path(root))
    out.print(f"Set up a campaign repository in {shown}:")
    for relative in planned:
        out.print(f"  {literal(str(relative))}")
    out.print(
        f"It uses campaign {__version__}, pinned in {CONFIG} (tool_version = "
        f'"{__version__}"), {WORKFLOW} (uses: {literal(action_reference())}) and '
        f"{PRE_COMMIT_CONFIG} (rev: {version_tag()})."
    )
    out.print(f"campaign check: {literal(checked)}")
    if git_note == "made":
        out.print("It is a new git repository (branch main), with nothing committed yet.")
    elif git_note and git_note.startswith("inside:"):
        top = git_note.removeprefix("inside:")
        out.print(f"It is inside the git repository {literal(top)}: no new one was made.")
        if not _same_folder(Path(top), root):
            _tell_not_at_the_root(Path(top), root, out)
    out.print("\nNext:")
    if lexical(Path.cwd()) != root:
        out.print(f"  cd {literal(_shell_folder(display_path(root)))}")
    out.print("  campaign check")
    out.print("  campaign preview --open")
    commit = 'git add -A && git commit -m "A campaign repository"'
    if git_note and git_note.startswith("inside:"):
        out.print(f"  {commit}")
    else:
        made = "" if git_note == "made" else "git init -b main && "  # --no-git, or it failed
        out.print(
            f"  {made}{commit} && git remote add origin URL-OF-YOUR-REPOSITORY && "
            "git push -u origin main"
        )


def _shell_folder(shown: str) -> str:
    """``shown`` as an argument of ``cd`` in a shell: quoted, and never read as an option."""
    return shlex.quote(f"./{shown}" if shown.startswith("-") else shown)


def _same_folder(one: Path, other: Path) -> bool:
    try:
        return os.path.samefile(one, other)
    except OSError:
        return lexical(one) == lexical(other)


def _tell_not_at_the_root(top: Path, root: Path, out: Console) -> None:
    """GitHub and pre-commit read their files only at a repository's root, not here."""
    try:
        inner = root.resolve().relative_to(top.resolve()).as_posix()
    except (ValueError, OSError):
        inner = display_path(root)
    out.print(
        f"[yellow]note[/]: {WORKFLOW} and {PRE_COMMIT_CONFIG} work only at the root of the "
        f"git repository ({literal(str(top))}): GitHub and pre-commit do not read them in "
        f"{literal(inner)}. To check pull requests, move the workflow to "
        f"{literal(str(top / WORKFLOW.parent))}/ and write config: "
        f"{literal(inner)}/{CONFIG} in it; the pre-commit hook checks only a campaign at a "
        "repository's root."
    )
