"""config.toml's validation errors in plain words: the key, its table, what to write.

One message per key, naming it as the operator wrote it (``page_id`` in
``[channels.facebook]``), saying what kind of value it takes with an example, and never
pydantic's own wording ("Input should be…", "tuple should have at least 1 item…",
``None``). A key that looks like a secret is never quoted back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, get_args

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from campaign.validation_messages import did_you_mean

Loc = tuple[str | int, ...]
SECRET_WORDS = ("token", "password", "passwd", "secret", "sessionid", "cookie", "webhook")

_BOUNDS = {
    "greater_than_equal": ("at least", "ge"),
    "less_than_equal": ("at most", "le"),
    "greater_than": ("more than", "gt"),
    "less_than": ("less than", "lt"),
}


def explain_config_errors(
    errors: Sequence[ErrorDetails], root: type[BaseModel]
) -> list[tuple[Loc, str]]:
    """(location, message) for each key that failed, the first problem of each key only."""
    seen: set[tuple[str, ...]] = set()
    explained: list[tuple[Loc, str]] = []
    for error in errors:
        loc = tuple(error["loc"])
        key = tuple(str(part) for part in loc if isinstance(part, str))
        if key in seen:
            continue
        seen.add(key)
        explained.append((loc, explain(error, root)))
    return explained


def describe(loc: Loc) -> str:
    """``("channels", "facebook", "page_id")`` → "`page_id` in [channels.facebook]"."""
    names = [str(part) for part in loc if isinstance(part, str)]
    items = [part for part in loc if isinstance(part, int)]
    if not names:
        return "the file"
    table = ".".join(names[:-1])
    where = f"`{names[-1]}` in [{table}]" if table else f"[{names[-1]}]"
    return f"item {items[-1] + 1} of {where}" if items else where


def explain(error: ErrorDetails, root: type[BaseModel]) -> str:
    """One sentence for one error of config.toml."""
    loc = tuple(error["loc"])
    names = tuple(str(part) for part in loc if isinstance(part, str))
    kind = error["type"]
    given = error.get("input")
    where = describe(loc)
    parent = _model_at(root, names[:-1])
    field = parent.model_fields.get(names[-1]) if parent and names else None
    if kind == "extra_forbidden":
        return _unknown_key(names, parent)
    example = _example(field, item=isinstance(loc[-1], int))
    like = f", like {example}" if example else ""
    unquote = " Write it without quotes." if isinstance(given, str) else ""
    if kind == "string_type":
        like = like or ', like "…"'
        return f"{where} must be text in quotes{like}, not {_show(given)}."
    if kind == "bool_type":
        return f"{where} must be true or false (without quotes), not {_show(given)}."
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"{where} must be a whole number{like}, not {_show(given)}.{unquote}"
    if kind == "finite_number":
        return f"{where} must be a number{like}, not {_show(given)}."
    if kind in ("float_type", "float_parsing"):
        return f"{where} must be a number{like}, not {_show(given)}.{unquote}"
    if kind in ("tuple_type", "list_type"):
        return f"{where} must be a list in square brackets{like}, not {_show(given)}."
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return (
            f"{where} must be a table: a line [{'.'.join(names)}] with its keys below it, "
            f"not {_show(given)}."
        )
    if kind == "too_short":
        return f"{where} must list at least one value{like}."
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        return f"{where} is {_show(given)}, but must be one of {expected}."
    if kind == "string_pattern_mismatch":
        hint = field.description if field and field.description else "It is not in the right form."
        return f"{where} is {_show(given)}, which is not valid here. {hint}"
    if kind in _BOUNDS:
        word, bound = _BOUNDS[kind]
        limit = error.get("ctx", {}).get(bound)
        return f"{where} is {_show(given)}, but must be {word} {_number(limit)}."
    if kind == "value_error":
        return f"{where}: {str(error['msg']).removeprefix('Value error, ')}"
    return f"{where} is {_show(given)}, which is not valid here."


def secret_hint(names: Sequence[str], parent: type[BaseModel] | None) -> str | None:
    """For a key that looks like a secret: where secrets go instead (the key is not quoted
    back with its value, which may be a real secret)."""
    key = names[-1].lower() if names else ""
    if not any(word in key for word in SECRET_WORDS) or key.endswith(("_env", "_file")):
        return None
    table = ".".join(names[:-1])
    env_keys = [name for name in (parent.model_fields if parent else {}) if name.endswith("_env")]
    if f"{key}_env" in env_keys:
        env_keys = [f"{key}_env"]
    where = f"`{names[-1]}` in [{table}]" if table else f"`{names[-1]}`"
    advice = (
        "put the secret in an environment variable and write that variable's NAME in "
        + " or ".join(f"`{name}`" for name in env_keys)
        + (f" under [{table}]" if table else "")
        if env_keys
        else "this table takes no secret: remove the line"
    )
    return (
        f"{where} looks like a secret. Secrets never go in config.toml (it is in git): {advice}. "
        "If a real secret was written here, replace it (rotate it) as well."
    )


def _unknown_key(names: Sequence[str], parent: type[BaseModel] | None) -> str:
    if hint := secret_hint(names, parent):
        return hint
    known = list(parent.model_fields) if parent else []
    key = names[-1]
    suggestion = did_you_mean(key, known)
    allowed = ", ".join(f"`{k}`" for k in known)
    if len(names) == 1:
        return f"unknown table `{key}`.{suggestion or f' The tables are {allowed}.'}"
    table = ".".join(names[:-1])
    return f"unknown key `{key}` in [{table}].{suggestion or f' Allowed here: {allowed}.'}"


def _model_at(root: type[BaseModel], names: Sequence[str]) -> type[BaseModel] | None:
    model: type[BaseModel] | None = root
    for name in names:
        field = model.model_fields.get(name) if model else None
        annotation = field.annotation if field else None
        model = (
            annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel)
            else None
        )
    return model


def _example(field: FieldInfo | None, *, item: bool) -> str | None:
    """The field's default as TOML (or a made-up list of its item's kind), for "like …"."""
    if field is None:
        return None
    default = field.default
    if isinstance(default, tuple):
        if item:
            return _toml(default[0]) if default else '"…"'
        if default:
            return _toml(default)
        inner = get_args(field.annotation)
        return '["…", "…"]' if inner and "str" in str(inner[0]).lower() else "[1, 2]"
    if item or default in (None, "") or isinstance(default, BaseModel):
        return None
    return _toml(default)


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return str(value)


def _number(value: Any) -> str:
    """12 → "12", 16777216 → "16,777,216", 0.1 → "0.1": never 1.67772e+07."""
    if isinstance(value, int | float) and float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "a table of keys"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, str):
        return f'"{value}"' if len(value) <= 40 else f'"{value[:37]}…"'
    if isinstance(value, bool):
        return _toml(value)
    return str(value)
