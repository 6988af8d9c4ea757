"""The GitHub workflow and the action, run for real: every `run:` step of the workflow and
of action.yml, as parsed from those files, with bash and the runner's variables
(tests/workflow_runner.py), the tool installed from a copy of this checkout into a fresh
venv by the action's own install step, pip with no network (tests/offline_pip.py).

The tool is installed once for the module: the first job saves the venv under the
action's cache key and the later jobs restore it, as actions/cache does on GitHub.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from campaign import __version__
from campaign.release import action_reference
from tests.offline_pip import REPO, TOOL_SOURCE, copy_tool_source, offline_pip_env, wheelhouse
from tests.workflow_runner import Job, Runner, WorkflowError

WORKFLOW = Path(".github/workflows/check-posts.yml")
#: A GitHub annotation as `campaign check --format github` must write it: a file relative
#: to the repository (no leading slash), a line and column from 1, a title, a message;
#: `:` and `,` in a property are escaped (%3A, %2C), so neither can end it early.
ANNOTATION = re.compile(
    r"^::(?P<level>error|warning|notice) "
    r"file=(?P<file>[^/,:\s][^,:]*),line=(?P<line>[1-9]\d*),col=(?P<col>[1-9]\d*),"
    r"title=(?P<title>[^,:]+)::(?P<message>\S.*)$"
)
GIT = ["git", "-c", "user.name=Test", "-c", "user.email=test@example.invalid"]
SAMPLE = ("posts", "assets", "config.toml", "docs", ".gitignore")


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This repository's files as a pull request's checkout has them: the tool's source,
    the action, the workflow and the sample campaign. One copy for the module, so that
    every job sees the same source (and the same cache key) even while it is edited."""
    folder = tmp_path_factory.mktemp("checkout") / "repo"
    return copy_tool_source(folder, extra=("action.yml", ".github", *SAMPLE))


@pytest.fixture(scope="module")
def runner(checkout: Path, tmp_path_factory: pytest.TempPathFactory) -> Runner:
    """One runner for the module: its cache keeps the tool's venv between jobs. The action
    a pinned `uses:` gets is the checkout's (the same source, the same cache key)."""
    wheels = wheelhouse()
    home = tmp_path_factory.mktemp("runner")
    action = home / "action-source"
    action.mkdir()
    for name in (*TOOL_SOURCE, "action.yml"):
        copy = shutil.copytree if (checkout / name).is_dir() else shutil.copy2
        copy(checkout / name, action / name)
    runner = Runner(home / "runner", action, offline_pip_env(wheels))
    assert shutil.which("campaign", path=runner.base_env["PATH"]) is None
    return runner


def git(folder: Path, *args: str) -> str:
    done = subprocess.run(
        [*GIT, *args], cwd=folder, check=True, capture_output=True, text=True, timeout=60
    )
    return done.stdout


def sample_repository(checkout: Path, folder: Path) -> Path:
    """A git repository with the checkout's files, committed."""
    shutil.copytree(checkout, folder)
    git(folder, "init", "-q", "-b", "main")
    git(folder, "add", "-A")
    git(folder, "commit", "-q", "-m", "sample")
    return folder


def set_inputs(repository: Path, **inputs: str) -> None:
    """Give the step that uses the action more inputs (`strict: "true"`…), committed."""
    path = repository / WORKFLOW
    workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
    workflow["on"] = workflow.pop(True)  # YAML 1.1 reads the key `on` as true
    steps = [
        step
        for job in workflow["jobs"].values()
        for step in job["steps"]
        if step.get("uses") in ("./", action_reference())
    ]
    assert len(steps) == 1
    steps[0].setdefault("with", {}).update(inputs)
    path.write_text(yaml.safe_dump(workflow, sort_keys=False), encoding="utf-8")
    git(repository, "commit", "-q", "-am", f"inputs {inputs}")


def assert_tool_not_built_in(repository: Path) -> None:
    """The job changed no file of the repository, and built no package nor venv in it
    (the install builds from a copy); build/ holds only what `campaign preview` renders."""
    assert git(repository, "status", "--porcelain", "--untracked-files=all") == ""
    ignored = git(repository, "status", "--porcelain", "--ignored", "--untracked-files=all")
    left = [line.removeprefix("!! ") for line in ignored.splitlines()]
    built = [
        path
        for path in left
        if ".egg-info/" in path
        or path.startswith(("build/lib", "build/bdist", "build/temp"))
        or "/bin/campaign" in path
        or path.endswith(".whl")
    ]
    assert built == [], built


def check_output(job: Job) -> list[str]:
    return job.step("Check the posts").output.splitlines()


def assert_annotations(lines: list[str], repository: Path) -> list[re.Match[str]]:
    """Every annotation is well formed and on a file of the repository; the only other
    workflow commands are balanced groups (a folded list); the last line is the summary."""
    matches, depth = [], 0
    for line in lines:
        if re.match(r"::(error|warning|notice)[ :]", line):
            match = ANNOTATION.match(line)
            assert match, line
            assert (repository / match["file"]).is_file(), line
            matches.append(match)
        elif line.startswith("::group::"):
            assert depth == 0 and line != "::group::", line
            depth += 1
        elif line == "::endgroup::":
            assert depth == 1, line
            depth -= 1
        else:
            assert "::" not in line[:2], line
    assert depth == 0
    assert matches, lines
    assert not lines[-1].startswith("::"), lines[-1]
    return matches


def run_own_workflow(runner: Runner, repository: Path) -> Job:
    return runner.run(repository / WORKFLOW, "check", repository)


@pytest.fixture(scope="module")
def own_run(
    runner: Runner, checkout: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Job, Path]:
    """This repository's own workflow on a checkout of it: the first job, which installs."""
    repository = sample_repository(checkout, tmp_path_factory.mktemp("own") / "repo")
    return run_own_workflow(runner, repository), repository


# 1. This repository's workflow, with the action from ./, on the sample campaign


def test_own_workflow_passes_with_warning_annotations(own_run: tuple[Job, Path]) -> None:
    job, repository = own_run
    assert job.exit_code == 0, job.output
    kinds = [(step.name, step.kind, step.in_action) for step in job.steps]
    assert kinds == [
        ("actions/checkout@v4", "uses", False),
        ("Check posts and build the preview", "uses", False),
        ("Set up Python", "uses", True),
        ("Find the campaign tool's environment", "run", True),
        ("Restore the campaign tool", "uses", True),
        ("Install the campaign tool", "run", True),
        ("Check the posts", "run", True),
        ("Build the preview", "run", True),
        ("Upload the preview", "uses", True),
        ("Result", "run", True),
    ]
    assert job.step("Set up Python").inputs == {"python-version": "3.11"}
    lines = check_output(job)
    annotations = assert_annotations(lines, repository)
    assert {a["level"] for a in annotations} == {"warning"}
    assert all(a["file"].startswith("posts/") and a["file"].endswith(".yaml") for a in annotations)
    assert "title=campaign check%3A in-the-past" in lines[0]
    assert re.fullmatch(r"✓ \d+ post files: 0 errors, \d+ warnings\. All good\.", lines[-1])
    action = job.step("Check posts and build the preview")
    assert action.outputs == {
        "check-status": "0",
        "preview-path": str(job.step("Build the preview").outputs["path"]),
    }


def test_own_workflow_uploads_the_preview(own_run: tuple[Job, Path]) -> None:
    job, _ = own_run
    upload = job.step("Upload the preview")
    assert upload.inputs["name"] == "campaign-preview"
    assert list(job.artifacts) == ["campaign-preview"]
    preview = job.artifacts["campaign-preview"]
    assert (preview / "index.html").is_file()
    html = (preview / "index.html").read_text(encoding="utf-8")
    posts = sorted(p.stem for p in (REPO / "posts").glob("*.yaml"))
    assert posts and all(stem in html for stem in posts)


def test_own_workflow_installs_from_a_copy_and_leaves_the_checkout_as_it_was(
    own_run: tuple[Job, Path],
) -> None:
    job, repository = own_run
    assert job.cache_hits == []  # the first job: nothing to restore, so it installed
    [(venv, key)] = job.caches
    assert venv == str(Path(job.step("Build the preview").outputs["path"]).parent / "campaign-tool")
    assert re.fullmatch(r"campaign-tool-Linux-python3\.\d+\.\d+-[0-9a-f]{16}", key), key
    assert job.step("Install the campaign tool").output.strip() == f"campaign {__version__}"
    assert_tool_not_built_in(repository)


def test_own_workflow_writes_the_step_summary(own_run: tuple[Job, Path]) -> None:
    job, _ = own_run
    summary = job.summary.splitlines()
    assert summary[0] == "### Campaign check"
    assert summary[1] == check_output(job)[-1]  # the check's own summary line
    assert "**campaign-preview**" in job.summary and "index.html" in job.summary


# 6. The next job restores the venv instead of installing again


def test_second_run_reuses_the_installed_tool(
    runner: Runner, checkout: Path, own_run: tuple[Job, Path], tmp_path: Path
) -> None:
    first, _ = own_run
    [(venv, key)] = first.caches
    saved = runner.cached(key)
    assert saved is not None, "the first job's venv was not saved"
    before = {name: _stat(saved / name) for name in ("pyvenv.cfg", "bin/campaign")}
    repository = sample_repository(checkout, tmp_path / "repo")
    job = run_own_workflow(runner, repository)
    assert job.exit_code == 0, job.output
    assert job.caches == [(venv, key)] and job.cache_hits == [key]
    assert job.step("Restore the campaign tool").outputs == {"cache-hit": "true"}
    after = {name: _stat(saved / name) for name in ("pyvenv.cfg", "bin/campaign")}
    assert after == before  # not made again, nothing reinstalled
    assert job.step("Install the campaign tool").output.strip() == f"campaign {__version__}"


def _stat(path: Path) -> tuple[int, int]:
    status = path.stat()
    return status.st_ino, status.st_mtime_ns


# The action's other inputs


def test_strict_must_be_true_or_false(runner: Runner, checkout: Path, tmp_path: Path) -> None:
    repository = sample_repository(checkout, tmp_path / "repo")
    set_inputs(repository, strict="yes")
    job = run_own_workflow(runner, repository)
    assert job.exit_code == 2, job.output
    assert job.steps[-1].name == "Check the posts"
    [annotation] = [line for line in check_output(job) if line.startswith("::")]
    assert annotation.startswith("::error title=campaign check::")


def test_preview_false_builds_and_uploads_nothing(
    runner: Runner, checkout: Path, tmp_path: Path
) -> None:
    repository = sample_repository(checkout, tmp_path / "repo")
    set_inputs(repository, preview="false")
    job = run_own_workflow(runner, repository)
    assert job.exit_code == 0, job.output
    assert job.step("Build the preview").kind == "skipped"
    assert job.step("Upload the preview").kind == "skipped"
    assert job.artifacts == {}
    assert "**campaign-preview**" not in job.summary


# 2. A repository made by `campaign init`, with the action pinned to this release


@pytest.fixture(scope="module")
def scaffold(checkout: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`campaign init` in a temporary folder, everything it wrote committed on main. It
    runs from the checkout's copy, the source that the action installs."""
    folder = tmp_path_factory.mktemp("init") / "kampanj"
    pythonpath = os.pathsep.join(filter(None, [str(checkout), os.environ.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-m", "scheduler.cli", "init", str(folder)],
        cwd=folder.parent,
        env={**os.environ, "PYTHONPATH": pythonpath},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert git(folder, "branch", "--show-current").strip() == "main"
    git(folder, "add", "-A")
    git(folder, "commit", "-q", "-m", "A campaign repository")
    return folder


def scaffolded(scaffold: Path, folder: Path) -> Path:
    """A clone of the scaffolded repository of the test's own."""
    shutil.copytree(scaffold, folder, symlinks=True)
    return folder


def run_scaffold_workflow(runner: Runner, repository: Path) -> Job:
    return runner.run(repository / WORKFLOW, "check", repository)


def example_post(repository: Path) -> Path:
    [post] = (repository / "posts").glob("*-exempel.yaml")
    return post


def add_post(repository: Path, name: str, text: str, branch: str) -> Path:
    """A post (with the example's image) committed on a new branch, as in a pull request."""
    git(repository, "switch", "-q", "-c", branch)
    post = repository / "posts" / f"{name}.yaml"
    post.write_text(text, encoding="utf-8")
    image = example_post(repository).with_suffix(".jpg")
    text_images = re.findall(r"- file: (\S+)", text)
    for file in text_images:
        if not (repository / "posts" / file).exists():
            shutil.copy2(image, repository / "posts" / file)
    git(repository, "add", "posts")
    git(repository, "commit", "-q", "-m", f"Add {name}")
    return post


def line_of(text: str, needle: str) -> int:
    [number] = [n for n, line in enumerate(text.splitlines(), 1) if needle in line]
    return number


def test_scaffolded_workflow_uses_the_pinned_action(scaffold: Path) -> None:
    workflow = yaml.safe_load((scaffold / WORKFLOW).read_text(encoding="utf-8"))
    [job] = workflow["jobs"].values()
    assert [step.get("uses") for step in job["steps"]] == [
        "actions/checkout@v4",
        action_reference(),
    ]


def test_scaffolded_repository_passes_clean(
    runner: Runner, scaffold: Path, own_run: tuple[Job, Path], tmp_path: Path
) -> None:
    repository = scaffolded(scaffold, tmp_path / "repo")
    job = run_scaffold_workflow(runner, repository)
    assert job.exit_code == 0, job.output
    action = job.step("Check posts and build the preview")
    assert action.uses == action_reference() and action.outputs["check-status"] == "0"
    assert check_output(job) == ["✓ 1 post file: 0 errors, 0 warnings. All good."]
    upload = job.step("Upload the preview")
    assert upload.inputs["path"] == action.outputs["preview-path"]
    assert (job.artifacts["campaign-preview"] / "index.html").is_file()
    assert job.summary.startswith("### Campaign check\n✓ 1 post file")
    assert job.cache_hits == [key for _, key in own_run[0].caches]  # the same tool, reused
    assert_tool_not_built_in(repository)


def test_broken_post_fails_with_annotations_on_its_lines(
    runner: Runner, scaffold: Path, tmp_path: Path
) -> None:
    repository = scaffolded(scaffold, tmp_path / "repo")
    text = example_post(repository).read_text(encoding="utf-8")
    text = text.replace("status: draft", "status: klar").replace("language:", "langauge:")
    name = example_post(repository).stem.replace("exempel", "trasig")
    post = add_post(repository, name, text, branch="trasig-post")
    job = run_scaffold_workflow(runner, repository)
    assert job.exit_code == 1, job.output
    lines = check_output(job)
    annotations = assert_annotations(lines, repository)
    errors = [a for a in annotations if a["level"] == "error"]
    file = f"posts/{post.name}"
    assert [(a["file"], int(a["line"]), int(a["col"]), a["title"]) for a in errors] == [
        (file, line_of(text, "status: klar"), 9, "campaign check%3A invalid-value"),
        (file, line_of(text, "langauge:"), 1, "campaign check%3A unknown-key"),
    ]
    assert re.fullmatch(r"✗ 2 post files: 2 errors, \d+ warnings?\. .*", lines[-1]), lines[-1]
    assert job.steps[-1].name == "Result" and job.steps[-1].exit_code == 1
    assert job.step("Build the preview").outputs["status"] == "1"  # built, posts have errors
    assert (job.artifacts["campaign-preview"] / "index.html").is_file()  # still previewed
    assert "✗ 2 post files" in job.summary


def test_strict_fails_on_warnings_alone(runner: Runner, scaffold: Path, tmp_path: Path) -> None:
    repository = scaffolded(scaffold, tmp_path / "repo")
    text = example_post(repository).read_text(encoding="utf-8")
    past = re.sub(r"publish_at: .*", "publish_at: 2021-09-15 10:00", text)
    add_post(repository, "2021-09-15-arkiv", past, branch="arkiv")
    lenient = run_scaffold_workflow(runner, repository)
    assert lenient.exit_code == 0, lenient.output
    set_inputs(repository, strict="true")
    strict = run_scaffold_workflow(runner, repository)
    assert strict.exit_code == 1, strict.output
    for job in (lenient, strict):
        annotations = assert_annotations(check_output(job), repository)
        assert [(a["level"], a["file"], a["line"]) for a in annotations] == [
            ("warning", "posts/2021-09-15-arkiv.yaml", str(line_of(past, "publish_at:")))
        ]
    assert check_output(strict)[-1].startswith("✗ 2 post files: 0 errors, 1 warning.")
    assert strict.step("Check posts and build the preview").outputs["check-status"] == "1"
    assert (strict.artifacts["campaign-preview"] / "index.html").is_file()


def test_config_that_cannot_be_used_is_exit_2(
    runner: Runner, scaffold: Path, tmp_path: Path
) -> None:
    repository = scaffolded(scaffold, tmp_path / "repo")
    config = repository / "config.toml"
    text = config.read_text(encoding="utf-8")
    assert 'timezone = "Europe/Stockholm"' in text
    config.write_text(text.replace('"Europe/Stockholm"', '"Europe/Sodertalje"'), encoding="utf-8")
    git(repository, "commit", "-q", "-am", "a time zone that does not exist")
    job = run_scaffold_workflow(runner, repository)
    assert job.exit_code == 2, job.output
    assert job.step("Check posts and build the preview").outputs["check-status"] == "2"
    assert job.step("Build the preview").outputs["status"] == "2"
    assert job.artifacts == {}  # nothing to upload: the upload warns, the job says why
    assert job.step("Upload the preview").output.startswith("::warning::No files were found")
    assert job.steps[-1].name == "Result" and job.steps[-1].exit_code == 2
    # the setting that cannot be used is an annotation on its own line of config.toml
    annotations = assert_annotations(check_output(job), repository)
    assert [(a["level"], a["file"], a["line"], a["title"]) for a in annotations] == [
        (
            "error",
            "config.toml",
            str(line_of(text, "timezone = ")),
            "campaign check%3A config-timezone",
        )
    ]
    assert "Europe/Sodertalje" in annotations[0]["message"]
    # the summary says why there is no check summary, and names no preview to download
    assert job.summary.startswith(
        "### Campaign check\n✗ The posts could not be checked (exit code 2): "
    )
    assert "`config.toml`" in job.summary and "campaign-preview" not in job.summary


# The runner refuses what it cannot run faithfully (so the tests above can fail)


def test_runner_refuses_an_expression_in_a_script(runner: Runner, tmp_path: Path) -> None:
    repository = tmp_path / "repo"
    (repository / ".github/workflows").mkdir(parents=True)
    workflow = repository / ".github/workflows/bad.yml"
    workflow.write_text(
        "on: pull_request\njobs:\n  check:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: echo '${{ github.workspace }}'\n",
        encoding="utf-8",
    )
    with pytest.raises(WorkflowError, match="inside run:"):
        runner.run(workflow, "check", repository)
    workflow.write_text(
        "on: pull_request\njobs:\n  check:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: someone/else@v1\n",
        encoding="utf-8",
    )
    with pytest.raises(WorkflowError, match="does not know the action"):
        runner.run(workflow, "check", repository)
    for expression, refusal in (
        ("github.event.pull_request.title", "does not know"),
        ("inputs.config", "does not know"),  # a workflow's job has no inputs here
        ("steps.a.outputs.b != 'c'", "cannot evaluate"),
        ("format('{0}', runner.os)", "cannot evaluate"),
    ):
        workflow.write_text(
            "on: pull_request\njobs:\n  check:\n    runs-on: ubuntu-latest\n    steps:\n"
            f"      - env:\n          VALUE: ${{{{ {expression} }}}}\n        run: 'true'\n",
            encoding="utf-8",
        )
        with pytest.raises(WorkflowError, match=refusal):
            runner.run(workflow, "check", repository)


def test_runner_reads_outputs_env_and_path_as_github_does(runner: Runner, tmp_path: Path) -> None:
    repository = tmp_path / "repo"
    (repository / ".github/workflows").mkdir(parents=True)
    workflow = repository / ".github/workflows/files.yml"
    workflow.write_text(
        """\
on: pull_request
jobs:
  check:
    runs-on: ubuntu-latest
    steps:
      - id: one
        shell: bash
        run: |
          echo "plain=a=b" >> "$GITHUB_OUTPUT"
          printf 'block<<END\\nline 1\\nline 2\\nEND\\n' >> "$GITHUB_OUTPUT"
          echo "FROM_ONE=1" >> "$GITHUB_ENV"
          mkdir -p "$RUNNER_TEMP/bin" && printf '#!/bin/sh\\necho tool\\n' > "$RUNNER_TEMP/bin/t"
          chmod +x "$RUNNER_TEMP/bin/t" && echo "$RUNNER_TEMP/bin" >> "$GITHUB_PATH"
      - if: steps.one.outputs.plain == 'A=B'
        shell: bash
        env:
          BLOCK: ${{ steps.one.outputs.block }}
        run: |
          test "$BLOCK" = "$(printf 'line 1\\nline 2')" && test "$FROM_ONE" = 1 && t
          test "$GITHUB_WORKSPACE" = "$PWD" && test "$CI" = true && test "$RUNNER_OS" = Linux
      - if: steps.one.outputs.plain == 'c'
        run: exit 3
      - run: false | true
      - shell: bash
        run: false | true
      - run: echo never
""",
        encoding="utf-8",
    )
    job = runner.run(workflow, "check", repository)
    assert job.steps[0].outputs == {"plain": "a=b", "block": "line 1\nline 2"}
    assert job.steps[1].output == "tool\n"
    # no shell: is `bash -e` (a pipe's status is its last command's); bash adds pipefail
    assert [(s.kind, s.exit_code) for s in job.steps] == [
        ("run", 0),
        ("run", 0),
        ("skipped", 0),
        ("run", 0),
        ("run", 1),
    ]
    assert job.exit_code == 1


def test_workflows_in_this_repository_use_the_action_as_tested() -> None:
    """The runner knows every `uses:` of this repository's workflow (else it would fail
    above); its only job runs the action from ./ on pull requests."""
    workflow = yaml.safe_load((REPO / WORKFLOW).read_text(encoding="utf-8"))
    steps = workflow["jobs"]["check"]["steps"]
    assert [step.get("uses") for step in steps] == ["actions/checkout@v4", "./"]
