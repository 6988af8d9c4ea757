"""Runs a GitHub Actions job on this machine, the parts that a campaign repository uses.

A test hands it a workflow file, a job and a repository folder; it walks the job's steps
as GitHub's runner would and returns what came out (exit code, outputs, annotations, the
step summary, the uploaded artifacts), so that the real workflow and the real action.yml
are what is tested, never a re-typing of their steps:

- ``actions/checkout@…``: nothing, the repository is already the working folder;
- ``uses: ./`` (the action in the repository itself) and ``uses: <release.action_reference()>``
  (the action a team pins): action.yml expanded as a composite action, its inputs from
  ``with:`` over the defaults. ``github.action_path`` is always a copy of the tool's source,
  never this checkout, so nothing is ever built inside it;
- ``actions/setup-python@…``: this Python (the base interpreter, so ``python -m venv`` works)
  on PATH, with the outputs ``python-version`` and ``python-path``;
- ``actions/cache@…``: restored when the same key was saved by an earlier job that
  succeeded, else a miss; saved at the end of a job that succeeded (as the cache's post
  step does). ``path`` and ``key`` must be non-empty;
- ``actions/upload-artifact@…``: the folder copied aside under the artifact's name;
- any other ``uses:``: an error (a step this runner does not know).

``run:`` steps run with bash as GitHub runs them (``shell: bash`` is ``bash --noprofile
--norc -eo pipefail``; no shell is ``bash -e``), in the repository, with the GITHUB_* and
RUNNER_* variables set, and after each step GITHUB_OUTPUT, GITHUB_ENV, GITHUB_PATH and
GITHUB_STEP_SUMMARY are read the way the runner reads them. ``if:`` is honoured. The job
stops at the first failing step, whose exit code is the job's.

``${{ … }}`` is evaluated only in ``env:``, ``with:``, ``if:`` and an action's ``outputs``,
by a small evaluator that knows exactly what action.yml uses (``inputs.X``,
``github.action_path``, ``github.workspace``, ``runner.temp``, ``runner.os``,
``steps.ID.outputs.X``, string literals and ``==``) and refuses anything else. A ``run:``
script that contains ``${{`` is refused: values reach scripts only through ``env:``, so
nothing from a pull request can become shell code.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from campaign.release import action_reference

#: How long one step may take before the job is called hung.
STEP_TIMEOUT = 900
#: GitHub's workflow commands that make annotations: ``::error file=…,line=1,…::message``.
ANNOTATION = re.compile(r"^::(error|warning|notice)(?: ([^:]*))?::(.*)$")
_STEP_KEYS = {"name", "id", "uses", "with", "run", "shell", "env", "if", "working-directory"}
_JOB_KEYS = {"name", "runs-on", "timeout-minutes", "steps", "permissions", "env"}
_SHELLS = {
    None: ["bash", "-e"],  # no `shell:` on Linux
    "bash": ["bash", "--noprofile", "--norc", "-eo", "pipefail"],
}


class WorkflowError(AssertionError):
    """The workflow or action uses something this runner refuses or does not know."""


@dataclass
class Step:
    """What one step did (a composite action's inner steps are listed after it)."""

    name: str
    kind: str  # "run", "uses", or "skipped"
    uses: str = ""
    exit_code: int = 0
    output: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    inputs: dict[str, str] = field(default_factory=dict)
    in_action: bool = False


@dataclass
class Job:
    """The result of one job."""

    exit_code: int
    steps: list[Step]
    summary: str
    artifacts: dict[str, Path]
    cache_hits: list[str]
    caches: list[tuple[str, str]]  # (path, key) of each actions/cache step

    @property
    def output(self) -> str:
        return "".join(step.output for step in self.steps)

    def annotations(self) -> list[str]:
        return [line for line in self.output.splitlines() if ANNOTATION.match(line)]

    def step(self, name: str) -> Step:
        found = [step for step in self.steps if step.name == name]
        if len(found) != 1:
            raise KeyError(f"{len(found)} steps named {name!r}: {[s.name for s in self.steps]}")
        return found[0]


@dataclass
class _Scope:
    """What expressions in one workflow job or one composite action can see."""

    inputs: dict[str, str] | None  # None: a workflow job, which has no `inputs` here
    action_path: str
    steps: dict[str, dict[str, str]] = field(default_factory=dict)


class Runner:
    """Runs jobs; one runner keeps its cache between jobs, like a repository's Actions."""

    def __init__(self, home: Path, action_source: Path, base_env: Mapping[str, str]) -> None:
        """``home``: an empty folder for the runner's files; ``action_source``: a copy of
        the tool's source with action.yml (what a pinned ``uses:`` gets);
        ``base_env``: the environment of the machine the runner is on."""
        self.home = home
        self.action_source = action_source
        #: Same path in every job, emptied at the start of each (as on GitHub's runners).
        self.temp = home / "_temp"
        self.artifact_root = home / "artifacts"
        self.cache_root = home / "cache"
        self.python_bin = home / "python" / "bin"
        self._cache_saved: dict[str, Path] = {}
        self._jobs = 0
        for folder in (self.artifact_root, self.cache_root, self.python_bin):
            folder.mkdir(parents=True, exist_ok=True)
        base = Path(getattr(sys, "_base_executable", sys.executable))
        for name in ("python", "python3"):
            link = self.python_bin / name
            if not link.exists():
                link.symlink_to(base)
        self.base_env = _clean_env(base_env)

    def run(self, workflow: Path, job_id: str, workspace: Path) -> Job:
        """Run job ``job_id`` of ``workflow`` (a file) in the repository ``workspace``."""
        document = yaml.safe_load(workflow.read_text(encoding="utf-8"))
        job = document["jobs"][job_id]
        _refuse_unknown(job, _JOB_KEYS, f"job {job_id}")
        self._jobs += 1
        shutil.rmtree(self.temp, ignore_errors=True)
        self.temp.mkdir(parents=True)
        state = _JobState(
            workspace=workspace.resolve(),
            temp=self.temp,
            env={**self.base_env, **_strings(document.get("env")), **_strings(job.get("env"))},
            number=self._jobs,
        )
        scope = _Scope(inputs=None, action_path="")
        exit_code = self._steps(job["steps"], scope, state, in_action=False)
        for path, key in state.caches:
            # A restored cache stays in the store (here it was moved, so it moves back);
            # a missed key is saved by actions/cache's post step, which runs on success.
            if key in state.cache_hits or (exit_code == 0 and (path, key) in state.cache_misses):
                self._save_cache(Path(path), key)
        return Job(
            exit_code=exit_code,
            steps=state.steps,
            summary=state.summary,
            artifacts=state.artifacts,
            cache_hits=state.cache_hits,
            caches=state.caches,
        )

    # Steps

    def _steps(self, steps: list[dict], scope: _Scope, state: _JobState, in_action: bool) -> int:
        for index, step in enumerate(steps):
            _refuse_unknown(step, _STEP_KEYS, f"step {index + 1}")
            name = str(step.get("name") or step.get("uses") or step.get("run", "")[:40])
            condition = step.get("if")
            if condition is not None and not _truthy(_evaluate_if(condition, scope, state)):
                state.steps.append(Step(name=name, kind="skipped", in_action=in_action))
                continue
            if "run" in step:
                exit_code = self._run_step(step, name, scope, state, in_action)
            elif "uses" in step:
                exit_code = self._uses_step(step, name, scope, state, in_action)
            else:
                raise WorkflowError(f"step {name!r} has neither run: nor uses:")
            if exit_code != 0:
                return exit_code
        return 0

    def _run_step(
        self, step: dict, name: str, scope: _Scope, state: _JobState, in_action: bool
    ) -> int:
        script = step["run"]
        if "${{" in script:
            raise WorkflowError(
                f"step {name!r}: ${{{{ }}}} inside run: (values reach a script through env: "
                "only, so nothing from a pull request becomes shell code)"
            )
        shell = step.get("shell")
        if in_action and shell is None:
            raise WorkflowError(f"step {name!r}: a composite action's run step needs shell:")
        if shell not in _SHELLS:
            raise WorkflowError(f"step {name!r}: shell {shell!r} is not bash")
        env = {
            **state.env,
            **{k: _render(v, scope, state) for k, v in _strings(step.get("env")).items()},
        }
        files = state.step_files()
        env.update(
            CI="true",
            GITHUB_ACTIONS="true",
            GITHUB_WORKSPACE=str(state.workspace),
            GITHUB_ACTION_PATH=scope.action_path,
            GITHUB_OUTPUT=str(files["output"]),
            GITHUB_ENV=str(files["env"]),
            GITHUB_PATH=str(files["path"]),
            GITHUB_STEP_SUMMARY=str(files["summary"]),
            RUNNER_TEMP=str(self.temp),
            RUNNER_OS="Linux",
            PATH=os.pathsep.join([*state.path, env.get("PATH", os.defpath)]),
        )
        script_file = files["script"]
        script_file.write_text(script, encoding="utf-8")
        cwd = state.workspace
        if "working-directory" in step:
            cwd = state.workspace / _render(step["working-directory"], scope, state)
        done = subprocess.run(
            [*_SHELLS[shell], str(script_file)],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=STEP_TIMEOUT,
        )
        outputs = _read_key_values(files["output"])
        state.env.update(_read_key_values(files["env"]))
        added = [line for line in _read_lines(files["path"]) if line.strip()]
        state.path[:0] = reversed(added)  # the last one added comes first
        state.summary += files["summary"].read_text(encoding="utf-8")
        if "id" in step:
            scope.steps[step["id"]] = outputs
        state.steps.append(
            Step(
                name=name,
                kind="run",
                exit_code=done.returncode,
                output=done.stdout,
                outputs=outputs,
                in_action=in_action,
            )
        )
        return done.returncode

    def _uses_step(
        self, step: dict, name: str, scope: _Scope, state: _JobState, in_action: bool
    ) -> int:
        uses = str(step["uses"])
        with_ = {k: _render(v, scope, state) for k, v in _strings(step.get("with")).items()}
        record = Step(name=name, kind="uses", uses=uses, inputs=with_, in_action=in_action)
        action, _, _ref = uses.partition("@")
        if uses == "./" or uses == action_reference():
            action_path = state.workspace if uses == "./" else self.action_source
            state.steps.append(record)
            return self._composite(action_path, with_, step.get("id"), record, scope, state)
        if action == "actions/checkout":
            pass
        elif action == "actions/setup-python":
            state.path.insert(0, str(self.python_bin))
            record.outputs = {
                "python-version": "{}.{}.{}".format(*sys.version_info[:3]),
                "python-path": str(self.python_bin / "python"),
            }
        elif action == "actions/cache":
            path, key = with_.get("path", ""), with_.get("key", "")
            if not path.strip() or not key.strip():
                raise WorkflowError(f"step {name!r}: actions/cache with path {path!r}, key {key!r}")
            state.caches.append((path, key))
            hit = self._restore_cache(Path(path), key)
            if hit:
                state.cache_hits.append(key)
            else:
                state.cache_misses.append((path, key))
            record.outputs = {"cache-hit": "true" if hit else "false"}
        elif action == "actions/upload-artifact":
            self._upload(with_, record, state)
        else:
            raise WorkflowError(f"step {name!r}: this runner does not know the action {uses!r}")
        if "id" in step:
            scope.steps[step["id"]] = record.outputs
        state.steps.append(record)
        return 0

    def _composite(
        self,
        action_path: Path,
        given: dict[str, str],
        step_id: str | None,
        record: Step,
        caller: _Scope,
        state: _JobState,
    ) -> int:
        metadata = yaml.safe_load((action_path / "action.yml").read_text(encoding="utf-8"))
        if metadata["runs"]["using"] != "composite":
            raise WorkflowError(f"{action_path / 'action.yml'} is not a composite action")
        declared = metadata.get("inputs") or {}
        unexpected = sorted(set(given) - set(declared))
        if unexpected:
            raise WorkflowError(f"{record.name!r}: inputs the action does not have: {unexpected}")
        inputs: dict[str, str] = {}
        for input_name, spec in declared.items():
            if input_name in given:
                inputs[input_name] = given[input_name]
            elif "default" in (spec or {}):
                inputs[input_name] = _string(spec["default"])
            elif (spec or {}).get("required"):
                raise WorkflowError(f"{record.name!r}: the required input {input_name} is missing")
            else:
                inputs[input_name] = ""
        scope = _Scope(inputs=inputs, action_path=str(action_path))
        exit_code = self._steps(metadata["runs"]["steps"], scope, state, in_action=True)
        record.exit_code = exit_code
        record.outputs = {
            out: _render(_string(spec.get("value", "")), scope, state)
            for out, spec in (metadata.get("outputs") or {}).items()
        }
        if step_id:
            caller.steps[step_id] = record.outputs
        return exit_code

    # The hosted services, played locally

    def _restore_cache(self, path: Path, key: str) -> bool:
        slot = self._cache_saved.pop(key, None)
        if slot is None:
            return False
        shutil.rmtree(path, ignore_errors=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        slot.rename(path)  # back where it was saved from: a venv's own paths stay right
        return True

    def cached(self, key: str) -> Path | None:
        """Where the cache keeps what was saved under ``key`` between jobs."""
        return self._cache_saved.get(key)

    def _save_cache(self, path: Path, key: str) -> None:
        """Keep ``path`` under ``key``: moved aside, not copied (a venv is large)."""
        if key in self._cache_saved or not path.exists():
            return
        slot = self.cache_root / re.sub(r"[^A-Za-z0-9._-]", "_", key)
        shutil.rmtree(slot, ignore_errors=True)
        path.rename(slot)
        self._cache_saved[key] = slot

    def _upload(self, with_: dict[str, str], record: Step, state: _JobState) -> None:
        name, path = with_.get("name") or "artifact", with_.get("path", "")
        if not path.strip() or "\n" in path.strip() or any(c in path for c in "*?[!"):
            raise WorkflowError(f"upload-artifact path {path!r}: one folder or file expected")
        source = Path(path) if Path(path).is_absolute() else state.workspace / path
        if name in state.artifacts:
            raise WorkflowError(f"two artifacts named {name!r}")
        if not source.exists():
            policy = with_.get("if-no-files-found", "warn")
            message = f"No files were found with the provided path: {path}."
            if policy == "error":
                raise WorkflowError(message)
            record.output = f"::warning::{message}\n" if policy == "warn" else ""
            return
        destination = self.artifact_root / f"job{state.number}" / name
        if source.is_dir():
            shutil.copytree(source, destination)
        else:
            destination.mkdir(parents=True)
            shutil.copy2(source, destination / source.name)
        state.artifacts[name] = destination


@dataclass
class _JobState:
    workspace: Path
    temp: Path
    env: dict[str, str]
    number: int
    path: list[str] = field(default_factory=list)  # GITHUB_PATH's additions, first wins
    steps: list[Step] = field(default_factory=list)
    summary: str = ""
    artifacts: dict[str, Path] = field(default_factory=dict)
    caches: list[tuple[str, str]] = field(default_factory=list)
    cache_hits: list[str] = field(default_factory=list)
    cache_misses: list[tuple[str, str]] = field(default_factory=list)
    _count: int = 0

    def step_files(self) -> dict[str, Path]:
        """Fresh files for one step's GITHUB_OUTPUT, _ENV, _PATH, _STEP_SUMMARY and script."""
        self._count += 1
        folder = self.temp / "_runner_file_commands" / f"step{self._count}"
        folder.mkdir(parents=True)
        files = {kind: folder / kind for kind in ("output", "env", "path", "summary")}
        for file in files.values():
            file.touch()
        files["script"] = self.temp / f"step{self._count}.sh"
        return files


# Expressions


_EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)
_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<op>==)|(?P<name>[A-Za-z_][A-Za-z0-9_.-]*))\s*"
)


def _render(value: Any, scope: _Scope, state: _JobState) -> str:
    """A ``with:``/``env:`` value with each ``${{ … }}`` replaced by its value."""
    text = _string(value)
    return _EXPRESSION.sub(lambda m: _string(_evaluate(m.group(1), scope, state)), text)


def _evaluate_if(condition: Any, scope: _Scope, state: _JobState) -> Any:
    text = _string(condition).strip()
    whole = _EXPRESSION.fullmatch(text)
    if whole:
        text = whole.group(1)
    elif "${{" in text:
        raise WorkflowError(f"if: {condition!r} mixes text and ${{{{ }}}}")
    return _evaluate(text, scope, state)


def _evaluate(expression: str, scope: _Scope, state: _JobState) -> Any:
    tokens: list[tuple[str, str]] = []
    position = 0
    text = expression.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise WorkflowError(f"expression {expression!r}: this runner cannot evaluate it")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    if len(tokens) == 1:
        return _operand(tokens[0], expression, scope, state)
    if len(tokens) == 3 and tokens[1] == ("op", "=="):
        left = _operand(tokens[0], expression, scope, state)
        right = _operand(tokens[2], expression, scope, state)
        # GitHub compares strings ignoring case
        return _string(left).casefold() == _string(right).casefold()
    raise WorkflowError(f"expression {expression!r}: this runner cannot evaluate it")


def _operand(token: tuple[str, str], expression: str, scope: _Scope, state: _JobState) -> Any:
    kind, text = token
    if kind == "string":
        return text[1:-1].replace("''", "'")
    if kind != "name":
        raise WorkflowError(f"expression {expression!r}: this runner cannot evaluate it")
    parts = text.split(".")
    match parts:
        case ["inputs", name] if scope.inputs is not None:
            if name not in scope.inputs:
                raise WorkflowError(f"expression {expression!r}: no input {name!r}")
            return scope.inputs[name]
        case ["github", "action_path"] if scope.inputs is not None:
            return scope.action_path
        case ["github", "workspace"]:
            return str(state.workspace)
        case ["runner", "temp"]:
            return str(state.temp)
        case ["runner", "os"]:
            return "Linux"
        case ["steps", step_id, "outputs", name]:
            return scope.steps.get(step_id, {}).get(name, "")
    raise WorkflowError(f"expression {expression!r}: this runner does not know {text!r}")


def _truthy(value: Any) -> bool:
    return bool(value) if not isinstance(value, str) else value != ""


# The runner's file commands


def _read_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def _read_key_values(path: Path) -> dict[str, str]:
    """GITHUB_OUTPUT and GITHUB_ENV: ``name=value`` lines and ``name<<DELIMITER`` blocks."""
    values: dict[str, str] = {}
    lines = _read_lines(path)
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line.strip():
            continue
        equals, heredoc = line.find("="), line.find("<<")
        if equals >= 0 and (heredoc < 0 or equals < heredoc):
            name, value = line[:equals], line[equals + 1 :]
        elif heredoc >= 0:
            name, delimiter = line[:heredoc], line[heredoc + 2 :]
            block: list[str] = []
            while True:
                if index >= len(lines):
                    raise WorkflowError(f"{path.name}: the delimiter {delimiter!r} never comes")
                candidate = lines[index]
                index += 1
                if candidate == delimiter:
                    break
                block.append(candidate)
            value = "\n".join(block)
        else:
            raise WorkflowError(f"{path.name}: unreadable line {line!r}")
        if not name:
            raise WorkflowError(f"{path.name}: a line with no name: {line!r}")
        values[name] = value
    return values


# Small helpers


def _string(value: Any) -> str:
    """How GitHub turns a YAML value into an input's or variable's text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _strings(mapping: Any) -> dict[str, str]:
    if mapping is None:
        return {}
    if not isinstance(mapping, dict):
        raise WorkflowError(f"a mapping was expected, not {mapping!r}")
    return {str(k): _string(v) for k, v in mapping.items()}


def _refuse_unknown(mapping: dict, known: set[str], where: str) -> None:
    unknown = sorted(set(mapping) - known)
    if unknown:
        raise WorkflowError(f"{where}: this runner does not handle {unknown}")


def _clean_env(env: Mapping[str, str]) -> dict[str, str]:
    """The machine's environment without this test run's Python environment (no folder on
    PATH with a `campaign` in it, no VIRTUAL_ENV or PYTHONPATH: only what the action
    installs can answer to `campaign`), nor the runner's or the tool's variables."""
    cleaned = {
        k: v
        for k, v in env.items()
        if k not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "CONDA_PREFIX"}
        and not k.startswith(("GITHUB_", "RUNNER_", "CAMPAIGN_"))
    }
    folders = [
        folder
        for folder in cleaned.get("PATH", os.defpath).split(os.pathsep)
        if folder and not (Path(folder) / "campaign").exists()
    ]
    cleaned["PATH"] = os.pathsep.join(folders)
    return cleaned
