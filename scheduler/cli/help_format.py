"""`--help` that shows what to type: `PATH...`, `NAME`, `text|json|github`, never a Python
type (`<str>`, `<list[Path]>`, `{slug}`), and each command's whole first line.

``CampaignGroup`` is the Typer app's group class: when Typer has built the commands, it
gives every parameter of every command (and of every subcommand, like `login instagram`)
a placeholder of its own. A parameter's ``metavar`` is its placeholder; one without gets
one from its type (a choice, a file or folder, a number) or its name in capitals.
"""

from __future__ import annotations

from typing import Any

import typer.core

_TYPE_PLACEHOLDERS = {
    "file": "FILE",
    "directory": "FOLDER",
    "dir": "FOLDER",
    "path": "PATH",
    "int": "N",
    "float": "NUMBER",
}


class _Option(typer.core.TyperOption):
    """An option whose help shows its placeholder; a flag shows none."""

    def display_type_rich(self, ctx: Any) -> str | None:
        if self.is_flag or self.count:
            return ""
        return _placeholder(self, ctx)


class _Argument(typer.core.TyperArgument):
    """An argument named by its placeholder: `POST` when required, `[PATH]...` when not."""

    def display_type_rich(self, ctx: Any) -> str | None:
        return None  # the name is the placeholder already

    def _rich_display_name(self) -> str:
        return _argument_name(self)

    def _usage_display_name(self) -> str:
        name = self.metavar or (self.name or "").upper()
        shown = name if self.required else f"[{name}]"
        return f"{shown}..." if self.nargs != 1 else shown

    def make_metavar(self, *args: Any, **kwargs: Any) -> str:
        return self._usage_display_name()


def _argument_name(argument: typer.core.TyperArgument) -> str:
    name = argument.metavar or (argument.name or "").upper()
    return f"{name}..." if argument.nargs != 1 else name


def _placeholder(option: typer.core.TyperOption, ctx: Any) -> str:
    if option.metavar:
        return option.metavar
    shown = str(typer.core.TyperOption.display_type_rich(option, ctx) or "").strip("<>")
    if "|" in shown and "[" not in shown:
        placeholder = shown  # the choices: text|json|github
    else:
        placeholder = _TYPE_PLACEHOLDERS.get(shown) or (option.name or "value").upper()
    return f"{placeholder}..." if option.nargs != 1 or option.multiple else placeholder


def readable_help(command: Any) -> None:
    """Give ``command`` (and its subcommands) placeholders and its whole first line."""
    if command.help and not command.short_help:
        command.short_help = command.help.strip().splitlines()[0]
    for param in command.params:
        if type(param) is typer.core.TyperOption:
            param.__class__ = _Option
        elif type(param) is typer.core.TyperArgument:
            param.__class__ = _Argument
    for sub in getattr(command, "commands", {}).values():
        readable_help(sub)


class CampaignGroup(typer.core.TyperGroup):
    """The `campaign` group: its commands' help made readable once Typer has built them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for command in self.commands.values():
            readable_help(command)
