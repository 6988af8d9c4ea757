"""Pydantic's validation errors, said in words a communicator can act on."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple, get_args

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

Loc = tuple[str | int, ...]


class Explained(NamedTuple):
    """A validation problem in plain words: where, what, and pydantic's kind of error."""

    loc: Loc
    message: str
    kind: str


_TYPE_WORDS = {
    "string_type": "text",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list (items on their own lines starting with '- ', or [a, b])",
    "tuple_type": "a list of two numbers, like [0.5, 0.3]",
    "dict_type": "a block of keys indented below it",
    "model_type": "a block of keys indented below it",
    "model_attributes_type": "a block of keys indented below it",
}


_BOUNDS = {
    "greater_than_equal": ("at least", "ge"),
    "less_than_equal": ("at most", "le"),
    "greater_than": ("more than", "gt"),
    "less_than": ("less than", "lt"),
}


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """' Did you mean `x`?' for the closest known word, or '' when none is close."""
    matches = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    if not matches:
        matches = [o for o in options if o.lower() == word.lower()]
    return f" Did you mean `{matches[0]}`?" if matches else ""


def describe_location(loc: Sequence[str | int]) -> str:
    """``('images', 0, 'alt')`` → "`images` item 1, `alt`"."""
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"item {item + 1}")
        else:
            parts.append(f"`{item}`")
    return ", ".join(parts) if parts else "the file"


def explain_errors(
    errors: Sequence[ErrorDetails],
    model: type[BaseModel],
    describe: Callable[[Loc], str] | None = None,
) -> list[Explained]:
    """One message per place that failed validation against ``model``.

    A value that fits no branch of a union (``focus: middle``) fails once per
    branch in pydantic; here it becomes one message quoting the field's
    description. When the value has the shape of one branch (``focus: [2, 0]``),
    that branch's own errors are reported instead, as they are more precise.
    """
    describe = describe or describe_location
    grouped: dict[Loc, list[ErrorDetails]] = {}
    for error in errors:
        grouped.setdefault(_union_key(error["loc"]), []).append(error)
    messages: list[Explained] = []
    for key, group in grouped.items():
        in_union = any(_is_branch_tag(part) for e in group for part in e["loc"])
        specific = [e for e in group if not _is_branch_tag(e["loc"][-1])]
        branches = {next((p for p in e["loc"] if _is_branch_tag(p)), None) for e in specific}
        field = field_at(model, key)
        if in_union and (not specific or len(branches) > 1) and field and field.description:
            given = _show(group[0].get("input"))
            text = f"{describe(key)} is {given}, which is not valid here. {field.description}"
            messages.append(Explained(key, text, "union"))
            continue
        for error in specific or group:
            loc = tuple(_visible_loc(error["loc"]))
            if error["type"] == "string_pattern_mismatch" and (found := field_at(model, loc)):
                message = f"{describe(loc)} is {_show(error.get('input'))}, which is "
                message += f"not valid here. {found.description}"
            else:
                known = list(_fields_of(model_at(model, loc[:-1])))
                message = explain_error(error, known, describe)
            messages.append(Explained(loc, message, error["type"]))
    return messages


def _union_key(loc: Sequence[str | int]) -> Loc:
    """The visible part of ``loc`` before its first union branch tag."""
    key: list[str | int] = []
    for part in loc:
        if _is_branch_tag(part):
            break
        key.append(part)
    return tuple(key)


def _is_branch_tag(part: str | int) -> bool:
    """pydantic names union branches in error locations: ``literal['none']``, ``BrandBlock``."""
    return isinstance(part, str) and (
        "[" in part or part[:1].isupper() or part in {"str", "int", "float", "bool", "none"}
    )


def model_at(model: type[BaseModel] | None, loc: Sequence[str | int]) -> type[BaseModel] | None:
    """The model class that holds the keys at ``loc`` (None when it is not a model)."""
    for part in loc:
        if model is None:
            return None
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        model = _inner_model(field.annotation) if field else None
    return model


def field_at(model: type[BaseModel], loc: Sequence[str | int]) -> FieldInfo | None:
    """The field definition at ``loc``, through nested models and lists."""
    names = [part for part in loc if isinstance(part, str)]
    if not names:
        return None
    parent = model_at(model, loc[: max(i for i, p in enumerate(loc) if isinstance(p, str))])
    return parent.model_fields.get(names[-1]) if parent else None


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        if found := _inner_model(arg):
            return found
    return None


def _fields_of(model: type[BaseModel] | None) -> Iterable[str]:
    return model.model_fields if model else ()


def explain_error(
    error: ErrorDetails,
    known_keys: Sequence[str] = (),
    describe: Callable[[Loc], str] = describe_location,
) -> str:
    """One plain sentence for one pydantic error.

    ``known_keys`` are the keys allowed where the error is, for "did you mean".
    """
    loc = tuple(_visible_loc(error["loc"]))
    where = describe(loc)
    kind = error["type"]
    given = error.get("input")
    if kind == "extra_forbidden":
        key = str(loc[-1]) if loc else "?"
        allowed = ", ".join(f"`{k}`" for k in known_keys)
        hint = did_you_mean(key, known_keys) or (f" Allowed here: {allowed}." if allowed else "")
        return f"unknown key `{key}`.{hint}"
    if kind == "missing":
        return f"{where} is required but missing."
    if kind in ("literal_error", "enum"):
        expected = error.get("ctx", {}).get("expected", "")
        hint = (
            did_you_mean(given, re.findall(r"'([^']*)'", expected))
            if isinstance(given, str)
            else ""
        )
        return f"{where} is {_show(given)}, but must be one of {expected}.{hint}"
    if kind in _TYPE_WORDS:
        hint = ""
        if kind == "string_type" and isinstance(given, int | float | bool):
            hint = ' Put it in quotes, like "…", to make it text.'
        return f"{where} must be {_TYPE_WORDS[kind]}, not {_show(given)}.{hint}"
    if kind == "string_too_short":
        return f"{where} must not be empty."
    if kind == "string_too_long":
        limit = error.get("ctx", {}).get("max_length")
        return f"{where} is too long: at most {limit} characters."
    if kind in ("too_short", "too_long"):
        return f"{where}: {error['msg'].lower()}."
    if kind in _BOUNDS:
        word, bound = _BOUNDS[kind]
        return f"{where} is {_show(given)}, but must be {word} {error.get('ctx', {}).get(bound):g}."
    if kind == "value_error":
        return f"{where}: {error['msg'].removeprefix('Value error, ')}"
    return f"{where}: {error['msg']}."


def _visible_loc(loc: Sequence[str | int]) -> Iterable[str | int]:
    """Drop the names pydantic gives to union branches (``str``, ``literal['none']``…)."""
    return (part for part in loc if not _is_branch_tag(part))


def _show(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, dict):
        return "a block of keys"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"' if len(value) <= 40 else f'"{value[:37]}…"'
    return str(value)
