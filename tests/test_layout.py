"""The layout a newcomer relies on: the command layer in one package, domain modules quiet.

``scheduler/cli/`` is the only place that prints or talks to a terminal; ``campaign/`` (the
content side) never imports the runtime, not even lazily inside a function.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMAND_LAYER = ROOT / "scheduler" / "cli"
TERMINAL_MODULES = ("rich.console", "rich.table", "rich.progress", "rich.prompt", "typer", "click")


def _domain_modules() -> list[Path]:
    modules = [*(ROOT / "campaign").rglob("*.py"), *(ROOT / "scheduler").rglob("*.py")]
    return sorted(p for p in modules if COMMAND_LAYER not in p.parents)


def _imported(tree: ast.AST) -> list[str]:
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names += [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
    return names


def test_the_command_layer_is_one_package() -> None:
    leftovers = [
        p.relative_to(ROOT).as_posix()
        for p in _domain_modules()
        if p.name.endswith("_command.py") or p.name in ("cli.py", "__main__.py")
    ]
    assert not leftovers, f"command modules outside scheduler/cli/: {leftovers}"
    assert (COMMAND_LAYER / "app.py").is_file()


def test_domain_modules_never_print_nor_touch_the_terminal() -> None:
    for path in _domain_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        calls = [
            node.lineno
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("print", "input")
        ]
        where = path.relative_to(ROOT).as_posix()
        assert not calls, f"{where} calls print()/input() at lines {calls}"
        terminal = [
            name
            for name in _imported(tree)
            if any(name == m or name.startswith(m + ".") for m in TERMINAL_MODULES)
        ]
        assert not terminal, f"{where} imports {terminal}: printing belongs in scheduler/cli/"


def test_the_content_side_imports_nothing_of_the_runtime() -> None:
    for path in (ROOT / "campaign").rglob("*.py"):
        runtime = [
            n
            for n in _imported(ast.parse(path.read_text()))
            if n.split(".")[0] in ("scheduler", "tests")
        ]
        assert not runtime, f"{path.relative_to(ROOT).as_posix()} imports {runtime}"
